//! What can be wrong with a git credential request, and the limits that
//! define it; shared by the wire format ([`super::proto`]) and the url
//! splitter ([`super::url`]).

/// Longest line accepted, in bytes, counting its newline.
pub const MAX_LINE: usize = 65_535;

/// Longest request accepted, in bytes (many `wwwauth[]` lines fit easily).
pub const MAX_INPUT: usize = 1 << 20;

/// Bad input. Messages name a line number or a key, never a value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A line longer than [`MAX_LINE`].
    #[error("credential input line {line} is longer than 65535 bytes")]
    LineTooLong {
        /// 1-based line number.
        line: usize,
    },
    /// The whole request is longer than [`MAX_INPUT`].
    #[error("credential input is longer than {MAX_INPUT} bytes")]
    InputTooLarge,
    /// A NUL byte in a key or value.
    #[error("credential input line {line} contains a NUL byte")]
    Nul {
        /// 1-based line number.
        line: usize,
    },
    /// A non-blank line without `=`.
    #[error("credential input line {line} is not a key=value attribute")]
    NoEquals {
        /// 1-based line number.
        line: usize,
    },
    /// A non-secret value that is not UTF-8.
    #[error("credential attribute `{key}` is not valid UTF-8")]
    NotUtf8 {
        /// The attribute.
        key: &'static str,
    },
    /// `password_expiry_utc` that is not a number of seconds.
    #[error("credential attribute `password_expiry_utc` is not a Unix time in seconds")]
    BadExpiry,
    /// A boolean attribute with a value git would not accept either.
    #[error("credential attribute `{key}` is not a boolean (true/false/1/0/yes/no/on/off)")]
    BadBool {
        /// The attribute.
        key: &'static str,
    },
    /// A `url` that git would not parse either.
    #[error("credential url cannot be parsed: {why}")]
    BadUrl {
        /// What is wrong (never the url itself: it may hold a password).
        why: &'static str,
    },
    /// Reading standard input failed.
    #[error("cannot read the credential request from standard input: {0}")]
    Io(#[source] std::io::Error),
    /// Secure memory could not be allocated.
    #[error(transparent)]
    Secmem(#[from] keyward_secmem::Error),
}
