//! # keyward-secmem: memory for passwords, tokens and keys
//!
//! ## What it guarantees
//! - **Never the ordinary heap.** Secret bytes live only in dedicated
//!   mappings. Where the kernel allows it (Linux 5.14+, `secretmem` enabled)
//!   they are `memfd_secret(2)` pages: locked, removed from the kernel's direct
//!   map (even `/proc/PID/mem` reads give `EIO`), never dumped, and mapped
//!   `MADV_DONTFORK`. Otherwise anonymous pages with `mlock` +
//!   `MADV_DONTDUMP` + `MADV_WIPEONFORK`. The backend is chosen once per
//!   process ([`prefer_backend`] or `KEYWARD_SECMEM_BACKEND=mlock|memfd_secret`
//!   override the probe; the variable is ignored in setuid/setgid processes
//!   and after [`ignore_environment`], which the PAM module calls) and
//!   reported by [`status()`].
//! - **Pooled, guarded, canaried.** Secrets up to 2 KiB share size-class
//!   slabs in chunks that grow geometrically (4 KiB up to 256 KiB); every
//!   chunk sits between two `PROT_NONE` guard pages that cost no locked
//!   memory. Every slot has a random 16-byte canary on each side, and its
//!   unused tail must stay zero; all are checked on free, and a mismatch
//!   aborts the process with a message saying which side of how large a
//!   secret was overwritten. A read past a pooled slot is *not* caught: keep
//!   pooled slots for short-lived buffers. Free lists and all bookkeeping
//!   live in the ordinary heap, never beside the secrets. A 32-byte secret
//!   costs 48 locked bytes; chunks shrink to fit what is left of
//!   RLIMIT_MEMLOCK, and their growth follows the chunks alive now.
//! - **Guarded keys.** [`SecretBytes::guarded`] (and every secret over 2 KiB)
//!   gets a mapping of its own with the data right-aligned against the
//!   trailing guard page: one byte read or written past the end faults at
//!   once (libsodium's layout); a canary and zero slack before the data catch
//!   underflows on free. For long-lived keys.
//! - **Keys built in place.** [`Locked<T>`] builds a value (an AES key
//!   schedule) straight into secure memory and hands out only references;
//!   [`with_scrubbed_stack`] runs a KDF, HMAC or AES call and then wipes the
//!   stack it used, so moved and spilled copies of keys do not outlive it.
//! - **Wiped.** Every slot is wiped with volatile stores on drop (panic
//!   unwinding included) and zeroed again before reuse; growing a
//!   [`SecretBytes`] copies into a new slot and wipes the old one (no
//!   `realloc`). Empty chunks go back to the kernel ([`release_unused`]).
//! - **Forked children never see secrets**: they read zeros
//!   (`MADV_WIPEONFORK`) or fault (`MADV_DONTFORK`). The child's fork handler
//!   reserves every hole `MADV_DONTFORK` left (`MAP_FIXED_NOREPLACE`,
//!   inaccessible), and the child forgets inherited ranges without unmapping
//!   them: nothing it maps can alias, or be unmapped with, a parent's secret.
//!   A child that drops inherited secrets does not touch them or the
//!   parent's bookkeeping.
//! - **Narrow API.** Secrets print as `[REDACTED]` in `Debug`, have no
//!   `Display`, no `Serialize`, no implicit `Clone`; reading takes an explicit
//!   `expose_secret()` ([`ExposeSecret`]/[`ExposeSecretMut`]).
//! - **Locking failures are never silent and never a panic.** The
//!   [`LockPolicy`] decides: `best-effort` (default) warns once and goes on in
//!   unlocked but still guarded, dump-excluded, fork-wiped memory;
//!   `required` returns [`Error::MemlockExhausted`] (how many bytes, how many
//!   locked, the limit, and how to raise it). [`status()`] reports the backend,
//!   live secrets, locked bytes, RLIMIT_MEMLOCK, the policy and whether locking
//!   ever failed.
//! - **Input straight into locked memory.** [`prompt_secret`] reads `/dev/tty`
//!   byte by byte with echo off and restores the terminal on every path,
//!   including Ctrl-C, SIGTERM, SIGHUP and SIGQUIT (Ctrl-Z shows it restored
//!   while stopped); [`read_secret_from_fd`]
//!   does the same for scripts. [`SecretBytes::random`] fills locked memory
//!   straight from the OS CSPRNG.
//! - **Constant-time comparison** ([`ct_eq`], [`ct_eq_fixed`] for digests, so
//!   length leaks nothing), checked with a dudect-style Welch t-test
//!   (`cargo bench -p keyward-secmem --bench report`).
//! - [`harden_process`] (for keyward's own binaries, not the PAM module):
//!   `PR_SET_DUMPABLE=0` and `RLIMIT_CORE=0`.
//! - [`BulkBuf`], for large *non-secret* data (a whole vault file read for a
//!   lookup): on transparent huge pages when 2 MiB or more, so filling it
//!   costs one page fault per 2 MiB; excluded from core dumps; not locked,
//!   not wiped on drop (its owner wipes what it must).
//!
//! ## What it does not guarantee
//! - Copies the compiler leaves in registers, or on the stack where a caller
//!   did not use [`with_scrubbed_stack`]; scrypt's large work area (`V`,
//!   128 MiB at the default cost) is ordinary heap that the scrypt crate
//!   frees without wiping (freed `mmap` pages go back to the kernel, which
//!   zeroes them before reuse).
//! - Copies made by the kernel (pipe and tty buffers, the tty line editor) or
//!   by other programs (git, docker, the terminal) before or after a secret
//!   passes through us.
//! - Protection from root, from a debugger attached with the user's consent,
//!   or from hardware attacks (cold boot, Rowhammer, speculative execution).
//! - Detection of an overflow before the slot is freed, or of a write that
//!   skips over a canary; canaries catch accidents, not a determined attacker
//!   who can already write our memory.
//! - Fork from a thread while another thread is inside the allocator is made
//!   safe by a `pthread_atfork` handler; raw `clone(2)` without it is not.
//! - `memfd_secret` pages block hibernation while they exist; choose `mlock`
//!   ([`prefer_backend`]) where that matters.
#![deny(missing_docs)]
// `unsafe` is fenced: denied here, allowed only in the modules below that say
// why (the raw system calls, the allocator over them, in-place construction,
// and the terminal/signal handling of prompts).
#![deny(unsafe_code)]

