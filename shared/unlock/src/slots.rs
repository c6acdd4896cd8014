//! Unlocking through key slots: the policy every binary shares. Slots that
//! need no typing (a host slot, a tpm2 slot without a PIN) are tried first,
//! in header order, each through the [`Unsealer`] of its kind; only then
//! does the caller ask a person (password, recovery key, PIN).

use keyward_secmem::SecretBytes;
use keyward_vault::{Result, SealedVault, SlotInfo, SlotKind, Vault, VaultId};

/// Produces the secret of a slot of one kind without asking anyone: the
/// host helper's per-user key, what a TPM unseals. `keyward-tpm` implements
/// it for [`SlotKind::Tpm2`]; the CLI and the PAM login helper pass the
/// unsealers they have to [`open_without_typing`].
pub trait Unsealer {
    /// The kind of slot it serves.
    fn kind(&self) -> SlotKind;

    /// Whether this slot needs a person all the same (a tpm2 slot sealed
    /// with a PIN says so in its data): such a slot is skipped here.
    fn needs_typing(&self, slot: &SlotInfo) -> bool {
        let _ = slot;
        false
    }

    /// The slot's secret, in locked memory; `Ok(None)` when this machine
    /// cannot produce it (no TPM, no host key, another machine's slot).
    fn unseal(&self, vault: &VaultId, slot: &SlotInfo) -> Result<Option<SecretBytes>>;

    /// Makes a new slot secret for vault `vault` and seals it (a TPM
    /// seals it to itself, with the PIN and PCRs of `opts`): the secret
    /// (its public key goes in the slot) and the slot's data. `Ok(None)`
    /// when this unsealer cannot enroll.
    fn seal(&self, vault: &VaultId, opts: &SealOptions) -> Result<Option<(SecretBytes, Vec<u8>)>> {
        let _ = (vault, opts);
        Ok(None)
    }
}

/// What `keyward enroll tpm2` asks of the seal.
#[derive(Debug, Default)]
pub struct SealOptions {
    /// A PIN the TPM asks for on every unseal (counts toward its
    /// dictionary-attack lockout).
    pub pin: Option<SecretBytes>,
    /// PCRs to bind to (`--pcrs 0,7`).
    pub pcrs: Option<String>,
}

/// What [`open_without_typing`] tried.
#[derive(Debug, Default)]
pub struct Tried {
    /// One line per slot tried that did not open (kind and why).
    pub failures: Vec<String>,
    /// Slots that need no typing but for which no unsealer was given.
    pub unserved: Vec<SlotKind>,
}

impl Tried {
    /// Whether the vault has any slot that could open it without typing.
    pub fn any(&self) -> bool {
        !self.failures.is_empty() || !self.unserved.is_empty()
    }
}

/// What [`open_without_typing`] ends with.
#[derive(Debug)]
pub enum NoTyping {
    /// A slot opened the vault.
    Opened(Vault),
    /// None did: the sealed vault back (for a prompt) and what was tried.
    Still(SealedVault, Tried),
}

/// Tries every slot that needs no typing, in header order, with the
/// unsealer of its kind, until one opens. An error only when a slot's key
/// unwrapped but the file then failed authentication (corrupt: no other
/// slot would do better).
pub fn open_without_typing(sealed: SealedVault, unsealers: &[&dyn Unsealer]) -> Result<NoTyping> {
    let mut tried = Tried::default();
    for slot in sealed.slots() {
        if slot.kind.needs_typing() {
            continue;
        }
        let Some(u) = unsealers.iter().find(|u| u.kind() == slot.kind) else {
            tried.unserved.push(slot.kind);
            continue;
        };
        if u.needs_typing(&slot) {
            continue;
        }
        let what = format!("{} slot {}", slot.kind.name(), slot.index);
        let key = match u.unseal(&sealed.id(), &slot) {
            Ok(Some(secret)) => sealed.try_slot_at(slot.index, &secret),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        };
        match key {
            Ok(Some(key)) => return Ok(NoTyping::Opened(sealed.open_with_key(key)?)),
            Ok(None) => tried
                .failures
                .push(format!("{what}: not this machine's or not this user's")),
            Err(e) => tried.failures.push(format!("{what}: {e}")),
        }
    }
    Ok(NoTyping::Still(sealed, tried))
}
