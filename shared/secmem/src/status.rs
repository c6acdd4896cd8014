//! The process-wide status report: the policy, the backend and the allocator's
//! counters.

use crate::policy::{memlock_limit, policy, Backend, LockPolicy, LOCK_FAILED};
use std::sync::atomic::Ordering;

/// A snapshot of secure memory in this process.
#[derive(Debug, Clone)]
pub struct Status {
    /// Where new secrets go.
    pub backend: Backend,
    /// The lock policy in force.
    pub policy: LockPolicy,
    /// Secrets alive now.
    pub live_secrets: usize,
    /// Bytes locked in RAM by this crate.
    pub locked_bytes: usize,
    /// Bytes mapped for secrets (locked or not), guards excluded.
    pub mapped_bytes: usize,
    /// RLIMIT_MEMLOCK soft limit (`None`: unlimited).
    pub memlock_limit: Option<u64>,
    /// Whether locking has failed at least once in this process.
    pub lock_failed: bool,
    /// The locking backend chosen for this process (`memfd_secret` or `mlock`),
    /// even when `backend` reports that locking failed.
    pub locking_backend: Backend,
    /// Pooled chunks mapped now (each between two guard pages).
    pub chunks: usize,
}

/// The current secure-memory status.
pub fn status() -> Status {
    let c = crate::alloc::counters();
    Status {
        backend: crate::alloc::backend(),
        policy: policy(),
        live_secrets: c.live,
        locked_bytes: c.locked_bytes,
        mapped_bytes: c.mapped_bytes,
        memlock_limit: memlock_limit(),
        lock_failed: LOCK_FAILED.load(Ordering::SeqCst),
        locking_backend: crate::alloc::locking_backend(),
        chunks: c.chunks,
    }
}
