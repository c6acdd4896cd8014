//! Login unlock (`unlock`): the password the stack authenticated unlocks the
//! user's vault at session start, and a password change rewraps it.
//!
//! Who does what:
//! - **auth** copies `PAM_AUTHTOK` into locked memory and stashes it with
//!   `pam_set_data` (the cleanup wipes it). It never verifies anything and
//!   always returns `PAM_IGNORE`.
//! - **session** (and **password**) fork a child that drops to the user for
//!   good (groups, gid, uid; checked), joins a session keyring of its own
//!   with the user keyring linked, resolves the user's configuration and
//!   vault path from the user's home (never from the host's environment)
//!   and reads the 161-byte vault header *as the user*, so symlinks, other
//!   owners and loose modes are refused by the vault crate's usual checks
//!   and no path the user controls is ever followed as root. The header goes
//!   to the parent over a socket pair; the parent (root, holding the
//!   password) runs scrypt and unwraps the vault key, and sends the child
//!   only the 32-byte vault key (and for a password change the new
//!   key-encryption key). The child reads it into its own locked memory,
//!   authenticates the whole vault with it, and puts it in the user's
//!   keyring (owned by the user, possessor-only, with a timeout), or rewraps
//!   the vault atomically. The password never leaves the PAM process: a
//!   forked child could not read it anyway (secure memory is wiped or
//!   unmapped in children), and passing it would put it in a second process.
//! - Everything that does not work out (no stash, no vault, a different
//!   vault password, a refused file) is one log line and `PAM_IGNORE`: the
//!   login itself is never affected.
//!
//! No `unsafe` here; the fork and the libpam data calls are in `ffi`.

use crate::args::Options;
use crate::host::{
    sanitize, Host, Priority, Token, TokenItem, PAM_PRELIM_CHECK, PAM_UPDATE_AUTHTOK, TRUSTED_UIDS,
};
use keyward_secmem::{ExposeSecret, ExposeSecretMut, SecretBytes};
use keyward_vault::login::{self as vl, NewWrap, HEADER_LEN, WRAP_WIRE_LEN};
use keyward_vault::{format_duration, keyring, Config, KdfParams, Vault, VaultKey};
use nix::sys::socket::MsgFlags;
use nix::unistd::Pid;
use pam::constants::{PamFlag, PamResultCode};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long the parent waits for the child at each step (a hung network
/// home must not hang the login forever).
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes of a vault key.
const KEY_LEN: usize = 32;
/// Largest frame accepted on the socket.
const MAX_FRAME: usize = 64 * 1024;

const T_HEADER: u8 = b'H';
const T_NOTHING: u8 = b'N';
const T_ERROR: u8 = b'E';
const T_KEY: u8 = b'K';
const T_OK: u8 = b'O';

/// Child exit codes (the outcome itself travels over the socket).
pub const EXIT_OK: u8 = 0;
/// The job failed (and said why on the socket).
pub const EXIT_FAILED: u8 = 1;
/// Dropping privileges did not work out.
pub const EXIT_PRIVILEGES: u8 = 2;
/// The job panicked.
pub const EXIT_PANIC: u8 = 3;

/// What the child is to do as the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Put the vault key in the user's keyring.
    Unlock,
    /// Rewrap the vault key under a new password.
    Rewrap,
    /// Revoke the cached key (last session closed).
    Lock,
}

pub use crate::host::Account;

impl Account {
    /// The configuration files the child reads: the system file (or the
    /// module's `config=`), then `~/.config/keyward/config.toml`.
    fn config_files(&self, o: &Options) -> Vec<PathBuf> {
        vec![
            o.config
                .clone()
                .unwrap_or_else(|| PathBuf::from(keyward_vault::SYSTEM_CONFIG)),
            self.home.join(".config/keyward/config.toml"),
        ]
    }
}

// ---------------------------------------------------------------- framing

