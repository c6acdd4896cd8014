//! `cargo-credential-keyward`: cargo's credential-provider protocol (cargo ≥
//! 1.74, <https://doc.rust-lang.org/cargo/reference/credential-provider-protocol.html>)
//! over the keyward vault.
//!
//! cargo runs `cargo-credential-keyward --cargo-plugin`; the provider writes
//! its hello `{"v":[1]}`, then answers each request line on stdin with one
//! line on stdout until stdin ends:
//!
//! - `get` (any `operation`): `{"Ok":{"kind":"get","token":…,"cache":"session","operation_independent":true}}`,
//!   or `{"Err":{"kind":"not-found"}}` when the vault has no token for the
//!   registry (or there is no vault). `session`: cargo keeps the token for the
//!   rest of its run instead of starting the provider again for every
//!   download; the token does not expire, so it is good for every operation.
//! - `login`: stores the token cargo passes (from `--token` or standard
//!   input), else asks for it on the terminal; `{"Ok":{"kind":"login"}}`.
//! - `logout`: erases it; `{"Ok":{"kind":"logout"}}`, or `not-found`.
//! - any other kind: `operation-not-supported`.
//!
//! Tokens are keyed by the registry's index URL exactly as cargo sends it
//! (`registry.index-url`); crates.io's two spellings are one key
//! ([`registry_key`]). Every error is an `{"Err":{"kind":"other","message":…}}`
//! line and exit status 0: cargo shows the message only when the provider
//! exits 0 (like cargo's own `cargo-credential` library, which every
//! reference provider uses). A line that cannot be parsed ends the session
//! after its answer. A locked vault fails at once with the hint (`run
//! `keyward unlock``), as the git helper does, unless there is a terminal to
//! ask on.
//!
//! Requests are read into locked memory ([`Lines`]), at most [`MAX_LINE`]
//! bytes each, UTF-8 without NUL; the token is decoded from them into locked
//! memory ([`request`]) and the answer is built and written from locked
//! memory.

pub mod request;

use crate::json;
use crate::output;
use keyward_audit::{Action as Audit, Target};
use keyward_secmem::{ExposeSecret, ExposeSecretMut, SecretBytes};
use keyward_unlock::{open_for_helper_if_exists, HelperOpen};
use keyward_vault::{Config, Kind, NewEntry, Vault};
use request::{Action, Request, RequestError};
use std::ffi::OsString;
use std::io::{self, Read, Write};

/// The program name cargo runs (`global-credential-providers = ["cargo-credential-keyward"]`).
pub const NAME: &str = "cargo-credential-keyward";

/// Largest request line accepted, in bytes (1 MiB).
pub const MAX_LINE: usize = 1 << 20;

/// The hello line.
pub const HELLO: &[u8] = b"{\"v\":[1]}\n";

/// crates.io's sparse index URL, under which its token is stored.
pub const CRATES_IO: &str = "sparse+https://index.crates.io/";

/// crates.io's git index URL, which cargo sends when the git protocol is used.
pub const CRATES_IO_GIT: &str = "https://github.com/rust-lang/crates.io-index";

/// The vault key (`host`) of a registry: its index URL, with crates.io's git
/// spelling mapped to the sparse one.
pub fn registry_key(index_url: &str) -> &str {
    if index_url == CRATES_IO_GIT {
        CRATES_IO
    } else {
        index_url
    }
}

/// The `kind` of an `{"Err":…}` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrKind {
    /// No token for that registry.
    NotFound,
    /// A request kind this provider does not do.
    OperationNotSupported,
    /// Anything else (the message says what).
    Other,
}

impl ErrKind {
    fn as_str(self) -> &'static str {
        match self {
            ErrKind::NotFound => "not-found",
            ErrKind::OperationNotSupported => "operation-not-supported",
            ErrKind::Other => "other",
        }
    }
}

