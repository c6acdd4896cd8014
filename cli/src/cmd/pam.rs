//! `keyward pam passwd|rm|list|lock|unlock|status|age|faillock`: the password
//! database pam_keyward.so checks (`/etc/keyward/shadow`, or `--db PATH`), its
//! accounts' lock and aging (as `passwd -l/-u/-S` and `chage` do for
//! /etc/shadow), and the lockout tally (as `faillock` does).

use crate::ctx::{say, Ctx};
use crate::exit::{CliError, Result};
use crate::password::Source;
use clap::{Args, Subcommand};
use keyward_passdb::{self as passdb, Hash, PassDb, MAX_PASSWORD_LEN};
use keyward_secmem::{prompt_secret, read_secret_from_fd, ExposeSecret, SecretBytes};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub(crate) struct PamArgs {
    #[command(subcommand)]
    pub command: PamCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PamCommand {
    /// Set USER's login password (asks twice, or reads one line from --password-fd).
    Passwd(PasswdArgs),
    /// Remove USER from the password database.
    Rm(RmArgs),
    /// List the users in the password database (names only).
    List(DbArg),
    /// Lock USER's password (like `passwd -l`): no password logs in until `keyward pam unlock`.
    Lock(UserArg),
    /// Unlock a password locked with `keyward pam lock` (like `passwd -u`).
    Unlock(UserArg),
    /// Show USER's password status (like `passwd -S`): name, L (locked) or P, last change, min, max, warn, inactive.
    Status(StatusArgs),
    /// Show or change USER's password aging and account expiry (like `chage`; days, -1 for none).
    Age(AgeArgs),
    /// Show USER's failed logins in the lockout tally, or clear them with --reset (like `faillock`).
    Faillock(FaillockArgs),
    /// Import users (all, or the USERs named) from /etc/shadow with their yescrypt, sha512crypt, sha256crypt or bcrypt hashes, lock and aging; the first successful login rehashes them to scrypt.
    ImportShadow(ImportShadowArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ImportShadowArgs {
    /// Users to import (default: every user with a password hash keyward can verify).
    pub users: Vec<String>,
    /// The shadow file to read.
    #[arg(long, value_name = "PATH", default_value = "/etc/shadow")]
    pub shadow: PathBuf,
    /// Overwrite users already in the database.
    #[arg(long)]
    pub replace: bool,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Debug, Args)]
pub(crate) struct UserArg {
    /// The user name.
    pub user: String,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// The user name (every user with --all).
    #[arg(required_unless_present = "all")]
    pub user: Option<String>,
    /// Every user in the database.
    #[arg(long, short = 'a', conflicts_with = "user")]
    pub all: bool,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Debug, Args)]
pub(crate) struct AgeArgs {
    /// The user name.
    pub user: String,
    /// Day of the last password change (YYYY-MM-DD, or days since 1970; 0 makes the user change it at the next login, -1 clears it).
    #[arg(long, short = 'd', value_name = "DATE", allow_hyphen_values = true)]
    pub lastday: Option<String>,
    /// Days before the password may be changed again (-1: none).
    #[arg(long, short = 'm', value_name = "DAYS", allow_hyphen_values = true)]
    pub mindays: Option<i64>,
    /// Days after which the password must be changed (-1: never).
    #[arg(long, short = 'M', value_name = "DAYS", allow_hyphen_values = true)]
    pub maxdays: Option<i64>,
    /// Days of warning before the password must be changed (-1: none).
    #[arg(long, short = 'W', value_name = "DAYS", allow_hyphen_values = true)]
    pub warndays: Option<i64>,
    /// Days after the password expired that it still logs in to be changed (-1: no limit).
    #[arg(long, short = 'I', value_name = "DAYS", allow_hyphen_values = true)]
    pub inactive: Option<i64>,
    /// Day the account expires (YYYY-MM-DD, or days since 1970; -1: never).
    #[arg(long, short = 'E', value_name = "DATE", allow_hyphen_values = true)]
    pub expiredate: Option<String>,
    /// Show the aging (the default when nothing is changed).
    #[arg(long, short = 'l')]
    pub list: bool,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Debug, Args)]
