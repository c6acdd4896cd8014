//! `WipeOnFree`: a global allocator for keyward's programs that wipes every
//! heap block when it is freed or moved by `realloc`.
//!
//! Secrets never live in the ordinary heap, but libraries keep derived
//! material there for a moment: scrypt's `B` buffer (PBKDF2 of the password,
//! enough to test password guesses without scrypt's cost) and its scratch
//! block, the decrypted vault index (host and user names) while it grows.
//! glibc's `free` leaves those bytes in place until the block is reused, where
//! a core dump or a debugger finds them. With this allocator they are zeroed
//! first.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks this large are always `mmap`ed by glibc (its largest dynamic
/// threshold is 32 MiB) and go back to the kernel, which zeroes them, on free:
/// wiping them (scrypt's 128 MiB work area) would only cost time.
const WIPE_LIMIT: usize = 32 << 20;

/// The system allocator, with every freed block wiped (volatile stores) and
/// `realloc` done as allocate–copy–wipe–free, so no stale copy is left behind.
/// Install it in a binary with
/// `#[global_allocator] static A: keyward_secmem::WipeOnFree = keyward_secmem::WipeOnFree;`.
#[derive(Debug, Clone, Copy, Default)]
pub struct WipeOnFree;

// SAFETY: every method forwards to `System` with the caller's layout; blocks
// are wiped only while they are still owned (before `System.dealloc`).
unsafe impl GlobalAlloc for WipeOnFree {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.size() < WIPE_LIMIT {
            // A plain (vectorised) memset: a volatile store per word made
            // every run of a helper measurably slower. The barrier makes the
            // compiler assume the zeros are read, so the stores before `free`
            // are not removed as dead.
            // SAFETY: `ptr` is a live block of `layout.size()` bytes that the
            // caller gives up; nothing else refers to it.
            unsafe { std::ptr::write_bytes(ptr, 0, layout.size()) };
            std::hint::black_box(ptr);
            std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
        }
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size` fits `layout.align()`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: `new_layout` has a non-zero size (GlobalAlloc contract).
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live, distinct, and at least this long.
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
            // SAFETY: `ptr` is the caller's live block with `layout`.
            unsafe { self.dealloc(ptr, layout) };
        }
        new
    }
}