/// An error answer: its kind and message (never a secret).
#[derive(Debug)]
pub struct Answer {
    /// The error kind.
    pub kind: ErrKind,
    /// What to show the user, with the next step.
    pub message: Option<String>,
}

impl Answer {
    fn other(message: impl Into<String>) -> Answer {
        Answer {
            kind: ErrKind::Other,
            message: Some(message.into()),
        }
    }
}

impl From<keyward_vault::Error> for Answer {
    fn from(e: keyward_vault::Error) -> Self {
        Answer::other(e.to_string())
    }
}

impl From<keyward_secmem::Error> for Answer {
    fn from(e: keyward_secmem::Error) -> Self {
        Answer::other(e.to_string())
    }
}

/// `{"Err":{"kind":…,"message":…}}` and a newline.
pub fn err_line(a: &Answer) -> Result<SecretBytes, keyward_secmem::Error> {
    let mut out = SecretBytes::with_capacity(64)?;
    out.extend_from_slice(b"{\"Err\":{\"kind\":\"")?;
    out.extend_from_slice(a.kind.as_str().as_bytes())?;
    out.push(b'"')?;
    if let Some(m) = &a.message {
        out.extend_from_slice(b",\"message\":")?;
        json::push_string(&mut out, m.as_bytes())?;
    }
    out.extend_from_slice(b"}}\n")?;
    Ok(out)
}

/// `{"Ok":{"kind":"get","token":…,"cache":"session","operation_independent":true}}`
/// and a newline, built in locked memory.
pub fn get_line(token: &SecretBytes) -> Result<SecretBytes, keyward_secmem::Error> {
    let mut out = SecretBytes::with_capacity(token.len() + 96)?;
    out.extend_from_slice(b"{\"Ok\":{\"kind\":\"get\",\"token\":")?;
    json::push_string(&mut out, token.expose_secret())?;
    out.extend_from_slice(b",\"cache\":\"session\",\"operation_independent\":true}}\n")?;
    Ok(out)
}

/// Why reading a request line failed; each ends the session.
#[derive(Debug)]
pub enum LineError {
    /// More than [`MAX_LINE`] bytes without a newline.
    TooLong,
    /// A NUL byte.
    Nul,
    /// Not UTF-8.
    Utf8,
    /// The read failed.
    Io(io::Error),
    /// Locked memory could not be had.
    Memory(keyward_secmem::Error),
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineError::TooLong => write!(f, "invalid request: longer than {MAX_LINE} bytes"),
            LineError::Nul => f.write_str("invalid request: NUL byte"),
            LineError::Utf8 => f.write_str("invalid request: not valid UTF-8"),
            LineError::Io(e) => write!(f, "cannot read stdin: {e}"),
            LineError::Memory(e) => e.fmt(f),
        }
    }
}

impl From<keyward_secmem::Error> for LineError {
    fn from(e: keyward_secmem::Error) -> Self {
        LineError::Memory(e)
    }
}

/// Request lines from a reader, buffered in locked memory: a line may arrive
/// in pieces, and bytes after its newline are kept for the next one.
#[derive(Debug)]
pub struct Lines<R> {
    src: R,
    buf: SecretBytes,
    eof: bool,
}

impl<R: Read> Lines<R> {
    /// Reads lines from `src`.
    pub fn new(src: R) -> Result<Self, keyward_secmem::Error> {
        Ok(Lines {
            src,
            buf: SecretBytes::with_capacity(4096)?,
            eof: false,
        })
    }

    /// Moves the first `len` bytes of the buffer into a line of their own,
    /// dropping `skip` more (the newline).
    fn take(&mut self, len: usize, skip: usize) -> Result<SecretBytes, LineError> {
        let line = SecretBytes::from_slice(&self.buf.expose_secret()[..len])?;
        let total = self.buf.len();
        self.buf
            .expose_secret_mut()
            .copy_within(len + skip..total, 0);
        self.buf.truncate(total - len - skip);
        let text = line.expose_secret();
        if text.contains(&0) {
            return Err(LineError::Nul);
        }
        if std::str::from_utf8(text).is_err() {
            return Err(LineError::Utf8);
        }
        Ok(line)
    }

