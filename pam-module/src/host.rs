//! What the entry points' logic ([`crate::auth`], [`crate::login`]) needs
//! from libpam and the system, as types and the [`Host`] trait, so both can be
//! tested without libpam; `ffi` implements it. No `unsafe` here.

use keyward_secmem::SecretBytes;
use pam::constants::{PamFlag, PamResultCode};
use std::path::PathBuf;

/// `pam_chauthtok` flags (pam_modules.h); pam-bindings lacks them.
pub const PAM_PRELIM_CHECK: PamFlag = 0x4000;
/// Second pass of `pam_chauthtok`: change the token.
pub const PAM_UPDATE_AUTHTOK: PamFlag = 0x2000;
/// `pam_chauthtok` asked to change only an expired token.
pub const PAM_CHANGE_EXPIRED_AUTHTOK: PamFlag = 0x0020;
/// pam_unix's failure delay.
pub const FAIL_DELAY_USEC: u32 = 2_000_000;
/// Only root may own the database and the tally directory the module trusts.
pub const TRUSTED_UIDS: &[u32] = &[0];

/// syslog priorities used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// LOG_ERR
    Err,
    /// LOG_WARNING
    Warning,
    /// LOG_NOTICE
    Notice,
    /// LOG_INFO
    Info,
    /// LOG_DEBUG
    Debug,
}

/// Which token `pam_get_authtok` fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenItem {
    /// PAM_AUTHTOK: the password, or the new one in `chauthtok`.
    Current,
    /// PAM_OLDAUTHTOK: the old password in `chauthtok`.
    Old,
}

/// A token obtained from PAM.
#[derive(Debug)]
pub enum Token {
    /// Copied into locked memory.
    Secret(SecretBytes),
    /// Longer than [`keyward_passdb::MAX_PASSWORD_LEN`]; not copied.
    TooLong,
}

/// PAM string items for log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrItem {
    /// PAM_SERVICE
    Service,
    /// PAM_TTY
    Tty,
    /// PAM_RHOST
    Rhost,
    /// PAM_RUSER
    Ruser,
}

/// The services of libpam the logic uses.
pub trait Host {
    /// `pam_get_user`.
    fn user(&mut self) -> Result<String, PamResultCode>;
    /// `pam_get_authtok`, copied at once into locked memory.
    fn token(&mut self, item: TokenItem, prompt: Option<&str>) -> Result<Token, PamResultCode>;
    /// A string item, sanitised for logging.
    fn item(&self, item: StrItem) -> String;
    /// `pam_syslog`.
    fn log(&self, priority: Priority, msg: &str);
    /// `pam_fail_delay`.
    fn fail_delay(&mut self, usec: u32);
    /// `pam_info` (not under `PAM_SILENT`).
    fn info(&mut self, msg: &str);
    /// `pam_error` (not under `PAM_SILENT`): what pam_unix tells the user
    /// about an expired account or password.
    fn error(&mut self, msg: &str) {
        self.info(msg);
    }
    /// The real uid of the host process.
    fn uid(&self) -> u32;
    /// The effective uid of the host process.
    fn euid(&self) -> u32 {
        self.uid()
    }
    /// The login name of the terminal's session (`getlogin`), "" if none:
    /// pam_unix's `logname=`.
    fn logname(&self) -> String {
        String::new()
    }
    /// Seconds since the epoch.
    fn now(&self) -> u64;
    /// `pam_get_item(PAM_AUTHTOK / PAM_OLDAUTHTOK)` copied into locked
    /// memory; never prompts. `None` when the item is not set.
    fn peek_token(&self, _item: TokenItem) -> Option<Token> {
        None
    }
    /// Keeps a secret for a later entry point of this PAM handle
    /// (`pam_set_data`; the cleanup wipes it). Replaces an earlier one.
    fn stash_put(&mut self, _secret: SecretBytes) -> Result<(), PamResultCode> {
        Err(PamResultCode::PAM_SYSTEM_ERR)
    }
    /// Takes the stashed secret (a copy in locked memory) and wipes the stash.
    fn stash_take(&mut self) -> Option<SecretBytes> {
        None
    }
}

/// Makes a user-supplied string safe for one log line.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .take(256)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

/// The user the login helper becomes.
#[derive(Debug, Clone)]
pub struct Account {
    /// Login name.
    pub name: String,
    /// uid.
    pub uid: u32,
    /// Primary gid.
    pub gid: u32,
    /// Supplementary groups (from `getgrouplist`, looked up in the parent).
    pub groups: Vec<u32>,
    /// Home directory from the password database.
    pub home: PathBuf,
}

impl Account {
    /// Looks the user up in the password and group databases.
    pub fn lookup(name: &str) -> Result<Account, String> {
        let who = sanitize(name);
        let u = nix::unistd::User::from_name(name)
            .map_err(|e| format!("cannot look up user={who}: {e}"))?
            .ok_or_else(|| format!("user={who} is not in the password database"))?;
        let cname = std::ffi::CString::new(name).map_err(|_| format!("bad user name {who}"))?;
        let groups = nix::unistd::getgrouplist(&cname, u.gid)
            .map_err(|e| format!("cannot list the groups of user={who}: {e}"))?
            .into_iter()
            .map(|g| g.as_raw())
            .collect();
        Ok(Account {
            name: name.to_owned(),
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
            groups,
            home: u.dir,
        })
    }
}
