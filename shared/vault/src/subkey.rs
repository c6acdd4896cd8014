//! Keys derived from the vault key for other files that must be bound to the
//! vault (the audit log): `HMAC-SHA-256(vault key, label)`, one label per
//! purpose, so a derived key reveals nothing about the vault key or about a
//! key derived with another label.

use crate::error::{Error, Result};
use crate::format::{random_array, Cipher, VaultKey, KEY_LEN, NONCE_LEN, TAG_LEN};
use aes_gcm::Aes256Gcm;
use keyward_secmem::Keyed;
use std::cell::OnceCell;
use hmac::{Hmac, Mac};
use keyward_secmem::{with_scrubbed_stack, ExposeSecret, ExposeSecretMut, SecretBytes};
use sha2::Sha256;

/// A 256-bit key derived from the vault key, in locked memory (a pooled
/// slot: derived keys are short-lived, and a guarded mapping of its own would
/// cost a `memfd_secret` per key on every use of the audit trail). It MACs
/// with HMAC-SHA-256 and seals with AES-256-GCM; every call runs under
/// [`with_scrubbed_stack`]. The AES-GCM cipher is built on the first seal or
/// open, beside a copy of the key in one guarded page of its own, and kept
/// for the next: a MAC key never builds one, and reading a log opens every
/// name with one key schedule.
pub struct SubKey(SecretBytes, OnceCell<Keyed<Aes256Gcm>>);

impl std::fmt::Debug for SubKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubKey([REDACTED])")
    }
}

/// HMAC-SHA-256; callers run it under [`with_scrubbed_stack`].
fn hmac(key: &[u8], parts: &[&[u8]], out: &mut [u8]) {
    // HMAC accepts keys of any length: this cannot fail.
    if let Ok(mut m) = <Hmac<Sha256> as Mac>::new_from_slice(key) {
        for p in parts {
            m.update(p);
        }
        out.copy_from_slice(&m.finalize().into_bytes());
    }
}

impl VaultKey {
    /// The key for `label` (e.g. `keyward-audit-mac-v1`).
    pub fn derive(&self, label: &str) -> Result<SubKey> {
        let [k] = self.derive_many([label])?;
        Ok(k)
    }

    /// The keys for several labels, with one stack scrub for all of them.
    pub fn derive_many<const N: usize>(&self, labels: [&str; N]) -> Result<[SubKey; N]> {
        let mut keys = Vec::with_capacity(N);
        for _ in 0..N {
            // A 64-byte slot, the size class the helpers' request buffers
            // already use: a 32-byte class of its own would map and fault in
            // a fresh chunk of secret memory (a TLB flush on every CPU) in
            // each process, about a tenth of a `get`.
            let mut k = SecretBytes::with_capacity(2 * KEY_LEN)?;
            k.extend_from_slice(&[0u8; KEY_LEN])?;
            keys.push(k);
        }
        let vault_key = self.expose();
        with_scrubbed_stack(|| {
            for (k, label) in keys.iter_mut().zip(labels) {
                hmac(vault_key, &[label.as_bytes()], k.expose_secret_mut());
            }
        });
        let keys: Vec<SubKey> = keys
            .into_iter()
            .map(|k| SubKey(k, OnceCell::new()))
            .collect();
        keys.try_into()
            .map_err(|_| Error::Invalid("internal: derived key count".into()))
    }
}

impl SubKey {
    /// The key's AES-256-GCM cipher, built on first use.
    fn cipher(&self) -> Result<Cipher<'_>> {
        if self.1.get().is_none() {
            let _ = self.1.set(Cipher::keyed(&self.0.expose_secret()[..KEY_LEN])?);
        }
        match self.1.get() {
            Some(k) => Ok(Cipher::of(k.get())),
            None => Err(Error::Invalid("internal: audit cipher".into())),
        }
    }

    /// `HMAC-SHA-256(key, parts[0] ‖ parts[1] ‖ …)`.
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut out = [0u8; 32];
        with_scrubbed_stack(|| hmac(self.0.expose_secret(), parts, &mut out));
        out
    }

    /// Two MACs, the second over input made from the first (a chain link),
    /// with one stack scrub for both.
    pub fn mac_then(
        &self,
        first: &[&[u8]],
        second: impl FnOnce(&[u8; 32]) -> Vec<u8>,
    ) -> ([u8; 32], [u8; 32]) {
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        let key = self.0.expose_secret();
        with_scrubbed_stack(|| {
            hmac(key, first, &mut a);
            hmac(key, &[&second(&a)], &mut b);
        });
        (a, b)
    }

    /// Encrypts `plain` (not a secret: e.g. a record's name) with a fresh
    /// random nonce: `nonce (12) ‖ ciphertext ‖ tag (16)`.
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
        let nonce: [u8; NONCE_LEN] = random_array()?;
        let mut buf = plain.to_vec();
        let tag = self
            .cipher()?
            .encrypt(&nonce, aad, &mut buf)
            .ok_or_else(|| Error::Invalid("encryption failed".into()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + buf.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Decrypts what [`SubKey::seal`] made; `None` if it does not authenticate.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Option<Vec<u8>>> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Ok(None);
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
        let mut buf = ct.to_vec();
        let ok = self.cipher()?.decrypt(nonce, aad, &mut buf, tag);
        Ok(ok.then_some(buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derive_mac_seal_open() {
        let key = VaultKey::from_secret(SecretBytes::from_slice(&[7u8; 32]).unwrap()).unwrap();
        let a = key.derive("a").unwrap();
        let b = key.derive("b").unwrap();
        assert_ne!(a.mac(&[b"x"]), b.mac(&[b"x"]));
        assert_eq!(a.mac(&[b"x", b"y"]), a.mac(&[b"xy"]));
        let [a2, b2] = key.derive_many(["a", "b"]).unwrap();
        assert_eq!(a2.mac(&[b"x"]), a.mac(&[b"x"]));
        assert_eq!(b2.mac(&[b"x"]), b.mac(&[b"x"]));
        let (m1, m2) = a.mac_then(&[b"x"], |m| m.to_vec());
        assert_eq!((m1, m2), (a.mac(&[b"x"]), a.mac(&[&a.mac(&[b"x"])])));
        let sealed = a.seal(b"aad", b"restic/backup-1").unwrap();
        assert_eq!(
            a.open(b"aad", &sealed).unwrap().as_deref(),
            Some(&b"restic/backup-1"[..])
        );
        assert_eq!(a.open(b"other", &sealed).unwrap(), None);
        assert_eq!(b.open(b"aad", &sealed).unwrap(), None);
    }
}