    /// The next line without its newline; `None` at the end of input.
    pub fn next_line(&mut self) -> Result<Option<SecretBytes>, LineError> {
        let mut scanned = 0;
        loop {
            let have = self.buf.len();
            if let Some(nl) = self.buf.expose_secret()[scanned..]
                .iter()
                .position(|&b| b == b'\n')
            {
                if scanned + nl > MAX_LINE {
                    return Err(LineError::TooLong);
                }
                return self.take(scanned + nl, 1).map(Some);
            }
            scanned = have;
            if have > MAX_LINE {
                return Err(LineError::TooLong);
            }
            if self.eof {
                return if have == 0 {
                    Ok(None)
                } else {
                    self.take(have, 0).map(Some)
                };
            }
            if have == self.buf.capacity() {
                self.buf.reserve(have.min(MAX_LINE + 1 - have).max(1))?;
            }
            let room = self.buf.capacity() - have;
            let n = loop {
                match self.src.read(&mut self.buf.spare_capacity_mut()[..room]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(LineError::Io(e)),
                }
            };
            if n == 0 {
                self.eof = true;
            } else {
                self.buf.set_len(have + n);
            }
        }
    }
}

/// Where tokens live: the vault, opened on the first request that needs it
/// and kept for the rest of the session.
pub trait Store {
    /// The token stored for `key`, if any.
    fn get(&mut self, key: &str) -> Result<Option<SecretBytes>, Answer>;
    /// Stores `token` for `key`, replacing any.
    fn put(&mut self, key: &str, token: SecretBytes) -> Result<(), Answer>;
    /// Erases the token for `key`; whether there was one.
    fn erase(&mut self, key: &str) -> Result<bool, Answer>;
    /// Asks the user for a token (`login` without one), showing `prompt`;
    /// `Err(None)` when there is no terminal to ask on.
    fn ask_token(&mut self, prompt: &str) -> Result<SecretBytes, Option<Answer>>;
}

/// The vault as a [`Store`].
#[derive(Debug)]
pub struct VaultStore {
    /// The configuration, or why it could not be loaded (answered to every
    /// request that needs the vault).
    config: Result<Config, String>,
    /// `None` until opened; `Some(None)`: there is no vault file.
    vault: Option<Option<Vault>>,
}

impl VaultStore {
    /// A store over the vault `config` names, not opened yet.
    pub fn new(config: Result<Config, String>) -> Self {
        VaultStore {
            config,
            vault: None,
        }
    }

    /// The vault: the cached key, else a terminal prompt (then cached),
    /// else "vault is locked" at once. `None`: no vault file yet.
    fn open(&mut self) -> Result<Option<&mut Vault>, Answer> {
        if self.vault.is_none() {
            let config = self.config.clone().map_err(Answer::other)?;
            let opened = open_for_helper_if_exists(HelperOpen {
                vault: None,
                config: Some(config),
                no_prompt: false,
                cache_after_prompt: true,
            })
            .inspect_err(keyward_audit::note_failure)?;
            self.vault = Some(opened);
        }
        Ok(self.vault.as_mut().and_then(Option::as_mut))
    }
}

fn find(v: &Vault, key: &str) -> Option<usize> {
    // The most recently stored match wins, as for every other kind.
    (v.entries().iter()).rposition(|e| e.kind == Kind::Cargo && e.host == key)
}

impl Store for VaultStore {
    fn get(&mut self, key: &str) -> Result<Option<SecretBytes>, Answer> {
        let Some(v) = self.open()? else {
            return Ok(None);
        };
        let Some(i) = find(v, key) else {
            return Ok(None);
        };
        let token = v.reveal(i)?.password;
        keyward_audit::record(v, Audit::Get, Some(Target::new(Kind::Cargo, key)));
        Ok(Some(token))
    }

