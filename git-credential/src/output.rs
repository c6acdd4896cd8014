//! Writing helper output straight from locked memory to stdout: one buffer in
//! secure memory, one `write(2)` loop on fd 1, no `BufWriter`, no `String`.
//! Shared by the git and docker helpers; keep it tiny.

use keyward_secmem::{ExposeSecret, SecretBytes};
use std::io;
use std::os::fd::AsFd;

/// Writes all of `bytes` to fd 1, retrying short writes and `EINTR`.
pub fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    let stdout = io::stdout();
    let fd = stdout.as_fd();
    let mut rest = bytes;
    while !rest.is_empty() {
        match nix::unistd::write(fd, rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => rest = &rest[n..],
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Writes a locked buffer to fd 1 (see [`write_stdout`]).
pub fn write_secret_stdout(secret: &SecretBytes) -> io::Result<()> {
    write_stdout(secret.expose_secret())
}

/// An unbuffered handle on this process's stdout (a duplicate of fd 1): each
/// `write` is one `write(2)`, no `BufWriter` copy. Lets protocol code write to
/// any `impl Write` (a `Vec` in tests).
pub fn raw_stdout() -> io::Result<std::fs::File> {
    Ok(std::fs::File::from(
        io::stdout().as_fd().try_clone_to_owned()?,
    ))
}

/// An unbuffered handle on this process's stdin (a duplicate of fd 0): reads
/// land directly in the caller's (locked) buffer, bypassing `Stdin`'s heap buffer.
pub fn raw_stdin() -> io::Result<std::fs::File> {
    Ok(std::fs::File::from(
        io::stdin().as_fd().try_clone_to_owned()?,
    ))
}

/// Writes all of `bytes` to `out` and flushes it.
pub fn write_all(out: &mut impl io::Write, bytes: &[u8]) -> io::Result<()> {
    out.write_all(bytes)?;
    out.flush()
}