#[allow(unsafe_code)] // hands out slots of the raw mappings `sys` makes
mod alloc;
#[allow(unsafe_code)] // maps a large plain buffer on transparent huge pages
mod bulk;
pub mod ct;
mod error;
mod harden;
#[allow(unsafe_code)] // termios and signal handlers for the echo-off prompt
pub mod input;
#[allow(unsafe_code)] // writes a `T` into a raw secure allocation
mod locked;
mod policy;
mod secret;
mod status;
#[allow(unsafe_code)] // the raw memory, fd and aux-vector system calls
mod sys;
#[allow(unsafe_code)] // a GlobalAlloc over the system allocator
mod wipe_alloc;

pub use alloc::{ignore_environment, prefer_backend, release_unused, MAX_SECRET_LEN};
pub use bulk::BulkBuf;
pub use locked::{Keyed, Locked};
pub use wipe_alloc::WipeOnFree;

pub use ct::{ct_eq, ct_eq_fixed};
pub use error::{Error, Result};
pub use harden::{harden_process, is_dumpable};
pub use input::{prompt_secret, read_secret_from_fd};
pub use policy::{memlock_limit, policy, set_policy, set_warning_sink, Backend, LockPolicy};
pub use secrecy::{ExposeSecret, ExposeSecretMut};
pub use secret::{SecretBytes, SecretString};
pub use status::{status, Status};

