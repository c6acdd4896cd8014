//! The CLI's error type and exit codes.

use keyward_vault::Error as VaultError;

pub(crate) const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  error (I/O, keyring, bad input)
  2  usage error (bad arguments)
  3  wrong vault password
  4  vault is locked (run `keyward unlock`)
  5  vault (or its audit log) is corrupted or was tampered with
  6  unsafe permissions, ownership or a symlink (the message says how to fix it)
  7  no such vault or record
  8  bad configuration file";

/// One line for the user, and an exit code.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("{0}")]
    Secmem(String),
    /// Nothing matched (exit 7).
    #[error("{0}")]
    NotFound(String),
    /// The audit log was edited, cut or has entries missing (exit 5).
    #[error("{0}")]
    Tampered(String),
    /// Anything else (exit 1).
    #[error("{0}")]
    Other(String),
}

impl From<keyward_secmem::Error> for CliError {
    fn from(e: keyward_secmem::Error) -> Self {
        match e {
            keyward_secmem::Error::NoTty => CliError::Other(
                "no terminal to ask for the password: pass it with --password-fd N".into(),
            ),
            e => CliError::Secmem(e.to_string()),
        }
    }
}

impl CliError {
    pub(crate) fn exit_code(&self) -> i32 {
        match self {
            CliError::Vault(e) => match e {
                VaultError::WrongPassword { .. } => 3,
                VaultError::Locked { .. } => 4,
                VaultError::Corrupt { .. } => 5,
                VaultError::Permissions { .. } => 6,
                VaultError::NotFound { .. } => 7,
                VaultError::Config { .. } => 8,
                _ => 1,
            },
            CliError::NotFound(_) => 7,
            CliError::Tampered(_) => 5,
            CliError::Secmem(_) | CliError::Other(_) => 1,
        }
    }
}

pub(crate) type Result<T, E = CliError> = std::result::Result<T, E>;