pub(crate) struct FaillockArgs {
    /// The user name.
    pub user: String,
    /// Clear the user's failures (unlocks a user the lockout locked).
    #[arg(long)]
    pub reset: bool,
    /// The module's tally_dir (default /run/keyward/tally).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct DbArg {
    /// Password database (default /etc/keyward/shadow, which only root may write).
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct PasswdArgs {
    /// The user name PAM will pass (as in /etc/passwd).
    pub user: String,
    /// Read the password from this file descriptor (one line) instead of the terminal.
    #[arg(long, value_name = "N")]
    pub password_fd: Option<i32>,
    /// Accept an empty password (pam_keyward.so then needs `nullok` to let it in).
    #[arg(long)]
    pub allow_empty: bool,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Debug, Args)]
pub(crate) struct RmArgs {
    /// The user to remove.
    pub user: String,
    #[command(flatten)]
    pub db: DbArg,
}

fn db_error(e: passdb::Error) -> CliError {
    match e {
        passdb::Error::Fs(e) => CliError::Vault(e.into()),
        e => CliError::PassDb(e),
    }
}

/// The database path, and the owners trusted for it: root, and the caller.
fn target(db: &DbArg, writing: bool) -> Result<(PathBuf, Vec<u32>)> {
    let path = db
        .db
        .clone()
        .unwrap_or_else(|| PathBuf::from(passdb::DEFAULT_PATH));
    let me = nix::unistd::geteuid().as_raw();
    if writing && me != 0 && path == Path::new(passdb::DEFAULT_PATH) {
        return Err(CliError::PamNeedsRoot(PathBuf::from(passdb::DEFAULT_PATH)));
    }
    Ok((path, vec![0, me]))
}

fn read_password(a: &PasswdArgs) -> Result<SecretBytes> {
    let pw = match Source::new(a.password_fd)? {
        Source::Fd(f) => read_secret_from_fd(f.as_fd())?,
        Source::Tty => {
            let pw = prompt_secret(&format!("New PAM password for {}: ", a.user))?;
            let again = prompt_secret("Repeat it: ")?;
            if !pw.ct_eq(&again) {
                return Err(CliError::PasswordsDiffer);
            }
            pw
        }
    };
    if pw.is_empty() && !a.allow_empty {
        return Err(CliError::EmptyPamPassword);
    }
    if pw.len() > MAX_PASSWORD_LEN {
        return Err(CliError::PamPasswordTooLong);
    }
    if pw.expose_secret().contains(&0) {
        return Err(CliError::PamPasswordNul);
    }
    Ok(pw)
}

pub(crate) fn run(ctx: &Ctx, a: PamArgs) -> Result<()> {
    match a.command {
        PamCommand::Passwd(a) => passwd(ctx, a),
        PamCommand::Rm(a) => rm(a),
        PamCommand::List(a) => list(a),
        PamCommand::Lock(a) => set_lock(a, true),
        PamCommand::Unlock(a) => set_lock(a, false),
        PamCommand::Status(a) => status(a),
        PamCommand::Age(a) => age(a),
        PamCommand::Faillock(a) => faillock(a),
        PamCommand::ImportShadow(a) => import_shadow(a),
    }
}

fn passwd(ctx: &Ctx, a: PasswdArgs) -> Result<()> {
    passdb::validate_user(&a.user).map_err(db_error)?;
    let (path, trusted) = target(&a.db, true)?;
    let kdf = crate::ctx::new_password_kdf(ctx)?;
    let pw = read_password(&a)?;
    let hash = Hash::new(pw.expose_secret(), kdf).map_err(db_error)?;
    drop(pw);
    let existed = passdb::update(&path, &trusted, |db| {
        let existed = db.find(&a.user).is_some();
        db.set(&a.user, hash)?;
        Ok(existed)
    })
    .map_err(db_error)?;
    say(&format!(
        "{} the PAM password of {} in {}",
        if existed { "changed" } else { "set" },
        a.user,
        path.display()
    ));
    Ok(())
}

