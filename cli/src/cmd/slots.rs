//! Key slots: `keyward enroll host|recovery|tpm2`, `keyward slots`,
//! `keyward unenroll SLOT` (FORMAT.md, "Key slots"; docs/slots.md).

use crate::ctx::{say, say_json, Ctx};
use crate::exit::{CliError, Result};
use clap::{Args, ValueEnum};
use keyward_secmem::{ExposeSecret, SecretBytes};
use keyward_unlock::{default_unsealers, HostUnsealer, SealOptions};
use keyward_vault::slot::public_key;
use keyward_vault::{recovery_key, SealedVault, SlotInfo, SlotKind, Vault};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum EnrollKind {
    /// The host key only root can read (/var/lib/keyward/host.key): unlocks
    /// with no typing on this machine, for this user only.
    Host,
    /// A random 256-bit recovery key, shown once: for a forgotten password.
    Recovery,
    /// Sealed by this machine's TPM 2.0 (with keyward-tpm).
    Tpm2,
}

#[derive(Debug, Args)]
pub(crate) struct EnrollArgs {
    /// What the new slot is opened with.
    #[arg(value_enum)]
    pub kind: EnrollKind,
    /// Read the vault password from this file descriptor (when the vault is not unlocked).
    #[arg(long, value_name = "N")]
    pub password_fd: Option<i32>,
    /// tpm2: ask for a PIN the TPM checks on every unseal (wrong PINs count
    /// toward the TPM's dictionary-attack lockout).
    #[arg(long)]
    pub pin: bool,
    /// tpm2: the PIN, read from this file descriptor (one line); implies --pin.
    #[arg(long, value_name = "N")]
    pub pin_fd: Option<i32>,
    /// tpm2: bind to these PCRs of the SHA-256 bank (e.g. 7, 0,7 or 0+2+7):
    /// the slot stops opening when one of them changes (docs/tpm.md).
    #[arg(long, value_name = "LIST", value_parser = check_pcrs)]
    pub pcrs: Option<String>,
}

/// `--pcrs` checked before anything is asked or opened.
fn check_pcrs(s: &str) -> std::result::Result<String, String> {
    s.parse::<keyward_tpm::PcrList>().map(|l| l.to_string())
}

#[derive(Debug, Args)]
pub(crate) struct SlotsArgs {
    /// JSON: an array of {index, kind, detail, needs_typing}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UnenrollArgs {
    /// The slot: its number from `keyward slots`, or its kind when the vault
    /// has one slot of that kind.
    pub slot: String,
    /// Read the vault password from this file descriptor (when the vault is not unlocked).
    #[arg(long, value_name = "N")]
    pub password_fd: Option<i32>,
}

pub(crate) fn enroll(ctx: &Ctx, a: EnrollArgs) -> Result<()> {
    if matches!(a.kind, EnrollKind::Tpm2) {
        return enroll_tpm2(ctx, &a);
    }
    let mut v = crate::ctx::open(ctx, a.password_fd)?;
    match a.kind {
        EnrollKind::Recovery => enroll_recovery(ctx, &mut v),
        _ => enroll_host(ctx, &mut v),
    }
}

fn enroll_recovery(ctx: &Ctx, v: &mut Vault) -> Result<()> {
    let key = recovery_key::generate()?;
    let public = public_key(SlotKind::Recovery, &key)?;
    let index = v.enroll(SlotKind::Recovery, &public, b"")?;
    let text = recovery_key::to_text(&key)?;
    drop(key);
    say(&format!(
        "enrolled a recovery key for {} (slot {index}); it is shown once, here: keep it apart from the password (on paper, in another password manager)",
        ctx.vault.display()
    ));
    show_secret_line(&text)?;
    say("it opens the vault with `keyward unlock --recovery-key` and sets a new password with `keyward passwd --recovery-key-fd N`");
    Ok(())
}

