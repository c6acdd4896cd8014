//! [`BulkBuf`]: a large buffer of ordinary (not locked, not secret) bytes,
//! such as a whole vault file read for one lookup.
//!
//! A fresh process fills such a buffer with one page fault per 4 KiB page,
//! each allocating and clearing a page: for a 16 MB vault file that costs
//! more than reading, authenticating and decrypting it (several
//! milliseconds on a virtual machine). A buffer of 2 MiB or more gets a
//! mapping of its own aligned to 2 MiB, with transparent huge pages asked for
//! (`MADV_HUGEPAGE`) over its whole 2 MiB blocks, and over a last partial
//! block that fills at least half of one: one fault per 2 MiB, and at most
//! 1 MiB more resident than a `Vec` would take. Where the kernel has no
//! huge pages the advice is ignored and it behaves like a `Vec`. The mapping
//! is excluded from core dumps (`MADV_DONTDUMP`); it is unmapped, not wiped,
//! on drop: wiping whatever it holds that is sensitive is the owner's job
//! ([`BulkBuf::wipe`]).

use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// Transparent huge page size on x86-64 and most arm64 kernels.
const HUGE: usize = 2 << 20;

/// A zero-initialised byte buffer that can shrink but never grows; small ones
/// live on the heap, large ones in a huge-page mapping of their own.
pub struct BulkBuf {
    inner: Inner,
    len: usize,
}

enum Inner {
    Heap(Vec<u8>),
    Mapped(Mapping),
}

/// `len` readable and writable bytes at `ptr`, mapped by us alone.
struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is owned exclusively by one `Mapping` (like a `Vec`'s
// buffer); nothing about it is tied to the thread that made it.
unsafe impl Send for Mapping {}
// SAFETY: shared access gives out only `&[u8]`.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// At least `len` zeroed bytes (len >= HUGE), 2 MiB-aligned, huge pages
    /// advised over the whole 2 MiB blocks, and over a partial last block
    /// when it fills at least half of one (so at most 1 MiB is resident but
    /// unused, and at most 255 small pages are faulted in one by one).
    fn new(len: usize) -> std::io::Result<Mapping> {
        let page = crate::sys::page_size();
        let whole = len / HUGE * HUGE;
        let huge = if len - whole >= HUGE / 2 {
            whole + HUGE
        } else {
            whole
        };
        let len = crate::sys::round_to_pages(len).max(huge);
        let total = len
            .checked_add(HUGE)
            .ok_or_else(|| std::io::Error::from_raw_os_error(libc::ENOMEM))?;
        // SAFETY: anonymous private mapping with a null hint; the result is checked.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let base = p as usize;
        let head = base.next_multiple_of(HUGE) - base;
        let tail = total - head - len;
        // Pointers derived from the mapping's own (provenance kept).
        let start = p.cast::<u8>().wrapping_add(head);
        debug_assert!(head.is_multiple_of(page) && tail.is_multiple_of(page));
        if head > 0 {
            // SAFETY: `base..start` is the unused head of the mapping just
            // made; unmapping it touches nothing else.
            unsafe { libc::munmap(p, head) };
        }
        if tail > 0 {
            // SAFETY: likewise the unused tail after `start + len`.
            unsafe { libc::munmap(start.wrapping_add(len).cast(), tail) };
        }
        let ptr =
            NonNull::new(start).ok_or_else(|| std::io::Error::from_raw_os_error(libc::ENOMEM))?;
        let m = Mapping { ptr, len };
        // Advice only: a kernel without huge pages (EINVAL) or without
        // MADV_DONTDUMP still gives a working buffer.
        // SAFETY: the range lies inside our own mapping; the advice changes no contents.
        unsafe { libc::madvise(start.cast(), huge, libc::MADV_HUGEPAGE) };
        // SAFETY: as above.
        unsafe { libc::madvise(start.cast(), len, libc::MADV_DONTDUMP) };
        Ok(m)
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: we own the whole range and nothing borrows it any more.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

impl BulkBuf {
    /// `len` zero bytes.
    pub fn zeroed(len: usize) -> std::io::Result<BulkBuf> {
        let inner = if len >= HUGE {
            Inner::Mapped(Mapping::new(len)?)
        } else {
            Inner::Heap(vec![0; len])
        };
        Ok(BulkBuf { inner, len })
    }

    /// Zeroes `range` of the buffer (a decrypted part, before the buffer
    /// goes): plain vectorised stores, kept by a compiler barrier as
    /// [`crate::WipeOnFree`] keeps its own; several times faster than
    /// [`crate::wipe`]'s volatile word stores over megabytes.
    pub fn wipe(&mut self, range: std::ops::Range<usize>) {
        if let Some(s) = self.get_mut(range) {
            s.fill(0);
            std::hint::black_box(s);
            std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// Shortens the buffer to `len` bytes (no effect if it is not longer).
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
        if let Inner::Heap(v) = &mut self.inner {
            v.truncate(self.len);
        }
    }
}

impl From<Vec<u8>> for BulkBuf {
    fn from(v: Vec<u8>) -> BulkBuf {
        BulkBuf {
            len: v.len(),
            inner: Inner::Heap(v),
        }
    }
}

impl Default for BulkBuf {
    fn default() -> BulkBuf {
        BulkBuf::from(Vec::new())
    }
}

impl Deref for BulkBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.inner {
            Inner::Heap(v) => v,
            // SAFETY: the mapping holds `m.len >= self.len` initialised
            // (zero-filled by the kernel) bytes and lives as long as `self`.
            Inner::Mapped(m) => unsafe { std::slice::from_raw_parts(m.ptr.as_ptr(), self.len) },
        }
    }
}

impl DerefMut for BulkBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        match &mut self.inner {
            Inner::Heap(v) => v,
            // SAFETY: as in `deref`, and `&mut self` makes the borrow exclusive.
            Inner::Mapped(m) => unsafe { std::slice::from_raw_parts_mut(m.ptr.as_ptr(), self.len) },
        }
    }
}

impl std::fmt::Debug for BulkBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkBuf")
            .field("len", &self.len)
            .field("mapped", &matches!(self.inner, Inner::Mapped(_)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_buffers_are_zeroed_writable_and_shrink() {
        for len in [0, 1, 4096, HUGE - 1, HUGE, HUGE + 12_345, 3 * HUGE + 1] {
            let mut b = BulkBuf::zeroed(len).unwrap();
            assert_eq!(b.len(), len);
            assert!(b.iter().all(|&x| x == 0));
            for (i, x) in b.iter_mut().enumerate() {
                *x = i as u8;
            }
            assert!(b.iter().enumerate().all(|(i, &x)| x == i as u8));
            b.wipe(1..len / 3);
            assert!(b
                .get(1..len / 3)
                .unwrap_or_default()
                .iter()
                .all(|&x| x == 0));
            assert!(len < 3 || b[0] == 0 && b[len / 3] == (len / 3) as u8);
            b.truncate(len / 2);
            assert_eq!(b.len(), len / 2);
            b.truncate(len);
            assert_eq!(b.len(), len / 2, "truncate never grows");
        }
    }

    #[test]
    fn large_buffers_are_aligned_to_huge_pages() {
        let b = BulkBuf::zeroed(HUGE + 1).unwrap();
        assert_eq!(b.as_ptr() as usize % HUGE, 0);
        assert!(format!("{b:?}").contains("mapped: true"));
        let v = BulkBuf::from(vec![7u8; 10]);
        assert_eq!(&v[..], &[7u8; 10]);
    }
}