/// Wipes ordinary memory that held sensitive but non-secret data (a decrypted
/// vault index, say) with stores the compiler may not elide, eight bytes at a
/// time; `zeroize` on a byte slice stores one byte at a time. Secrets belong
/// in [`SecretBytes`], which wipes itself.
pub fn wipe(buf: &mut [u8]) {
    sys::wipe_slice(buf);
}

/// Has the C library overwrite every block of the C heap as it is freed
/// (glibc's `M_PERTURB`), for processes that call C code which leaves
/// secrets in blocks it frees without wiping (libtss2's unsealed data, in
/// keyward-tpm). It does not reach blocks glibc keeps in a thread's cache
/// (tcache) until that thread ends: run such C code on a thread of its own
/// that ends right after. It also keeps glibc to one arena (such a thread's
/// blocks go to the main heap, not to a 64 MiB arena of its own that
/// outlives it). Costs a `memset` per `free` from then on; call it only in
/// processes that need it. `false` where it is not available (another C
/// library).
pub fn wipe_c_heap_on_free() -> bool {
    sys::perturb_c_heap()
}

/// Wipes the stack just below the caller's frame (32 KiB), where the functions
/// it called left copies of keys, key schedules and passwords: scrypt's HMAC
/// key blocks, an AES key expansion, values moved between frames. Call it
/// right after a KDF, HMAC or AES call returns, from a function that is an
/// ancestor of that call (libsodium's `sodium_stackzero`). Only as deep as
/// the stack was ever used (pages never touched hold nothing and are not
/// faulted in). Costs about a microsecond.
#[inline(never)]
pub fn scrub_stack() {
    sys::scrub_stack();
}

/// Runs `f` (a KDF, HMAC or AES call) in a frame of its own, then wipes the
/// stack it used ([`scrub_stack`]): the key blocks, key schedules and moved
/// copies it left there do not outlive the call.
///
/// Calls nest: inside another `with_scrubbed_stack` on the same thread, `f`
/// just runs, and the outermost call's wipe covers it (its frames lie below
/// the outer frame, within the 32 KiB wiped as long as the whole nest uses
/// less stack than that). Several key operations done together (the audit
/// trail derives two keys, seals a name and computes two MACs per entry)
/// then cost one wipe instead of one each.
#[inline(never)]
pub fn with_scrubbed_stack<R>(f: impl FnOnce() -> R) -> R {
    thread_local! {
        static DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }
    /// Leaves the nest even when `f` unwinds.
    struct Nest;
    impl Drop for Nest {
        fn drop(&mut self) {
            DEPTH.with(|d| d.set(d.get() - 1));
        }
    }
    let outer = DEPTH.with(|d| {
        let depth = d.get();
        d.set(depth + 1);
        depth == 0
    });
    let nest = Nest;
    let r = run_in_own_frame(f);
    drop(nest);
    if outer {
        sys::scrub_stack();
    }
    r
}

#[inline(never)]
fn run_in_own_frame<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Borrows the descriptor `fd` this process was given by its caller (a
/// `--password-fd N` option), checking that it is open. Reading it in place
/// keeps what reopening `/proc/self/fd/N` loses: a pipe or file opened by
/// another user (or by root for this user), a socket, the file's offset.
pub fn inherited_fd(fd: i32) -> Result<std::os::fd::BorrowedFd<'static>> {
    sys::inherited_fd(fd).map_err(|source| Error::Io {
        context: "not an open file descriptor",
        source,
    })
}

#[cfg(test)]
mod wipe_tests {
    #[test]
    fn wipe_zeroes_every_byte_at_any_alignment_and_length() {
        for start in 0..9 {
            for len in [0, 1, 7, 8, 9, 15, 16, 17, 100, 4099] {
                let mut v = vec![0xA5u8; start + len + 3];
                super::wipe(&mut v[start..start + len]);
                assert!(v[..start].iter().all(|&b| b == 0xA5));
                assert!(v[start..start + len].iter().all(|&b| b == 0));
                assert!(v[start + len..].iter().all(|&b| b == 0xA5));
            }
        }
    }
}
