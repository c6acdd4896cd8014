//! The `tpm2` key slot in keyward-unlock's slot policy: [`Tpm2Unsealer`]
//! seals a new slot secret to the TPM (`keyward enroll tpm2`) and unseals it
//! (`keyward unlock`, the helpers); [`wire`] plugs it into a binary, with
//! the TCTI the user may choose ([`Tcti::for_user`]); [`wire_system`] with
//! the system configuration's only ([`Tcti::for_system`]), for the login
//! helper.

use crate::{PcrList, SealedKey, Tcti};
use keyward_secmem::{ExposeSecret, SecretBytes};
use keyward_unlock::{SealOptions, Unsealer};
use keyward_vault::{Config, Error, Result, SlotInfo, SlotKind, VaultId};
use std::path::PathBuf;

/// Length of a slot secret (an X25519 private key: keyward-vault's key-pair slots).
const SECRET_LEN: usize = 32;

/// Seals and unseals tpm2 slot secrets with the TPM at one TCTI.
#[derive(Debug, Clone)]
pub struct Tpm2Unsealer {
    /// The TCTI, or why the configured one cannot be used (said when a
    /// tpm2 slot is tried, not before).
    tcti: std::result::Result<Tcti, String>,
}

fn invalid(e: crate::Error) -> Error {
    Error::Invalid(e.to_string())
}

impl Tpm2Unsealer {
    /// The unsealer for the TPM at `tcti`.
    pub fn new(tcti: Tcti) -> Tpm2Unsealer {
        Tpm2Unsealer { tcti: Ok(tcti) }
    }

    /// For the CLI and the helpers: `KEYWARD_TPM2_TCTI`, else `tpm2_tcti`
    /// from the merged configuration, else the default device.
    pub fn for_user() -> Tpm2Unsealer {
        let config = Config::load().ok().and_then(|c| c.tpm2_tcti);
        Tpm2Unsealer {
            tcti: Tcti::for_user(config.as_deref()).map_err(|e| e.to_string()),
        }
    }

    /// For the login helper: `tpm2_tcti` from /etc/keyward/keyward.toml
    /// only, else the default device.
    pub fn for_system() -> Tpm2Unsealer {
        let config = Config::load_from(&[PathBuf::from(keyward_vault::SYSTEM_CONFIG)])
            .ok()
            .and_then(|c| c.tpm2_tcti_system);
        Tpm2Unsealer {
            tcti: Tcti::for_system(config.as_deref()).map_err(|e| e.to_string()),
        }
    }

    /// The sealed key in a tpm2 slot's data.
    pub fn sealed(slot: &SlotInfo) -> Result<SealedKey> {
        SealedKey::from_bytes(&slot.extra).map_err(invalid)
    }

    /// Unseals a slot's secret, with its PIN when it has one (a wrong PIN
    /// counts toward the TPM's lockout: [`crate::Error::WrongPin`] says
    /// where it stands).
    pub fn unseal_slot(
        &self,
        slot: &SlotInfo,
        pin: Option<&SecretBytes>,
    ) -> crate::Result<SecretBytes> {
        self.unseal_data(&slot.extra, pin)
    }

    /// Unseals a tpm2 slot's data (the sealed key, [`SealedKey::to_bytes`]),
    /// with its PIN when it has one: what [`Tpm2Unsealer::unseal_slot`] does
    /// with the slot's data, and what `keyward unseal-tpm2` does for the
    /// binaries that unseal in a child (`keyward_unlock::wire_tpm2_child`).
    pub fn unseal_data(
        &self,
        data: &[u8],
        pin: Option<&SecretBytes>,
    ) -> crate::Result<SecretBytes> {
        let sealed = SealedKey::from_bytes(data)?;
        let tcti = self.tcti.as_ref().map_err(|e| crate::Error::Tpm {
            op: "connect",
            why: e.clone(),
        })?;
        crate::unseal_at(tcti, &sealed, pin)
    }

    /// Whether `slot` is a tpm2 slot sealed with a PIN.
    pub fn needs_pin(slot: &SlotInfo) -> bool {
        slot.kind == SlotKind::Tpm2 && Self::sealed(slot).is_ok_and(|s| s.needs_pin())
    }
}

impl Unsealer for Tpm2Unsealer {
    fn kind(&self) -> SlotKind {
        SlotKind::Tpm2
    }

    fn needs_typing(&self, slot: &SlotInfo) -> bool {
        // A slot this version cannot read is tried (and says why).
        Self::needs_pin(slot)
    }

    fn unseal(&self, _vault: &VaultId, slot: &SlotInfo) -> Result<Option<SecretBytes>> {
        self.unseal_slot(slot, None).map(Some).map_err(invalid)
    }

    fn seal(&self, _vault: &VaultId, opts: &SealOptions) -> Result<Option<(SecretBytes, Vec<u8>)>> {
        let pcrs: PcrList = match &opts.pcrs {
            Some(s) => s.parse().map_err(Error::Invalid)?,
            None => PcrList::NONE,
        };
        let secret = SecretBytes::guarded_random(SECRET_LEN)?;
        let tcti = self.tcti.as_ref().map_err(|e| Error::Invalid(e.clone()))?;
        let sealed = crate::seal_at(tcti, secret.expose_secret(), pcrs, opts.pin.as_ref())
            .map_err(invalid)?;
        Ok(Some((secret, sealed.to_bytes())))
    }
}

fn user_hook() -> Option<Box<dyn Unsealer>> {
    Some(Box::new(Tpm2Unsealer::for_user()))
}

fn system_hook() -> Option<Box<dyn Unsealer>> {
    Some(Box::new(Tpm2Unsealer::for_system()))
}

/// Plugs tpm2 slots into keyward-unlock for the CLI and the helpers (at the
/// start of `main`). `false` if a hook was already wired.
pub fn wire() -> bool {
    keyward_unlock::wire_tpm2(user_hook)
}

/// Plugs tpm2 slots in for the login helper: the TCTI from the system
/// configuration only, never the environment or the user's files.
pub fn wire_system() -> bool {
    keyward_unlock::wire_tpm2(system_hook)
}
