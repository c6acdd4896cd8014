//! The one error type of the vault crate. Every message is one line, names the
//! path or key concerned and the fix, and never carries secret bytes.

use std::path::PathBuf;

/// Everything that can go wrong with a vault, its configuration or the unlock cache.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No vault file at this path.
    #[error("no vault at {}: create one with `keyward init`", path.display())]
    NotFound {
        /// The vault path.
        path: PathBuf,
    },
    /// A vault already exists where a new one was to be created.
    #[error("a vault already exists at {}: use it, or move it away first", path.display())]
    Exists {
        /// The vault path.
        path: PathBuf,
    },
    /// The file failed authentication or does not parse: modified, truncated or extended.
    #[error("vault is corrupted or was tampered with: {}; `keyward recover` restores the last intact generation", path.display())]
    Corrupt {
        /// The vault path.
        path: PathBuf,
    },
    /// Neither the vault nor its previous generation authenticates.
    #[error("neither {} nor its previous generation ({}.prev) is intact: restore the vault from a backup", path.display(), path.display())]
    NoIntactGeneration {
        /// The vault path.
        path: PathBuf,
    },
    /// The vault is an older generation than one seen before: an older copy
    /// was put back (exit 5 from `keyward` and `git-credential-keyward`).
    #[error("vault {} is generation {found}, but generation {seen} was seen before: an older copy was put back (it may hold revoked tokens); if you restored it on purpose, accept it with `keyward recover --accept-older`", path.display())]
    Rollback {
        /// The vault path.
        path: PathBuf,
        /// The generation of the file now in place.
        found: u64,
        /// The highest generation remembered.
        seen: u64,
    },
    /// The password does not unwrap the vault key.
    #[error("wrong vault password for {}", path.display())]
    WrongPassword {
        /// The vault path.
        path: PathBuf,
    },
    /// The vault was written by a newer keyward (a higher format version).
    #[error("{} was written by a newer keyward (vault format {found}; this keyward reads up to {}): upgrade keyward to open it", path.display(), crate::format::VERSION)]
    TooNew {
        /// The vault path.
        path: PathBuf,
        /// The format version in its header.
        found: u16,
    },
    /// No key slot of the kind tried opens the vault (a wrong recovery key,
    /// another machine's host key, or no such slot).
    #[error("{what} does not open {}: {hint}", path.display())]
    NoSlotOpens {
        /// The vault path.
        path: PathBuf,
        /// What was tried ("the recovery key", "the host key").
        what: String,
        /// The next step.
        hint: String,
    },
    /// No unlocked key is cached and no terminal may be used to ask for the password.
    #[error("vault is locked: run `keyward unlock` ({})", path.display())]
    Locked {
        /// The vault path.
        path: PathBuf,
    },
    /// Unsafe ownership, mode or a symlink on the vault or its directory.
    #[error("refusing {}: {why}", path.display())]
    Permissions {
        /// The offending path.
        path: PathBuf,
        /// What is wrong and how to fix it.
        why: String,
    },
    /// An operating-system error on a file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Writing the new vault failed (disk full, quota, I/O error); the old
    /// file is untouched.
    #[error("cannot write {}: {source}; the vault was left as it was (free some space or fix the cause, then retry)", path.display())]
    WriteFailed {
        /// The vault path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The new vault is in place, but syncing its directory failed: saved, not
    /// yet durable (exit 9 from `keyward`).
    #[error("saved {}, but not yet durable: syncing its directory failed ({source}); the change is in place and survives unless the machine crashes before the disk catches up (run `sync`, and check the disk)", path.display())]
    NotDurable {
        /// The vault path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Another writer held the vault's lock longer than [`keyward_trustfs::LOCK_WAIT`].
    #[error("vault is busy: another process has held {} for {}s; try again (or find it with `fuser {}`)", lock.display(), keyward_trustfs::LOCK_WAIT.as_secs(), lock.display())]
    Busy {
        /// The lock file.
        lock: PathBuf,
    },
    /// A vault's scrypt cost is above the ceiling of the system
    /// configuration, for a process deriving keys for another user (the PAM
    /// module at login): refused before scrypt runs.
    #[error("refusing to derive the key of {} here: {why}; run `keyward rekey` with a lower [kdf] cost, or ask the administrator to raise [kdf_limits] in /etc/keyward/keyward.toml", path.display())]
    KdfCeiling {
        /// The vault path.
        path: PathBuf,
        /// Which limit, and by how much.
        why: String,
    },
    /// A bad or unknown configuration key.
    #[error("{}: {key}: {why}", file.display())]
    Config {
        /// The configuration file.
        file: PathBuf,
        /// The key (dotted) concerned.
        key: String,
        /// What is wrong.
        why: String,
    },
    /// The kernel keyring refused an operation.
    #[error("kernel keyring: {0}")]
    Keyring(String),
    /// Bad input to a vault operation (field too long, not UTF-8, unknown index...).
    #[error("{0}")]
    Invalid(String),
    /// Secure memory could not be obtained.
    #[error(transparent)]
    Secmem(#[from] keyward_secmem::Error),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The trusted-filesystem layer's errors as vault errors (same messages).
impl From<keyward_trustfs::Error> for Error {
    fn from(e: keyward_trustfs::Error) -> Error {
        use keyward_trustfs::Error as Fs;
        match e {
            Fs::NotFound { path } => Error::NotFound { path },
            Fs::Refused { path, why, .. } => Error::Permissions { path, why },
            Fs::Io { path, source } => Error::Io { path, source },
            Fs::WriteFailed { path, source } => Error::WriteFailed { path, source },
            Fs::NotDurable { path, source } => Error::NotDurable { path, source },
            Fs::Busy { lock, .. } => Error::Busy { lock },
            other => Error::Invalid(other.to_string()),
        }
    }
}
