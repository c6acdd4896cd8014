//! `docker-credential-keyward`: the docker credential helper protocol, as
//! github.com/docker/docker-credential-helpers speaks it, over the keyward vault.
//!
//! `docker-credential-keyward <store|get|erase|list|version>`; the payload comes
//! on stdin, the answer goes to stdout, and so do errors (with exit status 1):
//! the clients (docker CLI, docker-py, containers/image) read only stdout.
//!
//! - `store`: `{"ServerURL":…,"Username":…,"Secret":…}`; replaces any credential
//!   for the same server (see [`keys`] for Docker Hub's spellings).
//! - `get`: the server on stdin; answers `{"ServerURL":…,"Username":…,"Secret":…}`.
//! - `erase`: the server on stdin; erasing what is not there succeeds.
//! - `list`: ignores stdin; answers `{"server":"username",…}` without decrypting
//!   any secret.
//!
//! The input is read into locked memory, capped at [`MAX_INPUT`] bytes, and must
//! be UTF-8 without NUL bytes. The secret is decoded from it straight into
//! locked memory and written to stdout from locked memory.

pub mod json;
pub mod keys;
pub mod vault;

use crate::input::{read_bounded, Limits, ReadError};
use crate::output;
use keyward_secmem::{ExposeSecret, SecretBytes};
use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read, Write};

/// The program name clients call (`credsStore: "keyward"`).
pub const NAME: &str = "docker-credential-keyward";

/// Largest stdin accepted, in bytes (1 MiB).
pub const MAX_INPUT: usize = 1 << 20;

/// The text of the usage line, printed on stdout.
pub const USAGE: &str = "Usage: docker-credential-keyward <store|get|erase|list|version>";

