//! What each PAM entry point does, over the [`Host`] trait so it can be tested
//! without libpam. No `unsafe` here.

use crate::args::{Options, UnknownUser};
use crate::tally::Tally;
use keyward_passdb::{self as passdb, AccountState, Hash, PassDb, MAX_PASSWORD_LEN};
use keyward_secmem::{ExposeSecret, SecretBytes};
use pam::constants::{PamFlag, PamResultCode, PAM_DISALLOW_NULL_AUTHTOK};

pub use crate::host::{
    sanitize, Host, Priority, StrItem, Token, TokenItem, FAIL_DELAY_USEC,
    PAM_CHANGE_EXPIRED_AUTHTOK, PAM_PRELIM_CHECK, PAM_UPDATE_AUTHTOK, TRUSTED_UIDS,
};

/// pam_unix's failure line, field for field (fail2ban's pam-generic and
/// sshd filters parse it): `authentication failure; logname= uid= euid= tty=
/// ruser= rhost=` and, when there is a user, two spaces and `user=`.
fn failure_line(h: &dyn Host, user: &str) -> String {
    let user = if user.is_empty() {
        String::new()
    } else {
        format!("  user={}", sanitize(user))
    };
    format!(
        "authentication failure; logname={} uid={} euid={} tty={} ruser={} rhost={}{user}",
        sanitize(&h.logname()),
        h.uid(),
        h.euid(),
        h.item(StrItem::Tty),
        h.item(StrItem::Ruser),
        h.item(StrItem::Rhost),
    )
}

/// Logs a failure: pam_unix's line exactly, then, when there is more to say,
/// the reason on a line of its own (`check pass; user unknown`, as pam_unix
/// says it, or the lockout), so log parsers see pam_unix's format.
fn log_failure(h: &dyn Host, user: &str, why: &str) {
    h.log(Priority::Notice, &failure_line(h, user));
    if !why.is_empty() {
        h.log(Priority::Notice, &format!("{why}; user={}", sanitize(user)));
    }
}

fn load_db(h: &dyn Host, o: &Options) -> Result<PassDb, PamResultCode> {
    match passdb::load(&o.db, TRUSTED_UIDS) {
        Ok(db) => {
            for s in db.skipped() {
                h.log(
                    Priority::Warning,
                    &format!("{}:{}: line skipped: {}", o.db.display(), s.line, s.reason),
                );
            }
            Ok(db)
        }
        Err(e) => {
            h.log(
                Priority::Err,
                &format!("password database unavailable: {e}"),
            );
            Err(PamResultCode::PAM_AUTHINFO_UNAVAIL)
        }
    }
}

/// The lockout tally for `user`, as pam_faillock keeps it: root's failures
/// are counted but lock root out only with `even_deny_root` (for
/// `root_unlock_time`, default `unlock_time`).
fn tally(o: &Options, user: &str) -> Option<Tally> {
    if o.deny == 0 {
        return None;
    }
    let root = matches!(nix::unistd::User::from_name(user), Ok(Some(u)) if u.uid.is_root());
    let (deny, unlock_time) = match (root, o.even_deny_root) {
        (false, _) => (o.deny, o.unlock_time),
        (true, true) => (o.deny, o.root_unlock_time.unwrap_or(o.unlock_time)),
        // Counted, never locked.
        (true, false) => (u32::MAX, o.unlock_time),
    };
    Some(Tally::new(&o.tally_dir, deny, unlock_time, TRUSTED_UIDS))
}

/// Checks `password` against `hash`: scrypt, or libcrypt for a hash
/// imported from /etc/shadow. A failure to verify is a mismatch (logged).
fn verify(h: &dyn Host, hash: &Hash, password: &SecretBytes) -> bool {
    let r = match hash.crypt() {
        None => hash
            .verify(password.expose_secret())
            .map_err(|e| e.to_string()),
        Some(stored) => crate::ffi::crypt_verify(password.expose_secret(), stored),
    };
    r.unwrap_or_else(|e| {
        h.log(Priority::Err, &format!("cannot verify: {e}"));
        false
    })
}

/// The `[kdf]` of the system configuration (`config=`, else
/// `/etc/keyward/keyward.toml`): the cost of new hashes the module writes.
fn system_kdf(o: &Options) -> passdb::KdfParams {
    let file = o
        .config
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from(keyward_vault::SYSTEM_CONFIG));
    keyward_vault::Config::load_from(&[file])
        .map(|c| c.kdf)
        .unwrap_or_default()
}

/// After a successful login: an imported crypt(3) hash (and with `rehash`, a
/// scrypt hash below the system's `[kdf]` cost) is replaced by scrypt at the
/// system's cost, unless the password changed meanwhile. Never fails the
/// login; one log line either way.
fn rehash(h: &dyn Host, o: &Options, user: &str, hash: &Hash, password: &SecretBytes) {
    let kdf = system_kdf(o);
    let weaker = hash.params().is_some_and(|p| {
        o.rehash && p != kdf && (kdf.memory() > p.memory() || kdf.work() > p.work())
    });
    if hash.crypt().is_none() && !weaker {
        return;
    }
    let who = sanitize(user);
    let r = Hash::new(password.expose_secret(), kdf)
        .and_then(|new| passdb::update(&o.db, TRUSTED_UIDS, |db| Ok(db.rehash(user, hash, new))));
    match r {
        Ok(true) => h.log(
            Priority::Notice,
            &format!(
                "rehashed the password of user={who} from {} to scrypt with {kdf}",
                hash.scheme()
            ),
        ),
        Ok(false) => {}
        Err(e) => h.log(
            Priority::Err,
            &format!("cannot rehash the password of user={who}: {e}"),
        ),
    }
}

