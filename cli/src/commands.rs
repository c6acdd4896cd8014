//! The subcommands.

use crate::exit::{CliError, Result};
use crate::password::Source;
use crate::{Cli, Command};
use clap::Args;
use keyward_vault::{
    format_duration, keyring, open_for_helper, read_vault_id, Config, HelperOpen, Kind, Vault,
};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// What every command gets: the configuration and the resolved vault path.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub config: Config,
    pub vault: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Read the new vault password from this file descriptor (one line) instead of the terminal.
    #[arg(long, value_name = "N")]
    pub password_fd: Option<i32>,
    /// Make a vault that follows the login password: asks for your current
    /// login password (not checked against the system) and creates the vault
    /// where pam_keyward's `unlock` looks for it, so logging in unlocks it and
    /// changing the login password rewraps it.
    #[arg(long)]
    pub login: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UnlockArgs {
    /// Read the vault password from this file descriptor (one line) instead of the terminal.
    #[arg(long, value_name = "N")]
    pub password_fd: Option<i32>,
    /// How long the key stays cached, e.g. 90s, 15m, 2h (default: `unlock_timeout` from the config, 15m).
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
}

fn parse_timeout(s: &str) -> std::result::Result<Duration, String> {
    let d = keyward_vault::parse_duration(s)?;
    if d.is_zero() {
        return Err("the timeout must be at least 1s".into());
    }
    Ok(d)
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Print a JSON array of objects instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Only records of this kind.
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<Kind>,
    /// Read the vault password from this file descriptor when the vault is locked.
    #[arg(long, value_name = "N")]
    pub password_fd: Option<i32>,
}

#[derive(Debug, Args)]
pub(crate) struct RmArgs {
    /// Host (with :port) for git, registry server for docker, exactly as `keyward list` shows it.
    pub host: String,
    /// Only records with this user name.
    #[arg(long, short)]
    pub username: Option<String>,
    /// Only records of this kind.
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<Kind>,
    /// Only records with this protocol.
    #[arg(long)]
    pub protocol: Option<String>,
    /// Only records with this path.
    #[arg(long)]
    pub path: Option<String>,
    /// Remove every matching record (otherwise more than one match is an error).
    #[arg(long)]
    pub all: bool,
    /// Remove only a named secret's previous value (kept by `keyward generate`'s rotation).
    #[arg(long)]
    pub previous: bool,
    /// Read the vault password from this file descriptor when the vault is locked.
    #[arg(long, value_name = "N")]
    pub password_fd: Option<i32>,
}

#[derive(Debug, Args)]
pub(crate) struct PasswdArgs {
    /// Read the current password, then the new one, as two lines from this file descriptor.
    #[arg(long, value_name = "N")]
    pub password_fd: Option<i32>,
}

fn parse_kind(s: &str) -> std::result::Result<Kind, String> {
    match s {
        "git" => Ok(Kind::Git),
        "docker" => Ok(Kind::Docker),
        "secret" => Ok(Kind::Secret),
        _ => Err("expected `git`, `docker` or `secret`".into()),
    }
}

/// Opens the vault: with a password from `--password-fd`, else the cached key,
/// else a terminal prompt, else "vault is locked: run `keyward unlock`".
pub(crate) fn open(ctx: &Ctx, password_fd: Option<i32>) -> Result<Vault> {
    if password_fd.is_some() {
        read_vault_id(&ctx.vault)?;
        let pw = Source::new(password_fd)?.read("")?;
        return Ok(Vault::open_with_password(&ctx.vault, &pw)?);
    }
    Ok(open_for_helper(HelperOpen {
        vault: Some(ctx.vault.clone()),
        config: Some(ctx.config.clone()),
        ..HelperOpen::default()
    })?)
}

/// Prints one line to stdout.
pub(crate) fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

