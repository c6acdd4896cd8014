use std::io;

/// Everything that can go wrong in secure memory. No variant ever carries secret bytes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The `required` lock policy is in force and the kernel refused to lock more memory.
    #[error(
        "cannot lock {requested} more bytes of memory ({locked} locked, limit {limit}): \
         raise RLIMIT_MEMLOCK (ulimit -l, or LimitMEMLOCK= / limits.conf memlock) \
         or set memory_lock = \"best-effort\""
    )]
    MemlockExhausted {
        /// Bytes this allocation wanted to lock.
        requested: usize,
        /// Bytes this process has locked already.
        locked: usize,
        /// RLIMIT_MEMLOCK soft limit in bytes (`usize::MAX` for unlimited).
        limit: usize,
    },
    /// The `required` lock policy is in force and locking is not possible at all here.
    #[error("memory locking is not available here ({0}); set memory_lock = \"best-effort\" to continue without it")]
    LockUnavailable(io::Error),
    /// Mapping memory failed (out of address space or memory).
    #[error("cannot map secure memory: {0}")]
    Map(io::Error),
    /// A secret would exceed the largest size keyward handles.
    #[error("secret too large ({requested} bytes, at most {max})")]
    TooLarge {
        /// Requested size in bytes.
        requested: usize,
        /// Largest supported size.
        max: usize,
    },
    /// A secret's bytes are not valid UTF-8 (the bytes themselves are not shown).
    #[error("secret is not valid UTF-8")]
    InvalidUtf8,
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// Reading a secret from a terminal or file descriptor failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// The user interrupted a prompt (Ctrl-C or Ctrl-D before any input).
    #[error("input interrupted")]
    Interrupted,
    /// There is no terminal to prompt on.
    #[error("no terminal available to ask for a secret")]
    NoTty,
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