/// Everything the helper can answer instead of a result. Each displays as the
/// one line the client reads on stdout; none carries a secret.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// No credential for that server (the exact text clients match).
    NotFound,
    /// Empty server (the exact text clients match).
    MissingServerUrl,
    /// Empty username on `store` (the exact text clients match).
    MissingUsername,
    /// Wrong number of arguments.
    Usage,
    /// An action this helper does not know.
    UnknownAction(String),
    /// More than [`MAX_INPUT`] bytes on stdin.
    InputTooLarge,
    /// A NUL byte on stdin.
    InputNul,
    /// Stdin is not UTF-8.
    InputUtf8,
    /// The `store` payload is not the expected JSON.
    Json(json::JsonError),
    /// Locked memory could not be had.
    Memory(keyward_secmem::Error),
    /// Reading stdin or writing stdout failed.
    Io(&'static str, io::Error),
    /// A `store` field longer than the vault keeps ([`keyward_vault::MAX_FIELD_LEN`]).
    FieldTooLong(&'static str),
    /// `store` with no vault yet.
    NoVault,
    /// The vault refused (locked, corrupted, wrong permissions, …); its
    /// message names the path and the fix.
    Vault(keyward_vault::Error),
    /// `get` asked for the `n`-th docker credential of a listing the vault no
    /// longer has (it changed in between); running the command again fixes it.
    NoSuchCredential(usize),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound => f.write_str("credentials not found in native keychain"),
            Error::MissingServerUrl => f.write_str("no credentials server URL"),
            Error::MissingUsername => f.write_str("no credentials username"),
            Error::Usage => f.write_str(USAGE),
            Error::UnknownAction(a) => write!(f, "{NAME}: unknown action: {a}"),
            Error::InputTooLarge => write!(
                f,
                "{NAME}: input too large: more than {MAX_INPUT} bytes on stdin"
            ),
            Error::InputNul => write!(f, "{NAME}: invalid input: NUL byte on stdin"),
            Error::InputUtf8 => write!(f, "{NAME}: invalid input: stdin is not valid UTF-8"),
            Error::Json(e) => write!(f, "{NAME}: {e}"),
            Error::Memory(e) => write!(f, "{NAME}: {e}"),
            Error::Io(what, e) => write!(f, "{NAME}: {what}: {e}"),
            Error::FieldTooLong(field) => write!(
                f,
                "{NAME}: invalid input: {field} is longer than {} bytes",
                keyward_vault::MAX_FIELD_LEN
            ),
            Error::NoVault => write!(
                f,
                "{NAME}: there is no keyward vault yet: run `keyward init` first"
            ),
            Error::Vault(e) => write!(f, "{NAME}: {e}"),
            Error::NoSuchCredential(n) => write!(f, "{NAME}: no docker credential number {n}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<keyward_vault::Error> for Error {
    fn from(e: keyward_vault::Error) -> Self {
        Error::Vault(e)
    }
}

impl From<keyward_secmem::Error> for Error {
    fn from(e: keyward_secmem::Error) -> Self {
        Error::Memory(e)
    }
}

impl From<json::ParseError> for Error {
    fn from(e: json::ParseError) -> Self {
        match e {
            json::ParseError::Json(e) => Error::Json(e),
            json::ParseError::Memory(e) => Error::Memory(e),
        }
    }
}

/// What an action needs from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `get`, `list`: read metadata, reveal at most one secret.
    Read,
    /// `store`, `erase`: change entries.
    Write,
}

/// Where docker credentials live. The vault implements it; tests use memory.
pub trait Backend {
    /// `(server key, username)` of every docker credential, in storage order.
    /// Must not decrypt any secret.
    fn list(&mut self) -> Result<Vec<(String, String)>, Error>;
    /// Decrypts the secret of the `index`-th credential of [`Backend::list`].
    fn reveal(&mut self, index: usize) -> Result<SecretBytes, Error>;
    /// In one transaction: removes every docker credential whose key satisfies
    /// `replaces`, then adds this one.
    fn store(
        &mut self,
        server: &str,
        username: &str,
        secret: SecretBytes,
        replaces: &dyn Fn(&str) -> bool,
    ) -> Result<(), Error>;
    /// In one transaction: removes every docker credential whose key satisfies
    /// `erase`; returns how many.
    fn erase(&mut self, erase: &dyn Fn(&str) -> bool) -> Result<usize, Error>;
}

/// Reads stdin to its end into locked memory: at most [`MAX_INPUT`] bytes,
/// UTF-8, no NUL.
pub fn read_input(input: &mut impl Read) -> Result<SecretBytes, Error> {
    let limits = Limits {
        initial: 512,
        max: MAX_INPUT,
        probe_at_max: true,
    };
    let buf = read_bounded(|b| input.read(b), limits, |_, _| false).map_err(|e| match e {
        ReadError::TooLarge => Error::InputTooLarge,
        ReadError::Io(e) => Error::Io("cannot read stdin", e),
        ReadError::Memory(e) => Error::Memory(e),
    })?;
    let bytes = buf.expose_secret();
    if bytes.contains(&0) {
        return Err(Error::InputNul);
    }
    if std::str::from_utf8(bytes).is_err() {
        return Err(Error::InputUtf8);
    }
    Ok(buf)
}

/// The server named on stdin, as the reference helpers read it: lines joined
/// without their line ends, then surrounding white space trimmed.
pub fn read_server(input: &mut impl Read) -> Result<String, Error> {
    let buf = read_input(input)?;
    // Checked as UTF-8 by read_input; the server name is not a secret.
    let text = std::str::from_utf8(buf.expose_secret()).map_err(|_| Error::InputUtf8)?;
    let mut joined = String::with_capacity(text.len());
    for line in text.split('\n') {
        joined.push_str(line.strip_suffix('\r').unwrap_or(line));
    }
    let server = joined.trim();
    if server.is_empty() {
        return Err(Error::MissingServerUrl);
    }
    Ok(server.to_owned())
}

/// Runs one protocol action. `open` is called at most once, only after the
/// input has been read and validated; `Ok(None)` means there is no vault yet.
pub fn run<B: Backend>(
    action: &str,
    input: &mut impl Read,
    out: &mut impl Write,
    open: impl FnOnce(Access) -> Result<Option<B>, Error>,
) -> Result<(), Error> {
    let write = |out: &mut _, bytes: &[u8]| {
        output::write_all(out, bytes).map_err(|e| Error::Io("cannot write stdout", e))
    };
    match action {
        "store" => {
            let buf = read_input(input)?;
            let req = json::parse_store(buf.expose_secret())?;
            drop(buf);
            if req.server_url.is_empty() {
                return Err(Error::MissingServerUrl);
            }
            if req.username.is_empty() {
                return Err(Error::MissingUsername);
            }
            if req.server_url.len() > keyward_vault::MAX_FIELD_LEN {
                return Err(Error::FieldTooLong("ServerURL"));
            }
            if req.username.len() > keyward_vault::MAX_FIELD_LEN {
                return Err(Error::FieldTooLong("Username"));
            }
            let mut store = open(Access::Write)?.ok_or(Error::NoVault)?;
            let server = req.server_url;
            store.store(&server, &req.username, req.secret, &|k| {
                keys::matches(k, &server)
            })
        }
        "get" => {
            let server = read_server(input)?;
            let Some(mut store) = open(Access::Read)? else {
                return Err(Error::NotFound);
            };
            let entries = store.list()?;
            let i =
                keys::best(entries.iter().map(|e| e.0.as_str()), &server).ok_or(Error::NotFound)?;
            let secret = store.reveal(i)?;
            let answer = json::credentials_response(&server, &entries[i].1, &secret)?;
            drop(secret);
            write(out, answer.expose_secret())
        }
        "erase" => {
            let server = read_server(input)?;
            if let Some(mut store) = open(Access::Write)? {
                store.erase(&|k| keys::matches(k, &server))?;
            }
            Ok(())
        }
        "list" => {
            let entries = match open(Access::Read)? {
                Some(mut store) => store.list()?,
                None => Vec::new(),
            };
            write(out, &json::list_response(&entries)?)
        }
        "version" | "-v" | "--version" => write(out, version_line().as_bytes()),
        "-h" | "--help" => write(out, format!("{USAGE}\n").as_bytes()),
        other => Err(Error::UnknownAction(other.to_owned())),
    }
}

/// `docker-credential-keyward (keyward) VERSION` and a newline.
pub fn version_line() -> String {
    format!("{NAME} (keyward) {}\n", env!("CARGO_PKG_VERSION"))
}

/// Parses arguments and runs the action; prints any error on `out`, as the
/// clients expect. Returns the exit status.
pub fn serve<B: Backend>(
    args: &[OsString],
    input: &mut impl Read,
    out: &mut impl Write,
    open: impl FnOnce(Access) -> Result<Option<B>, Error>,
) -> i32 {
    let result = match args {
        [action] => run(&action.to_string_lossy(), input, out, open),
        _ => Err(Error::Usage),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            // Clients read errors from stdout; if even that fails, say so on stderr.
            if output::write_all(out, format!("{e}\n").as_bytes()).is_err() {
                eprintln!("{e}");
            }
            1
        }
    }
}