/// `remember=N`: the new password may be neither the current one nor one of
/// the last N replaced ones (pam_unix's answers and messages).
fn check_history(
    h: &mut dyn Host,
    o: &Options,
    user: &str,
    current: &Hash,
    new: &SecretBytes,
) -> Result<(), PamResultCode> {
    let who = sanitize(user);
    if verify(h, current, new) {
        h.log(
            Priority::Notice,
            &format!("password change for user={who}: the new password is the current one"),
        );
        h.error("Password unchanged");
        return Err(PamResultCode::PAM_AUTHTOK_ERR);
    }
    let hist = match passdb::history::load(&o.db, TRUSTED_UIDS) {
        Ok(x) => x,
        Err(e) => {
            h.log(Priority::Err, &format!("password history unavailable: {e}"));
            return Err(PamResultCode::PAM_AUTHTOK_ERR);
        }
    };
    for old in hist.of(user).iter().take(o.remember) {
        if verify(h, old, new) {
            h.log(
                Priority::Notice,
                &format!("password change for user={who}: the new password was used before"),
            );
            h.error("Password has been already used. Choose another.");
            return Err(PamResultCode::PAM_AUTHTOK_ERR);
        }
    }
    Ok(())
}

/// pam_faillock's words to a locked-out user (`pam_info`, not under `PAM_SILENT`).
fn tell_locked(h: &mut dyn Host, failures: u32, left: u64) {
    h.info(&format!(
        "The account is locked due to {failures} failed logins."
    ));
    if left > 0 {
        h.info(&format!("({} minutes left to unlock)", left.div_ceil(60)));
    }
}

/// `pam_sm_authenticate`. With `unlock`: only keep the password for the
/// session ([`crate::login::stash`]).
pub fn authenticate(h: &mut dyn Host, o: &Options, flags: PamFlag) -> PamResultCode {
    if o.unlock {
        return crate::login::stash(h, o);
    }
    if !o.nodelay {
        h.fail_delay(FAIL_DELAY_USEC);
    }
    let user = match h.user() {
        Ok(u) => u,
        Err(PamResultCode::PAM_CONV_AGAIN) => return PamResultCode::PAM_INCOMPLETE,
        Err(e) => {
            h.log(Priority::Err, &format!("cannot get the user name: {e:?}"));
            return e;
        }
    };
    let password = match h.token(TokenItem::Current, None) {
        Ok(Token::Secret(p)) => p,
        Ok(Token::TooLong) => {
            log_failure(
                h,
                &user,
                &format!("password longer than {MAX_PASSWORD_LEN} bytes"),
            );
            return PamResultCode::PAM_AUTH_ERR;
        }
        Err(PamResultCode::PAM_CONV_AGAIN) => return PamResultCode::PAM_INCOMPLETE,
        Err(e) => {
            h.log(
                Priority::Notice,
                &format!(
                    "cannot get the password for user={}: {e:?}",
                    sanitize(&user)
                ),
            );
            return e;
        }
    };
    let null_allowed = o.nullok && flags & PAM_DISALLOW_NULL_AUTHTOK == 0;
    if password.is_empty() && !null_allowed {
        log_failure(h, &user, "empty password (no nullok)");
        return PamResultCode::PAM_AUTH_ERR;
    }
    // A host that is not root (a screen locker) cannot read the database:
    // the setuid helper checks the caller's own password.
    if h.euid() != 0 {
        return crate::chkpwd::verify_unprivileged(h, o, &user, &password, null_allowed);
    }
    let db = match load_db(h, o) {
        Ok(db) => db,
        Err(e) => return e,
    };
    let entry = if passdb::validate_user(&user).is_ok() {
        db.entry(&user)
    } else {
        None
    };
    let known = entry.map(|e| &e.hash);
    let tally = tally(o, &user);
    let now = h.now();
    // A known user's attempt is counted before the password is verified, so
    // no more than `deny` guesses are ever verified, however many run at once;
    // for an unknown user the tally directory gets the same checks, so a
    // broken tally answers alike for both (after the same scrypt work).
    let attempt = match (&tally, known) {
        (Some(t), Some(_)) => t.attempt(&user, now).map(Some),
        (Some(t), None) => t.check().map(|()| None),
        (None, _) => Ok(None),
    };
    // The same scrypt work whether the user is known, unknown or locked: an
    // unknown name is verified against a dummy hash with the cost of a user
    // of the database (chosen by the name), so it costs what a known user
    // costs at any configured or mixed cost.
    let dummy;
    let target = match known {
        Some(hash) => hash,
        None => {
            dummy = db.dummy_for_unknown(&user);
            &dummy
        }
    };
    let matched = verify(h, target, &password);
    let attempt = match attempt {
        Ok(a) => a,
        Err(e) => {
            h.log(Priority::Err, &format!("lockout tally unavailable: {e}"));
            return PamResultCode::PAM_AUTHINFO_UNAVAIL;
        }
    };
    let locked = attempt.and_then(|a| a.locked);
    // An account the administrator locked (`keyward pam lock`) matches no
    // password, after the same work.
    let admin_locked = entry.is_some_and(|e| e.locked);
    if matched && known.is_some() && locked.is_none() && !admin_locked {
        if let Some(hash) = known {
            rehash(h, o, &user, hash, &password);
        }
        drop(password);
        if let Some(t) = &tally {
            if let Err(e) = t.reset(&user) {
                h.log(
                    Priority::Err,
                    &format!("cannot reset the lockout tally: {e}"),
                );
            }
        }
        if o.debug {
            h.log(
                Priority::Debug,
                &format!("authentication succeeded for user={}", sanitize(&user)),
            );
        }
        return PamResultCode::PAM_SUCCESS;
    }
    drop(password);
    let mut why = String::new();
    let deny = tally.as_ref().map_or(0, Tally::deny);
    if known.is_none() {
        why = "check pass; user unknown".into();
    } else if let Some(n) = locked {
        why = format!("account locked after {n} failures");
    } else if admin_locked {
        why = "account locked by the administrator (keyward pam lock)".into();
    }
    if let Some(a) = attempt {
        if a.locked.is_none() && a.failures == deny {
            why = format!("account now locked after {} failures", a.failures);
        }
    }
    log_failure(h, &user, &why);
    if let (Some(n), Some(t)) = (locked, &tally) {
        let left = t
            .unlock_time()
            .checked_sub(now.saturating_sub(t.last_failure(&user).unwrap_or(now)))
            .filter(|_| t.unlock_time() > 0)
            .unwrap_or(0);
        tell_locked(h, n, left);
    }
    if known.is_none() && o.unknown_user == UnknownUser::UserUnknown {
        PamResultCode::PAM_USER_UNKNOWN
    } else {
        PamResultCode::PAM_AUTH_ERR
    }
}

