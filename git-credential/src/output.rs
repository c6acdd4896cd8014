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