pub(crate) fn run(cli: Cli) -> Result<()> {
    let before = crate::doctor::before();
    if let Err(e) = keyward_secmem::harden_process() {
        eprintln!("keyward: warning: {e}; run `keyward doctor`");
    }
    let config = Config::load()?;
    keyward_secmem::set_policy(config.memory_lock);
    let vault = match cli.vault {
        Some(p) => p,
        None => config.vault_path()?,
    };
    let ctx = Ctx { config, vault };
    let result = match cli.command {
        Command::Init(a) => init(&ctx, a),
        Command::Unlock(a) => unlock(&ctx, a),
        Command::Lock => lock(&ctx),
        Command::Status => status(&ctx),
        Command::List(a) => list(&ctx, a),
        Command::Rm(a) => rm(&ctx, a),
        Command::Passwd(a) => passwd(&ctx, a),
        Command::Import(a) => crate::import::run(&ctx, a),
        Command::Doctor => crate::doctor::run(&ctx, before),
        Command::Pam(a) => crate::pam::run(&ctx, a),
        Command::Set(a) => crate::secrets::set(&ctx, a),
        Command::Get(a) => crate::secrets::get(&ctx, a),
        Command::Generate(a) => crate::generate::run(&ctx, a),
        Command::Log(a) => crate::log::run(&ctx, a),
    };
    if let Err(CliError::Vault(e)) = &result {
        keyward_audit::note_failure(e);
    }
    result
}

/// Refuses `init --login` where pam_keyward would not find or not use the vault.
fn check_login_vault(ctx: &Ctx) -> Result<()> {
    if !ctx.config.login_unlock {
        return Err(CliError::Other(
            "login_unlock = false in your configuration: pam_keyward would skip this vault; \
             remove that line first"
                .into(),
        ));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| CliError::Other("HOME is not set".into()))?;
    let at_login = ctx.config.vault_path_in(&home);
    if at_login != ctx.vault {
        return Err(CliError::Other(format!(
            "pam_keyward unlocks {} at login, not {} (it reads vault_path from the configuration \
             and ignores --vault, KEYWARD_VAULT and XDG_DATA_HOME): drop those, or set vault_path",
            at_login.display(),
            ctx.vault.display()
        )));
    }
    Ok(())
}

fn init(ctx: &Ctx, a: InitArgs) -> Result<()> {
    if a.login {
        check_login_vault(ctx)?;
    }
    let mut src = Source::new(a.password_fd)?;
    let prompt = if a.login {
        "Current login password: "
    } else {
        "New vault password: "
    };
    let pw = src.read_new(prompt)?;
    let v = Vault::create(&ctx.vault, &pw, ctx.config.kdf)?;
    if a.login {
        say(&format!(
            "created vault {} (id {}) with your login password: logging in unlocks it and \
             changing the login password rewraps it where PAM runs pam_keyward.so `unlock` \
             (see pam_keyward(8)); until then, `keyward unlock`",
            v.path().display(),
            v.id()
        ));
        return Ok(());
    }
    say(&format!(
        "created vault {} (id {}); unlock it with `keyward unlock`",
        v.path().display(),
        v.id()
    ));
    Ok(())
}

fn unlock(ctx: &Ctx, a: UnlockArgs) -> Result<()> {
    // Check the file (exists, permissions, header) before asking for a password.
    read_vault_id(&ctx.vault)?;
    let mut src = Source::new(a.password_fd)?;
    let pw = src.read("Vault password: ")?;
    let v = Vault::open_with_password(&ctx.vault, &pw)?;
    drop(pw);
    keyward_audit::record(&v, keyward_audit::Action::Unlock, None);
    let timeout = a.timeout.unwrap_or(ctx.config.unlock_timeout);
    keyring::store(&v.id(), v.key(), timeout).map_err(|e| {
        CliError::Other(format!(
            "{e}; the helpers will ask for the password on the terminal instead"
        ))
    })?;
    say(&format!(
        "unlocked {} for {}",
        ctx.vault.display(),
        format_duration(timeout)
    ));
    Ok(())
}

fn lock(ctx: &Ctx) -> Result<()> {
    let id = read_vault_id(&ctx.vault)?;
    keyward_audit::record_at(&ctx.vault, keyward_audit::Action::Lock);
    if keyring::revoke(&id)? {
        say(&format!("locked {}", ctx.vault.display()));
    } else {
        say(&format!("{} was not unlocked", ctx.vault.display()));
    }
    Ok(())
}

fn status(ctx: &Ctx) -> Result<()> {
    let id = read_vault_id(&ctx.vault)?;
    say(&format!("vault: {}", ctx.vault.display()));
    say(&format!("id: {id}"));
    match keyring::time_left(&id) {
        Ok(Some(left)) => {
            let key = keyring::load(&id)?;
            let records = match key {
                Some(k) => Vault::open_with_key(&ctx.vault, k)?
                    .entries()
                    .len()
                    .to_string(),
                None => "?".into(),
            };
            say(&format!("state: unlocked ({} left)", format_duration(left)));
            say(&format!("records: {records}"));
        }
        Ok(None) => say("state: locked (run `keyward unlock`)"),
        Err(e) => say(&format!("state: locked (keyring unavailable: {e})")),
    }
    Ok(())
}

