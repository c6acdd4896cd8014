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

/// The most scrypt work pam_keyward's login unlock does for a vault when the
/// system configuration names no `[kdf] ceiling_*` (and its `[kdf]` is
/// below): N = 2^18, r = 8, p = 1, that is 256 MiB and twice the default
/// vault's time. The login runs it as root inside the PAM host (sshd's
/// monitor), so a user's vault header must not choose it.
pub const DEFAULT_LOGIN_CEILING: KdfParams = KdfParams {
    log_n: 18,
    r: 8,
    p: 1,
};

impl std::fmt::Display for KdfParams {
    /// `N=2^17, r=8, p=1 (128 MiB)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "N=2^{}, r={}, p={} ({} MiB)",
            self.log_n,
            self.r,
            self.p,
            self.memory() >> 20
        )
    }
}

impl KdfParams {
    /// Bytes of memory scrypt needs: 128 · r · N.
    pub fn memory(&self) -> u64 {
        (128u64 * u64::from(self.r)) << self.log_n.min(40)
    }

    /// Time, in units of one block mix: N · r · p.
    pub fn work(&self) -> u64 {
        (u64::from(self.r) * u64::from(self.p)) << self.log_n.min(40)
    }

    /// Whether deriving with these parameters needs no more memory and no
    /// more time than `ceiling` (the system's limit for work done on a
    /// user's behalf, e.g. login unlock); the error says what is over.
    pub fn check_ceiling(&self, ceiling: &KdfParams) -> std::result::Result<(), String> {
        let over_memory = self.memory() > ceiling.memory();
        let over_time = self.work() > ceiling.work();
        if !over_memory && !over_time {
            return Ok(());
        }
        let what = match (over_memory, over_time) {
            (true, true) => "memory and time",
            (true, false) => "memory",
            _ => "time",
        };
        Err(format!(
            "scrypt with {self} is above the system's ceiling of {ceiling} in {what}"
        ))
    }

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
        let mem = self.memory();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_bounds_memory_and_time() {
        let c = DEFAULT_LOGIN_CEILING;
        assert_eq!(c.to_string(), "N=2^18, r=8, p=1 (256 MiB)");
        assert!(KdfParams::default().check_ceiling(&c).is_ok());
        assert!(c.check_ceiling(&c).is_ok());
        let big = KdfParams {
            log_n: 20,
            r: 8,
            p: 4,
        };
        assert_eq!(
            big.check_ceiling(&c).unwrap_err(),
            "scrypt with N=2^20, r=8, p=4 (1024 MiB) is above the system's ceiling of \
             N=2^18, r=8, p=1 (256 MiB) in memory and time"
        );
        let slow = KdfParams {
            log_n: 17,
            r: 8,
            p: 4,
        };
        assert!(slow.check_ceiling(&c).unwrap_err().ends_with("in time"));
        let wide = KdfParams {
            log_n: 18,
            r: 16,
            p: 1,
        };
        assert!(wide
            .check_ceiling(&c)
            .unwrap_err()
            .ends_with("in memory and time"));
    }
}