/// `pam_sm_setcred`: nothing to establish (also with `unlock`: the vault is
/// unlocked by the session, whose keyring pam_keyinit has set up by then).
pub fn setcred(_h: &mut dyn Host, _o: &Options, _flags: PamFlag) -> PamResultCode {
    PamResultCode::PAM_SUCCESS
}

/// `pam_sm_acct_mgmt`: users in the database are valid unless the
/// administrator locked them (`PAM_PERM_DENIED`) or their shadow-style
/// aging says otherwise, with pam_unix's codes, log lines and messages:
/// expired account `PAM_ACCT_EXPIRED`, password to change now
/// `PAM_NEW_AUTHTOK_REQD`, password aged past `inactive` `PAM_AUTHTOK_EXPIRED`,
/// and a warning within `warn` days of `max`.
pub fn acct_mgmt(h: &mut dyn Host, o: &Options, _flags: PamFlag) -> PamResultCode {
    let user = match h.user() {
        Ok(u) => u,
        Err(e) => return e,
    };
    let db = match load_db(h, o) {
        Ok(db) => db,
        Err(e) => return e,
    };
    let entry = match passdb::validate_user(&user).ok().and(db.entry(&user)) {
        Some(e) => e,
        None => {
            if o.debug {
                h.log(
                    Priority::Debug,
                    &format!("account: user={} not in the database", sanitize(&user)),
                );
            }
            return PamResultCode::PAM_USER_UNKNOWN;
        }
    };
    let who = sanitize(&user);
    if entry.locked {
        h.log(
            Priority::Notice,
            &format!("account {who} is locked by the administrator (keyward pam lock)"),
        );
        h.error("Your account is locked; please contact your system administrator.");
        return PamResultCode::PAM_PERM_DENIED;
    }
    let today = i64::try_from(h.now() / 86_400).unwrap_or(i64::MAX);
    match entry.aging.state(today) {
        AccountState::Valid(None) => PamResultCode::PAM_SUCCESS,
        AccountState::Valid(Some(days)) => {
            h.log(
                Priority::Debug,
                &format!("password for user {who} will expire in {days} days"),
            );
            let unit = if days == 1 { "day" } else { "days" };
            h.info(&format!(
                "Warning: your password will expire in {days} {unit}."
            ));
            PamResultCode::PAM_SUCCESS
        }
        AccountState::Expired => {
            h.log(
                Priority::Notice,
                &format!("account {who} has expired (account expired)"),
            );
            h.error("Your account has expired; please contact your system administrator.");
            PamResultCode::PAM_ACCT_EXPIRED
        }
        AccountState::Inactive => {
            h.log(
                Priority::Notice,
                &format!("account {who} has expired (failed to change password)"),
            );
            h.error("Your account has expired; please contact your system administrator.");
            PamResultCode::PAM_AUTHTOK_EXPIRED
        }
        AccountState::MustChange { forced: true } => {
            h.log(
                Priority::Notice,
                &format!("expired password for user {who} (root enforced)"),
            );
            h.error(
                "You are required to change your password immediately (administrator enforced).",
            );
            PamResultCode::PAM_NEW_AUTHTOK_REQD
        }
        AccountState::MustChange { forced: false } => {
            h.log(
                Priority::Debug,
                &format!("expired password for user {who} (password aged)"),
            );
            h.error("You are required to change your password immediately (password expired).");
            PamResultCode::PAM_NEW_AUTHTOK_REQD
        }
    }
}

