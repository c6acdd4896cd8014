//! `Locked<T>`: a value (a cipher and its key schedule, say) built in place in
//! secure memory, never returned or moved by value.

use crate::alloc::{self, Region};
use crate::error::{Error, Result};
use std::fmt;
use std::marker::PhantomData;

/// Alignment every secure allocation has (pool slots are 16-byte aligned;
/// guarded mappings are sized to a multiple of it and right-aligned to a page).
const ALIGN: usize = 16;

/// A `T` that lives only in locked, guarded memory and is wiped on drop.
///
/// Made for key-dependent state from other crates (an AES key schedule, GHASH
/// keys): [`Locked::new_with`] writes the value straight into secure memory
/// and then scrubs the stack the constructor ran on, so the copies the compiler
/// makes while building it do not outlive the call. The value is only ever
/// reached by reference ([`Locked::get`]); it cannot be moved out. `Debug`
/// prints a redaction.
pub struct Locked<T> {
    region: Region,
    _t: PhantomData<T>,
}

impl<T> Locked<T> {
    /// Builds `init()` in place in secure memory; scrubs the stack after.
    /// Errors when `T` needs more than 16-byte alignment.
    pub fn new_with(init: impl FnOnce() -> T) -> Result<Self> {
        crate::with_scrubbed_stack(|| Self::build(init))
    }

    fn build(init: impl FnOnce() -> T) -> Result<Self> {
        if std::mem::align_of::<T>() > ALIGN {
            return Err(Error::Map(std::io::Error::other(
                "type needs more than 16-byte alignment",
            )));
        }
        let size = std::mem::size_of::<T>().max(1).next_multiple_of(ALIGN);
        let region = if size <= alloc::MAX_POOLED {
            alloc::allocate(size)?
        } else {
            alloc::allocate_guarded(size)?
        };
        let p = region.as_ptr().cast::<T>();
        if !(p as usize).is_multiple_of(std::mem::align_of::<T>()) {
            return Err(Error::Map(std::io::Error::other(
                "misaligned secure memory",
            )));
        }
        // SAFETY: `p` points at `size >= size_of::<T>()` writable bytes of
        // `region`, suitably aligned (checked), that nothing else refers to.
        unsafe { p.write(init()) };
        Ok(Locked {
            region,
            _t: PhantomData,
        })
    }

    /// The value.
    pub fn get(&self) -> &T {
        // SAFETY: `new_with` wrote a valid `T` at the start of the region, which
        // lives as long as `self`; only shared references are handed out.
        unsafe { &*self.region.as_ptr().cast::<T>() }
    }
}

impl<T> Drop for Locked<T> {
    fn drop(&mut self) {
        // SAFETY: the value was written by `new_with` and is dropped once, here;
        // the region (wiped by its own drop) outlives this call.
        unsafe { std::ptr::drop_in_place(self.region.as_ptr().cast::<T>()) };
    }
}

// SAFETY: `Locked<T>` owns its `T` as a `Box<T>` would.
unsafe impl<T: Send> Send for Locked<T> {}
// SAFETY: only `&T` is handed out through `&Locked<T>`.
unsafe impl<T: Sync> Sync for Locked<T> {}

impl<T> fmt::Debug for Locked<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Locked([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Schedule([u64; 60]);
    impl Drop for Schedule {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn value_lives_in_secure_memory_and_is_dropped_once() {
        let l = Locked::new_with(|| Schedule([7; 60])).unwrap();
        assert!(l.get().0.iter().all(|&w| w == 7));
        assert_eq!(format!("{l:?}"), "Locked([REDACTED])");
        drop(l);
        assert_eq!(DROPS.load(Ordering::SeqCst), 1);
    }
}
