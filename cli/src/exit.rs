//! The CLI's error type and exit codes.

use keyward_vault::Error as VaultError;
use std::path::{Path, PathBuf};

pub(crate) const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  error (I/O, keyring, bad input)
  2  usage error (bad arguments)
  3  wrong vault password
  4  vault is locked (run `keyward unlock`)
  5  vault (or its audit log) is corrupted or was tampered with, or an older
     copy was put back (`keyward recover` says what to do)
  6  unsafe permissions, ownership or a symlink (the message says how to fix it)
  7  no such vault or record
  8  bad configuration file
  9  saved, but not yet durable (syncing the vault's directory failed)
  10 keyward unlock --non-interactive: no slot that needs no typing opened
     the vault (a host or tpm2 slot: `keyward slots`)
  126, 127  keyward exec: the command could not be run, or was not found";

/// One line for the user, and an exit code. Every variant's message names
/// what is wrong and, where there is one, what to do about it; none holds a
/// secret.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The vault, the configuration or the keyring refused (exit code by kind).
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The password database refused something other than a file (exit 1).
    #[error(transparent)]
    PassDb(keyward_passdb::Error),
    /// Locked memory could not be had (exit 1).
    #[error(transparent)]
    Secmem(keyward_secmem::Error),
    /// No terminal to ask for a password on (exit 1).
    #[error("no terminal to ask for the password: pass it with --password-fd N")]
    NoTty,
    /// `--password-fd N` is not a descriptor this process can read (exit 1).
    #[error("--password-fd {fd}: cannot read it: {source}")]
    PasswordFd {
        /// The descriptor given.
        fd: i32,
        /// Why it cannot be read.
        source: keyward_secmem::Error,
    },
    /// An empty vault password (exit 1).
    #[error("empty password: refusing it")]
    EmptyPassword,
    /// An empty PAM password without `--allow-empty` (exit 1).
    #[error(
        "empty password: refusing it (--allow-empty accepts it; the module then needs nullok)"
    )]
    EmptyPamPassword,
    /// A new password typed twice differently (exit 1).
    #[error("the two passwords differ: nothing was changed")]
    PasswordsDiffer,
    /// A PAM password over the module's limit (exit 1).
    #[error(
        "the password is longer than {} bytes, the module's limit",
        keyward_passdb::MAX_PASSWORD_LEN
    )]
    PamPasswordTooLong,
    /// A PAM password with a NUL byte, which no PAM client can pass (exit 1).
    #[error("the password contains a NUL byte, which PAM cannot pass to the module (it could never log in): choose another")]
    PamPasswordNul,
    /// One entry of an imported file that is skipped (never leaves `import`).
    #[error("{0}")]
    Skip(String),
    /// `$HOME` is unset where the login vault's path depends on it (exit 1).
    #[error("HOME is not set")]
    NoHome,
    /// `$HOME` is unset and no file to import was named (exit 1).
    #[error("HOME is not set: give the file to import")]
    NoHomeForImport,
    /// `init --login` while the configuration turns login unlock off (exit 1).
    #[error("login_unlock = false in your configuration: pam_keyward would skip this vault; remove that line first")]
    LoginUnlockOff,
    /// `init --login` for a vault pam_keyward would not open (exit 1).
    #[error("pam_keyward unlocks {} at login, not {} (it reads vault_path from the configuration and ignores --vault, KEYWARD_VAULT and XDG_DATA_HOME): drop those, or set vault_path", at_login.display(), vault.display())]
    LoginVaultElsewhere {
        /// The vault pam_keyward opens at login.
        at_login: PathBuf,
        /// The vault this command was given.
        vault: PathBuf,
    },
    /// `keyward unlock` opened the vault but could not cache its key (exit 1).
    #[error("{source}; the helpers will ask for the password on the terminal instead")]
    KeyringStore {
        /// The keyring's refusal.
        source: VaultError,
    },
    /// `keyward unlock --non-interactive`: no slot that needs no typing
    /// opened the vault (exit 10).
    #[error("{} stays locked: {why}", path.display())]
    NothingUnlocks {
        /// The vault.
        path: PathBuf,
        /// What was tried, and the next step.
        why: String,
    },
    /// A recovery key that does not read (exit 3).
    #[error("{0}: type it again from the copy you kept")]
    RecoveryKey(keyward_vault::recovery_key::ParseError),
    /// The TPM refused or failed (wrong PIN, PIN needed: exit 3; else 1).
    #[error(transparent)]
    Tpm(#[from] keyward_tpm::Error),
    /// `keyward enroll tpm2` in a build without the TPM crate wired in (exit 1).
    #[error("this keyward has no TPM support built in (keyward-tpm); enroll a host slot instead (`keyward enroll host`)")]
    NoTpm,
    /// `keyward doctor` found problems; their fixes were printed above (exit 1).
    #[error("{0} problem(s) found; see the fixes above")]
    DoctorProblems(usize),
    /// Writing the system password database without root (exit 1).
    #[error("writing {} needs root: run `sudo keyward pam ...`, or use --db PATH", .0.display())]
    PamNeedsRoot(PathBuf),
    /// `keyward pam rm` on a database that does not exist (exit 1).
    #[error("{}: no such file", .0.display())]
    NoPamDbFile(PathBuf),
    /// `keyward pam import-shadow USER…` could not import some of the users named (exit 1).
    #[error("{0} of the users named were not imported; see above")]
    PamImportSkipped(usize),
    /// `keyward pam age` with a date that is not one (exit 1).
    #[error("{flag} {value:?}: expected a date YYYY-MM-DD, a number of days since 1970-01-01, or -1 for none")]
    PamBadDate {
        /// The option.
        flag: &'static str,
        /// What was given.
        value: String,
    },
    /// `keyward pam list` on a database that does not exist (exit 1).
    #[error("no password database at {}: add a user with `keyward pam passwd USER`", .0.display())]
    NoPamDb(PathBuf),
    /// `keyward pam rm USER` for a user the database does not hold (exit 1).
    #[error("no user {user} in {}: nothing was changed", path.display())]
    NoPamUser {
        /// The user named.
        user: String,
        /// The database.
        path: PathBuf,
    },
    /// `--secret-fd N` is not a descriptor this process can read (exit 1).
    #[error("--secret-fd {fd}: cannot read it: {source}")]
    SecretFd {
        /// The descriptor given.
        fd: i32,
        /// Why it cannot be read.
        source: keyward_secmem::Error,
    },
    /// `keyward get|rm --previous NAME`: no such named secret (exit 7).
    #[error("no secret named {0} (see `keyward list --kind secret`)")]
    NoSecret(String),
    /// `--previous` on a named secret that keeps none (exit 7).
    #[error("{0} keeps no previous value (only `keyward generate` on an existing name keeps one)")]
    NoPrevious(String),
    /// `keyward generate` refused the length or could not make the secret (exit 1).
    #[error(transparent)]
    Generate(#[from] keyward_generate::Error),
    /// Standard output is gone (exit 1).
    #[error("cannot write to standard output: {0}")]
    Stdout(std::io::Error),
    /// `keyward log --verify` found the audit log edited, cut or with entries
    /// missing; the problems were printed above (exit 5).
    #[error("the audit log of {} is broken: {problems} problem(s) above", vault.display())]
    AuditBroken {
        /// The vault whose log it is.
        vault: PathBuf,
        /// How many problems.
        problems: usize,
    },
    /// `keyward rm HOST` matched no record (exit 7).
    #[error("no record matches {0} (see `keyward list`)")]
    NoRecord(String),
    /// `keyward aws PROFILE` for a profile the vault does not hold (exit 7).
    #[error("no AWS profile {0} in the vault: import it with `keyward import aws`, or store aws/PROFILE/access-key-id and aws/PROFILE/secret-access-key with `keyward set` (docs/aws.md)")]
    NoAwsProfile(String),
    /// A stored `aws/PROFILE/expiration` that is not an RFC 3339 time (exit 1).
    #[error("{0} is not an RFC 3339 time (like 2026-12-01T05:23:03Z): fix it with `keyward set {0}` or remove it with `keyward rm {0}`")]
    BadAwsExpiration(String),
    /// The file to import does not exist (exit 7).
    #[error("{}: no such file: nothing to import (name the file: `keyward import KIND FILE`)", .0.display())]
    NoImportFile(PathBuf),
    /// Reading or replacing a plaintext credential file failed (exit 1).
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// Arguments clap cannot check (`keyward exec --env`), never a value (exit 2).
    #[error("{0}")]
    Usage(String),
    /// `keyward exec`: the command could not be run (exit 127 when it was not
    /// found, 126 otherwise, as a shell says).
    #[error("cannot run {program}: {}", source.desc())]
    Exec {
        /// The command as given.
        program: String,
        /// Why `execvpe` failed.
        source: nix::errno::Errno,
    },
    /// `keyward setup` cannot, or will not, change a client's configuration (exit 1).
    #[error("{0}")]
    Setup(String),
    /// A plaintext credential file is not what `keyward import` reads (exit 1).
    #[error("{}: {why}", path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it (never its content).
        why: String,
    },
}

