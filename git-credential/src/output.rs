//! Writing to stdout with no buffered heap copy: secrets go from their locked
//! buffer straight into `write(2)`.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;

/// An unbuffered handle on this process's stdout (a duplicate of fd 1), so that
/// `write_all` hands bytes to the kernel without an intermediate `BufWriter`.
pub fn raw_stdout() -> io::Result<File> {
    Ok(File::from(io::stdout().as_fd().try_clone_to_owned()?))
}

/// An unbuffered handle on this process's stdin (a duplicate of fd 0), so that
/// reads land directly in the caller's (locked) buffer.
pub fn raw_stdin() -> io::Result<File> {
    Ok(File::from(io::stdin().as_fd().try_clone_to_owned()?))
}

/// Writes all of `bytes` to `out`, retrying on interruption. A closed pipe is an
/// error the caller reports.
pub fn write_all(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    out.write_all(bytes)?;
    out.flush()
}