/// `2026-11-22 06:44` (UTC) from Unix seconds.
pub(crate) fn utc(t: u64) -> String {
    let days = (t / 86400) as i64;
    let secs = t % 86400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        (secs % 3600) / 60
    )
}

fn list(ctx: &Ctx, a: ListArgs) -> Result<()> {
    let v = open(ctx, a.password_fd)?;
    let rows: Vec<&keyward_vault::Entry> = v
        .entries()
        .iter()
        .filter(|e| a.kind.is_none_or(|k| e.kind == k))
        .collect();
    if a.json {
        let arr: Vec<serde_json::Value> = rows
            .iter()
            .map(|e| {
                if e.kind == Kind::Secret {
                    return crate::secrets::list_json(e);
                }
                serde_json::json!({
                    "kind": e.kind.as_str(),
                    "protocol": e.protocol,
                    "host": e.host,
                    "path": e.path,
                    "username": e.username,
                    "password_expiry_utc": e.password_expiry_utc,
                    "authtype": e.authtype,
                    "created": e.created,
                    "updated": e.updated,
                })
            })
            .collect();
        say(&serde_json::to_string_pretty(&arr).unwrap_or_default());
        return Ok(());
    }
    let table: Vec<[String; 6]> = rows
        .iter()
        .map(|e| {
            [
                e.kind.to_string(),
                e.protocol.clone(),
                e.host.clone(),
                e.path.clone(),
                e.username.clone(),
                utc(e.updated),
            ]
        })
        .collect();
    let head = [
        "KIND",
        "PROTOCOL",
        "HOST",
        "PATH",
        "USERNAME",
        "UPDATED (UTC)",
    ];
    let mut w = head.map(str::len);
    for r in &table {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 5 {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<width$}  ", width = w[i]));
            }
        }
        s
    };
    if table.is_empty() {
        say("(no records)");
        return Ok(());
    }
    say(&line(head));
    for r in &table {
        say(&line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]));
    }
    Ok(())
}

fn rm(ctx: &Ctx, a: RmArgs) -> Result<()> {
    if a.previous {
        return crate::secrets::rm_previous(ctx, &a.host);
    }
    let mut v = open(ctx, a.password_fd)?;
    let matches = |e: &keyward_vault::Entry| {
        e.host == a.host
            && a.username.as_ref().is_none_or(|u| &e.username == u)
            && a.kind.is_none_or(|k| e.kind == k)
            && a.protocol.as_ref().is_none_or(|p| &e.protocol == p)
            && a.path.as_ref().is_none_or(|p| &e.path == p)
    };
    let removed = v.update(|t| {
        let n = t.entries().iter().filter(|e| matches(e)).count();
        if n > 1 && !a.all {
            return Err(keyward_vault::Error::Invalid(format!(
                "{n} records match {}: narrow with --username/--kind/--protocol/--path, or pass --all",
                a.host
            )));
        }
        Ok(t.retain(|e| !matches(e)))
    })?;
    if removed == 0 {
        return Err(CliError::NotFound(format!(
            "no record matches {} (see `keyward list`)",
            a.host
        )));
    }
    let target = a.kind.map_or(keyward_audit::Target::any(&a.host), |k| {
        keyward_audit::Target::new(k, &a.host)
    });
    keyward_audit::record(&v, keyward_audit::Action::Erase, Some(target));
    say(&format!("removed {removed} record(s)"));
    Ok(())
}

fn passwd(ctx: &Ctx, a: PasswdArgs) -> Result<()> {
    read_vault_id(&ctx.vault)?;
    let mut src = Source::new(a.password_fd)?;
    let old = src.read("Current vault password: ")?;
    let mut v = Vault::open_with_password(&ctx.vault, &old)?;
    drop(old);
    let new = src.read_new("New vault password: ")?;
    v.change_password(&new, ctx.config.kdf)?;
    say(&format!(
        "changed the password of {} (records were not re-encrypted; a cached unlock stays valid)",
        ctx.vault.display()
    ));
    Ok(())
}