fn rm(a: RmArgs) -> Result<()> {
    let (path, trusted) = target(&a.db, true)?;
    if !path.exists() {
        return Err(CliError::NoPamDbFile(path));
    }
    let removed = passdb::update(&path, &trusted, |db| Ok(db.remove(&a.user))).map_err(db_error)?;
    if !removed {
        return Err(CliError::NoPamUser { user: a.user, path });
    }
    say(&format!("removed {} from {}", a.user, path.display()));
    Ok(())
}

fn warn_skipped(path: &Path, db: &PassDb) {
    for s in db.skipped() {
        eprintln!(
            "keyward: warning: {}:{}: line skipped: {}",
            path.display(),
            s.line,
            s.reason
        );
    }
}

fn list(a: DbArg) -> Result<()> {
    let (path, trusted) = target(&a, false)?;
    if !path.exists() {
        return Err(CliError::NoPamDb(path));
    }
    let db = passdb::load(&path, &trusted).map_err(db_error)?;
    warn_skipped(&path, &db);
    for e in db.entries() {
        say(&e.user);
    }
    Ok(())
}

/// Changes `user`'s entry in the database (which must hold them).
fn change_entry<T>(
    db: &DbArg,
    user: &str,
    change: impl FnOnce(&mut passdb::Entry) -> T,
) -> Result<(T, PathBuf)> {
    let (path, trusted) = target(db, true)?;
    if !path.exists() {
        return Err(CliError::NoPamDbFile(path));
    }
    let out = passdb::update(&path, &trusted, |pdb| Ok(pdb.entry_mut(user).map(change)))
        .map_err(db_error)?;
    match out {
        Some(t) => Ok((t, path)),
        None => Err(CliError::NoPamUser {
            user: user.to_owned(),
            path,
        }),
    }
}

fn set_lock(a: UserArg, lock: bool) -> Result<()> {
    let (was, path) = change_entry(&a.db, &a.user, |e| std::mem::replace(&mut e.locked, lock))?;
    let what = match (was, lock) {
        (true, true) => "was already locked",
        (false, false) => "was not locked",
        (_, true) => "locked",
        (_, false) => "unlocked",
    };
    say(&format!(
        "{}: the PAM password of {} {what}",
        path.display(),
        a.user
    ));
    Ok(())
}

/// Loads the database for reading.
fn load_db(db: &DbArg) -> Result<(PassDb, PathBuf)> {
    let (path, trusted) = target(db, false)?;
    if !path.exists() {
        return Err(CliError::NoPamDb(path));
    }
    let pdb = passdb::load(&path, &trusted).map_err(db_error)?;
    warn_skipped(&path, &pdb);
    Ok((pdb, path))
}

fn days(v: Option<i64>) -> String {
    v.map_or_else(|| "-1".to_owned(), |n| n.to_string())
}

/// `passwd -S`'s line: name, L or P, last change, min, max, warn, inactive.
fn status_line(e: &passdb::Entry) -> String {
    let last = match e.aging.last_change {
        None => "never".to_owned(),
        Some(d) => passdb::format_day(d),
    };
    format!(
        "{} {} {last} {} {} {} {}",
        e.user,
        if e.locked { "L" } else { "P" },
        days(e.aging.min),
        days(e.aging.max),
        days(e.aging.warn),
        days(e.aging.inactive)
    )
}

fn status(a: StatusArgs) -> Result<()> {
    let (pdb, path) = load_db(&a.db)?;
    match a.user {
        Some(user) => {
            let e = pdb.entry(&user).ok_or(CliError::NoPamUser { user, path })?;
            say(&status_line(e));
        }
        None => {
            for e in pdb.entries() {
                say(&status_line(e));
            }
        }
    }
    Ok(())
}

