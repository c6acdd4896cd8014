//! `keyward unlock`: derive the vault key once and cache it in the kernel keyring.

use crate::ctx::{say, Ctx};
use crate::exit::{CliError, Result};
use crate::password::Source;
use clap::Args;
use keyward_vault::{format_duration, keyring, read_vault_id, Vault};
use std::time::Duration;

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

pub(crate) fn run(ctx: &Ctx, a: UnlockArgs) -> Result<()> {
    // Check the file (exists, permissions, header) before asking for a password.
    read_vault_id(&ctx.vault)?;
    let mut src = Source::new(a.password_fd)?;
    let pw = src.read("Vault password: ")?;
    let mut v = Vault::open_with_password(&ctx.vault, &pw)?;
    drop(pw);
    v.check_rollback()?;
    keyward_audit::record(&v, keyward_audit::Action::Unlock, None);
    let timeout = a.timeout.unwrap_or(ctx.config.unlock_timeout);
    keyring::store(&v.id(), v.key(), timeout)
        .map_err(|source| CliError::KeyringStore { source })?;
    say(&format!(
        "unlocked {} for {}",
        ctx.vault.display(),
        format_duration(timeout)
    ));
    Ok(())
}
