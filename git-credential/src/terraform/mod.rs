//! `terraform-credentials-keyward [ARGS…] get|store|forget HOSTNAME`:
//! Terraform's (and OpenTofu's) credentials helper protocol over the keyward
//! vault, instead of the plaintext `~/.terraform.d/credentials.tfrc.json`.
//!
//! As Terraform's "credentials helpers" internals page says: the configured
//! `args` come first, then the verb, then the hostname.
//!
//! - `get HOST`: prints `{"token":"…"}` (written from locked memory) and exits
//!   0; prints `{}` and exits 0 when there is no token for HOST (or no vault).
//! - `store HOST`: reads the credentials object on stdin to its end, even when
//!   it then fails; keeps its `token`; prints nothing. An object with any
//!   property other than `token` is refused (this helper keeps only the token
//!   and must not drop the rest silently), and so is a `token` that is not a
//!   non-empty string.
//! - `forget HOST`: takes no input; forgetting what is not there succeeds.
//! - Anything else: one line on stderr, exit status 1.
//!
//! The token is the named secret `terraform/HOST` (HOST lower-cased: Terraform
//! compares hostnames case-insensitively), so `keyward set|get|rm` see it too.

pub mod parse;

use crate::input::{read_bounded, Limits, ReadError};
use crate::{named, output};
use keyward_secmem::{ExposeSecret, SecretBytes};
use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read, Write};

/// The program name Terraform runs (`credentials_helper "keyward" {}`).
pub const NAME: &str = "terraform-credentials-keyward";

/// The named-secret prefix tokens are kept under.
pub const PREFIX: &str = "terraform";

/// Largest credentials object accepted on `store`, in bytes (64 KiB).
pub const MAX_INPUT: usize = 64 << 10;

const USAGE: &str = "usage: terraform-credentials-keyward get|store|forget HOSTNAME (configure `credentials_helper \"keyward\" {}` in ~/.terraformrc)";

