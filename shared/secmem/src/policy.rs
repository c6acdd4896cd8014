//! Lock policy: what happens when memory cannot be locked, and the one-time
//! warning. The status report lives in `status` (it reads the allocator,
//! which reads this module).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Mutex;

/// What to do when memory cannot be locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockPolicy {
    /// Keep going in unlocked (still guarded, dump-excluded, wiped) memory; warn once.
    #[default]
    BestEffort,
    /// Refuse to hold a secret in memory that cannot be locked.
    Required,
}

impl std::str::FromStr for LockPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "best-effort" => Ok(LockPolicy::BestEffort),
            "required" => Ok(LockPolicy::Required),
            other => Err(format!(
                "unknown memory lock policy {other:?} (expected \"best-effort\" or \"required\")"
            )),
        }
    }
}

impl std::fmt::Display for LockPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LockPolicy::BestEffort => "best-effort",
            LockPolicy::Required => "required",
        })
    }
}

/// Where secret bytes live in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `memfd_secret(2)` pages, removed from the kernel's direct map.
    MemfdSecret,
    /// Anonymous mappings locked with `mlock(2)`.
    Mlock,
    /// Anonymous mappings that could not be locked (best-effort policy).
    Unlocked,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::MemfdSecret => "memfd_secret",
            Backend::Mlock => "mlock",
            Backend::Unlocked => "unlocked",
        })
    }
}

static POLICY: AtomicU8 = AtomicU8::new(0);
pub(crate) static LOCK_FAILED: AtomicBool = AtomicBool::new(false);
static WARNED: AtomicBool = AtomicBool::new(false);
static PENDING: Mutex<Option<String>> = Mutex::new(None);
static HAS_PENDING: AtomicBool = AtomicBool::new(false);
static WARN_SINK: Mutex<Option<fn(&str)>> = Mutex::new(None);

/// Sets the lock policy for this process. Call before the first secret is made.
pub fn set_policy(policy: LockPolicy) {
    POLICY.store(policy as u8, Ordering::SeqCst);
}

/// The lock policy in force.
pub fn policy() -> LockPolicy {
    match POLICY.load(Ordering::SeqCst) {
        1 => LockPolicy::Required,
        _ => LockPolicy::BestEffort,
    }
}

/// Routes the one-time "memory is not locked" warning somewhere other than stderr
/// (the PAM module sends it to syslog).
pub fn set_warning_sink(sink: fn(&str)) {
    if let Ok(mut s) = WARN_SINK.lock() {
        *s = Some(sink);
    }
}

/// Records that locking failed; the warning goes out from
/// [`flush_warning`] once the allocator's lock is released, so a warning sink
/// may itself use secure memory.
pub(crate) fn warn_unlocked_once(reason: &std::io::Error) {
    LOCK_FAILED.store(true, Ordering::SeqCst);
    if !WARNED.load(Ordering::SeqCst) {
        if let Ok(mut p) = PENDING.lock() {
            if p.is_none() {
                *p = Some(format!(
                    "keyward: warning: cannot lock memory ({reason}); secrets may be written \
                     to swap. Run `keyward doctor` for the fix."
                ));
            }
        }
        HAS_PENDING.store(true, Ordering::SeqCst);
    }
}

/// Emits the one-time warning recorded by [`warn_unlocked_once`], if any.
/// Called with no allocator lock held.
#[inline]
pub(crate) fn flush_warning() {
    if HAS_PENDING.load(Ordering::Relaxed) {
        flush_warning_slow();
    }
}

#[cold]
fn flush_warning_slow() {
    HAS_PENDING.store(false, Ordering::SeqCst);
    // Not a `Once`: the sink may allocate secure memory, fail to lock it and
    // come back here; that re-entry must find the warning already given.
    if WARNED.swap(true, Ordering::SeqCst) {
        return;
    }
    let msg = PENDING.lock().ok().and_then(|mut p| p.take());
    if let Some(msg) = msg {
        let sink = WARN_SINK.lock().ok().and_then(|s| *s);
        match sink {
            Some(f) => f(&msg),
            None => eprintln!("{msg}"),
        }
    }
}

/// RLIMIT_MEMLOCK soft limit in bytes; `None` means unlimited.
pub fn memlock_limit() -> Option<u64> {
    match nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_MEMLOCK) {
        Ok((soft, _)) if soft == nix::sys::resource::RLIM_INFINITY => None,
        Ok((soft, _)) => Some(soft),
        Err(_) => None,
    }
}