/// The whole program after process hardening: [`serve`] on the real, unbuffered
/// stdin and stdout. Returns the exit status.
pub fn main_with<B: Backend>(
    args: &[OsString],
    open: impl FnOnce(Access) -> Result<Option<B>, Error>,
) -> i32 {
    let mut out = match output::raw_stdout() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{NAME}: cannot use stdout: {e}");
            return 1;
        }
    };
    // A closed stdin reads as empty (`list` and `version` do not read it).
    let mut input: Box<dyn Read> = match output::raw_stdin() {
        Ok(f) => Box::new(f),
        Err(_) => Box::new(io::empty()),
    };
    serve(args, &mut input, &mut out, open)
}

/// `docker-credential-keyward`'s `main`: hardens the process (no core dumps,
/// not ptrace-able by the user's other processes), loads the configuration
/// (memory-lock policy, vault path), then serves one action from the command
/// line against the keyward vault. Returns the exit status.
pub fn main() -> i32 {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if let Err(e) = keyward_secmem::harden_process() {
        eprintln!("{NAME}: warning: {e}; run `keyward doctor`");
    }
    let config = match keyward_vault::Config::load() {
        Ok(c) => c,
        Err(e) => {
            // Errors go to stdout, where the clients look for them.
            println!("{NAME}: {e}");
            return 1;
        }
    };
    keyward_secmem::set_policy(config.memory_lock);
    keyward_audit::use_config(&config);
    main_with(&args, |access| vault::open(config, access))
}

#[cfg(test)]
pub(crate) mod memory {
    //! An in-memory [`Backend`] for protocol tests without a vault.
    use super::{Backend, Error};
    use keyward_secmem::{ExposeSecret, SecretBytes};

    /// Credentials in locked memory, in insertion order.
    #[derive(Debug, Default)]
    pub struct Memory {
        pub entries: Vec<(String, String, SecretBytes)>,
        pub reveals: usize,
    }

    impl Backend for &mut Memory {
        fn list(&mut self) -> Result<Vec<(String, String)>, Error> {
            Ok(self
                .entries
                .iter()
                .map(|(s, u, _)| (s.clone(), u.clone()))
                .collect())
        }
        fn reveal(&mut self, index: usize) -> Result<SecretBytes, Error> {
            self.reveals += 1;
            Ok(SecretBytes::from_slice(
                self.entries[index].2.expose_secret(),
            )?)
        }
        fn store(
            &mut self,
            server: &str,
            username: &str,
            secret: SecretBytes,
            replaces: &dyn Fn(&str) -> bool,
        ) -> Result<(), Error> {
            self.entries.retain(|(s, _, _)| !replaces(s));
            self.entries
                .push((server.to_owned(), username.to_owned(), secret));
            Ok(())
        }
        fn erase(&mut self, erase: &dyn Fn(&str) -> bool) -> Result<usize, Error> {
            let before = self.entries.len();
            self.entries.retain(|(s, _, _)| !erase(s));
            Ok(before - self.entries.len())
        }
    }
}

#[cfg(test)]
mod tests;
