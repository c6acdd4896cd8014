//! Login unlock: the split the PAM module needs between a root process that
//! holds the login password and a child running as the user that touches the
//! user's files and keyring.
//!
//! The user's side ([`read_header`], [`Vault::rewrap`], [`crate::keyring`])
//! runs with the user's credentials and refuses symlinks, other owners and
//! loose modes as every vault open does. The root side ([`unwrap_header`],
//! [`NewWrap::derive`]) never opens a path: it gets the password slot's
//! bytes from the child (161 public bytes in the layout of a version-1
//! header: id, KDF parameters, salt, wrapped key), runs scrypt, and hands the
//! child only derived keys, never a password.

use crate::error::{Error, Result};
use crate::format::{self, Header, VaultId, VaultKey, KEY_LEN, SALT_LEN};
use crate::kdf::{KdfLimits, KdfParams};
use crate::vault::Vault;
use keyward_secmem::{ExposeSecret, SecretBytes};
use std::path::Path;

/// Bytes of the password slot as [`read_header`] gives it.
pub const HEADER_LEN: usize = format::V1_HEADER_LEN;
/// Bytes of a [`NewWrap`] on the wire ([`NewWrap::to_wire`]).
pub const WRAP_WIRE_LEN: usize = SALT_LEN + 9 + KEY_LEN;

/// Reads the vault's header with the caller's credentials (directory and
/// file checked: owner, mode, no symlink) and returns its password slot in
/// the layout of a version-1 header ([`HEADER_LEN`] bytes), which unwraps
/// exactly as the slot does. [`Error::NoSlotOpens`] when the vault has no
/// password slot.
pub fn read_header(path: &Path) -> Result<Vec<u8>> {
    let data = crate::fs::read_vault_upto(path, format::MAX_HEADER_LEN as u64)?;
    let h = Header::decode(&data).map_err(|e| e.at(path))?;
    h.password_v1().ok_or_else(|| Error::NoSlotOpens {
        path: path.to_path_buf(),
        what: "the login password".into(),
        hint: "the vault has no password slot; set one with `keyward passwd`".into(),
    })
}

/// Runs scrypt on `password` with the parameters and salt of `header` and
/// unwraps the vault key, under the ceiling of `/etc/keyward/keyward.toml`
/// ([`unwrap_header_within`] with [`KdfLimits::system`]).
pub fn unwrap_header(
    path: &Path,
    header: &[u8],
    password: &SecretBytes,
) -> Result<(VaultId, VaultKey)> {
    unwrap_header_within(path, header, password, &KdfLimits::system()?)
}

/// Runs scrypt on `password` with the parameters and salt of `header` and
/// unwraps the vault key. The header is the user's: a cost above `limits`'
/// ceiling is refused before scrypt runs ([`Error::KdfCeiling`]), so a
/// user's file never chooses how much work root does.
/// [`Error::WrongPassword`] when it does not unwrap; [`Error::Corrupt`] when
/// the header does not parse. `path` only names the vault in errors.
pub fn unwrap_header_within(
    path: &Path,
    header: &[u8],
    password: &SecretBytes,
    limits: &KdfLimits,
) -> Result<(VaultId, VaultKey)> {
    let corrupt = || Error::Corrupt {
        path: path.to_path_buf(),
    };
    let h = Header::decode(header).map_err(|e| e.at(path))?;
    let kdf = h.kdf().ok_or_else(corrupt)?;
    limits.check_ceiling(kdf).map_err(|why| Error::KdfCeiling {
        path: path.to_path_buf(),
        why,
    })?;
    let key = h
        .unwrap_password(path, password)?
        .ok_or_else(|| Error::WrongPassword {
            path: path.to_path_buf(),
        })?;
    Ok((h.id, key))
}

/// The vault id in a header.
pub fn header_id(path: &Path, header: &[u8]) -> Result<VaultId> {
    Header::decode(header)
        .map(|h| h.id)
        .map_err(|_| Error::Corrupt {
            path: path.to_path_buf(),
        })
}

/// A key-encryption key derived from a new password, with its salt and
/// parameters: everything [`Vault::rewrap`] needs to wrap the vault key
/// under that password, without the password itself.
#[derive(Debug)]
pub struct NewWrap {
    pub(crate) salt: [u8; SALT_LEN],
    pub(crate) kdf: KdfParams,
    pub(crate) kek: SecretBytes,
}

impl NewWrap {
    /// scrypt(`password`, fresh random salt) with `kdf`, under the limits of
    /// `/etc/keyward/keyward.toml` ([`NewWrap::derive_within`]).
    pub fn derive(password: &SecretBytes, kdf: KdfParams) -> Result<NewWrap> {
        Self::derive_within(password, kdf, &KdfLimits::system()?, Path::new("(vault)"))
    }

    /// scrypt(`password`, fresh random salt) with `kdf` (the user's `[kdf]`)
    /// raised to `limits`' floor; refused above its ceiling
    /// ([`Error::KdfCeiling`], naming `path`) before scrypt runs.
    pub fn derive_within(
        password: &SecretBytes,
        kdf: KdfParams,
        limits: &KdfLimits,
        path: &Path,
    ) -> Result<NewWrap> {
        let kdf = limits.raise_to_floor(kdf);
        limits.check_ceiling(kdf).map_err(|why| Error::KdfCeiling {
            path: path.to_path_buf(),
            why,
        })?;
        Self::derive_unlimited(password, kdf)
    }

