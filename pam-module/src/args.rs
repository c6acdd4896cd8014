//! Module arguments from the PAM stack line.

use std::path::PathBuf;
use std::time::Duration;

/// Default tally directory for `deny=` (tmpfs, cleared at boot, like pam_faillock's).
pub use keyward_passdb::DEFAULT_TALLY_DIR;
/// Default directory of the per-user session counts for `lock_on_close`.
pub const DEFAULT_SESSION_DIR: &str = "/run/keyward/sessions";
/// Where the login-unlock helper program is installed (the Makefile's
/// `HELPERDIR`, whatever `PREFIX` is, as the module directory is).
pub const DEFAULT_LOGIN_HELPER: &str = "/usr/libexec/keyward/keyward-login-helper";
/// Default lockout duration in seconds (pam_faillock's default).
pub const DEFAULT_UNLOCK_TIME: u64 = 600;

/// What an unknown user gets from `auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownUser {
    /// `PAM_AUTH_ERR`, the same as a wrong password (default).
    AuthErr,
    /// `PAM_USER_UNKNOWN` (`unknown_user=user_unknown`).
    UserUnknown,
}

/// Parsed module options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `debug`: log successes and the secure-memory state too.
    pub debug: bool,
    /// `nullok`: an empty password may match.
    pub nullok: bool,
    /// `nodelay`: no `pam_fail_delay`.
    pub nodelay: bool,
    /// `use_first_pass` (read by `pam_get_authtok` itself).
    pub use_first_pass: bool,
    /// `try_first_pass` (read by `pam_get_authtok` itself; its default behaviour).
    pub try_first_pass: bool,
    /// `use_authtok` (read by `pam_get_authtok` itself).
    pub use_authtok: bool,
    /// `db=PATH`: the password database.
    pub db: PathBuf,
    /// `config=PATH`: keyward configuration (used by the login-unlock session part).
    pub config: Option<PathBuf>,
    /// `unknown_user=auth_err|user_unknown`.
    pub unknown_user: UnknownUser,
    /// `deny=N`: lock a user after N consecutive failures (0 or absent: off).
    pub deny: u32,
    /// `unlock_time=S`: seconds a lock lasts (0: until a success or an admin reset).
    pub unlock_time: u64,
    /// `tally_dir=PATH`: where failure counts live.
    pub tally_dir: PathBuf,
    /// `remember=N`: `password` refuses the current password and the last N
    /// replaced ones (kept as hashes in `<db>.history`), as pam_unix does.
    pub remember: usize,
    /// `rehash`: after a successful login, a keyward hash below the system's
    /// `[kdf]` cost is rehashed at it (imported crypt(3) hashes always are).
    pub rehash: bool,
    /// `even_deny_root`: `deny=` locks root out too (by default, as in
    /// pam_faillock, root's failures are counted but never lock it).
    pub even_deny_root: bool,
    /// `root_unlock_time=S`: how long root stays locked (implies
    /// `even_deny_root`; default `unlock_time`).
    pub root_unlock_time: Option<u64>,
    /// `unlock`: login unlock. In `auth`, stash the password the stack
    /// authenticated (never verify, never change the result); in `session`,
    /// unlock the user's vault with it; in `password`, rewrap the vault.
    pub unlock: bool,
    /// `timeout=DURATION`: how long the session's unlock lasts (default: the
    /// user's `unlock_timeout`).
    pub timeout: Option<Duration>,
    /// `lock_on_close`: revoke the key when the user's last session closes.
    pub lock_on_close: bool,
    /// `session_dir=PATH`: where `lock_on_close` counts sessions.
    pub session_dir: PathBuf,
    /// `chkpwd=PATH`: the setuid helper a non-root host verifies through
    /// (root's and unwritable by others all the way up, or not run).
    pub chkpwd: PathBuf,
    /// `login_helper=PATH`: the program `unlock` runs as the user (root's
    /// choice in the stack line; it must be root's and unwritable by others
    /// all the way up, or it is not run).
    pub login_helper: PathBuf,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            debug: false,
            nullok: false,
            nodelay: false,
            use_first_pass: false,
            try_first_pass: false,
            use_authtok: false,
            db: PathBuf::from(keyward_passdb::DEFAULT_PATH),
            config: None,
            unknown_user: UnknownUser::AuthErr,
            deny: 0,
            unlock_time: DEFAULT_UNLOCK_TIME,
            tally_dir: PathBuf::from(DEFAULT_TALLY_DIR),
            remember: 0,
            rehash: false,
            even_deny_root: false,
            root_unlock_time: None,
            unlock: false,
            timeout: None,
            lock_on_close: false,
            session_dir: PathBuf::from(DEFAULT_SESSION_DIR),
            login_helper: PathBuf::from(DEFAULT_LOGIN_HELPER),
            chkpwd: PathBuf::from(crate::chkpwd::DEFAULT_CHKPWD),
        }
    }
}

