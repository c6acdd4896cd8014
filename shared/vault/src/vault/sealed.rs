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
        let header = Header::decode(&data).map_err(|_| corrupt(path))?;
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

    /// The scrypt parameters the password is wrapped with.
    pub fn kdf(&self) -> KdfParams {
        self.header.kdf
    }

    /// Opens with the vault password (runs scrypt).
    pub fn open_with_password(self, password: &SecretBytes) -> Result<Vault> {
        let kek = self.header.derive_kek(password)?;
        let key = self
            .header
            .unwrap_key(&kek)?
            .ok_or_else(|| Error::WrongPassword {
                path: self.path.clone(),
            })?;
        drop(kek);
        self.open_with_key(key)
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
    let data = fs::read_vault_upto(path, format::HEADER_LEN as u64)?;
    Header::decode(&data)
        .map(|h| h.id)
        .map_err(|_| corrupt(path))
}

pub(super) fn corrupt(path: &Path) -> Error {
    Error::Corrupt {
        path: path.to_path_buf(),
    }
}