impl From<keyward_secmem::Error> for CliError {
    fn from(e: keyward_secmem::Error) -> Self {
        match e {
            keyward_secmem::Error::NoTty => CliError::NoTty,
            e => CliError::Secmem(e),
        }
    }
}

impl CliError {
    pub(crate) fn exit_code(&self) -> i32 {
        match self {
            CliError::Vault(e) => match e {
                VaultError::WrongPassword { .. } | VaultError::NoSlotOpens { .. } => 3,
                VaultError::Locked { .. } => 4,
                VaultError::Corrupt { .. }
                | VaultError::Rollback { .. }
                | VaultError::NoIntactGeneration { .. } => 5,
                VaultError::Permissions { .. } => 6,
                VaultError::NotFound { .. } => 7,
                VaultError::Config { .. } => 8,
                VaultError::NotDurable { .. } => 9,
                _ => 1,
            },
            CliError::NoRecord(_)
            | CliError::NoImportFile(_)
            | CliError::NoSecret(_)
            | CliError::NoAwsProfile(_)
            | CliError::NoPrevious(_) => 7,
            CliError::AuditBroken { .. } => 5,
            CliError::RecoveryKey(_) => 3,
            CliError::NothingUnlocks { .. } => 10,
            CliError::Tpm(
                keyward_tpm::Error::WrongPin { .. }
                | keyward_tpm::Error::LockedOut { .. }
                | keyward_tpm::Error::PinRequired,
            ) => 3,
            CliError::Usage(_) => 2,
            CliError::Exec { source, .. } => {
                if *source == nix::errno::Errno::ENOENT {
                    127
                } else {
                    126
                }
            }
            _ => 1,
        }
    }

    /// A plaintext credential file that is not what `keyward import` reads.
    pub(crate) fn bad_file(path: &Path, why: impl Into<String>) -> CliError {
        CliError::BadFile {
            path: path.to_path_buf(),
            why: why.into(),
        }
    }

    /// An I/O error on a plaintext credential file.
    pub(crate) fn file(path: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
        move |source| CliError::File {
            path: path.to_path_buf(),
            source,
        }
    }
}

pub(crate) type Result<T, E = CliError> = std::result::Result<T, E>;
