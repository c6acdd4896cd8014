//! Login unlock (`unlock`): the password the stack authenticated unlocks the
//! user's vault at session start, and a password change rewraps it.
//!
//! Who does what:
//! - **auth** copies `PAM_AUTHTOK` into locked memory and stashes it with
//!   `pam_set_data` (the cleanup wipes it). It never verifies anything and
//!   always returns `PAM_IGNORE`.
//! - **session** (and **password**) start the login helper program
//!   (`/usr/libexec/keyward/keyward-login-helper`, or `login_helper=`; it
//!   must be root's and unwritable by others all the way up) with
//!   `posix_spawn`: no code of this module runs between the host's fork and
//!   the exec, the environment is empty, and the helper's standard input is
//!   one end of a socket pair. The helper ([`helper_main`]) closes every other
//!   inherited descriptor, drops to the user for good (groups, gid, uid;
//!   checked), joins a session keyring of its own with the user keyring
//!   linked, resolves the user's configuration and vault path from the
//!   user's home (never from the host's environment) and reads the vault's
//!   password slot (161 bytes in version 1's header layout) *as the user*, so symlinks, other owners and loose modes
//!   are refused by the vault crate's usual checks and no path the user
//!   controls is ever followed as root. The header comes back over the
//!   socket; the module (root, holding the password) runs scrypt and unwraps
//!   the vault key, and sends the helper only the 32-byte vault key (and for
//!   a password change the new key-encryption key). The helper reads it into
//!   its own locked memory, authenticates the whole vault with it, and puts
//!   it in the user's keyring (owned by the user, possessor-only, with a
//!   timeout), or rewraps the vault atomically. The helper records each of
//!   these in the vault's audit trail (`unlock`, `rekey` for a password
//!   change (a new vault key), `lock` on the last session's close, and
//!   `unlock-failed` when the module says the password does not open the
//!   vault), with the user's audit settings and the PAM host as the client.
//!   The password never leaves the PAM process.
//! - Everything that does not work out (no stash, no vault, a different
//!   vault password, a refused file) is one log line and `PAM_IGNORE`: the
//!   login itself is never affected.
//!
//! Layout: the entry points (the phases: `stash`, `open_session`,
//! `close_session`, `chauthtok`) are here; `parent` starts and answers the
//! helper, `helper` is the helper program's `main` (as root, up to the change
//! of user), `child` is what it runs as the user, `wire` is the framing
//! between them.
//!
//! No `unsafe` here; the helper's system calls and the libpam data calls are
//! in `ffi`.

use crate::args::Options;
use crate::host::{
    sanitize, Host, Priority, Token, TokenItem, PAM_PRELIM_CHECK, PAM_UPDATE_AUTHTOK, TRUSTED_UIDS,
};
use keyward_secmem::{ExposeSecret, ExposeSecretMut, SecretBytes};
use keyward_vault::login::{self as vl, NewWrap, HEADER_LEN, WRAP_WIRE_LEN};
use keyward_vault::{format_duration, keyring, Config, KdfParams, Vault, VaultKey};
use nix::sys::socket::MsgFlags;
use pam::constants::{PamFlag, PamResultCode};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long the module waits for the helper at each step (a hung network
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
/// Parent → child: the password does not open the vault (the child records
/// the failed unlock in the audit trail).
const T_WRONG: u8 = b'W';

/// Helper exit codes (the outcome itself travels over the socket).
pub const EXIT_OK: u8 = 0;
/// The job failed (and said why on the socket).
pub const EXIT_FAILED: u8 = 1;
/// Dropping privileges did not work out.
pub const EXIT_PRIVILEGES: u8 = 2;
/// The job panicked.
pub const EXIT_PANIC: u8 = 3;
/// Not started by the PAM module (no socket on standard input, bad arguments).
pub const EXIT_USAGE: u8 = 64;

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

impl Job {
    /// The helper's first argument.
    pub fn as_arg(self) -> &'static str {
        match self {
            Job::Unlock => "unlock",
            Job::Rewrap => "rewrap",
            Job::Lock => "lock",
        }
    }

    /// Parses [`Job::as_arg`].
    pub fn from_arg(s: &str) -> Option<Job> {
        [Job::Unlock, Job::Rewrap, Job::Lock]
            .into_iter()
            .find(|j| j.as_arg() == s)
    }
}

pub use crate::host::Account;

impl Account {
    /// The configuration files the helper reads: the system file (or the
    /// module's `config=`), then `~/.config/keyward/config.toml`.
    pub(crate) fn config_files(&self, system: Option<&Path>) -> Vec<PathBuf> {
        vec![
            system
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(keyward_vault::SYSTEM_CONFIG)),
            self.home.join(".config/keyward/config.toml"),
        ]
    }
}

mod child;
mod helper;
mod parent;
mod wire;

pub use child::child_main;
pub use helper::helper_main;
// The phases below and the submodules share their crate-private items through here.
use {child::*, parent::*, wire::*};

// ------------------------------------------------------- the entry points (phases)

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
    let out = with_vault(o, &acct, Job::Unlock, &pw, None);
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
    let out = match spawn(o, &acct, Job::Lock) {
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
    let out = with_vault(o, &acct, Job::Rewrap, &old, Some(&new));
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