/// Writes a secret and a newline from locked memory straight to standard
/// output (no buffer of std's in between).
fn show_secret_line(text: &SecretBytes) -> Result<()> {
    let mut left = text.expose_secret();
    let out = std::io::stdout();
    while !left.is_empty() {
        match nix::unistd::write(&out, left) {
            Ok(n) => left = &left[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(CliError::Stdout(std::io::Error::from(e))),
        }
    }
    let _ = nix::unistd::write(&out, b"\n");
    Ok(())
}

fn enroll_host(ctx: &Ctx, v: &mut Vault) -> Result<()> {
    let Some(secret) = HostUnsealer::default().secret(&v.id(), true)? else {
        return Err(CliError::Vault(keyward_vault::Error::Invalid(
            "the host key helper made no host key".into(),
        )));
    };
    let public = public_key(SlotKind::Host, &secret)?;
    drop(secret);
    if let Some(s) = v
        .slots()
        .iter()
        .find(|s| s.kind == SlotKind::Host && s.public == Some(public))
    {
        say(&format!(
            "{} already has this machine's host slot (slot {})",
            ctx.vault.display(),
            s.index
        ));
        return Ok(());
    }
    let index = v.enroll(SlotKind::Host, &public, b"")?;
    say(&format!(
        "enrolled this machine's host key for {} (slot {index}): `keyward unlock` and logins without a password unlock it here, as you only",
        ctx.vault.display()
    ));
    Ok(())
}

fn enroll_tpm2(ctx: &Ctx, a: &EnrollArgs) -> Result<()> {
    let unsealers = default_unsealers();
    let Some(tpm) = unsealers.iter().find(|u| u.kind() == SlotKind::Tpm2) else {
        return Err(CliError::NoTpm);
    };
    let mut v = crate::ctx::open(ctx, a.password_fd)?;
    let pin = if a.pin || a.pin_fd.is_some() {
        Some(crate::password::Source::new(a.pin_fd)?.read_new("TPM PIN: ")?)
    } else {
        None
    };
    let opts = SealOptions {
        pin,
        pcrs: a.pcrs.clone(),
    };
    let Some((secret, data)) = tpm.seal(&v.id(), &opts)? else {
        return Err(CliError::NoTpm);
    };
    let public = public_key(SlotKind::Tpm2, &secret)?;
    drop(secret);
    let index = v.enroll(SlotKind::Tpm2, &public, &data)?;
    let how = match (opts.pin.is_some(), &opts.pcrs) {
        (false, None) => "unlocks with no typing on this machine".to_string(),
        (true, None) => "asks for its PIN".to_string(),
        (false, Some(p)) => format!("unlocks with no typing while PCRs {p} are unchanged"),
        (true, Some(p)) => format!("asks for its PIN, while PCRs {p} are unchanged"),
    };
    say(&format!(
        "enrolled this machine's TPM for {} (slot {index}): it {how}",
        ctx.vault.display()
    ));
    Ok(())
}

fn describe(s: &SlotInfo) -> String {
    match s.kind {
        SlotKind::Password => format!("{} (typed)", s.detail()),
        SlotKind::Recovery => format!("key {} (typed)", s.detail()),
        SlotKind::Host => format!("key {} (this machine's host key, no typing)", s.detail()),
        SlotKind::Tpm2 => match keyward_tpm::slot::Tpm2Unsealer::sealed(s) {
            Ok(k) => format!(
                "key {} (sealed by a TPM; {}; PCRs {})",
                s.detail(),
                if k.needs_pin() { "PIN" } else { "no typing" },
                k.pcrs()
            ),
            Err(e) => format!("key {} (sealed by a TPM; {e})", s.detail()),
        },
        SlotKind::Other(_) => format!(
            "key {} (a kind this keyward does not know; kept)",
            s.detail()
        ),
    }
}

pub(crate) fn list(ctx: &Ctx, a: SlotsArgs) -> Result<()> {
    let sealed = SealedVault::read(&ctx.vault)?;
    let slots = sealed.slots();
    if a.json {
        let v: Vec<_> = slots
            .iter()
            .map(|s| {
                serde_json::json!({
                    "index": s.index,
                    "kind": s.kind.name(),
                    "detail": s.detail(),
                    "needs_typing": s.kind.needs_typing(),
                })
            })
            .collect();
        say_json(&serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(());
    }
    for s in &slots {
        say(&format!(
            "{:>2}  {:<9} {}",
            s.index,
            s.kind.name(),
            describe(s)
        ));
    }
    if sealed.format_version() < keyward_vault::FORMAT_VERSION {
        say(&format!(
            "(vault format {}: written as format {} by its next change)",
            sealed.format_version(),
            keyward_vault::FORMAT_VERSION
        ));
    }
    Ok(())
}

pub(crate) fn unenroll(ctx: &Ctx, a: UnenrollArgs) -> Result<()> {
    let slots = SealedVault::read(&ctx.vault)?.slots();
    let index = match a.slot.parse::<usize>() {
        Ok(i) => i,
        Err(_) => {
            let of: Vec<_> = slots.iter().filter(|s| s.kind.name() == a.slot).collect();
            match of.as_slice() {
                [one] => one.index,
                [] => {
                    return Err(CliError::Usage(format!(
                        "the vault has no {} slot (`keyward slots` lists them)",
                        a.slot
                    )))
                }
                _ => {
                    return Err(CliError::Usage(format!(
                        "the vault has {} {} slots: name one by its number (`keyward slots`)",
                        of.len(),
                        a.slot
                    )))
                }
            }
        }
    };
    let mut v = crate::ctx::open(ctx, a.password_fd)?;
    let gone = v.unenroll(index)?;
    say(&format!(
        "removed slot {index} ({}) from {}; {} slot(s) left",
        gone.kind.name(),
        ctx.vault.display(),
        v.slots().len()
    ));
    Ok(())
}

/// `keyward unseal-tpm2` (hidden; run by the credential helpers,
/// `keyward_unlock::ChildTpm2Unsealer`): unseals the tpm2 slot data on stdin
/// with the TPM of `keyward unlock` (KEYWARD_TPM2_TCTI, else tpm2_tcti) and
/// writes the 32-byte slot secret to stdout, a pipe: never to a terminal,
/// and never for a slot sealed with a PIN (nobody could type it here).
pub(crate) fn unseal_for_helper() -> Result<()> {
    use std::io::{IsTerminal, Read, Write};
    use std::os::fd::AsFd;
    if std::io::stdout().is_terminal() {
        return Err(CliError::Usage(format!(
            "`keyward {}` is run by the credential helpers, with its output on a pipe",
            keyward_unlock::tpm2_child::UNSEAL_VERB
        )));
    }
    // The sealed data holds no secret; a few hundred bytes.
    let mut data = Vec::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_end(&mut data)
        .map_err(|e| CliError::Usage(format!("cannot read the slot data: {e}")))?;
    if keyward_tpm::SealedKey::from_bytes(&data)?.needs_pin() {
        return Err(keyward_tpm::Error::PinRequired.into());
    }
    let secret = keyward_tpm::slot::Tpm2Unsealer::for_user().unseal_data(&data, None)?;
    let out = std::io::stdout().as_fd().try_clone_to_owned();
    out.map(std::fs::File::from)
        .and_then(|mut f| f.write_all(secret.expose_secret()))
        .map_err(CliError::Stdout)
}
