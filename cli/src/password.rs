//! Where passwords come from: the terminal (echo off, locked memory) or a
//! file descriptor given with `--password-fd N`. Never argv or the environment.

use crate::exit::{CliError, Result};
use keyward_secmem::{inherited_fd, prompt_secret, read_secret_from_fd, ExposeSecret, SecretBytes};
use std::os::fd::BorrowedFd;

/// A source of password lines.
#[derive(Debug)]
pub(crate) enum Source {
    Tty,
    Fd(BorrowedFd<'static>),
}

impl Source {
    /// `--password-fd N`, read in place (a pipe or file another user opened, a
    /// socket, a file at any offset), else the terminal.
    pub(crate) fn new(fd: Option<i32>) -> Result<Source> {
        Self::from_fd(fd, |fd, source| CliError::PasswordFd { fd, source })
    }

    /// `--secret-fd N` (a named secret's value), else the terminal.
    pub(crate) fn for_secret(fd: Option<i32>) -> Result<Source> {
        Self::from_fd(fd, |fd, source| CliError::SecretFd { fd, source })
    }

    fn from_fd(
        fd: Option<i32>,
        refused: fn(i32, keyward_secmem::Error) -> CliError,
    ) -> Result<Source> {
        match fd {
            None => Ok(Source::Tty),
            Some(n) => inherited_fd(n)
                .map(Source::Fd)
                .map_err(|source| refused(n, source)),
        }
    }

    /// One password (a line from the fd, or one prompt).
    pub(crate) fn read(&mut self, prompt: &str) -> Result<SecretBytes> {
        let pw = match self {
            Source::Tty => prompt_secret(prompt)?,
            Source::Fd(f) => read_secret_from_fd(*f)?,
        };
        if pw.is_empty() {
            return Err(CliError::EmptyPassword);
        }
        Ok(pw)
    }

    /// A new password: asked twice on a terminal, read once from an fd.
    pub(crate) fn read_new(&mut self, prompt: &str) -> Result<SecretBytes> {
        let pw = self.read(prompt)?;
        if let Source::Tty = self {
            let again = self.read("Repeat it: ")?;
            if !pw.ct_eq(&again) {
                return Err(CliError::PasswordsDiffer);
            }
        }
        Ok(pw)
    }
}

/// A recovery key from `--recovery-key-fd N` (one line), else asked on the
/// terminal (not echoed), read back into its 32 bytes.
pub(crate) fn read_recovery_key(fd: Option<i32>) -> Result<SecretBytes> {
    let text = Source::new(fd)?.read("Recovery key: ")?;
    keyward_vault::recovery_key::parse(text.expose_secret()).map_err(CliError::RecoveryKey)
}
