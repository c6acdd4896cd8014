//! Secrets typed at a terminal or piped through a file descriptor, read straight
//! into locked memory with no intermediate `String`.

use crate::error::{Error, Result};
use crate::secret::SecretBytes;
use nix::sys::termios::{self, LocalFlags, SetArg};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use zeroize::Zeroize;

/// Longest secret accepted from a terminal or a file descriptor.
pub const MAX_INPUT_LEN: usize = 64 * 1024;

fn io_err(context: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io { context, source }
}

/// Reads one line (without its newline) from `fd`, byte by byte, into locked
/// memory. Stops at `\n` or end of input; a trailing `\r` is dropped.
pub fn read_secret_from_fd(fd: BorrowedFd<'_>) -> Result<SecretBytes> {
    let mut out = SecretBytes::with_capacity(128)?;
    let mut byte = [0u8; 1];
    loop {
        match nix::unistd::read(fd.as_raw_fd(), &mut byte) {
            Ok(0) => break,
            Ok(_) => {
                if byte[0] == b'\n' {
                    break;
                }
                if out.len() >= MAX_INPUT_LEN {
                    byte.zeroize();
                    return Err(Error::TooLarge {
                        requested: MAX_INPUT_LEN + 1,
                        max: MAX_INPUT_LEN,
                    });
                }
                out.push(byte[0])?;
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => {
                byte.zeroize();
                return Err(Error::Io {
                    context: "cannot read secret",
                    source: e.into(),
                });
            }
        }
    }
    byte.zeroize();
    if out.expose_last() == Some(b'\r') {
        out.pop();
    }
    Ok(out)
}

trait Last {
    fn expose_last(&self) -> Option<u8>;
}

impl Last for SecretBytes {
    fn expose_last(&self) -> Option<u8> {
        secrecy::ExposeSecret::expose_secret(self).last().copied()
    }
}

/// Restores the terminal's settings when dropped, on every exit path.
struct EchoGuard<'a> {
    tty: &'a File,
    saved: termios::Termios,
}

impl Drop for EchoGuard<'_> {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(self.tty.as_fd(), SetArg::TCSAFLUSH, &self.saved);
    }
}

/// Prompts on `/dev/tty` with echo off and reads a line into locked memory.
///
/// Ctrl-C (while echo is off, the terminal does not turn it into SIGINT) returns
/// [`Error::Interrupted`] after restoring the terminal.
pub fn prompt_secret(prompt: &str) -> Result<SecretBytes> {
    let tty = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|_| Error::NoTty)?;
    prompt_on(&tty, prompt)
}

/// Like [`prompt_secret`] on an already open terminal.
pub fn prompt_on(tty: &File, prompt: &str) -> Result<SecretBytes> {
    let saved = termios::tcgetattr(tty.as_fd()).map_err(|_| Error::NoTty)?;
    let mut w = tty;
    w.write_all(prompt.as_bytes())
        .map_err(io_err("cannot write prompt"))?;
    let mut quiet = saved.clone();
    quiet
        .local_flags
        .remove(LocalFlags::ECHO | LocalFlags::ISIG);
    quiet
        .local_flags
        .insert(LocalFlags::ECHONL | LocalFlags::ICANON);
    let guard = EchoGuard { tty, saved };
    termios::tcsetattr(tty.as_fd(), SetArg::TCSAFLUSH, &quiet)
        .map_err(|e| io_err("cannot turn off echo")(e.into()))?;
    let mut out = SecretBytes::with_capacity(128)?;
    let mut byte = [0u8; 1];
    let mut r = tty;
    let result = loop {
        match r.read(&mut byte) {
            Ok(0) => break Ok(()),
            Ok(_) => match byte[0] {
                b'\n' | b'\r' => break Ok(()),
                0x03 => break Err(Error::Interrupted),
                b => {
                    if out.len() >= MAX_INPUT_LEN {
                        break Err(Error::TooLarge {
                            requested: MAX_INPUT_LEN + 1,
                            max: MAX_INPUT_LEN,
                        });
                    }
                    if let Err(e) = out.push(b) {
                        break Err(e);
                    }
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(io_err("cannot read from the terminal")(e)),
        }
    };
    byte.zeroize();
    drop(guard);
    if matches!(result, Err(Error::Interrupted)) {
        let _ = w.write_all(b"\n");
    }
    result.map(|()| out)
}
