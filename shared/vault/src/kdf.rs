//! Key derivation: the scrypt parameters ([`KdfParams`]) and [`derive_into`],
//! the one place keyward calls scrypt (the vault's key-encryption key and the
//! PAM password database's hashes both go through it).

use crate::format::KEY_LEN;
use keyward_secmem::{with_scrubbed_stack, ExposeSecret, ExposeSecretMut, SecretBytes};

/// scrypt parameters for deriving the key-encryption key from a vault password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// log2 of the CPU/memory cost N.
    pub log_n: u8,
    /// Block size r.
    pub r: u32,
    /// Parallelism p.
    pub p: u32,
}

impl Default for KdfParams {
    /// Production values: N = 2^17, r = 8, p = 1 (128 MiB, about 0.3 s on a
    /// current laptop core; see the README's benchmark section).
    fn default() -> Self {
        KdfParams {
            log_n: 17,
            r: 8,
            p: 1,
        }
    }
}

impl KdfParams {
    /// Bounds accepted from configuration and from vault headers: enough for
    /// any sane setting, small enough that a corrupted header cannot ask for
    /// terabytes of memory.
    pub fn check(&self) -> std::result::Result<(), String> {
        if !(1..=22).contains(&self.log_n) {
            return Err(format!("log_n {} out of range 1..=22", self.log_n));
        }
        if !(1..=32).contains(&self.r) {
            return Err(format!("r {} out of range 1..=32", self.r));
        }
        if !(1..=16).contains(&self.p) {
            return Err(format!("p {} out of range 1..=16", self.p));
        }
        // 128 * r * N bytes of memory; at most 1 GiB.
        let mem = (128u64 * u64::from(self.r)) << self.log_n;
        if mem > 1 << 30 {
            return Err(format!("needs {} MiB of memory (at most 1024)", mem >> 20));
        }
        Ok(())
    }
}

/// scrypt(`password`, `salt`) with `params`, written straight into `out` (its
/// length is the output length); the stack scrypt used (HMAC key blocks of the
/// password) is scrubbed afterwards. Callers bound `params` first
/// ([`KdfParams::check`]) when they come from outside.
pub fn derive_into(
    password: &[u8],
    salt: &[u8],
    params: KdfParams,
    out: &mut SecretBytes,
) -> crate::Result<()> {
    let p = scrypt::Params::new(params.log_n, params.r, params.p, out.len())
        .map_err(|_| crate::Error::Invalid("invalid scrypt parameters".into()))?;
    with_scrubbed_stack(|| scrypt::scrypt(password, salt, &p, out.expose_secret_mut()))
        .map_err(|_| crate::Error::Invalid("scrypt failed".into()))
}

/// scrypt(password, salt) → 32 bytes, written straight into a guarded
/// allocation of locked memory; the stack scrypt used (HMAC key blocks of the
/// password) is scrubbed afterwards.
pub(crate) fn derive_kek(
    password: &SecretBytes,
    salt: &[u8],
    kdf: KdfParams,
) -> crate::Result<SecretBytes> {
    let mut kek = SecretBytes::guarded(KEY_LEN)?;
    derive_into(password.expose_secret(), salt, kdf, &mut kek)?;
    Ok(kek)
}
