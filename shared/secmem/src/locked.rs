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

/// A key and a value derived from it (its cipher and key schedule), together
/// in one guarded allocation of locked memory: the key right-aligned against
/// the trailing guard page (one byte past it faults), the value in front of
/// it. One mapping for both, where a `SecretBytes::guarded` key and a
/// `Locked` cipher would take two (each `memfd_secret` mapping costs a TLB
/// flush on every CPU when it goes). Built in place, the stack scrubbed after;
/// reached by reference only; wiped on drop. `Debug` prints a redaction.
pub struct Keyed<T> {
    region: Region,
    key_at: usize,
    key_len: usize,
    _t: PhantomData<T>,
}

impl<T> Keyed<T> {
    /// Copies `key` into a new guarded allocation and builds `derive(key)`
    /// (given the copy in locked memory) in front of it.
    pub fn new(key: &[u8], derive: impl FnOnce(&[u8]) -> T) -> Result<Self> {
        crate::with_scrubbed_stack(|| Self::build(key, derive))
    }

    fn build(key: &[u8], derive: impl FnOnce(&[u8]) -> T) -> Result<Self> {
        if std::mem::align_of::<T>() > ALIGN {
            return Err(Error::Map(std::io::Error::other(
                "type needs more than 16-byte alignment",
            )));
        }
        let key_at = std::mem::size_of::<T>().next_multiple_of(ALIGN);
        // The total is a multiple of 16, so the right-aligned start (and the
        // value there) is 16-byte aligned.
        let total = (key_at + key.len()).next_multiple_of(ALIGN);
        let key_at = total - key.len();
        let mut region = alloc::allocate_guarded(total)?;
        region.bytes_mut()[key_at..].copy_from_slice(key);
        let p = region.as_ptr().cast::<T>();
        if !(p as usize).is_multiple_of(std::mem::align_of::<T>()) {
            return Err(Error::Map(std::io::Error::other(
                "misaligned secure memory",
            )));
        }
        let value = derive(&region.bytes()[key_at..]);
        // SAFETY: `p` points at `key_at >= size_of::<T>()` writable bytes at
        // the start of `region`, suitably aligned (checked), that nothing else
        // refers to (the key lies after them).
        unsafe { p.write(value) };
        Ok(Keyed {
            region,
            key_at,
            key_len: key.len(),
            _t: PhantomData,
        })
    }

    /// The key.
    pub fn key(&self) -> &[u8] {
        &self.region.bytes()[self.key_at..self.key_at + self.key_len]
    }

    /// The value derived from it.
    pub fn get(&self) -> &T {
        // SAFETY: `build` wrote a valid `T` at the start of the region, which
        // lives as long as `self`; only shared references are handed out.
        unsafe { &*self.region.as_ptr().cast::<T>() }
    }
}

impl<T> Drop for Keyed<T> {
    fn drop(&mut self) {
        // SAFETY: the value was written by `build` and is dropped once, here;
        // the region (wiped by its own drop) outlives this call.
        unsafe { std::ptr::drop_in_place(self.region.as_ptr().cast::<T>()) };
    }
}

// SAFETY: `Keyed<T>` owns its `T` and its key bytes as a `Box` would.
unsafe impl<T: Send> Send for Keyed<T> {}
// SAFETY: only shared references are handed out through `&Keyed<T>`.
unsafe impl<T: Sync> Sync for Keyed<T> {}

impl<T> fmt::Debug for Keyed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keyed([REDACTED])")
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
    fn keyed_holds_key_at_the_end_and_value_in_front() {
        let k = Keyed::new(&[7u8; 32], |key| {
            let mut sum = 0u64;
            for b in key {
                sum += u64::from(*b);
            }
            [sum; 9]
        })
        .unwrap();
        assert_eq!(k.key(), &[7u8; 32]);
        assert_eq!(k.get(), &[224u64; 9]);
        let end = k.key().as_ptr() as usize + 32;
        assert_eq!(end % 4096, 0, "the key ends at the guard page");
        assert_eq!(k.get() as *const _ as usize % 16, 0);
        assert_eq!(format!("{k:?}"), "Keyed([REDACTED])");
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
