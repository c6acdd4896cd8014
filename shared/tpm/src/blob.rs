//! The sealed key as the vault stores it (the `tpm2` slot's payload).
//!
//! ```text
//! "KWT2" | version 1 | flags (bit 0: PIN) | PCR mask (u32 LE) | salt (16 bytes)
//!        | u16 LE length + storage key name | u16 LE length + TPMT_PUBLIC (marshalled)
//!        | u16 LE length + TPM2B_PRIVATE buffer
//! ```
//! Nothing in it is secret: the private part is encrypted by a key that never
//! leaves the TPM. Parsing is strict: unknown versions and flags, lengths
//! past the end and trailing bytes are refused.

use crate::{Error, PcrList, Result};

const MAGIC: &[u8; 4] = b"KWT2";
const VERSION: u8 = 1;
const FLAG_PIN: u8 = 1;
pub(crate) const SALT_LEN: usize = 16;

/// A vault key sealed to a TPM: what [`crate::Tpm::seal`] returns and
/// [`crate::Tpm::unseal`] takes. No secret in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedKey {
    pub(crate) pin: bool,
    pub(crate) pcrs: PcrList,
    pub(crate) salt: [u8; SALT_LEN],
    pub(crate) primary_name: Vec<u8>,
    pub(crate) public: Vec<u8>,
    pub(crate) private: Vec<u8>,
}

pub(crate) fn new_salt() -> Result<[u8; SALT_LEN]> {
    let r = keyward_secmem::SecretBytes::random(SALT_LEN)?;
    let mut salt = [0u8; SALT_LEN];
    salt.copy_from_slice(keyward_secmem::ExposeSecret::expose_secret(&r));
    Ok(salt)
}

impl SealedKey {
    /// Whether unsealing needs a PIN.
    pub fn needs_pin(&self) -> bool {
        self.pin
    }

    /// The PCRs it is bound to.
    pub fn pcrs(&self) -> PcrList {
        self.pcrs
    }

    /// The slot payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            30 + self.primary_name.len() + self.public.len() + self.private.len(),
        );
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(if self.pin { FLAG_PIN } else { 0 });
        out.extend_from_slice(&self.pcrs.mask().to_le_bytes());
        out.extend_from_slice(&self.salt);
        for part in [&self.primary_name, &self.public, &self.private] {
            // Each part is a TPM structure of at most a few KiB.
            let len = u16::try_from(part.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&part[..usize::from(len)]);
        }
        out
    }

    /// Parses a slot payload.
    pub fn from_bytes(b: &[u8]) -> Result<SealedKey> {
        let bad = |why: &str| Error::Malformed(why.to_string());
        let mut r = Reader(b);
        if r.take(4)? != MAGIC {
            return Err(bad("not a TPM-sealed key"));
        }
        let version = r.take(1)?[0];
        if version != VERSION {
            return Err(Error::Malformed(format!(
                "version {version} (this keyward reads {VERSION})"
            )));
        }
        let flags = r.take(1)?[0];
        if flags & !FLAG_PIN != 0 {
            return Err(Error::Malformed(format!("unknown flags {flags:#04x}")));
        }
        let mask = u32::from_le_bytes(r.array()?);
        let pcrs = PcrList::from_mask(mask).ok_or_else(|| bad("PCR index above 23"))?;
        let salt: [u8; SALT_LEN] = r.array()?;
        let primary_name = r.part()?;
        let public = r.part()?;
        let private = r.part()?;
        if !r.0.is_empty() {
            return Err(bad("trailing bytes"));
        }
        if primary_name.is_empty() || public.is_empty() || private.is_empty() {
            return Err(bad("an empty part"));
        }
        Ok(SealedKey {
            pin: flags & FLAG_PIN != 0,
            pcrs,
            salt,
            primary_name,
            public,
            private,
        })
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(Error::Malformed("truncated".into()));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn part(&mut self) -> Result<Vec<u8>> {
        let n = u16::from_le_bytes(self.array()?);
        Ok(self.take(usize::from(n))?.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SealedKey {
        SealedKey {
            pin: true,
            pcrs: "0+7".parse().unwrap(),
            salt: [9; SALT_LEN],
            primary_name: vec![1, 2, 3],
            public: vec![4; 80],
            private: vec![5; 120],
        }
    }

    #[test]
    fn round_trip_and_every_truncation_refused() {
        let b = sample().to_bytes();
        assert_eq!(SealedKey::from_bytes(&b).unwrap(), sample());
        for n in 0..b.len() {
            assert!(SealedKey::from_bytes(&b[..n]).is_err(), "truncated to {n}");
        }
        let mut t = b.clone();
        t.push(0);
        assert!(SealedKey::from_bytes(&t).is_err());
    }

    /// Every byte of a payload set to each of a few values: refused, or
    /// parsed into a key that writes back exactly those bytes (nothing
    /// parsed is dropped or invented).
    #[test]
    fn every_mutation_is_refused_or_round_trips() {
        let b = sample().to_bytes();
        for i in 0..b.len() {
            for v in [0x00, 0x01, 0x7f, 0x80, 0xff, b[i] ^ 0x20] {
                let mut m = b.clone();
                m[i] = v;
                if let Ok(k) = SealedKey::from_bytes(&m) {
                    assert_eq!(k.to_bytes(), m, "byte {i} = {v:#04x}");
                }
            }
        }
    }

    #[test]
    fn newer_versions_flags_and_pcrs_refused() {
        let b = sample().to_bytes();
        let mut v = b.clone();
        v[4] = 2;
        let e = SealedKey::from_bytes(&v).unwrap_err().to_string();
        assert!(e.contains("version 2"), "{e}");
        let mut f = b.clone();
        f[5] |= 0x80;
        assert!(SealedKey::from_bytes(&f).is_err());
        let mut p = b.clone();
        p[9] = 0x01; // bit 24
        assert!(SealedKey::from_bytes(&p).is_err());
        let mut m = b;
        m[0] = b'X';
        assert!(SealedKey::from_bytes(&m).is_err());
    }
}
