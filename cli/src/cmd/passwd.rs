//! `keyward passwd` (change the vault password) and `keyward rekey` (keep
//! it): both give the vault a new key and re-encrypt every record under it in
//! one atomic write, so an old copy of the vault opened with an old password
//! reveals nothing stored afterwards; a cached unlock gets the new key.

use crate::ctx::{say, Ctx};
use crate::exit::Result;
use crate::password::Source;
use clap::Args;
use keyward_vault::{keyring, read_vault_id, KdfParams, Vault};

#[derive(Debug, Args)]
pub(crate) struct PasswdArgs {
    /// Read the current password, then the new one, as two lines from this
    /// file descriptor (with --recovery-key-fd: the new one only).
    #[arg(long, value_name = "N")]
    pub password_fd: Option<i32>,
    /// Forgotten password: open with the recovery key read from this file
    /// descriptor (one line) instead of the current password.
    #[arg(long, value_name = "N")]
    pub recovery_key_fd: Option<i32>,
    /// Forgotten password: open with the recovery key, asked on the terminal.
    #[arg(long, conflicts_with = "recovery_key_fd")]
    pub recovery_key: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RekeyArgs {
    /// Read the vault password as one line from this file descriptor.
    #[arg(long, value_name = "N")]
    pub password_fd: Option<i32>,
}

pub(crate) fn run(ctx: &Ctx, a: PasswdArgs) -> Result<()> {
    read_vault_id(&ctx.vault)?;
    let kdf = crate::ctx::new_password_kdf(ctx)?;
    let mut src = Source::new(a.password_fd)?;
    let mut v = if a.recovery_key || a.recovery_key_fd.is_some() {
        let key = crate::password::read_recovery_key(a.recovery_key_fd)?;
        keyward_vault::SealedVault::read(&ctx.vault)?
            .open_with_slot(keyward_vault::SlotKind::Recovery, &key)?
    } else {
        let old = src.read("Current vault password: ")?;
        Vault::open_with_password(&ctx.vault, &old)?
    };
    v.check_rollback()?;
    let new = src.read_new("New vault password: ")?;
    v.change_password(&new, kdf)?;
    keyward_audit::record(&v, keyward_audit::Action::Rekey, None);
    say(&format!(
        "changed the password of {}: a new vault key, every record re-encrypted{}",
        ctx.vault.display(),
        cached(&v)
    ));
    Ok(())
}

pub(crate) fn rekey(ctx: &Ctx, a: RekeyArgs) -> Result<()> {
    read_vault_id(&ctx.vault)?;
    let kdf = crate::ctx::new_password_kdf(ctx)?;
    let pw = Source::new(a.password_fd)?.read("Vault password: ")?;
    let mut v = Vault::open_with_password(&ctx.vault, &pw)?;
    v.check_rollback()?;
    let before = v.kdf();
    v.change_password(&pw, kdf)?;
    keyward_audit::record(&v, keyward_audit::Action::Rekey, None);
    drop(pw);
    say(&format!(
        "rekeyed {}: a new vault key, every record re-encrypted, password unchanged, scrypt {} (was {}){}",
        ctx.vault.display(),
        cost(kdf),
        before.map_or_else(|| "no password slot".into(), cost),
        cached(&v)
    ));
    Ok(())
}

fn cost(k: KdfParams) -> String {
    format!("log_n={} r={} p={}", k.log_n, k.r, k.p)
}

/// Puts the new key in place of a cached one; says what happened.
fn cached(v: &Vault) -> &'static str {
    match keyring::replace(&v.id(), v.key()) {
        Ok(true) => "; the cached unlock now holds the new key",
        Ok(false) => "",
        Err(_) => {
            "; the cached unlock could not be updated: run `keyward lock` and `keyward unlock`"
        }
    }
}
