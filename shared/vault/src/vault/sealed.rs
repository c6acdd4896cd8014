//! A vault file read but not yet decrypted ([`SealedVault`]), and its id.

use super::*;

/// A vault file read whole (after the path checks) but not yet decrypted: its
/// id tells which cached key to look for, and one read of the file serves
/// both the lookup and the opening.
pub struct SealedVault {
    pub(super) path: std::path::PathBuf,
    pub(super) data: BulkBuf,
    pub(super) header: Header,
}

impl std::fmt::Debug for SealedVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedVault")
            .field("path", &self.path)
            .field("id", &self.header.id)
            .field("bytes", &self.data.len())
            .finish()
    }
}

impl SealedVault {
    /// Reads and checks the file and its header (no key needed).
    pub fn read(path: &Path) -> Result<SealedVault> {
        let data = fs::read_vault(path)?;
        let header = Header::decode(&data).map_err(|e| e.at(path))?;
        Ok(SealedVault {
            path: path.to_path_buf(),
            data,
            header,
        })
    }

    /// The vault id (names the kernel-keyring entry).
    pub fn id(&self) -> VaultId {
        self.header.id
    }

    /// The scrypt parameters the password is wrapped with (`None`: no
    /// password slot).
    pub fn kdf(&self) -> Option<KdfParams> {
        self.header.kdf()
    }

    /// The key slots, without secrets.
    pub fn slots(&self) -> Vec<SlotInfo> {
        self.header.infos()
    }

    /// The format version of the file as read (1: upgraded on the next write).
    pub fn format_version(&self) -> u16 {
        self.header.version
    }

    /// Opens with the vault password (runs scrypt).
    pub fn open_with_password(self, password: &SecretBytes) -> Result<Vault> {
        let key = self
            .header
            .unwrap_password(&self.path, password)?
            .ok_or_else(|| Error::WrongPassword {
                path: self.path.clone(),
            })?;
        self.open_with_key(key)
    }

    /// Opens with the secret of a key-pair slot of `kind` (the recovery
    /// key's 32 bytes, the host helper's key): each slot of that kind is
    /// tried. [`Error::NoSlotOpens`] when none opens.
    pub fn open_with_slot(self, kind: SlotKind, secret: &SecretBytes) -> Result<Vault> {
        match self.header.unwrap_slot(kind, secret)? {
            Some(key) => self.open_with_key(key),
            None => Err(self.no_slot(kind)),
        }
    }

    /// Opens with the secret of slot `index` (what a [`SlotInfo`]'s data
    /// let an unsealer produce, such as a TPM's).
    pub fn open_with_slot_at(self, index: usize, secret: &SecretBytes) -> Result<Vault> {
        let kind = self
            .header
            .slots
            .get(index)
            .map_or(SlotKind::Other(0), |s| SlotKind::from_tag(s.kind));
        match self.header.unwrap_slot_at(index, secret)? {
            Some(key) => self.open_with_key(key),
            None => Err(self.no_slot(kind)),
        }
    }

    /// The vault key from the secret of slot `index`, without opening (so
    /// the caller can try several slots on one read); `None` when it is
    /// not that slot's.
    pub fn try_slot_at(&self, index: usize, secret: &SecretBytes) -> Result<Option<VaultKey>> {
        self.header.unwrap_slot_at(index, secret)
    }

    /// The path it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn no_slot(&self, kind: SlotKind) -> Error {
        let has = self.header.slots.iter().any(|s| s.kind == kind.tag());
        let (what, hint) = match kind {
            SlotKind::Recovery if has => (
                "this recovery key".to_string(),
                "check it against the one shown at `keyward enroll recovery`".to_string(),
            ),
            _ if has => (
                format!("the {} key of this machine", kind.name()),
                "it was enrolled elsewhere or the key changed; unlock with the password and run `keyward enroll` again".to_string(),
            ),
            _ => (
                format!("a {} key", kind.name()),
                format!("the vault has no {} slot (`keyward slots` lists them)", kind.name()),
            ),
        };
        Error::NoSlotOpens {
            path: self.path.clone(),
            what,
            hint,
        }
    }

    /// Opens with a vault key; no scrypt.
    pub fn open_with_key(self, key: VaultKey) -> Result<Vault> {
        let state = parse(&self.path, self.data, self.header, &key)?;
        Ok(Vault {
            path: self.path,
            key,
            state,
            watch: false,
        })
    }
}

/// Reads only the header: the vault id, for looking up a cached key.
pub fn read_vault_id(path: &Path) -> Result<VaultId> {
    let data = fs::read_vault_upto(path, format::MAX_HEADER_LEN as u64)?;
    Header::decode(&data).map(|h| h.id).map_err(|e| e.at(path))
}

pub(super) fn corrupt(path: &Path) -> Error {
    Error::Corrupt {
        path: path.to_path_buf(),
    }
}