    fn derive_unlimited(password: &SecretBytes, kdf: KdfParams) -> Result<NewWrap> {
        kdf.check().map_err(Error::Invalid)?;
        let salt: [u8; SALT_LEN] = format::random_array()?;
        let kek = crate::kdf::derive_kek(password, &salt, kdf)?;
        Ok(NewWrap { salt, kdf, kek })
    }

    /// salt ‖ log_n ‖ r (LE) ‖ p (LE) ‖ kek, in locked memory.
    pub fn to_wire(&self) -> Result<SecretBytes> {
        let mut out = SecretBytes::with_capacity(WRAP_WIRE_LEN)?;
        out.extend_from_slice(&self.salt)?;
        out.push(self.kdf.log_n)?;
        out.extend_from_slice(&self.kdf.r.to_le_bytes())?;
        out.extend_from_slice(&self.kdf.p.to_le_bytes())?;
        out.extend_from_slice(self.kek.expose_secret())?;
        Ok(out)
    }

    /// Parses [`Self::to_wire`]'s output (parameters checked).
    pub fn from_wire(b: &SecretBytes) -> Result<NewWrap> {
        let b = b.expose_secret();
        let bad = || Error::Invalid("malformed key-wrapping message".into());
        if b.len() != WRAP_WIRE_LEN {
            return Err(bad());
        }
        let salt: [u8; SALT_LEN] = b[..SALT_LEN].try_into().map_err(|_| bad())?;
        let k = SALT_LEN;
        let u32_at = |i: usize| -> Result<u32> {
            Ok(u32::from_le_bytes(
                b[i..i + 4].try_into().map_err(|_| bad())?,
            ))
        };
        let kdf = KdfParams {
            log_n: b[k],
            r: u32_at(k + 1)?,
            p: u32_at(k + 5)?,
        };
        kdf.check().map_err(|_| bad())?;
        let kek = SecretBytes::guarded_from_slice(&b[k + 9..])?;
        Ok(NewWrap { salt, kdf, kek })
    }
}

impl Vault {
    /// Protects the vault with `wrap`'s key-encryption key, atomically, as
    /// [`Vault::change_password`] does: a new vault key, every record
    /// re-encrypted under it.
    pub fn rewrap(&mut self, wrap: &NewWrap) -> Result<()> {
        self.rewrap_with(wrap.salt, wrap.kdf, &wrap.kek)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams {
        log_n: 4,
        r: 8,
        p: 1,
    };

    #[test]
    fn header_unwraps_with_the_password_only_and_rewrap_moves_it() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("v/vault");
        let pw = SecretBytes::from_slice(b"old password").unwrap();
        let v = Vault::create(&path, &pw, FAST).unwrap();
        let header = read_header(&path).unwrap();
        assert_eq!(header.len(), HEADER_LEN);
        let (id, key) = unwrap_header(&path, &header, &pw).unwrap();
        assert_eq!(id, v.id());
        assert_eq!(header_id(&path, &header).unwrap(), v.id());
        assert_eq!(key.expose(), v.key().expose());
        let wrong = SecretBytes::from_slice(b"other").unwrap();
        assert!(matches!(
            unwrap_header(&path, &header, &wrong),
            Err(Error::WrongPassword { .. })
        ));
        let mut bad = header.clone();
        bad[40] ^= 1;
        assert!(matches!(
            unwrap_header(&path, &bad, &pw),
            Err(Error::Corrupt { .. })
        ));

        let new = SecretBytes::from_slice(b"new password").unwrap();
        let wrap = NewWrap::derive_unlimited(&new, FAST).unwrap();
        let wire = wrap.to_wire().unwrap();
        let back = NewWrap::from_wire(&wire).unwrap();
        let mut opened = Vault::open_with_key(&path, key).unwrap();
        opened.rewrap(&back).unwrap();
        assert!(Vault::open_with_password(&path, &new).is_ok());
        assert!(matches!(
            Vault::open_with_password(&path, &pw),
            Err(Error::WrongPassword { .. })
        ));
        let short = SecretBytes::from_slice(&wire.expose_secret()[1..]).unwrap();
        assert!(NewWrap::from_wire(&short).is_err());
    }

    #[test]
    fn the_ceiling_is_checked_before_scrypt_and_the_floor_lifts_a_rewrap() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("v/vault");
        let pw = SecretBytes::from_slice(b"pw").unwrap();
        let big = KdfParams {
            log_n: 12,
            r: 8,
            p: 4,
        }; // 4 MiB of memory, 16 MiB of work
        Vault::create(&path, &pw, big).unwrap();
        let header = read_header(&path).unwrap();
        let tight = KdfLimits {
            max_memory_mib: 2,
            ..KdfLimits::default()
        };
        let e = unwrap_header_within(&path, &header, &pw, &tight).unwrap_err();
        assert!(
            e.to_string()
                .contains("needs 4 MiB of memory, above the ceiling of 2 MiB"),
            "{e}"
        );
        let slow = KdfLimits {
            max_work_mib: 8,
            ..KdfLimits::default()
        };
        let e = unwrap_header_within(&path, &header, &pw, &slow).unwrap_err();
        assert!(matches!(e, Error::KdfCeiling { .. }), "{e}");
        assert!(unwrap_header_within(&path, &header, &pw, &KdfLimits::default()).is_ok());
        // A rewrap at login takes the user's [kdf] up to the floor, never below.
        let wrap = NewWrap::derive_within(&pw, FAST, &KdfLimits::default(), &path).unwrap();
        assert_eq!((wrap.kdf.log_n, wrap.kdf.r, wrap.kdf.p), (15, 8, 1));
        assert!(NewWrap::derive_within(&pw, big, &tight, &path).is_err());
    }
}