/// A date argument: `YYYY-MM-DD` or a day number; -1 clears it.
fn day_arg(flag: &'static str, v: &str) -> Result<Option<i64>> {
    if let Ok(n) = v.parse::<i64>() {
        return Ok((n >= 0).then_some(n));
    }
    passdb::parse_day(v)
        .map(Some)
        .ok_or_else(|| CliError::PamBadDate {
            flag,
            value: v.to_owned(),
        })
}

fn count_arg(v: i64) -> Option<i64> {
    (v >= 0).then_some(v)
}

/// `chage -l`'s report.
fn aging_report(e: &passdb::Entry) -> String {
    let g = e.aging;
    let day = |d: Option<i64>| d.map_or_else(|| "never".to_owned(), passdb::format_day);
    let must = g.last_change == Some(0);
    let (last, expires, inactive) = if must {
        let m = "password must be changed".to_owned();
        (m.clone(), m.clone(), m)
    } else {
        let exp = match (g.last_change, g.max) {
            (Some(l), Some(m)) => Some(l + m),
            _ => None,
        };
        let ina = match (exp, g.inactive) {
            (Some(x), Some(i)) => Some(x + i),
            _ => None,
        };
        (day(g.last_change), day(exp), day(ina))
    };
    let rows = [
        ("Last password change", last),
        ("Password expires", expires),
        ("Password inactive", inactive),
        ("Account expires", day(g.expire)),
        (
            "Minimum number of days between password change",
            days(g.min),
        ),
        (
            "Maximum number of days between password change",
            days(g.max),
        ),
        (
            "Number of days of warning before password expires",
            days(g.warn),
        ),
        ("Locked", if e.locked { "yes" } else { "no" }.to_owned()),
    ];
    rows.iter()
        .map(|(k, v)| format!("{k:<52}: {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn age(a: AgeArgs) -> Result<()> {
    let changes = a.lastday.is_some()
        || a.mindays.is_some()
        || a.maxdays.is_some()
        || a.warndays.is_some()
        || a.inactive.is_some()
        || a.expiredate.is_some();
    if !changes {
        let (pdb, path) = load_db(&a.db)?;
        let e = pdb.entry(&a.user).ok_or(CliError::NoPamUser {
            user: a.user.clone(),
            path,
        })?;
        say(&aging_report(e));
        return Ok(());
    }
    let last = a
        .lastday
        .as_deref()
        .map(|v| day_arg("--lastday", v))
        .transpose()?;
    let expire = a
        .expiredate
        .as_deref()
        .map(|v| day_arg("--expiredate", v))
        .transpose()?;
    let (report, path) = change_entry(&a.db, &a.user, |e| {
        let g = &mut e.aging;
        if let Some(v) = last {
            g.last_change = v;
        }
        if let Some(v) = a.mindays {
            g.min = count_arg(v);
        }
        if let Some(v) = a.maxdays {
            g.max = count_arg(v);
        }
        if let Some(v) = a.warndays {
            g.warn = count_arg(v);
        }
        if let Some(v) = a.inactive {
            g.inactive = count_arg(v);
        }
        if let Some(v) = expire {
            g.expire = v;
        }
        aging_report(e)
    })?;
    say(&format!(
        "{}: changed the aging of {}",
        path.display(),
        a.user
    ));
    if a.list {
        say(&report);
    }
    Ok(())
}

fn faillock(a: FaillockArgs) -> Result<()> {
    passdb::validate_user(&a.user).map_err(db_error)?;
    let dir = a
        .dir
        .unwrap_or_else(|| PathBuf::from(passdb::DEFAULT_TALLY_DIR));
    let me = nix::unistd::geteuid().as_raw();
    // The policy does not matter for reading or clearing a record.
    let t = passdb::tally::Tally::new(&dir, 0, 0, &[0, me]);
    let fs = |e: keyward_trustfs::Error| db_error(passdb::Error::Fs(e));
    if a.reset {
        t.reset(&a.user).map_err(fs)?;
        say(&format!(
            "cleared the failed logins of {} in {}",
            a.user,
            dir.display()
        ));
        return Ok(());
    }
    let r = t.read(&a.user).map_err(fs)?;
    if r.failures == 0 {
        say(&format!("{}: no failed logins", a.user));
    } else {
        let secs = i64::try_from(r.last).unwrap_or(i64::MAX);
        let (day, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        say(&format!(
            "{}: {} failed login(s) in a row, the last at {} {:02}:{:02}:{:02} UTC",
            a.user,
            r.failures,
            passdb::format_day(day),
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        ));
    }
    Ok(())
}

/// Longest shadow file read.
const MAX_SHADOW_SIZE: u64 = 64 << 20;

/// One /etc/shadow line as an entry, or why it is not imported.
fn shadow_entry(line: &str) -> Option<(String, std::result::Result<passdb::Entry, String>)> {
    let fields: Vec<&str> = line.split(':').collect();
    let (user, stored) = (*fields.first()?, *fields.get(1)?);
    if user.is_empty() || user.starts_with('#') {
        return None;
    }
    let e = (|| {
        passdb::validate_user(user).map_err(|e| e.to_string())?;
        let (locked, hash) = match stored.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, stored),
        };
        if hash.is_empty() || hash.starts_with('*') || hash.starts_with('!') {
            return Err(
                "no password hash (a system account or a locked one without a password)".to_owned(),
            );
        }
        let hash = Hash::parse_crypt(hash).map_err(|e| e.to_owned())?;
        let aging = passdb::Aging::parse(fields.get(2..8).unwrap_or(&fields[2..]))
            .map_err(|e| e.to_owned())?;
        Ok(passdb::Entry {
            user: user.to_owned(),
            hash,
            locked,
            aging,
        })
    })();
    Some((user.to_owned(), e))
}

fn import_shadow(a: ImportShadowArgs) -> Result<()> {
    let (path, trusted) = target(&a.db, true)?;
    // /etc/shadow: root's (or the caller's), readable by group shadow at most.
    let text = keyward_trustfs::Trust::system(&trusted, 0o027)
        .named("shadow file")
        .follow_dir_symlinks()
        .read(&a.shadow, MAX_SHADOW_SIZE)
        .map_err(|e| db_error(passdb::Error::Fs(e)))?;
    let text = String::from_utf8_lossy(&text);
    let mut found: Vec<(String, std::result::Result<passdb::Entry, String>)> =
        text.lines().filter_map(shadow_entry).collect();
    if !a.users.is_empty() {
        for u in &a.users {
            if !found.iter().any(|(n, _)| n == u) {
                found.push((u.clone(), Err(format!("not in {}", a.shadow.display()))));
            }
        }
        found.retain(|(n, _)| a.users.contains(n));
    }
    let named = !a.users.is_empty();
    let replace = a.replace;
    let report = passdb::update(&path, &trusted, |db| {
        let mut report = Vec::new();
        for (user, e) in found {
            let line = match e {
                Ok(_) if db.entry(&user).is_some() && !replace => {
                    Err("already in the database (--replace overwrites it)".to_owned())
                }
                Ok(e) => {
                    let scheme = e.hash.scheme();
                    let locked = if e.locked { ", locked" } else { "" };
                    db.put(e)?;
                    Ok(format!("{scheme}{locked}"))
                }
                Err(why) => Err(why),
            };
            report.push((user, line));
        }
        Ok(report)
    })
    .map_err(db_error)?;
    let mut imported = 0;
    let mut failed = 0;
    for (user, line) in &report {
        match line {
            Ok(what) => {
                imported += 1;
                say(&format!("imported {user} ({what})"));
            }
            // Unnamed users without a usable hash are the usual system accounts.
            Err(why) if named => {
                failed += 1;
                eprintln!("keyward: skipped {user}: {why}");
            }
            Err(_) => {}
        }
    }
    say(&format!(
        "{imported} user(s) imported into {}: they log in with their Unix passwords; the first successful login rehashes each to scrypt",
        path.display()
    ));
    if failed > 0 {
        return Err(CliError::PamImportSkipped(failed));
    }
    Ok(())
}
