//! The subcommands.

use crate::exit::{CliError, Result};
use crate::password::Source;
use crate::{Cli, Command};
use clap::Args;
use keyward_vault::{format_duration, keyring, read_vault_id, Config, Vault};
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

/// Prints one line to stdout.
pub(crate) fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

pub(crate) fn run(cli: Cli) -> Result<()> {
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
    match cli.command {
        Command::Init(a) => init(&ctx, a),
        Command::Unlock(a) => unlock(&ctx, a),
        Command::Lock => lock(&ctx),
        Command::Status => status(&ctx),
    }
}

fn init(ctx: &Ctx, a: InitArgs) -> Result<()> {
    let mut src = Source::new(a.password_fd)?;
    let pw = src.read_new("New vault password: ")?;
    let v = Vault::create(&ctx.vault, &pw, ctx.config.kdf)?;
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