/// `pam_sm_open_session`: with `unlock`, unlock the user's vault
/// ([`crate::login::open_session`]); otherwise nothing to do.
pub fn open_session(h: &mut dyn Host, o: &Options, _flags: PamFlag) -> PamResultCode {
    if o.unlock {
        return crate::login::open_session(h, o);
    }
    PamResultCode::PAM_IGNORE
}

/// `pam_sm_close_session`: with `unlock lock_on_close`, the user's last
/// session locks the vault ([`crate::login::close_session`]).
pub fn close_session(h: &mut dyn Host, o: &Options, _flags: PamFlag) -> PamResultCode {
    if o.unlock {
        return crate::login::close_session(h, o);
    }
    PamResultCode::PAM_IGNORE
}

fn get_secret(
    h: &mut dyn Host,
    item: TokenItem,
    prompt: Option<&str>,
    user: &str,
) -> Result<SecretBytes, PamResultCode> {
    match h.token(item, prompt) {
        Ok(Token::Secret(p)) => Ok(p),
        Ok(Token::TooLong) => {
            h.log(
                Priority::Notice,
                &format!(
                    "password change for user={}: password longer than {MAX_PASSWORD_LEN} bytes",
                    sanitize(user)
                ),
            );
            h.info(&format!(
                "The password is longer than {MAX_PASSWORD_LEN} bytes."
            ));
            Err(PamResultCode::PAM_AUTHTOK_ERR)
        }
        Err(PamResultCode::PAM_CONV_AGAIN) => Err(PamResultCode::PAM_INCOMPLETE),
        Err(PamResultCode::PAM_TRY_AGAIN) => Err(PamResultCode::PAM_AUTHTOK_ERR),
        Err(e) => Err(e),
    }
}

/// The old password in `chauthtok`: the same fail delay and lockout tally as
/// `authenticate`, so `passwd` is no faster a way to guess.
fn check_old(h: &mut dyn Host, o: &Options, user: &str, hash: &Hash) -> PamResultCode {
    if !o.nodelay {
        h.fail_delay(FAIL_DELAY_USEC);
    }
    let old = match get_secret(h, TokenItem::Old, Some("Current password: "), user) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let tally = tally(o, user);
    let attempt = match &tally {
        Some(t) => match t.attempt(user, h.now()) {
            Ok(a) => Some(a),
            Err(e) => {
                h.log(Priority::Err, &format!("lockout tally unavailable: {e}"));
                return PamResultCode::PAM_AUTHINFO_UNAVAIL;
            }
        },
        None => None,
    };
    let matched = verify(h, hash, &old);
    drop(old);
    let locked = attempt.and_then(|a| a.locked);
    if matched && locked.is_none() {
        if let Some(t) = &tally {
            if let Err(e) = t.reset(user) {
                h.log(
                    Priority::Err,
                    &format!("cannot reset the lockout tally: {e}"),
                );
            }
        }
        return PamResultCode::PAM_SUCCESS;
    }
    let why = match (locked, attempt) {
        (Some(n), _) => format!("password change: account locked after {n} failures"),
        (None, Some(a)) if tally.as_ref().is_some_and(|t| a.failures == t.deny()) => {
            format!(
                "password change: account now locked after {} failures",
                a.failures
            )
        }
        _ => "password change: wrong current password".to_string(),
    };
    log_failure(h, user, &why);
    PamResultCode::PAM_AUTH_ERR
}