fn send_all(s: &UnixStream, mut buf: &[u8]) -> std::io::Result<()> {
    while !buf.is_empty() {
        // MSG_NOSIGNAL: a child that died must not raise SIGPIPE in the host.
        match nix::sys::socket::send(s.as_raw_fd(), buf, MsgFlags::MSG_NOSIGNAL) {
            Ok(n) => buf = &buf[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn send_frame(s: &UnixStream, tag: u8, payload: &[u8]) -> std::io::Result<()> {
    let mut head = [0u8; 5];
    head[0] = tag;
    head[1..].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    send_all(s, &head)?;
    send_all(s, payload)
}

/// The next frame's tag and length; `None` at a clean end of stream.
fn recv_head(mut s: &UnixStream) -> std::io::Result<Option<(u8, usize)>> {
    let mut head = [0u8; 5];
    let mut got = 0;
    while got < head.len() {
        match s.read(&mut head[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::other("oversized frame"));
    }
    Ok(Some((head[0], len)))
}

fn recv_public(mut s: &UnixStream, len: usize) -> std::io::Result<Vec<u8>> {
    let mut v = vec![0u8; len];
    s.read_exact(&mut v)?;
    Ok(v)
}

/// Reads a secret payload straight into locked memory.
fn recv_secret(mut s: &UnixStream, len: usize) -> Result<SecretBytes, String> {
    let mut b = SecretBytes::zeroed(len).map_err(|e| e.to_string())?;
    s.read_exact(b.expose_secret_mut())
        .map_err(|e| format!("cannot read from the PAM module: {e}"))?;
    Ok(b)
}

// ------------------------------------------------------------ child side

/// What the child tells the parent after reading the header.
struct HeaderMsg {
    header: Vec<u8>,
    /// The user's `unlock_timeout`.
    timeout: Duration,
    /// The user's `[kdf]` (for rewrapping).
    kdf: KdfParams,
    path: PathBuf,
}

impl HeaderMsg {
    fn encode(&self) -> Vec<u8> {
        let mut v = self.header.clone();
        v.extend_from_slice(&self.timeout.as_secs().to_le_bytes());
        v.push(self.kdf.log_n);
        v.extend_from_slice(&self.kdf.r.to_le_bytes());
        v.extend_from_slice(&self.kdf.p.to_le_bytes());
        v.extend_from_slice(self.path.as_os_str().as_encoded_bytes());
        v
    }

    fn decode(v: &[u8]) -> Option<HeaderMsg> {
        let fixed = HEADER_LEN + 8 + 9;
        if v.len() < fixed {
            return None;
        }
        let u32_at = |i: usize| v[i..i + 4].try_into().ok().map(u32::from_le_bytes);
        let t = HEADER_LEN;
        let timeout = Duration::from_secs(u64::from_le_bytes(v[t..t + 8].try_into().ok()?));
        let kdf = KdfParams {
            log_n: v[t + 8],
            r: u32_at(t + 9)?,
            p: u32_at(t + 13)?,
        };
        kdf.check().ok()?;
        let path = PathBuf::from(String::from_utf8_lossy(&v[fixed..]).into_owned());
        Some(HeaderMsg {
            header: v[..HEADER_LEN].to_vec(),
            timeout,
            kdf,
            path,
        })
    }
}

/// The child's whole life, as the user. Returns its exit code.
pub fn child_main(job: Job, home: &Path, config_files: &[PathBuf], s: &UnixStream) -> u8 {
    match child_job(job, home, config_files, s) {
        Ok(()) => EXIT_OK,
        Err(msg) => {
            let _ = send_frame(s, T_ERROR, msg.as_bytes());
            EXIT_FAILED
        }
    }
}

fn child_job(job: Job, home: &Path, files: &[PathBuf], s: &UnixStream) -> Result<(), String> {
    let io = |e: std::io::Error| format!("cannot talk to the PAM module: {e}");
    let config = Config::load_for_home(files, home).map_err(|e| e.to_string())?;
    if !config.login_unlock {
        let why = "login_unlock = false in the user's configuration";
        return send_frame(s, T_NOTHING, why.as_bytes()).map_err(io);
    }
    let path = config.vault_path_in(home);
    let header = match vl::read_header(&path) {
        Ok(h) => h,
        Err(keyward_vault::Error::NotFound { .. }) => {
            let why = format!("no vault at {}", path.display());
            return send_frame(s, T_NOTHING, why.as_bytes()).map_err(io);
        }
        Err(e) => return Err(e.to_string()),
    };
    let id = vl::header_id(&path, &header).map_err(|e| e.to_string())?;
    if job == Job::Lock {
        let msg = match keyring::revoke(&id).map_err(|e| e.to_string())? {
            true => format!("locked {}", path.display()),
            false => format!("{} was not unlocked", path.display()),
        };
        return send_frame(s, T_OK, msg.as_bytes()).map_err(io);
    }
    let hello = HeaderMsg {
        header,
        timeout: config.unlock_timeout,
        kdf: config.kdf,
        path: path.clone(),
    };
    send_frame(s, T_HEADER, &hello.encode()).map_err(io)?;
    // The parent closes the socket when the password does not unwrap the key.
    let Some((tag, len)) = recv_head(s).map_err(io)? else {
        return Ok(());
    };
    let want = match job {
        Job::Unlock => KEY_LEN + 8,
        _ => KEY_LEN + WRAP_WIRE_LEN,
    };
    if tag != T_KEY || len != want {
        return Err("unexpected message from the PAM module".into());
    }
    let msg = recv_secret(s, len)?;
    let m = msg.expose_secret();
    let key = VaultKey::from_bytes(&m[..KEY_LEN]).map_err(|e| e.to_string())?;
    // Authenticates the whole file under the key, with the usual checks.
    let mut vault = Vault::open_with_key(&path, key).map_err(|e| e.to_string())?;
    if vault.id() != id {
        return Err(format!("{} was replaced during login", path.display()));
    }
    let done = match job {
        Job::Unlock => {
            let mut t = [0u8; 8];
            t.copy_from_slice(&m[KEY_LEN..]);
            let timeout = Duration::from_secs(u64::from_le_bytes(t).max(1));
            keyring::store(&id, vault.key(), timeout).map_err(|e| e.to_string())?;
            format!(
                "unlocked {} for {}",
                path.display(),
                format_duration(timeout)
            )
        }
        _ => {
            let wire = SecretBytes::from_slice(&m[KEY_LEN..]).map_err(|e| e.to_string())?;
            let wrap = NewWrap::from_wire(&wire).map_err(|e| e.to_string())?;
            vault.rewrap(&wrap).map_err(|e| e.to_string())?;
            // The vault has a new key now: a cached unlock gets it.
            let cached = match keyring::replace(&vault.id(), vault.key()) {
                Ok(true) => "; the cached unlock holds the new key",
                Ok(false) => "",
                Err(_) => "; the cached unlock could not be updated",
            };
            format!(
                "rekeyed {} under the new login password{cached}",
                path.display()
            )
        }
    };
    send_frame(s, T_OK, done.as_bytes()).map_err(io)
}

// ----------------------------------------------------------- parent side

/// A forked child and the parent's end of its socket. Dropping it closes the
/// socket (the child then ends) and reaps the child; a child that did not
/// answer in time (`kill`) is killed first. A child that answered is never
/// signalled: it is exiting, and if the host's SIGCHLD handler reaps it its
/// pid could be reused.
struct Child {
    stream: UnixStream,
    pid: Pid,
    kill: bool,
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        if self.kill {
            let _ = nix::sys::signal::kill(self.pid, nix::sys::signal::Signal::SIGKILL);
        }
        // ECHILD: the host's SIGCHLD handler reaped it already (sshd does).
        while let Err(nix::errno::Errno::EINTR) = nix::sys::wait::waitpid(self.pid, None) {}
    }
}

/// How a login-unlock step ended.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Done; what was done.
    Done(String),
    /// Nothing to do (no vault, opted out, a different password).
    Skipped(String),
    /// Something is wrong (a refused file, a keyring error).
    Failed(String),
}

fn spawn(h: &mut dyn Host, o: &Options, acct: &Account, job: Job) -> Result<Child, String> {
    let home = acct.home.clone();
    let files = acct.config_files(o);
    let mut run = move |s: &UnixStream| child_main(job, &home, &files, s);
    let (stream, pid) = h
        .fork_as(acct, &mut run)
        .map_err(|e| format!("cannot start a process as the user: {e}"))?;
    let child = Child {
        stream,
        pid,
        kill: false,
    };
    child
        .stream
        .set_read_timeout(Some(CHILD_TIMEOUT))
        .map_err(|e| format!("socket: {e}"))?;
    Ok(child)
}

/// The child's final word.
fn last_word(child: &mut Child) -> Outcome {
    let r = (|| -> std::io::Result<Outcome> {
        match recv_head(&child.stream)? {
            None => Ok(Outcome::Failed(
                "the process running as the user ended without an answer".into(),
            )),
            Some((tag, len)) => {
                let text = String::from_utf8_lossy(&recv_public(&child.stream, len)?).into_owned();
                Ok(match tag {
                    T_OK => Outcome::Done(text),
                    T_NOTHING => Outcome::Skipped(text),
                    _ => Outcome::Failed(text),
                })
            }
        }
    })();
    r.unwrap_or_else(|e| {
        child.kill = true;
        Outcome::Failed(format!("no answer from the user's process: {e}"))
    })
}

/// Unlock or rewrap: `old` opens the vault; for a rewrap, `new` is the new password.
fn with_vault(
    h: &mut dyn Host,
    o: &Options,
    acct: &Account,
    job: Job,
    old: &SecretBytes,
    new: Option<&SecretBytes>,
) -> Outcome {
    let mut child = match spawn(h, o, acct, job) {
        Ok(c) => c,
        Err(e) => return Outcome::Failed(e),
    };
    let first = (|| -> std::io::Result<Option<(u8, Vec<u8>)>> {
        Ok(match recv_head(&child.stream)? {
            None => None,
            Some((tag, len)) => Some((tag, recv_public(&child.stream, len)?)),
        })
    })();
    let hello = match first {
        Ok(Some((T_HEADER, v))) => match HeaderMsg::decode(&v) {
            Some(m) => m,
            None => return Outcome::Failed("malformed message from the user's process".into()),
        },
        Ok(Some((T_NOTHING, v))) => {
            return Outcome::Skipped(String::from_utf8_lossy(&v).into_owned());
        }
        Ok(Some((_, v))) => return Outcome::Failed(String::from_utf8_lossy(&v).into_owned()),
        Ok(None) => {
            return Outcome::Failed(
                "the process running as the user ended without an answer".into(),
            )
        }
        Err(e) => {
            child.kill = true;
            return Outcome::Failed(format!("no answer from the user's process: {e}"));
        }
    };
    let (_, key) = match vl::unwrap_header(&hello.path, &hello.header, old) {
        Ok(k) => k,
        Err(keyward_vault::Error::WrongPassword { .. }) => {
            // Closing the socket tells the child there is nothing to do.
            let which = if job == Job::Rewrap { "old " } else { "" };
            return Outcome::Skipped(format!(
                "the password of {} is not the {which}login password; vault left as it was",
                hello.path.display()
            ));
        }
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let msg = (|| -> Result<SecretBytes, String> {
        let mut m =
            SecretBytes::with_capacity(KEY_LEN + WRAP_WIRE_LEN).map_err(|e| e.to_string())?;
        m.extend_from_slice(key.expose())
            .map_err(|e| e.to_string())?;
        match (job, new) {
            (Job::Rewrap, Some(new)) => {
                let wrap = NewWrap::derive(new, hello.kdf).map_err(|e| e.to_string())?;
                let wire = wrap.to_wire().map_err(|e| e.to_string())?;
                m.extend_from_slice(wire.expose_secret())
                    .map_err(|e| e.to_string())?;
            }
            _ => {
                let t = o.timeout.unwrap_or(hello.timeout).as_secs().max(1);
                m.extend_from_slice(&t.to_le_bytes())
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(m)
    })();
    drop(key);
    let msg = match msg {
        Ok(m) => m,
        Err(e) => return Outcome::Failed(e),
    };
    if let Err(e) = send_frame(&child.stream, T_KEY, msg.expose_secret()) {
        return Outcome::Failed(format!("cannot talk to the user's process: {e}"));
    }
    drop(msg);
    last_word(&mut child)
}

/// One log line from text the user controls (paths in their configuration
/// and file names): control characters become `?`, at most 1024 characters.
fn one_line(s: &str) -> String {
    s.chars()
        .take(1024)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn log_outcome(h: &dyn Host, user: &str, out: &Outcome) {
    let (p, text) = match out {
        Outcome::Done(t) => (Priority::Info, t),
        Outcome::Skipped(t) => (Priority::Info, t),
        Outcome::Failed(t) => (Priority::Err, t),
    };
    h.log(
        p,
        &format!("login unlock: user={}: {}", sanitize(user), one_line(text)),
    );
}

// ------------------------------------------------------- the entry points

/// `auth … unlock`: stash `PAM_AUTHTOK` for the session. Never verifies,
/// never prompts, always `PAM_IGNORE`.
pub fn stash(h: &mut dyn Host, o: &Options) -> PamResultCode {
    match h.peek_token(TokenItem::Current) {
        Some(Token::Secret(p)) if !p.is_empty() => {
            // Kept from auth to session: a guarded allocation of its own.
            let kept = match SecretBytes::guarded_from_slice(p.expose_secret()) {
                Ok(g) => g,
                Err(e) => {
                    h.log(
                        Priority::Err,
                        &format!("login unlock: cannot keep the password for the session: {e}"),
                    );
                    return PamResultCode::PAM_IGNORE;
                }
            };
            drop(p);
            if let Err(e) = h.stash_put(kept) {
                h.log(
                    Priority::Err,
                    &format!("login unlock: cannot keep the password for the session: {e:?}"),
                );
            }
        }
        Some(Token::TooLong) => h.log(
            Priority::Notice,
            "login unlock: the password is too long to keep for the session",
        ),
        _ => {
            if o.debug {
                h.log(
                    Priority::Debug,
                    "login unlock: no PAM_AUTHTOK to keep (is `unlock` after the module that asks for the password?)",
                );
            }
        }
    }
    PamResultCode::PAM_IGNORE
}

fn user_and_account(h: &mut dyn Host) -> Option<(String, Account)> {
    let user = match h.user() {
        Ok(u) => u,
        Err(e) => {
            h.log(
                Priority::Err,
                &format!("login unlock: cannot get the user name: {e:?}"),
            );
            return None;
        }
    };
    match Account::lookup(&user) {
        Ok(a) => Some((user, a)),
        Err(e) => {
            h.log(Priority::Err, &format!("login unlock: {e}"));
            None
        }
    }
}

/// `session … unlock` (open): the stashed password unlocks the user's vault.
pub fn open_session(h: &mut dyn Host, o: &Options) -> PamResultCode {
    // Take (and wipe) the stash whatever happens next.
    let stash = h.stash_take();
    let Some((user, acct)) = user_and_account(h) else {
        return PamResultCode::PAM_IGNORE;
    };
    if o.lock_on_close {
        if let Err(e) = crate::sessions::change(&o.session_dir, TRUSTED_UIDS, acct.uid, 1) {
            h.log(
                Priority::Err,
                &format!("login unlock: cannot count the session: {e}"),
            );
        }
    }
    let Some(pw) = stash else {
        h.log(
            Priority::Notice,
            &format!(
                "login unlock: user={}: no password from this login (key, fingerprint or auto-login, \
                 a separate PAM context, or no `auth optional pam_keyward.so unlock`); vault left locked",
                sanitize(&user)
            ),
        );
        return PamResultCode::PAM_IGNORE;
    };
    let out = with_vault(h, o, &acct, Job::Unlock, &pw, None);
    drop(pw);
    log_outcome(h, &user, &out);
    match out {
        Outcome::Done(_) => PamResultCode::PAM_SUCCESS,
        _ => PamResultCode::PAM_IGNORE,
    }
}

/// `session … unlock lock_on_close` (close): the user's last session locks the vault.
pub fn close_session(h: &mut dyn Host, o: &Options) -> PamResultCode {
    // A stash left by an auth without a session is wiped now, not at pam_end.
    drop(h.stash_take());
    if !o.lock_on_close {
        return PamResultCode::PAM_IGNORE;
    }
    let Some((user, acct)) = user_and_account(h) else {
        return PamResultCode::PAM_IGNORE;
    };
    match crate::sessions::change(&o.session_dir, TRUSTED_UIDS, acct.uid, -1) {
        Ok(0) => {}
        Ok(n) => {
            if o.debug {
                h.log(
                    Priority::Debug,
                    &format!(
                        "login unlock: user={}: {n} session(s) still open",
                        sanitize(&user)
                    ),
                );
            }
            return PamResultCode::PAM_IGNORE;
        }
        Err(e) => {
            h.log(
                Priority::Err,
                &format!("login unlock: cannot count the session: {e}"),
            );
            return PamResultCode::PAM_IGNORE;
        }
    }
    let out = match spawn(h, o, &acct, Job::Lock) {
        Ok(mut c) => last_word(&mut c),
        Err(e) => Outcome::Failed(e),
    };
    let out = match out {
        Outcome::Done(t) => Outcome::Done(format!("last session closed: {t}")),
        other => other,
    };
    log_outcome(h, &user, &out);
    match out {
        Outcome::Done(_) => PamResultCode::PAM_SUCCESS,
        _ => PamResultCode::PAM_IGNORE,
    }
}

/// `password … unlock`: after the password changed, rewrap the vault whose
/// password was the old one.
pub fn chauthtok(h: &mut dyn Host, _o: &Options, flags: PamFlag) -> PamResultCode {
    let o = _o;
    if flags & PAM_PRELIM_CHECK != 0 || flags & PAM_UPDATE_AUTHTOK == 0 {
        return PamResultCode::PAM_IGNORE;
    }
    let Some((user, acct)) = user_and_account(h) else {
        return PamResultCode::PAM_IGNORE;
    };
    let new = match h.peek_token(TokenItem::Current) {
        Some(Token::Secret(p)) if !p.is_empty() => p,
        _ => {
            h.log(
                Priority::Notice,
                &format!(
                    "login unlock: user={}: no new password (put `password optional pam_keyward.so unlock` \
                     after the module that changes it); vault left as it was",
                    sanitize(&user)
                ),
            );
            return PamResultCode::PAM_IGNORE;
        }
    };
    let Some(Token::Secret(old)) = h.peek_token(TokenItem::Old) else {
        h.log(
            Priority::Notice,
            &format!(
                "login unlock: user={}: the old password is unknown (changed by root?); vault left as it was",
                sanitize(&user)
            ),
        );
        h.info(&format!(
            "keyward: the vault of {} still opens with the old password; change it with `keyward passwd`.",
            sanitize(&user)
        ));
        return PamResultCode::PAM_IGNORE;
    };
    let out = with_vault(h, o, &acct, Job::Rewrap, &old, Some(&new));
    drop((old, new));
    log_outcome(h, &user, &out);
    match out {
        Outcome::Done(_) => {
            h.info("keyward: your vault now opens with the new password.");
            PamResultCode::PAM_SUCCESS
        }
        _ => PamResultCode::PAM_IGNORE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_message_round_trip_and_garbage() {
        let m = HeaderMsg {
            header: vec![7; HEADER_LEN],
            timeout: Duration::from_secs(900),
            kdf: KdfParams {
                log_n: 10,
                r: 8,
                p: 1,
            },
            path: PathBuf::from("/home/a/.local/share/keyward/vault"),
        };
        let d = HeaderMsg::decode(&m.encode()).unwrap();
        assert_eq!(d.header, m.header);
        assert_eq!(d.timeout, m.timeout);
        assert_eq!(d.kdf, m.kdf);
        assert_eq!(d.path, m.path);
        assert!(HeaderMsg::decode(&m.encode()[..HEADER_LEN + 3]).is_none());
        let mut bad = m.encode();
        bad[HEADER_LEN + 8] = 99; // log_n out of range
        assert!(HeaderMsg::decode(&bad).is_none());
    }

    #[test]
    fn log_text_from_the_user_stays_on_one_line() {
        assert_eq!(
            one_line("/home/a/x\nfake: line\u{1b}[1m"),
            "/home/a/x?fake: line?[1m"
        );
        assert_eq!(one_line(&"a".repeat(5000)).len(), 1024);
    }

    #[test]
    fn frames_round_trip_and_refuse_oversize() {
        let (a, b) = UnixStream::pair().unwrap();
        send_frame(&a, T_OK, b"hello").unwrap();
        assert_eq!(recv_head(&b).unwrap(), Some((T_OK, 5)));
        assert_eq!(recv_public(&b, 5).unwrap(), b"hello");
        send_all(&a, &[T_KEY, 0xff, 0xff, 0xff, 0x7f]).unwrap();
        assert!(recv_head(&b).is_err());
        drop(a);
        // A peer that went away: EOF, and sending never raises SIGPIPE.
        assert_eq!(recv_head(&b).unwrap(), None);
        assert!(send_frame(&b, T_OK, b"x").is_err());
    }
}
