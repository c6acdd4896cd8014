//! What every subcommand shares: the context (configuration and vault path),
//! opening the vault, and printing a line.

use crate::exit::Result;
use crate::password::Source;
use keyward_unlock::{open_for_helper, HelperOpen};
use keyward_vault::{read_vault_id, Config, Kind, Vault};
use std::io::Write;
use std::path::PathBuf;

/// What every command gets: the configuration and the resolved vault path.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub config: Config,
    pub vault: PathBuf,
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

/// `--kind git|docker|secret` (`list`, `rm`).
pub(crate) fn parse_kind(s: &str) -> std::result::Result<Kind, String> {
    match s {
        "git" => Ok(Kind::Git),
        "docker" => Ok(Kind::Docker),
        "secret" => Ok(Kind::Secret),
        _ => Err("expected `git`, `docker` or `secret`".into()),
    }
}
