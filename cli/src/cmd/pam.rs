//! `keyward pam passwd|rm|list`: the password database pam_keyward.so checks
//! (`/etc/keyward/shadow`, or `--db PATH`).

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
