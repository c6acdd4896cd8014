//! `keyward-token-helper get|store|erase`: the OpenBao and HashiCorp Vault
//! CLIs' token helper protocol over the keyward vault, instead of the
//! plaintext `~/.vault-token`.
//!
//! The CLI runs the program named by `token_helper = "/abs/path"` in `~/.bao`
//! (OpenBao) or `~/.vault` (Vault) with one argument:
//!
//! - `get`: print the stored token on stdout (nothing else, no newline);
//!   print nothing and exit 0 when there is none.
//! - `store`: the token comes on stdin without a newline; keep it.
//! - `erase`: forget the stored token; forgetting nothing succeeds.
//!
//! Errors are one line on stderr and exit status 1; stdout carries only a
//! token. Tokens are kept per server address, as the CLI gives it to the
//! helper in its environment (`BAO_ADDR`, then `VAULT_ADDR`; the CLIs' default
//! `https://127.0.0.1:8200` when neither is set), as the named secret
//! `openbao/SCHEME/HOST:PORT[/PATH]` (see [`secret_name`]).

use crate::input::{read_bounded, Limits, ReadError};
use crate::{named, output};
use keyward_secmem::{ExposeSecret, SecretBytes};
use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read, Write};

/// The program's name in messages.
pub const NAME: &str = "keyward-token-helper";

/// The named-secret prefix tokens are kept under.
pub const PREFIX: &str = "openbao";

/// The address the OpenBao and Vault CLIs use when none is configured.
pub const DEFAULT_ADDR: &str = "https://127.0.0.1:8200";

/// Longest token accepted on `store`, in bytes (service tokens are under
/// 100 bytes, batch tokens a few hundred).
pub const MAX_TOKEN: usize = 16 << 10;

const USAGE: &str = "usage: keyward-token-helper get|store|erase (set `token_helper = \"/usr/bin/keyward-token-helper\"` in ~/.bao or ~/.vault)";

/// Why a request failed. Never carries token bytes.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Not exactly one argument.
    Usage,
    /// A verb this helper does not know.
    UnknownVerb(String),
    /// `store` with nothing on stdin.
    EmptyToken,
    /// `store` with a control character, space or non-ASCII byte in the token.
    BadToken,
    /// More than [`MAX_TOKEN`] bytes on stdin.
    TooLarge,
    /// The server address cannot name a secret.
    BadAddress(String, keyward_vault::Error),
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
            Error::UnknownVerb(v) => write!(f, "unknown operation {v:?}; {USAGE}"),
            Error::EmptyToken => f.write_str("store: no token on stdin"),
            Error::BadToken => f.write_str(
                "store: the token on stdin has a space, control character or non-ASCII byte; nothing stored",
            ),
            Error::TooLarge => write!(f, "store: more than {MAX_TOKEN} bytes on stdin; nothing stored"),
            Error::BadAddress(a, e) => write!(f, "server address {a:?}: {e}"),
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

/// The server address from the environment the CLI gives its helper.
pub fn address(env: impl Fn(&str) -> Option<OsString>) -> String {
    ["BAO_ADDR", "VAULT_ADDR"]
        .iter()
        .filter_map(|k| env(k))
        .map(|v| v.to_string_lossy().trim().to_owned())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_ADDR.to_owned())
}

/// `openbao/SCHEME/REST`: the scheme (lower-cased) and the rest of the
/// address (trailing `/` dropped), each as one escaped component; an address
/// without `://` is one component. `https://127.0.0.1:8200/` and
/// `HTTPS://127.0.0.1:8200` name the same secret.
pub fn secret_name(addr: &str) -> Result<String, Error> {
    let trimmed = addr.trim_end_matches('/');
    let r = match trimmed.split_once("://") {
        Some((scheme, rest)) => named::name(PREFIX, &[&scheme.to_ascii_lowercase(), rest]),
        None => named::name(PREFIX, &[trimmed]),
    };
    r.map_err(|e| Error::BadAddress(addr.to_owned(), e))
}

/// Reads the token of `store` into locked memory: to EOF, at most
/// [`MAX_TOKEN`] bytes, one trailing newline (`\n` or `\r\n`) dropped, then
/// printable ASCII only.
pub fn read_token(input: &mut impl Read) -> Result<SecretBytes, Error> {
    let limits = Limits {
        initial: 256,
        max: MAX_TOKEN,
        probe_at_max: true,
    };
    let mut buf = read_bounded(|b| input.read(b), limits, |_, _| false).map_err(|e| match e {
        ReadError::TooLarge => Error::TooLarge,
        ReadError::Io(e) => Error::Io("cannot read stdin", e),
        ReadError::Memory(e) => Error::Memory(e),
    })?;
    let mut len = buf.len();
    if buf.expose_secret().ends_with(b"\n") {
        len -= 1;
        if buf.expose_secret()[..len].ends_with(b"\r") {
            len -= 1;
        }
    }
    buf.truncate(len);
    if buf.is_empty() {
        return Err(Error::EmptyToken);
    }
    if !buf.expose_secret().iter().all(|&c| c.is_ascii_graphic()) {
        return Err(Error::BadToken);
    }
    Ok(buf)
}

/// Runs one operation. `open` is called at most once, after the input is
/// read and checked; `Ok(None)`: no vault file yet.
pub fn run<S: named::TokenStore>(
    args: &[OsString],
    addr: &str,
    input: &mut impl Read,
    out: &mut impl Write,
    open: impl FnOnce() -> Result<Option<S>, Error>,
) -> Result<(), Error> {
    let [verb] = args else {
        return Err(Error::Usage);
    };
    match verb.to_str() {
        Some("get") => {
            let name = secret_name(addr)?;
            let Some(mut store) = open()? else {
                return Ok(());
            };
            if let Some(token) = store.get_token(&name)? {
                output::write_all(out, token.expose_secret())
                    .map_err(|e| Error::Io("cannot write stdout", e))?;
            }
            Ok(())
        }
        Some("store") => {
            // Read to EOF first, whatever happens next.
            let token = read_token(input);
            let name = secret_name(addr)?;
            let token = token?;
            Ok(open()?.ok_or(Error::NoVault)?.put_token(&name, token)?)
        }
        Some("erase") => {
            let name = secret_name(addr)?;
            match open()? {
                Some(mut store) => Ok(store.remove_token(&name)?),
                None => Ok(()),
            }
        }
        _ => Err(Error::UnknownVerb(verb.to_string_lossy().into_owned())),
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

/// `keyward-token-helper`'s `main`: hardens the process, loads the
/// configuration, serves one operation. Returns the exit status.
pub fn main() -> i32 {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if let Err(e) = keyward_secmem::harden_process() {
        eprintln!("{NAME}: warning: {e}; run `keyward doctor`");
    }
    let result = (|| {
        let config = keyward_vault::Config::load()?;
        keyward_secmem::set_policy(config.memory_lock);
        keyward_audit::use_config(&config);
        let mut out = output::raw_stdout().map_err(|e| Error::Io("cannot use stdout", e))?;
        let mut input: Box<dyn Read> = match output::raw_stdin() {
            Ok(f) => Box::new(f),
            Err(_) => Box::new(io::empty()),
        };
        let addr = address(|k| std::env::var_os(k));
        run(&args, &addr, &mut input, &mut out, || {
            Ok(named::open(config)?)
        })
    })();
    report(result)
}

#[cfg(test)]
mod tests;