/// Why a request failed. Never carries token bytes.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Fewer than two arguments.
    Usage,
    /// A verb this helper does not know (the protocol may grow new ones).
    UnknownVerb(String),
    /// A configured argument this helper does not take.
    UnknownArg(String),
    /// An empty or malformed hostname.
    BadHost(String),
    /// The object on stdin cannot be kept; the text says why.
    Unstorable(parse::Refused),
    /// More than [`MAX_INPUT`] bytes on stdin.
    TooLarge,
    /// `store` with no vault yet.
    NoVault,
    /// Reading stdin or writing stdout failed.
    Io(&'static str, io::Error),
    /// Locked memory could not be had.
    Memory(keyward_secmem::Error),
    /// The vault refused (locked, damaged, permissions); its text says what to do.
    Vault(keyward_vault::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage => f.write_str(USAGE),
            Error::UnknownVerb(v) => write!(f, "unknown verb {v:?}; {USAGE}"),
            Error::UnknownArg(a) => write!(
                f,
                "unknown argument {a:?} before the verb: remove it from `args` in the credentials_helper block"
            ),
            Error::BadHost(h) => write!(f, "bad hostname {h:?}"),
            Error::Unstorable(r) => write!(f, "cannot store these credentials: {r}; nothing stored"),
            Error::TooLarge => write!(
                f,
                "cannot store these credentials: more than {MAX_INPUT} bytes on stdin; nothing stored"
            ),
            Error::NoVault => f.write_str("there is no keyward vault yet: run `keyward init` first"),
            Error::Io(what, e) => write!(f, "{what}: {e}"),
            Error::Memory(e) => write!(f, "{e}"),
            Error::Vault(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<keyward_vault::Error> for Error {
    fn from(e: keyward_vault::Error) -> Self {
        Error::Vault(e)
    }
}

/// The named secret for `host`: `terraform/` and the host lower-cased.
/// A host must be non-empty and hold no `/`, space or control character.
pub fn secret_name(host: &str) -> Result<String, Error> {
    let bad = || Error::BadHost(host.to_owned());
    if host.is_empty() || host.bytes().any(|c| c == b'/' || c <= b' ' || c == 0x7f) {
        return Err(bad());
    }
    named::name(PREFIX, &[&host.to_ascii_lowercase()]).map_err(|_| bad())
}

/// Reads stdin to its end: at most [`MAX_INPUT`] bytes into locked memory;
/// past that the rest is read and dropped (the protocol wants stdin drained
/// even when the helper fails) and the answer is [`Error::TooLarge`].
pub fn read_input(input: &mut impl Read) -> Result<SecretBytes, Error> {
    let limits = Limits {
        initial: 512,
        max: MAX_INPUT,
        probe_at_max: true,
    };
    match read_bounded(|b| input.read(b), limits, |_, _| false) {
        Ok(b) => Ok(b),
        Err(ReadError::TooLarge) => {
            let mut scratch = SecretBytes::zeroed(4096).map_err(Error::Memory)?;
            loop {
                match input.read(keyward_secmem::ExposeSecretMut::expose_secret_mut(
                    &mut scratch,
                )) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(Error::Io("cannot read stdin", e)),
                }
            }
            Err(Error::TooLarge)
        }
        Err(ReadError::Io(e)) => Err(Error::Io("cannot read stdin", e)),
        Err(ReadError::Memory(e)) => Err(Error::Memory(e)),
    }
}

/// Runs one request. `open` is called at most once, after the input is read
/// and checked; `Ok(None)`: no vault file yet.
pub fn run<S: named::TokenStore>(
    args: &[OsString],
    input: &mut impl Read,
    out: &mut impl Write,
    open: impl FnOnce() -> Result<Option<S>, Error>,
) -> Result<(), Error> {
    let [configured @ .., verb, host] = args else {
        // `store` with too few arguments still drains stdin.
        if args.first().is_some_and(|a| a == "store") {
            let _ = read_input(input);
        }
        return Err(Error::Usage);
    };
    let verb = verb.to_string_lossy();
    if verb == "store" {
        // Drained before anything else can fail.
        let data = read_input(input);
        if let Some(a) = configured.first() {
            return Err(Error::UnknownArg(a.to_string_lossy().into_owned()));
        }
        let name = secret_name(&host.to_string_lossy())?;
        let token = parse::token(data?.expose_secret()).map_err(|e| match e {
            parse::Error::Refused(r) => Error::Unstorable(r),
            parse::Error::Memory(m) => Error::Memory(m),
        })?;
        return Ok(open()?.ok_or(Error::NoVault)?.put_token(&name, token)?);
    }
    if let Some(a) = configured.first() {
        return Err(Error::UnknownArg(a.to_string_lossy().into_owned()));
    }
    match &*verb {
        "get" => {
            let name = secret_name(&host.to_string_lossy())?;
            let token = match open()? {
                Some(mut store) => store.get_token(&name)?,
                None => None,
            };
            let answer = match token {
                Some(t) => parse::answer(&t).map_err(Error::Memory)?,
                None => SecretBytes::from_slice(b"{}\n").map_err(Error::Memory)?,
            };
            output::write_all(out, answer.expose_secret())
                .map_err(|e| Error::Io("cannot write stdout", e))
        }
        "forget" => {
            let name = secret_name(&host.to_string_lossy())?;
            match open()? {
                Some(mut store) => Ok(store.remove_token(&name)?),
                None => Ok(()),
            }
        }
        other => Err(Error::UnknownVerb(other.to_owned())),
    }
}

/// Writes `NAME: error` as one line on stderr; the exit status.
pub fn report(result: Result<(), Error>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            let _ = io::stderr().write_all(format!("{NAME}: {e}\n").as_bytes());
            1
        }
    }
}

/// `terraform-credentials-keyward`'s `main`: hardens the process, loads the
/// configuration, serves one request. Returns the exit status.
pub fn main() -> i32 {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if let Err(e) = keyward_secmem::harden_process() {
        eprintln!("{NAME}: warning: {e}; run `keyward doctor`");
    }
    let mut input: Box<dyn Read> = match output::raw_stdin() {
        Ok(f) => Box::new(f),
        Err(_) => Box::new(io::empty()),
    };
    let result = (|| {
        let config = match keyward_vault::Config::load() {
            Ok(c) => c,
            Err(e) => {
                let _ = read_input(&mut input);
                return Err(e.into());
            }
        };
        keyward_secmem::set_policy(config.memory_lock);
        keyward_audit::use_config(&config);
        let mut out = output::raw_stdout().map_err(|e| Error::Io("cannot use stdout", e))?;
        run(&args, &mut input, &mut out, || Ok(named::open(config)?))
    })();
    report(result)
}

#[cfg(test)]
mod tests;