    fn put(&mut self, key: &str, token: SecretBytes) -> Result<(), Answer> {
        let Some(v) = self.open()? else {
            return Err(Answer::other(
                "there is no keyward vault yet: run `keyward init` first",
            ));
        };
        let entry = NewEntry::new(Kind::Cargo, "", key, "", "", token);
        v.update(|t| {
            t.retain(|e| !(e.kind == Kind::Cargo && e.host == key));
            t.upsert(entry).map(drop)
        })?;
        keyward_audit::record(v, Audit::Store, Some(Target::new(Kind::Cargo, key)));
        Ok(())
    }

    fn erase(&mut self, key: &str) -> Result<bool, Answer> {
        let Some(v) = self.open()? else {
            return Ok(false);
        };
        let n = v.update(|t| Ok(t.retain(|e| !(e.kind == Kind::Cargo && e.host == key))))?;
        if n > 0 {
            keyward_audit::record(v, Audit::Erase, Some(Target::new(Kind::Cargo, key)));
        }
        Ok(n > 0)
    }

    /// On `/dev/tty`, echo off, into locked memory.
    fn ask_token(&mut self, prompt: &str) -> Result<SecretBytes, Option<Answer>> {
        match keyward_secmem::prompt_secret(prompt) {
            Ok(t) => Ok(t),
            Err(keyward_secmem::Error::NoTty) => Err(None),
            Err(e) => Err(Some(e.into())),
        }
    }
}

/// Asks for a token on the terminal (cargo passes none when its standard
/// input is a terminal).
fn prompt_token(
    req: &Request,
    login_url: Option<&str>,
    store: &mut impl Store,
) -> Result<SecretBytes, Answer> {
    let which = req.name.as_deref().unwrap_or(&req.index_url);
    let prompt = match login_url {
        Some(url) => format!("keyward: token for {which} (from {url}): "),
        None => format!("keyward: token for {which}: "),
    };
    match store.ask_token(&prompt) {
        Ok(t) => Ok(t),
        Err(Some(a)) => Err(a),
        Err(None) => Err(Answer::other(format!(
            "no token given and no terminal to ask on: pipe it to `cargo login{}` or pass --token",
            req.name
                .as_deref()
                .map(|n| format!(" --registry {n}"))
                .unwrap_or_default()
        ))),
    }
}

/// Answers one parsed request: the line to write.
pub fn answer(req: Request, store: &mut impl Store) -> Result<SecretBytes, Answer> {
    let key = registry_key(&req.index_url);
    if key.is_empty() {
        return Err(Answer::other("invalid request: empty `registry.index-url`"));
    }
    if key.len() > keyward_vault::MAX_FIELD_LEN {
        return Err(Answer::other(format!(
            "invalid request: `registry.index-url` is longer than {} bytes",
            keyward_vault::MAX_FIELD_LEN
        )));
    }
    let key = key.to_owned();
    match req.action {
        Action::Get { .. } => match store.get(&key)? {
            Some(token) => Ok(get_line(&token)?),
            None => Err(Answer {
                kind: ErrKind::NotFound,
                message: None,
            }),
        },
        Action::Login {
            ref token,
            ref login_url,
        } => {
            let token = match token {
                Some(t) => t.try_clone()?,
                None => prompt_token(&req, login_url.as_deref(), store)?,
            };
            if token.expose_secret().iter().all(u8::is_ascii_whitespace) {
                return Err(Answer::other("the token is empty: nothing stored"));
            }
            store.put(&key, token)?;
            Ok(SecretBytes::from_slice(b"{\"Ok\":{\"kind\":\"login\"}}\n")?)
        }
        Action::Logout => {
            if store.erase(&key)? {
                Ok(SecretBytes::from_slice(
                    b"{\"Ok\":{\"kind\":\"logout\"}}\n",
                )?)
            } else {
                Err(Answer {
                    kind: ErrKind::NotFound,
                    message: None,
                })
            }
        }
        Action::Unknown(kind) => Err(Answer {
            kind: ErrKind::OperationNotSupported,
            message: Some(format!("{NAME} does not support `{kind}` requests")),
        }),
    }
}

