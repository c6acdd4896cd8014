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
        let mem = self.memory();
        if mem > 1 << 30 {
            return Err(format!("needs {} MiB of memory (at most 1024)", mem >> 20));
        }
        Ok(())
    }
}

impl KdfParams {
    /// Memory one derivation takes: 128 · r · N bytes.
    pub fn memory(&self) -> u64 {
        (128u64 * u64::from(self.r)) << self.log_n.min(40)
    }

    /// What the time of one derivation grows with: p times [`Self::memory`]
    /// (scrypt runs its memory-hard mix p times).
    pub fn work(&self) -> u64 {
        self.memory().saturating_mul(u64::from(self.p))
    }
}

impl std::fmt::Display for KdfParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "log_n={} r={} p={}", self.log_n, self.r, self.p)
    }
}

/// The least scrypt cost keyward accepts for a new or changed password
/// (log_n, r): 32 MiB and about 0.1 s per guess on the benchmark machine.
pub const FLOOR: (u8, u32) = (15, 8);

/// The floor for new and changed passwords and the ceiling on the work a
/// process does for another user (the PAM module deriving as root), from
/// `[kdf_limits]` of the system configuration (`/etc/keyward/keyward.toml`
/// only: a user's file may not set them). The floor can only be raised
/// above [`FLOOR`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfLimits {
    /// Least log2(N) for a new or changed password.
    pub min_log_n: u8,
    /// Least r for a new or changed password.
    pub min_r: u32,
    /// Most memory of one derivation done for another user, in MiB.
    pub max_memory_mib: u64,
    /// Most work (p × memory) of one derivation done for another user, in MiB.
    pub max_work_mib: u64,
}

impl Default for KdfLimits {
    /// The built-in floor; a ceiling of 1 GiB of memory (what a header may
    /// ask for at all) and 2 GiB of work (about 6 s on the benchmark machine).
    fn default() -> Self {
        KdfLimits {
            min_log_n: FLOOR.0,
            min_r: FLOOR.1,
            max_memory_mib: 1024,
            max_work_mib: 2048,
        }
    }
}

impl KdfLimits {
    /// `Err(why)` when `k` is below the floor.
    pub fn check_floor(&self, k: KdfParams) -> std::result::Result<(), String> {
        if k.log_n < self.min_log_n || k.r < self.min_r {
            return Err(format!(
                "scrypt {k} is below the floor log_n={} r={}, the least keyward accepts for a new or changed password",
                self.min_log_n, self.min_r
            ));
        }
        Ok(())
    }

    /// `Err(why)` when deriving with `k` would pass the ceiling.
    pub fn check_ceiling(&self, k: KdfParams) -> std::result::Result<(), String> {
        let (mem, work) = (k.memory() >> 20, k.work() >> 20);
        if mem > self.max_memory_mib {
            return Err(format!(
                "scrypt {k} needs {mem} MiB of memory, above the ceiling of {} MiB ([kdf_limits] max_memory_mib)",
                self.max_memory_mib
            ));
        }
        if work > self.max_work_mib {
            return Err(format!(
                "scrypt {k} is {work} MiB of work (p × memory), above the ceiling of {} MiB ([kdf_limits] max_work_mib)",
                self.max_work_mib
            ));
        }
        Ok(())
    }

    /// `k` raised to the floor (log_n and r), p unchanged.
    pub fn raise_to_floor(&self, k: KdfParams) -> KdfParams {
        KdfParams {
            log_n: k.log_n.max(self.min_log_n),
            r: k.r.max(self.min_r),
            p: k.p,
        }
    }

    /// The limits of a system configuration file (`[kdf_limits]`, through
    /// the one configuration parser); a missing file gives the defaults.
    pub fn from_system_file(path: &std::path::Path) -> crate::Result<KdfLimits> {
        Ok(crate::Config::load_from(&[path.to_path_buf()])?.kdf_limits)
    }

    /// The limits of `/etc/keyward/keyward.toml`.
    pub fn system() -> crate::Result<KdfLimits> {
        Self::from_system_file(std::path::Path::new(crate::SYSTEM_CONFIG))
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