/// `pam_sm_chauthtok`: verify the old password (skipped for root), take the
/// new one, write its hash atomically.
pub fn chauthtok(h: &mut dyn Host, o: &Options, flags: PamFlag) -> PamResultCode {
    if o.unlock {
        return crate::login::chauthtok(h, o, flags);
    }
    let user = match h.user() {
        Ok(u) => u,
        Err(PamResultCode::PAM_CONV_AGAIN) => return PamResultCode::PAM_INCOMPLETE,
        Err(e) => return e,
    };
    if passdb::validate_user(&user).is_err() {
        return PamResultCode::PAM_USER_UNKNOWN;
    }
    let db = match load_db(h, o) {
        Ok(db) => db,
        Err(_) => return PamResultCode::PAM_AUTHTOK_ERR,
    };
    let Some(entry) = db.entry(&user).cloned() else {
        return PamResultCode::PAM_USER_UNKNOWN;
    };
    let hash = entry.hash;
    let root_changes = h.uid() == 0 && flags & PAM_CHANGE_EXPIRED_AUTHTOK == 0;
    // pam_unix: a user may not change a password younger than `min` days.
    let today = i64::try_from(h.now() / 86_400).unwrap_or(i64::MAX);
    if !root_changes && entry.aging.wait_to_change(today) > 0 {
        h.log(
            Priority::Notice,
            &format!(
                "user {} tried to change the password before the minimum age",
                sanitize(&user)
            ),
        );
        h.error("You must wait longer to change your password.");
        return PamResultCode::PAM_AUTHTOK_ERR;
    }
    if flags & PAM_PRELIM_CHECK != 0 {
        if root_changes {
            return PamResultCode::PAM_SUCCESS;
        }
        return check_old(h, o, &user, &hash);
    }
    if flags & PAM_UPDATE_AUTHTOK == 0 {
        return PamResultCode::PAM_SERVICE_ERR;
    }
    if !root_changes {
        let r = check_old(h, o, &user, &hash);
        if r != PamResultCode::PAM_SUCCESS {
            return r;
        }
    }
    let new = match get_secret(h, TokenItem::Current, None, &user) {
        Ok(p) => p,
        Err(e) => return e,
    };
    if new.is_empty() && !o.nullok {
        h.info("No password has been supplied.");
        return PamResultCode::PAM_AUTHTOK_ERR;
    }
    if o.remember > 0 {
        if let Err(code) = check_history(h, o, &user, &hash, &new) {
            return code;
        }
    }
    // Keep the cost the admin chose for this user (an imported crypt(3)
    // hash becomes scrypt at the system's cost).
    let params = hash.params().unwrap_or_else(|| system_kdf(o));
    let new_hash = match Hash::new(new.expose_secret(), params) {
        Ok(x) => x,
        Err(e) => {
            h.log(Priority::Err, &format!("cannot hash the new password: {e}"));
            return PamResultCode::PAM_AUTHTOK_ERR;
        }
    };
    drop(new);
    match passdb::update(&o.db, TRUSTED_UIDS, |db| db.set(&user, new_hash)) {
        Ok(()) => {
            h.log(
                Priority::Notice,
                &format!("password changed for user={}", sanitize(&user)),
            );
            if o.remember > 0 {
                if let Err(e) =
                    passdb::history::remember(&o.db, TRUSTED_UIDS, &user, &hash, o.remember)
                {
                    h.log(
                        Priority::Err,
                        &format!("cannot record the old password in the history: {e}"),
                    );
                }
            }
            PamResultCode::PAM_SUCCESS
        }
        Err(e) => {
            h.log(
                Priority::Err,
                &format!("cannot write the new password: {e}"),
            );
            PamResultCode::PAM_AUTHTOK_ERR
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_passdb::KdfParams;
    use std::cell::RefCell;

    const FAST: KdfParams = KdfParams {
        log_n: 4,
        r: 8,
        p: 1,
    };

    #[derive(Default)]
    struct Fake {
        user: String,
        tokens: Vec<&'static [u8]>,
        logs: RefCell<Vec<String>>,
        delays: u32,
        uid: u32,
        /// Seconds since the epoch (0: 1000).
        now: u64,
        /// What the user was told (info and error messages).
        said: Vec<String>,
    }

    impl Host for Fake {
        fn user(&mut self) -> Result<String, PamResultCode> {
            Ok(self.user.clone())
        }
        fn token(&mut self, _i: TokenItem, _p: Option<&str>) -> Result<Token, PamResultCode> {
            if self.tokens.is_empty() {
                return Err(PamResultCode::PAM_CONV_ERR);
            }
            let t = self.tokens.remove(0);
            if t.len() > MAX_PASSWORD_LEN {
                return Ok(Token::TooLong);
            }
            Ok(Token::Secret(SecretBytes::from_slice(t).unwrap()))
        }
        fn item(&self, _i: StrItem) -> String {
            "x".into()
        }
        fn log(&self, _p: Priority, msg: &str) {
            self.logs.borrow_mut().push(msg.to_owned());
        }
        fn fail_delay(&mut self, _usec: u32) {
            self.delays += 1;
        }
        fn info(&mut self, msg: &str) {
            self.said.push(msg.to_owned());
        }
        fn uid(&self) -> u32 {
            self.uid
        }
        fn now(&self) -> u64 {
            if self.now == 0 {
                1000
            } else {
                self.now
            }
        }
    }

    /// A database in a directory the current user owns (the module trusts
    /// root only, so these tests run as root as CI does).
    fn setup(users: &[(&str, &[u8])]) -> (tempfile::TempDir, Options) {
        let d = tempfile::tempdir().unwrap();
        let db = d.path().join("shadow");
        passdb::update(&db, TRUSTED_UIDS, |pdb| {
            for (u, p) in users {
                pdb.set(u, Hash::new(p, FAST)?)?;
            }
            Ok(())
        })
        .expect("tests of the module logic run as root (the database must be root-owned)");
        let o = Options {
            db,
            nodelay: true,
            tally_dir: d.path().join("tally"),
            ..Options::default()
        };
        (d, o)
    }

    fn fake(user: &str, tokens: &[&'static [u8]]) -> Fake {
        Fake {
            user: user.into(),
            tokens: tokens.to_vec(),
            ..Fake::default()
        }
    }

    #[test]
    fn right_wrong_unknown() {
        let (_d, o) = setup(&[("alice", b"pw")]);
        assert_eq!(
            authenticate(&mut fake("alice", &[b"pw"]), &o, 0),
            PamResultCode::PAM_SUCCESS
        );
        let mut f = fake("alice", &[b"nope"]);
        assert_eq!(authenticate(&mut f, &o, 0), PamResultCode::PAM_AUTH_ERR);
        assert!(f
            .logs
            .borrow()
            .iter()
            .any(|l| l.contains("authentication failure")));
        let mut f = fake("mallory", &[b"pw"]);
        assert_eq!(authenticate(&mut f, &o, 0), PamResultCode::PAM_AUTH_ERR);
        assert!(f.logs.borrow().iter().any(|l| l.contains("user unknown")));
        let o2 = Options {
            unknown_user: UnknownUser::UserUnknown,
            ..o.clone()
        };
        assert_eq!(
            authenticate(&mut fake("mallory", &[b"pw"]), &o2, 0),
            PamResultCode::PAM_USER_UNKNOWN
        );
        // No secret outlives an entry point: checked per call through the
        // real libpam (pam_wrapper.rs, "secure memory: 0 live secrets"); the
        // process-wide count here would race with the other tests' threads.
    }

    #[test]
    fn delay_unless_nodelay() {
        let (_d, o) = setup(&[("alice", b"pw")]);
        let mut f = fake("alice", &[b"x"]);
        authenticate(&mut f, &o, 0);
        assert_eq!(f.delays, 0);
        let o2 = Options {
            nodelay: false,
            ..o
        };
        let mut f = fake("alice", &[b"x"]);
        authenticate(&mut f, &o2, 0);
        assert_eq!(f.delays, 1);
    }

    #[test]
    fn lockout_and_reset() {
        let (_d, o) = setup(&[("alice", b"pw")]);
        let o = Options { deny: 2, ..o };
        assert_eq!(
            authenticate(&mut fake("alice", &[b"a"]), &o, 0),
            PamResultCode::PAM_AUTH_ERR
        );
        assert_eq!(
            authenticate(&mut fake("alice", &[b"pw"]), &o, 0),
            PamResultCode::PAM_SUCCESS
        );
        authenticate(&mut fake("alice", &[b"a"]), &o, 0);
        let mut f = fake("alice", &[b"a"]);
        authenticate(&mut f, &o, 0);
        assert!(
            f.logs.borrow().iter().any(|l| l.contains("now locked")),
            "{:?}",
            f.logs
        );
        let mut f = fake("alice", &[b"pw"]);
        assert_eq!(authenticate(&mut f, &o, 0), PamResultCode::PAM_AUTH_ERR);
        assert!(
            f.logs.borrow().iter().any(|l| l.contains("locked after 2")),
            "{:?}",
            f.logs
        );
    }

    #[test]
    fn empty_and_long() {
        let (_d, o) = setup(&[("alice", b""), ("bob", b"pw")]);
        assert_eq!(
            authenticate(&mut fake("alice", &[b""]), &o, 0),
            PamResultCode::PAM_AUTH_ERR
        );
        let o2 = Options {
            nullok: true,
            ..o.clone()
        };
        assert_eq!(
            authenticate(&mut fake("alice", &[b""]), &o2, 0),
            PamResultCode::PAM_SUCCESS
        );
        assert_eq!(
            authenticate(&mut fake("alice", &[b""]), &o2, PAM_DISALLOW_NULL_AUTHTOK),
            PamResultCode::PAM_AUTH_ERR
        );
        static LONG: [u8; MAX_PASSWORD_LEN + 1] = [b'a'; MAX_PASSWORD_LEN + 1];
        let mut f = fake("bob", &[&LONG]);
        assert_eq!(authenticate(&mut f, &o, 0), PamResultCode::PAM_AUTH_ERR);
        assert!(f
            .logs
            .borrow()
            .iter()
            .any(|l| l.contains("longer than 4096")));
    }

    #[test]
    fn chauthtok_as_user_checks_old_password() {
        let (_d, o) = setup(&[("alice", b"old")]);
        let mut f = fake("alice", &[b"wrong"]);
        f.uid = 1000;
        assert_eq!(
            chauthtok(&mut f, &o, PAM_PRELIM_CHECK),
            PamResultCode::PAM_AUTH_ERR
        );
        let mut f = fake("alice", &[b"old", b"new"]);
        f.uid = 1000;
        assert_eq!(
            chauthtok(&mut f, &o, PAM_UPDATE_AUTHTOK),
            PamResultCode::PAM_SUCCESS
        );
        assert_eq!(
            authenticate(&mut fake("alice", &[b"new"]), &o, 0),
            PamResultCode::PAM_SUCCESS
        );
        assert_eq!(
            authenticate(&mut fake("alice", &[b"old"]), &o, 0),
            PamResultCode::PAM_AUTH_ERR
        );
        // Root skips the old password.
        let mut f = fake("alice", &[b"third"]);
        assert_eq!(
            chauthtok(&mut f, &o, PAM_UPDATE_AUTHTOK),
            PamResultCode::PAM_SUCCESS
        );
        assert_eq!(
            chauthtok(&mut fake("bob", &[]), &o, PAM_PRELIM_CHECK),
            PamResultCode::PAM_USER_UNKNOWN
        );
    }

    #[test]
    fn account() {
        let (_d, o) = setup(&[("alice", b"pw")]);
        assert_eq!(
            acct_mgmt(&mut fake("alice", &[]), &o, 0),
            PamResultCode::PAM_SUCCESS
        );
        assert_eq!(
            acct_mgmt(&mut fake("bob", &[]), &o, 0),
            PamResultCode::PAM_USER_UNKNOWN
        );
    }

    /// Issue 14.11: pam_unix's answers for shadow-style aging, and an
    /// administrator's lock.
    #[test]
    fn account_state_follows_pam_unix() {
        let (_d, o) = setup(&[("alice", b"pw")]);
        let day = 20_000i64;
        let at_day = |f: &mut Fake| f.now = day as u64 * 86_400 + 3600;
        let set = |aging: passdb::Aging, locked: bool| {
            passdb::update(&o.db, TRUSTED_UIDS, |db| {
                let e = db.entry_mut("alice").unwrap();
                e.aging = aging;
                e.locked = locked;
                Ok(())
            })
            .unwrap();
        };
        let check = |code: PamResultCode, said: &str, log: &str| {
            let mut f = fake("alice", &[]);
            at_day(&mut f);
            assert_eq!(acct_mgmt(&mut f, &o, 0), code, "{:?}", f.logs);
            assert_eq!(f.said.join("|"), said);
            assert!(
                f.logs.borrow().iter().any(|l| l == log) || log.is_empty(),
                "{:?}",
                f.logs
            );
        };
        let a = |last, min, max, warn, inactive, expire| passdb::Aging {
            last_change: last,
            min,
            max,
            warn,
            inactive,
            expire,
        };
        set(a(None, None, None, None, None, Some(day)), false);
        check(
            PamResultCode::PAM_ACCT_EXPIRED,
            "Your account has expired; please contact your system administrator.",
            "account alice has expired (account expired)",
        );
        set(a(Some(0), None, None, None, None, None), false);
        check(
            PamResultCode::PAM_NEW_AUTHTOK_REQD,
            "You are required to change your password immediately (administrator enforced).",
            "expired password for user alice (root enforced)",
        );
        set(
            a(Some(day - 91), None, Some(90), Some(7), None, None),
            false,
        );
        check(
            PamResultCode::PAM_NEW_AUTHTOK_REQD,
            "You are required to change your password immediately (password expired).",
            "expired password for user alice (password aged)",
        );
        set(
            a(Some(day - 100), None, Some(90), Some(7), Some(5), None),
            false,
        );
        check(
            PamResultCode::PAM_AUTHTOK_EXPIRED,
            "Your account has expired; please contact your system administrator.",
            "account alice has expired (failed to change password)",
        );
        set(
            a(Some(day - 89), None, Some(90), Some(7), None, None),
            false,
        );
        check(
            PamResultCode::PAM_SUCCESS,
            "Warning: your password will expire in 1 day.",
            "password for user alice will expire in 1 days",
        );
        set(
            a(Some(day - 10), None, Some(90), Some(7), None, None),
            false,
        );
        check(PamResultCode::PAM_SUCCESS, "", "");
        // Locked by the administrator: account says so; auth refuses the
        // right password after the same work.
        set(passdb::Aging::default(), true);
        check(
            PamResultCode::PAM_PERM_DENIED,
            "Your account is locked; please contact your system administrator.",
            "account alice is locked by the administrator (keyward pam lock)",
        );
        let mut f = fake("alice", &[b"pw"]);
        assert_eq!(authenticate(&mut f, &o, 0), PamResultCode::PAM_AUTH_ERR);
        // A password younger than `min` days cannot be changed by the user.
        set(a(Some(day - 1), Some(3), None, None, None, None), false);
        let mut f = fake("alice", &[b"pw", b"new"]);
        f.uid = 1000;
        at_day(&mut f);
        assert_eq!(
            chauthtok(&mut f, &o, PAM_UPDATE_AUTHTOK),
            PamResultCode::PAM_AUTHTOK_ERR
        );
        assert_eq!(f.said, ["You must wait longer to change your password."]);
    }

    /// Issue 14.11: a locked-out user is told so, as pam_faillock tells them;
    /// root is counted but locked out only with `even_deny_root` (then for
    /// `root_unlock_time`).
    #[test]
    fn lockout_message_and_root() {
        let (_d, o) = setup(&[("alice", b"pw"), ("root", b"rootpw")]);
        let o = Options {
            deny: 2,
            unlock_time: 600,
            ..o
        };
        for _ in 0..2 {
            authenticate(&mut fake("alice", &[b"x"]), &o, 0);
        }
        let mut f = fake("alice", &[b"pw"]);
        assert_eq!(authenticate(&mut f, &o, 0), PamResultCode::PAM_AUTH_ERR);
        assert_eq!(
            f.said,
            [
                "The account is locked due to 2 failed logins.",
                "(10 minutes left to unlock)"
            ]
        );
        for _ in 0..3 {
            authenticate(&mut fake("root", &[b"x"]), &o, 0);
        }
        let mut f = fake("root", &[b"rootpw"]);
        assert_eq!(authenticate(&mut f, &o, 0), PamResultCode::PAM_SUCCESS);
        assert!(f.said.is_empty());
        let o = Options {
            root_unlock_time: Some(60),
            even_deny_root: true,
            ..o
        };
        for _ in 0..2 {
            authenticate(&mut fake("root", &[b"x"]), &o, 0);
        }
        let mut f = fake("root", &[b"rootpw"]);
        assert_eq!(authenticate(&mut f, &o, 0), PamResultCode::PAM_AUTH_ERR);
        assert_eq!(
            f.said,
            [
                "The account is locked due to 2 failed logins.",
                "(1 minutes left to unlock)"
            ]
        );
        // After root_unlock_time (not unlock_time) root gets in again.
        let mut f = fake("root", &[b"rootpw"]);
        f.now = 1000 + 61;
        assert_eq!(authenticate(&mut f, &o, 0), PamResultCode::PAM_SUCCESS);
    }

    /// Review finding: with deny=3, 19 wrong guesses and the right one started
    /// together, the right one succeeded after 8 recorded failures.
    #[test]
    fn parallel_guesses_never_get_past_deny() {
        let (_d, o) = setup(&[("alice", b"right")]);
        let o = Options {
            deny: 3,
            unlock_time: 600,
            ..o
        };
        let barrier = std::sync::Barrier::new(20);
        let results: Vec<(PamResultCode, Vec<String>)> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..20)
                .map(|_| {
                    let (o, barrier) = (&o, &barrier);
                    s.spawn(move || {
                        let pw: &'static [u8] = b"wrong";
                        let mut f = fake("alice", &[pw]);
                        barrier.wait();
                        let rc = authenticate(&mut f, o, 0);
                        (rc, f.logs.into_inner())
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        // Guesses that were verified (not refused as locked): at most deny.
        let verified = results
            .iter()
            .filter(|(_, logs)| !logs.iter().any(|l| l.contains("account locked after")))
            .count();
        assert_eq!(verified, 3, "{results:?}");
        // The window is closed: the right password is refused now.
        let mut f = fake("alice", &[b"right"]);
        assert_eq!(authenticate(&mut f, &o, 0), PamResultCode::PAM_AUTH_ERR);
        assert!(f
            .logs
            .borrow()
            .iter()
            .any(|l| l.contains("account locked after 3")));
    }

    /// Review finding: with a 0755 tally directory a known user got
    /// PAM_AUTHINFO_UNAVAIL at once and an unknown one PAM_AUTH_ERR after
    /// scrypt. Now both get the same answer.
    #[test]
    fn a_broken_tally_answers_alike_for_known_and_unknown_users() {
        use std::os::unix::fs::PermissionsExt;
        let (d, o) = setup(&[("alice", b"pw")]);
        let o = Options { deny: 3, ..o };
        std::fs::create_dir(d.path().join("tally")).unwrap();
        std::fs::set_permissions(
            d.path().join("tally"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let known = authenticate(&mut fake("alice", &[b"x"]), &o, 0);
        let unknown = authenticate(&mut fake("mallory", &[b"x"]), &o, 0);
        assert_eq!(known, unknown);
        assert_eq!(known, PamResultCode::PAM_AUTHINFO_UNAVAIL);
    }

    /// Review finding: the old-password check of `passwd` had no fail delay
    /// and no tally (0.4 s a guess for a session holder).
    #[test]
    fn the_old_password_check_is_delayed_and_counted() {
        let (_d, o) = setup(&[("alice", b"old")]);
        let o = Options {
            deny: 2,
            nodelay: false,
            ..o
        };
        for _ in 0..2 {
            let mut f = fake("alice", &[b"guess"]);
            f.uid = 1000;
            assert_eq!(
                chauthtok(&mut f, &o, PAM_PRELIM_CHECK),
                PamResultCode::PAM_AUTH_ERR
            );
            assert_eq!(f.delays, 1);
        }
        // Locked out now: even the right old password is refused…
        let mut f = fake("alice", &[b"old"]);
        f.uid = 1000;
        assert_eq!(
            chauthtok(&mut f, &o, PAM_PRELIM_CHECK),
            PamResultCode::PAM_AUTH_ERR
        );
        assert!(
            f.logs
                .borrow()
                .iter()
                .any(|l| l.contains("account locked after 2")),
            "{:?}",
            f.logs
        );
        // …and so is a login.
        assert_eq!(
            authenticate(
                &mut fake("alice", &[b"old"]),
                &Options { nodelay: true, ..o },
                0
            ),
            PamResultCode::PAM_AUTH_ERR
        );
    }

    #[test]
    fn sanitizes_log_fields() {
        assert_eq!(sanitize("a b\nc\u{1b}é"), "a?b?c??");
    }
}
