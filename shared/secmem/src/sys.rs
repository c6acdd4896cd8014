//! Raw memory calls. Every `unsafe` block of the allocator lives here.
//!
//! This first version gives each secret its own guarded mapping; the pooled
//! allocator replaces it without changing `Region`'s contract.

use std::io;
use std::ptr::NonNull;

/// Page size of this machine.
pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n <= 0 {
        4096
    } else {
        n as usize
    }
}

/// Rounds `n` up to a whole number of pages.
pub(crate) fn round_to_pages(n: usize) -> usize {
    let p = page_size();
    n.div_ceil(p).max(1) * p
}

/// An anonymous, private mapping: `guard | data | guard`, guards inaccessible.
#[derive(Debug)]
pub(crate) struct Mapping {
    base: NonNull<u8>,
    total: usize,
    data_len: usize,
}

// SAFETY: the mapping is owned exclusively by one `Mapping` value; nothing about
// it is tied to the thread that created it.
unsafe impl Send for Mapping {}
// SAFETY: `Mapping` hands out no interior mutability through `&self`.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps `data_len` bytes (a multiple of the page size) between two guard pages.
    pub(crate) fn new(data_len: usize) -> io::Result<Self> {
        let page = page_size();
        let total = data_len + 2 * page;
        // SAFETY: anonymous private mapping with a null hint; the result is checked.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = NonNull::new(ptr.cast::<u8>()).ok_or_else(io::Error::last_os_error)?;
        let m = Mapping {
            base,
            total,
            data_len,
        };
        // SAFETY: the data range lies inside the mapping we just created.
        let rc = unsafe {
            libc::mprotect(
                m.data_ptr().cast(),
                data_len,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(m)
    }

    /// Start of the usable bytes.
    pub(crate) fn data_ptr(&self) -> *mut u8 {
        // SAFETY: one guard page lies inside the mapping, so the offset stays in bounds.
        unsafe { self.base.as_ptr().add(page_size()) }
    }

    /// Number of usable bytes.
    pub(crate) fn data_len(&self) -> usize {
        self.data_len
    }

    /// Locks the data pages in RAM.
    pub(crate) fn lock(&self) -> io::Result<()> {
        // SAFETY: the range is our own mapping.
        let rc = unsafe { libc::mlock(self.data_ptr().cast(), self.data_len) };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Excludes the data pages from core dumps and wipes them in forked children.
    pub(crate) fn advise(&self) -> io::Result<()> {
        for advice in [libc::MADV_DONTDUMP, libc::MADV_WIPEONFORK] {
            // SAFETY: the range is our own mapping; madvise has no other preconditions.
            let rc = unsafe { libc::madvise(self.data_ptr().cast(), self.data_len, advice) };
            if rc != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }

    /// The usable bytes.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: the data range is mapped read-write for the life of `self` and
        // `&mut self` guarantees exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.data_ptr(), self.data_len) }
    }

    /// The usable bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: the data range is mapped readable for the life of `self`.
        unsafe { std::slice::from_raw_parts(self.data_ptr(), self.data_len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(self.as_mut_slice());
        // SAFETY: the range is our own mapping; unlocking has no other effect.
        unsafe { libc::munlock(self.data_ptr().cast(), self.data_len) };
        // SAFETY: we own the whole mapping and nothing refers to it any more.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.total) };
    }
}