/// The usage line (stderr, exit 2) when not run by cargo.
pub const USAGE: &str = "usage: cargo-credential-keyward --cargo-plugin (cargo runs it: set `[registry] global-credential-providers = [\"cargo-credential-keyward\"]` in ~/.cargo/config.toml)";

/// Serves a session: the hello, then one answer per request line until the
/// input ends or a line cannot be parsed. Returns the exit status.
pub fn serve(
    args: &[OsString],
    input: impl Read,
    out: &mut impl Write,
    err: &mut impl Write,
    store: &mut impl Store,
) -> i32 {
    match args.first().and_then(|a| a.to_str()) {
        Some("--cargo-plugin") => {}
        Some("--version" | "-V") => {
            let line = format!("{NAME} (keyward) {}\n", env!("CARGO_PKG_VERSION"));
            return i32::from(output::write_all(out, line.as_bytes()).is_err());
        }
        _ => {
            let _ = writeln!(err, "{USAGE}");
            return 2;
        }
    }
    let mut send = |bytes: &[u8]| output::write_all(out, bytes);
    if send(HELLO).is_err() {
        return 1;
    }
    let mut lines = match Lines::new(input) {
        Ok(l) => l,
        Err(e) => return fatal(&mut send, err, Answer::from(e)),
    };
    loop {
        let line = match lines.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => return 0,
            Err(e) => return fatal(&mut send, err, Answer::other(e.to_string())),
        };
        let req = match request::parse(line.expose_secret()) {
            Ok(r) => r,
            Err(RequestError::Memory(e)) => return fatal(&mut send, err, Answer::from(e)),
            Err(e) => return fatal(&mut send, err, Answer::other(e.to_string())),
        };
        drop(line);
        let reply = match answer(req, store) {
            Ok(line) => line,
            Err(a) => match err_line(&a) {
                Ok(l) => l,
                Err(e) => return fatal(&mut send, err, Answer::from(e)),
            },
        };
        if send(reply.expose_secret()).is_err() {
            return 1;
        }
    }
}

/// Answers an error that ends the session; exit status 0 when the answer
/// reached cargo (which shows its message), 1 when even that failed.
fn fatal(send: &mut impl FnMut(&[u8]) -> io::Result<()>, err: &mut impl Write, a: Answer) -> i32 {
    match err_line(&a) {
        Ok(line) if send(line.expose_secret()).is_ok() => 0,
        _ => {
            let _ = writeln!(err, "{NAME}: {}", a.message.unwrap_or_default());
            1
        }
    }
}

/// `cargo-credential-keyward`'s `main`: hardens the process, loads the
/// configuration, serves one session on the real, unbuffered stdin and
/// stdout. Returns the exit status.
pub fn main() -> i32 {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if let Err(e) = keyward_secmem::harden_process() {
        eprintln!("{NAME}: warning: {e}; run `keyward doctor`");
    }
    let mut err = io::stderr();
    let config = Config::load().map_err(|e| e.to_string());
    if let Ok(c) = &config {
        keyward_secmem::set_policy(c.memory_lock);
        keyward_audit::use_config(c);
    }
    let (mut out, input) = match (output::raw_stdout(), output::raw_stdin()) {
        (Ok(o), Ok(i)) => (o, i),
        (Err(e), _) | (_, Err(e)) => {
            let _ = writeln!(err, "{NAME}: cannot use stdin/stdout: {e}");
            return 1;
        }
    };
    serve(
        &args,
        input,
        &mut out,
        &mut err,
        &mut VaultStore::new(config),
    )
}

#[cfg(test)]
mod tests;
