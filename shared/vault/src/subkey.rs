//! Keys derived from the vault key for other files that must be bound to the
//! vault (the audit log's MACs): `HMAC-SHA-256(vault key, label)`, one label
//! per purpose, so a derived key reveals nothing about the vault key or about
//! a key derived with another label. Names in those files are sealed with
//! the vault key itself ([`VaultKey::seal_name`]).

use crate::error::{Error, Result};
use crate::format::{VaultKey, KEY_LEN};
use hmac::{Hmac, Mac};
use keyward_secmem::{with_scrubbed_stack, ExposeSecret, ExposeSecretMut, SecretBytes};
use sha2::Sha256;

/// A 256-bit key derived from the vault key, in locked memory (a pooled
/// slot: derived keys are short-lived, and a guarded mapping of its own would
/// cost a `memfd_secret` per key on every use of the audit trail). It MACs
/// with HMAC-SHA-256; every call runs under [`with_scrubbed_stack`].
pub struct SubKey(SecretBytes);

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
        let keys: Vec<SubKey> = keys.into_iter().map(SubKey).collect();
        keys.try_into()
            .map_err(|_| Error::Invalid("internal: derived key count".into()))
    }
}

impl SubKey {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derive_and_mac() {
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
    }

    #[test]
    fn names_seal_under_the_vault_key_with_their_associated_data() {
        let key = VaultKey::from_secret(SecretBytes::from_slice(&[7u8; 32]).unwrap()).unwrap();
        let other = VaultKey::from_secret(SecretBytes::from_slice(&[8u8; 32]).unwrap()).unwrap();
        let sealed = key.seal_name(b"aad", b"restic/backup-1").unwrap();
        assert_ne!(
            sealed,
            key.seal_name(b"aad", b"restic/backup-1").unwrap(),
            "a fresh nonce each time"
        );
        assert_eq!(
            key.open_name(b"aad", &sealed).unwrap().as_deref(),
            Some(&b"restic/backup-1"[..])
        );
        assert_eq!(key.open_name(b"other", &sealed).unwrap(), None);
        assert_eq!(other.open_name(b"aad", &sealed).unwrap(), None);
        assert_eq!(key.open_name(b"aad", &sealed[..20]).unwrap(), None);
    }
}