/// Parses the arguments. Returns the options and one message per argument
/// that was not understood (the caller logs them; they are otherwise ignored).
pub fn parse<'a>(args: impl IntoIterator<Item = &'a [u8]>) -> (Options, Vec<String>) {
    let mut o = Options::default();
    let mut bad = Vec::new();
    for raw in args {
        let Ok(arg) = std::str::from_utf8(raw) else {
            bad.push("ignoring an argument that is not UTF-8".to_owned());
            continue;
        };
        let (key, value) = match arg.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (arg, None),
        };
        match (key, value) {
            ("debug", None) => o.debug = true,
            ("nullok", None) => o.nullok = true,
            ("nodelay", None) => o.nodelay = true,
            ("use_first_pass", None) => o.use_first_pass = true,
            ("try_first_pass", None) => o.try_first_pass = true,
            ("use_authtok", None) => o.use_authtok = true,
            ("unlock", None) => o.unlock = true,
            ("lock_on_close", None) => o.lock_on_close = true,
            ("even_deny_root", None) => o.even_deny_root = true,
            ("rehash", None) => o.rehash = true,
            ("remember", Some(v)) => match v.parse::<usize>() {
                Ok(n) if n <= keyward_passdb::history::MAX_REMEMBER => o.remember = n,
                Ok(_) => bad.push(format!(
                    "ignoring {arg:?}: at most {}",
                    keyward_passdb::history::MAX_REMEMBER
                )),
                Err(_) => bad.push(format!("ignoring {arg:?}: not a number")),
            },
            ("root_unlock_time", Some(v)) => match v.parse() {
                Ok(n) => {
                    o.root_unlock_time = Some(n);
                    o.even_deny_root = true;
                }
                Err(_) => bad.push(format!("ignoring {arg:?}: not a number")),
            },
            ("timeout", Some(v)) => match keyward_vault::parse_duration(v) {
                Ok(d) if !d.is_zero() => o.timeout = Some(d),
                Ok(_) => bad.push(format!("ignoring {arg:?}: the timeout must be at least 1s")),
                Err(e) => bad.push(format!("ignoring {arg:?}: {e}")),
            },
            ("session_dir", Some(v)) if v.starts_with('/') => o.session_dir = PathBuf::from(v),
            ("login_helper", Some(v)) if v.starts_with('/') => o.login_helper = PathBuf::from(v),
            ("chkpwd", Some(v)) if v.starts_with('/') => o.chkpwd = PathBuf::from(v),
            ("db", Some(v)) if v.starts_with('/') => o.db = PathBuf::from(v),
            ("config", Some(v)) if v.starts_with('/') => o.config = Some(PathBuf::from(v)),
            ("tally_dir", Some(v)) if v.starts_with('/') => o.tally_dir = PathBuf::from(v),
            ("unknown_user", Some("auth_err")) => o.unknown_user = UnknownUser::AuthErr,
            ("unknown_user", Some("user_unknown")) => o.unknown_user = UnknownUser::UserUnknown,
            ("deny", Some(v)) => match v.parse() {
                Ok(n) => o.deny = n,
                Err(_) => bad.push(format!("ignoring {arg:?}: not a number")),
            },
            ("unlock_time", Some(v)) => match v.parse() {
                Ok(n) => o.unlock_time = n,
                Err(_) => bad.push(format!("ignoring {arg:?}: not a number")),
            },
            (
                "db" | "config" | "tally_dir" | "session_dir" | "login_helper" | "chkpwd",
                Some(_),
            ) => bad.push(format!("ignoring {arg:?}: the path must be absolute")),
            ("unknown_user", Some(_)) => bad.push(format!(
                "ignoring {arg:?}: expected unknown_user=auth_err or unknown_user=user_unknown"
            )),
            // Options pam_get_authtok reads itself.
            ("authtok_type", Some(_)) => {}
            _ => bad.push(format!("ignoring unknown option {arg:?}")),
        }
    }
    (o, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> (Options, Vec<String>) {
        parse(args.iter().map(|a| a.as_bytes()))
    }

    #[test]
    fn defaults() {
        let (o, bad) = p(&[]);
        assert_eq!(o, Options::default());
        assert!(bad.is_empty());
        assert_eq!(o.db, PathBuf::from("/etc/keyward/shadow"));
        assert_eq!(o.deny, 0);
    }

    #[test]
    fn every_option() {
        let (o, bad) = p(&[
            "debug",
            "nullok",
            "nodelay",
            "use_first_pass",
            "try_first_pass",
            "use_authtok",
            "db=/x/shadow",
            "config=/x/config.toml",
            "unknown_user=user_unknown",
            "deny=3",
            "unlock_time=60",
            "tally_dir=/x/tally",
            "unlock",
            "timeout=1h30m",
            "lock_on_close",
            "session_dir=/x/sessions",
            "login_helper=/x/helper",
            "root_unlock_time=30",
            "rehash",
            "remember=5",
            "chkpwd=/x/chkpwd",
        ]);
        assert!(bad.is_empty(), "{bad:?}");
        assert!(o.debug && o.nullok && o.nodelay && o.use_first_pass);
        assert!(o.try_first_pass && o.use_authtok);
        assert_eq!(o.db, PathBuf::from("/x/shadow"));
        assert_eq!(o.config, Some(PathBuf::from("/x/config.toml")));
        assert_eq!(o.unknown_user, UnknownUser::UserUnknown);
        assert_eq!((o.deny, o.unlock_time), (3, 60));
        assert_eq!(o.tally_dir, PathBuf::from("/x/tally"));
        assert!(o.unlock && o.lock_on_close);
        assert_eq!(o.timeout, Some(Duration::from_secs(5400)));
        assert_eq!(o.session_dir, PathBuf::from("/x/sessions"));
        assert_eq!(o.login_helper, PathBuf::from("/x/helper"));
        assert!(o.even_deny_root && o.rehash);
        assert_eq!(o.remember, 5);
        assert_eq!(o.chkpwd, PathBuf::from("/x/chkpwd"));
        assert_eq!(o.root_unlock_time, Some(30));
        let (o, bad) = p(&["timeout=0", "timeout=soon"]);
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert_eq!(o.timeout, None);
    }

    #[test]
    fn bad_arguments_are_reported_and_ignored() {
        let (o, bad) = p(&[
            "frobnicate",
            "deny=many",
            "db=relative",
            "unknown_user=maybe",
            "debug=1",
            "nullok",
        ]);
        assert_eq!(bad.len(), 5, "{bad:?}");
        assert!(bad[0].contains("frobnicate"));
        assert!(o.nullok);
        assert_eq!(o.deny, 0);
        assert_eq!(o.db, PathBuf::from("/etc/keyward/shadow"));
        let (_, bad) = parse([&b"\xff"[..]]);
        assert_eq!(bad.len(), 1);
    }
}
