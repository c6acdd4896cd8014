//! `keyward unlock`: open the vault once and cache its key in the kernel
//! keyring. Slots that need no typing (host, tpm2 without a PIN) are tried
//! first (the policy of `keyward-unlock`), then the password is asked; or a
//! recovery key opens it.

use crate::ctx::{say, Ctx};
use crate::exit::{CliError, Result};
use crate::password::{read_recovery_key, Source};
use clap::Args;
use keyward_secmem::SecretBytes;
use keyward_tpm::slot::Tpm2Unsealer;
use keyward_unlock::{open_with_default_unsealers, NoTyping};
use keyward_vault::{format_duration, keyring, read_vault_id, SealedVault, SlotKind, Vault};
use std::time::Duration;

#[derive(Debug, Args)]
pub(crate) struct UnlockArgs {
    /// Read the vault password from this file descriptor (one line) instead of the terminal.
    #[arg(long, value_name = "N", conflicts_with_all = ["non_interactive", "recovery_key", "recovery_key_fd"])]
    pub password_fd: Option<i32>,
    /// How long the key stays cached, e.g. 90s, 15m, 2h (default: `unlock_timeout` from the config, 15m).
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
    /// Never prompt: only slots that need no typing (host, tpm2 without a
    /// PIN); exit 10 when none opens the vault. For cron jobs, systemd units, CI.
    #[arg(long)]
    pub non_interactive: bool,
    /// Open with the recovery key, asked on the terminal.
    #[arg(long, conflicts_with_all = ["non_interactive", "recovery_key_fd"])]
    pub recovery_key: bool,
    /// Open with the recovery key read from this file descriptor (one line).
    #[arg(long, value_name = "N", conflicts_with = "non_interactive")]
    pub recovery_key_fd: Option<i32>,
    /// Open through the tpm2 slot sealed with a PIN, the PIN read from this
    /// file descriptor (one line). Wrong PINs count toward the TPM's lockout.
    #[arg(long, value_name = "N", conflicts_with_all = ["password_fd", "non_interactive", "recovery_key", "recovery_key_fd"])]
    pub pin_fd: Option<i32>,
}

/// Opens `sealed` through its tpm2 slot sealed with a PIN.
fn open_with_pin(sealed: SealedVault, pin: &SecretBytes) -> Result<Vault> {
    let slots = sealed.slots();
    let Some(slot) = slots.iter().find(|s| Tpm2Unsealer::needs_pin(s)) else {
        return Err(CliError::Usage(
            "the vault has no tpm2 slot with a PIN (`keyward slots` lists them)".into(),
        ));
    };
    let secret = Tpm2Unsealer::for_user().unseal_slot(slot, Some(pin))?;
    Ok(sealed.open_with_slot(SlotKind::Tpm2, &secret)?)
}

/// On a terminal, when the vault has a tpm2 slot with a PIN: asks for the
/// PIN first (an empty answer goes on to the password). A refused PIN is
/// said in one line and the password asked after it.
fn try_pin_on_terminal(sealed: SealedVault) -> Result<std::result::Result<Vault, SealedVault>> {
    if !sealed.slots().iter().any(Tpm2Unsealer::needs_pin) {
        return Ok(Err(sealed));
    }
    let pin = keyward_secmem::prompt_secret("TPM PIN (empty: use the password): ")?;
    if pin.is_empty() {
        return Ok(Err(sealed));
    }
    let slots = sealed.slots();
    let Some(slot) = slots.iter().find(|s| Tpm2Unsealer::needs_pin(s)) else {
        return Ok(Err(sealed));
    };
    match Tpm2Unsealer::for_user().unseal_slot(slot, Some(&pin)) {
        Ok(secret) => Ok(Ok(sealed.open_with_slot(SlotKind::Tpm2, &secret)?)),
        Err(e) => {
            eprintln!("keyward: {e}");
            Ok(Err(sealed))
        }
    }
}

fn parse_timeout(s: &str) -> std::result::Result<Duration, String> {
    let d = keyward_vault::parse_duration(s)?;
    if d.is_zero() {
        return Err("the timeout must be at least 1s".into());
    }
    Ok(d)
}

pub(crate) fn run(ctx: &Ctx, a: UnlockArgs) -> Result<()> {
    // Check the file (exists, permissions, header) before asking for anything.
    let id = read_vault_id(&ctx.vault)?;
    let timeout = a.timeout.unwrap_or(ctx.config.unlock_timeout);
    let (mut v, how) = if a.recovery_key || a.recovery_key_fd.is_some() {
        let key = read_recovery_key(a.recovery_key_fd)?;
        let v = SealedVault::read(&ctx.vault)?.open_with_slot(SlotKind::Recovery, &key)?;
        (v, " with the recovery key")
    } else if let Some(fd) = a.pin_fd {
        let pin = Source::new(Some(fd))?.read("TPM PIN: ")?;
        let v = open_with_pin(SealedVault::read(&ctx.vault)?, &pin)?;
        (v, " with the TPM and its PIN")
    } else if a.password_fd.is_some() {
        let pw = Source::new(a.password_fd)?.read("Vault password: ")?;
        (Vault::open_with_password(&ctx.vault, &pw)?, "")
    } else {
        if a.non_interactive {
            if let Ok(Some(_)) = keyring::load(&id) {
                say(&format!("{} is already unlocked", ctx.vault.display()));
                return Ok(());
            }
        }
        match open_with_default_unsealers(SealedVault::read(&ctx.vault)?)? {
            NoTyping::Opened(v) => (v, " without typing (a host or tpm2 slot)"),
            NoTyping::Still(_, tried) if a.non_interactive => {
                let why = if tried.failures.is_empty() {
                    "it has no slot that opens without typing: enroll one with `keyward enroll host` (or tpm2), then retry".to_string()
                } else {
                    format!(
                        "{}; `keyward doctor` checks the slots",
                        tried.failures.join("; ")
                    )
                };
                return Err(CliError::NothingUnlocks {
                    path: ctx.vault.clone(),
                    why,
                });
            }
            NoTyping::Still(sealed, _) => match try_pin_on_terminal(sealed)? {
                Ok(v) => (v, " with the TPM and its PIN"),
                Err(sealed) => {
                    let pw = Source::new(None)?.read("Vault password: ")?;
                    (sealed.open_with_password(&pw)?, "")
                }
            },
        }
    };
    v.check_rollback()?;
    keyward_audit::record(&v, keyward_audit::Action::Unlock, None);
    keyring::store(&v.id(), v.key(), timeout)
        .map_err(|source| CliError::KeyringStore { source })?;
    say(&format!(
        "unlocked {}{how} for {}",
        ctx.vault.display(),
        format_duration(timeout)
    ));
    Ok(())
}
