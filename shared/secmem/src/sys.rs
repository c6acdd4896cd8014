//! Raw memory calls. The allocator's `unsafe` lives here, behind small safe
//! (or narrowly `unsafe`) functions that `alloc` composes.
//!
//! A [`Guarded`] mapping is `guard | data | guard`: the guards are an anonymous
//! `PROT_NONE` reservation that costs no locked (and no resident) memory; the
//! data pages are either a `memfd_secret(2)` file mapped over the middle of the
//! reservation, or the reservation itself made read-write.

use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{compiler_fence, AtomicUsize, Ordering};

static PAGE: AtomicUsize = AtomicUsize::new(0);

/// Page size of this machine.
pub(crate) fn page_size() -> usize {
    let p = PAGE.load(Ordering::Relaxed);
    if p != 0 {
        return p;
    }
    // SAFETY: sysconf has no memory-safety preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let p = if n <= 0 { 4096 } else { n as usize };
    PAGE.store(p, Ordering::Relaxed);
    p
}

/// Rounds `n` up to a whole number of pages (at least one).
pub(crate) fn round_to_pages(n: usize) -> usize {
    let p = page_size();
    n.div_ceil(p).max(1) * p
}

/// Why a mapping could not be made.
#[derive(Debug)]
pub(crate) enum MapError {
    /// The kernel refused to lock the pages (RLIMIT_MEMLOCK, no permission).
    Lock(io::Error),
    /// Any other failure (address space, file descriptors, no kernel support).
    Other(io::Error),
}

fn last_err() -> io::Error {
    io::Error::last_os_error()
}

/// Whether `memfd_secret(2)` works in this process (kernel support, not disabled).
pub(crate) fn memfd_secret_available() -> bool {
    // SAFETY: memfd_secret takes one flags argument and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_memfd_secret, libc::O_CLOEXEC as libc::c_ulong) };
    if fd < 0 {
        return false;
    }
    // SAFETY: we own the descriptor we just created.
    unsafe { libc::close(fd as libc::c_int) };
    true
}

/// `guard | data | guard`, the guards inaccessible and never locked.
#[derive(Debug)]
pub(crate) struct Guarded {
    base: NonNull<u8>,
    total: usize,
    data_len: usize,
}

// SAFETY: the mapping is owned exclusively by one `Guarded`; nothing about it is
// tied to the thread that created it.
unsafe impl Send for Guarded {}
// SAFETY: `Guarded` hands out only raw pointers through `&self`.
unsafe impl Sync for Guarded {}

impl Guarded {
    /// Reserves `guard | data_len | guard` as one inaccessible range.
    fn reserve(data_len: usize) -> io::Result<Self> {
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
            return Err(last_err());
        }
        let base = NonNull::new(ptr.cast::<u8>()).ok_or_else(last_err)?;
        Ok(Guarded {
            base,
            total,
            data_len,
        })
    }

    fn advise(&self, advice: libc::c_int) -> io::Result<()> {
        // SAFETY: the data range is part of our own mapping; madvise has no other
        // memory-safety preconditions for these advice values.
        let rc = unsafe { libc::madvise(self.data_ptr().cast(), self.data_len, advice) };
        if rc == 0 {
            Ok(())
        } else {
            Err(last_err())
        }
    }

    /// Anonymous read-write data pages, excluded from core dumps and wiped in
    /// forked children (`MADV_DONTDUMP`, `MADV_WIPEONFORK`). Not locked yet.
    pub(crate) fn anon(data_len: usize) -> io::Result<Self> {
        let g = Self::reserve(data_len)?;
        // SAFETY: the data range lies inside the reservation we own.
        let rc = unsafe {
            libc::mprotect(
                g.data_ptr().cast(),
                data_len,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        };
        if rc != 0 {
            return Err(last_err());
        }
        g.advise(libc::MADV_DONTDUMP)?;
        g.advise(libc::MADV_WIPEONFORK)?;
        Ok(g)
    }

    /// Locks the data pages in RAM.
    pub(crate) fn mlock(&self) -> io::Result<()> {
        // SAFETY: the range is our own read-write mapping.
        let rc = unsafe { libc::mlock(self.data_ptr().cast(), self.data_len) };
        if rc == 0 {
            Ok(())
        } else {
            Err(last_err())
        }
    }

    /// Data pages from `memfd_secret(2)`: implicitly locked, out of the kernel's
    /// direct map, never dumped; `MADV_DONTFORK` keeps them out of children.
    /// The file descriptor is closed at once, so a child cannot map it either.
    pub(crate) fn memfd_secret(data_len: usize) -> Result<Self, MapError> {
        let g = Self::reserve(data_len).map_err(MapError::Other)?;
        // SAFETY: memfd_secret takes one flags argument and returns a new fd or -1.
        let fd = unsafe { libc::syscall(libc::SYS_memfd_secret, libc::O_CLOEXEC as libc::c_ulong) };
        if fd < 0 {
            return Err(MapError::Other(last_err()));
        }
        let fd = fd as libc::c_int;
        let result = (|| {
            // SAFETY: `fd` is the descriptor we just created.
            if unsafe { libc::ftruncate(fd, data_len as libc::off_t) } != 0 {
                return Err(MapError::Other(last_err()));
            }
            // SAFETY: MAP_FIXED replaces the middle of our own reservation and
            // nothing else; the result is checked.
            let p = unsafe {
                libc::mmap(
                    g.data_ptr().cast(),
                    data_len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED | libc::MAP_FIXED,
                    fd,
                    0,
                )
            };
            if p == libc::MAP_FAILED {
                let e = last_err();
                return Err(match e.raw_os_error() {
                    Some(libc::EAGAIN) | Some(libc::ENOMEM) | Some(libc::EPERM) => {
                        MapError::Lock(e)
                    }
                    _ => MapError::Other(e),
                });
            }
            g.advise(libc::MADV_DONTFORK).map_err(MapError::Other)?;
            Ok(())
        })();
        // SAFETY: we own the descriptor; the mapping keeps the file alive.
        unsafe { libc::close(fd) };
        result.map(|()| g)
    }

    /// Start of the data pages.
    pub(crate) fn data_ptr(&self) -> *mut u8 {
        // SAFETY: one guard page lies inside the mapping, so the offset stays in bounds.
        unsafe { self.base.as_ptr().add(page_size()) }
    }

    /// Number of data bytes.
    pub(crate) fn data_len(&self) -> usize {
        self.data_len
    }
}

impl Guarded {
    /// In a forked child: lets go of an inherited mapping without unmapping it
    /// (the range, guards and the reserved hole included, stays reserved for the
    /// life of the child, so no new mapping can alias it).
    pub(crate) fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for Guarded {
    /// Unmaps (which also unlocks). Wiping is the owner's job. Never runs for a
    /// mapping a forked child inherited ([`Guarded::forget`]).
    fn drop(&mut self) {
        // SAFETY: we own the whole range and nothing refers to it any more.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.total) };
    }
}

/// Overwrites `len` bytes at `ptr` with zeros: one plain (vectorised) memset
/// the compiler may not elide, since `black_box` then hands the pointer to
/// code it cannot see (as `WipeOnFree` does). A volatile store per word made
/// every drop of a large secret, and the pool's teardown, cost a loop of
/// 8-byte stores.
///
/// # Safety
/// `ptr..ptr+len` must be writable memory owned by the caller.
pub(crate) unsafe fn wipe(ptr: *mut u8, len: usize) {
    // SAFETY: guaranteed by the caller.
    unsafe { std::ptr::write_bytes(ptr, 0, len) };
    std::hint::black_box(ptr);
    compiler_fence(Ordering::SeqCst);
}

/// [`wipe`] over a slice.
pub(crate) fn wipe_slice(buf: &mut [u8]) {
    // SAFETY: `buf` is a live, exclusively borrowed, writable slice.
    unsafe { wipe(buf.as_mut_ptr(), buf.len()) };
}

/// glibc's `M_PERTURB`: from now on `free` fills each freed block of the C
/// heap with 0xff (and `malloc` hands out blocks filled with 0x00). `false`
/// where the C library is not glibc or refuses.
pub(crate) fn perturb_c_heap() -> bool {
    #[cfg(target_env = "gnu")]
    {
        // SAFETY: mallopt only sets an allocator parameter; M_PERTURB takes
        // any byte value, and glibc serialises the change with its own lock.
        let perturb = unsafe { libc::mallopt(libc::M_PERTURB, 0xff) == 1 };
        // One arena: a thread's blocks go to the main heap instead of an
        // arena of its own (a 64 MiB mapping that outlives the thread).
        // SAFETY: as above; M_ARENA_MAX takes any positive count.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) };
        perturb
    }
    #[cfg(not(target_env = "gnu"))]
    {
        false
    }
}

/// Writes a 16-byte canary at `at` (any alignment).
///
/// # Safety
/// `at..at+16` must be writable memory owned by the caller.
pub(crate) unsafe fn write_canary(at: *mut u8, words: [u64; 2]) {
    // SAFETY: the caller guarantees 16 writable bytes.
    unsafe { at.cast::<[u64; 2]>().write_unaligned(words) };
    compiler_fence(Ordering::SeqCst);
}

/// Reads the 16-byte canary at `at` (any alignment).
///
/// # Safety
/// `at..at+16` must be readable memory owned by the caller.
pub(crate) unsafe fn read_canary(at: *const u8) -> [u64; 2] {
    compiler_fence(Ordering::SeqCst);
    // SAFETY: the caller guarantees 16 readable bytes.
    unsafe { at.cast::<[u64; 2]>().read_unaligned() }
}

/// Whether the `len` bytes at `ptr` are all zero.
///
/// # Safety
/// `ptr..ptr+len` must be readable memory owned by the caller.
pub(crate) unsafe fn all_zero(ptr: *const u8, len: usize) -> bool {
    compiler_fence(Ordering::SeqCst);
    // SAFETY: guaranteed by the caller.
    let s = unsafe { std::slice::from_raw_parts(ptr, len) };
    // An OR over every byte (vectorised), not an early-exit scan per byte.
    s.iter().fold(0u8, |acc, &b| acc | b) == 0
}

/// Zeroes `len` bytes at `ptr` (plain stores: the bytes are about to be used).
///
/// # Safety
/// `ptr..ptr+len` must be writable memory owned by the caller.
pub(crate) unsafe fn zero(ptr: *mut u8, len: usize) {
    // SAFETY: guaranteed by the caller.
    unsafe { std::ptr::write_bytes(ptr, 0, len) };
}

/// Writes `msg` to stderr without allocating and aborts the process.
pub(crate) fn abort_with(msg: &str) -> ! {
    // SAFETY: writing a valid buffer to fd 2; the result does not matter.
    unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
    std::process::abort()
}

/// In a forked child: makes sure nothing new can be mapped over `len` bytes at
/// `ptr`, the data pages of a mapping inherited from the parent.
/// `MADV_DONTFORK` leaves them as a hole between the inherited guard pages; an
/// inaccessible reservation over the hole (`MAP_FIXED_NOREPLACE`, so it never
/// replaces anything) keeps a later `mmap` of the child out of it, so an
/// inherited pointer faults instead of aliasing the child's own memory. Where
/// the pages were inherited (`MADV_WIPEONFORK`) the call fails with `EEXIST`
/// and changes nothing. Async-signal-safe: one system call, no allocation.
pub(crate) fn reserve_hole(ptr: *mut u8, len: usize) {
    // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping, so this
    // can only add an inaccessible reservation where nothing is mapped. The
    // result is deliberately not used.
    unsafe {
        libc::mmap(
            ptr.cast(),
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE
                | libc::MAP_ANONYMOUS
                | libc::MAP_NORESERVE
                | libc::MAP_FIXED_NOREPLACE,
            -1,
            0,
        )
    };
}

/// Whether this process runs with elevated privileges it did not get from its
/// caller (`AT_SECURE`: setuid, setgid or file capabilities), as glibc's
/// `secure_getenv` decides. Such a process must ignore the environment.
pub(crate) fn is_secure_exec() -> bool {
    // SAFETY: getauxval has no memory-safety preconditions.
    unsafe { libc::getauxval(libc::AT_SECURE) != 0 }
}

/// Borrows descriptor `fd`, which this process inherited from its caller (a
/// `--password-fd N` option), after checking with `fcntl(F_GETFD)` that it is
/// open. The descriptor is read in place: its offset, its open file
/// description's credentials and its type (pipe, socket, file, tty) are kept.
pub(crate) fn inherited_fd(fd: libc::c_int) -> io::Result<std::os::fd::BorrowedFd<'static>> {
    if fd < 0 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    // SAFETY: F_GETFD only reads the descriptor table.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(last_err());
    }
    // SAFETY: the descriptor is open (checked above) and was handed to this
    // process by its caller; keyward never closes a descriptor it did not open,
    // so it stays open for the rest of the process.
    Ok(unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) })
}

/// Bytes of stack [`scrub_stack`] wipes below its caller's frame: more than
/// scrypt, HMAC-SHA-256 and AES-GCM (key schedule, GHASH keys) use.
pub(crate) const STACK_SCRUB_LEN: usize = 32 * 1024;

/// Wipes [`STACK_SCRUB_LEN`] bytes of stack just below the caller's frame, where
/// the frames of the functions it called (a KDF, HMAC, an AES key expansion)
/// left copies of keys and passwords (libsodium's `sodium_stackzero`). Never
/// inlined, so what it wipes lies below the caller.
///
/// Only as deep as the process ever touched its stack ([`stack_in_use`]): a
/// page never touched holds nothing, and writing zeros would only fault it
/// in. On x86-64 the wipe is one `rep stosb` below the stack pointer: a
/// 32 KiB array in a frame made the compiler probe (touch) every page of it
/// on entry, and a git helper's `get`, which uses about 20 KiB of stack, paid
/// six page faults for that, 15 µs on the VM of docs/benchmarks.md.
#[inline(never)]
pub(crate) fn scrub_stack() {
    #[cfg(target_arch = "x86_64")]
    {
        let sp: usize;
        // SAFETY: reads the stack pointer into a register, nothing else.
        unsafe {
            std::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags))
        };
        let bottom = sp.saturating_sub(STACK_SCRUB_LEN);
        let len = stack_in_use(bottom as *mut u8, sp - bottom);
        // SAFETY: zeroes `len` (at most STACK_SCRUB_LEN) bytes just below
        // the stack pointer: stack no live frame uses, which an asm block
        // without `nostack` may write. The direction flag is clear (the
        // ABI's guarantee); rdi, rcx and rax are declared clobbered. A
        // signal frame pushed there meanwhile is used and gone before the
        // string store resumes.
        unsafe {
            std::arch::asm!(
                "mov rdi, rsp",
                "sub rdi, rcx",
                "xor eax, eax",
                "rep stosb",
                inout("rcx") len => _,
                out("rdi") _,
                out("rax") _,
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let mut area = std::mem::MaybeUninit::<[u8; STACK_SCRUB_LEN]>::uninit();
        let p = area.as_mut_ptr().cast::<u8>();
        // SAFETY: `area` is a local array of STACK_SCRUB_LEN writable bytes.
        unsafe { std::ptr::write_bytes(p, 0, STACK_SCRUB_LEN) };
        compiler_fence(Ordering::SeqCst);
        std::hint::black_box(&mut area);
    }
    clear_vector_registers();
}

/// How many of the `len` bytes of stack at `p` (growing down: the top end is
/// in use) lie at or above the deepest page present in memory (`mincore`):
/// the part a scrub must wipe. A page never touched is not present and holds
/// nothing. A page the kernel swapped out is not present either: if it lies
/// below every present one it is skipped (its copy is on the swap device
/// whether or not this process rewrites it). All of `len` when `mincore`
/// fails.
fn stack_in_use(p: *mut u8, len: usize) -> usize {
    const MAX_PAGES: usize = STACK_SCRUB_LEN / 4096 + 1;
    let page = page_size();
    let start = p as usize & !(page - 1);
    let pages = (p as usize + len - start).div_ceil(page);
    if pages > MAX_PAGES {
        return len;
    }
    let mut present = [0u8; MAX_PAGES];
    // SAFETY: `start` is page-aligned and the range covers only our own
    // stack array (and the page parts around it); mincore writes one byte
    // per page into `present`, which has room for `pages`.
    let rc = unsafe {
        libc::mincore(
            start as *mut libc::c_void,
            pages * page,
            present.as_mut_ptr(),
        )
    };
    if rc != 0 {
        return len;
    }
    match present[..pages].iter().position(|b| b & 1 != 0) {
        // The first present page, and every byte of `p..p+len` from its start.
        Some(i) => (p as usize + len) - (start + i * page).max(p as usize),
        None => len,
    }
}

/// Zeroes the vector registers. A memcpy of a key (into a locked buffer, a
/// frame for the login helper) leaves it in `xmm`/`ymm`/`zmm` registers, which
/// the C ABI lets every later function leave untouched; the next lazily bound
/// library call (`_dl_runtime_resolve_xsave*` saves every vector register on
/// the stack) or signal frame then writes them into the host's stack, far
/// above any frame a stack scrub reaches. Seen: half a vault key in a PAM
/// host's stack, saved there when pamtester's `main` first called
/// `pam_close_session`.
#[inline(never)]
pub(crate) fn clear_vector_registers() {
    #[cfg(target_arch = "x86_64")]
    {
        let regs = vector_registers();
        if regs == VectorRegs::Avx512 {
            // SAFETY: the CPU has AVX-512F (checked above); the asm only
            // zeroes registers the C ABI lets any call clobber, and says so.
            unsafe { clear_avx512() }
        } else if regs == VectorRegs::Avx {
            // SAFETY: the CPU has AVX (checked above); `vzeroall` zeroes
            // ymm0-15, all caller-saved (clobber_abi).
            unsafe { std::arch::asm!("vzeroall", clobber_abi("C"), options(nostack)) }
        } else {
            // SAFETY: SSE2 is part of x86-64; xmm0-15 are caller-saved (clobber_abi).
            unsafe {
                std::arch::asm!(
                    "xorps xmm0, xmm0",
                    "xorps xmm1, xmm1",
                    "xorps xmm2, xmm2",
                    "xorps xmm3, xmm3",
                    "xorps xmm4, xmm4",
                    "xorps xmm5, xmm5",
                    "xorps xmm6, xmm6",
                    "xorps xmm7, xmm7",
                    "xorps xmm8, xmm8",
                    "xorps xmm9, xmm9",
                    "xorps xmm10, xmm10",
                    "xorps xmm11, xmm11",
                    "xorps xmm12, xmm12",
                    "xorps xmm13, xmm13",
                    "xorps xmm14, xmm14",
                    "xorps xmm15, xmm15",
                    clobber_abi("C"),
                    options(nostack)
                )
            }
        }
    }
}

/// The widest vector registers this CPU has and the kernel saves.
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VectorRegs {
    /// xmm0-15 (x86-64's SSE2).
    Sse,
    /// ymm0-15.
    Avx,
    /// zmm0-31.
    Avx512,
}

/// [`VectorRegs`] of this machine, found once per process.
#[cfg(target_arch = "x86_64")]
fn vector_registers() -> VectorRegs {
    use std::sync::atomic::AtomicU8;
    static FOUND: AtomicU8 = AtomicU8::new(0);
    let regs = match FOUND.load(Ordering::Relaxed) {
        1 => return VectorRegs::Sse,
        2 => return VectorRegs::Avx,
        3 => return VectorRegs::Avx512,
        _ => detect_vector_registers(),
    };
    FOUND.store(regs as u8 + 1, Ordering::Relaxed);
    regs
}

/// Asks glibc for the CPUID values it read at start-up
/// (`__x86_get_cpuid_feature_leaf`, glibc 2.33+, `<sys/platform/x86.h>`),
/// then the kernel's XCR0 (`xgetbv`) for what it saves: the checks
/// `is_x86_feature_detected!` makes, without its seven `cpuid`
/// instructions. In a virtual machine every `cpuid` traps to the hypervisor
/// (8-9 µs each on the VM of docs/benchmarks.md): those seven were 60 µs, a
/// tenth of a whole `git-credential-keyward get`. The raw CPUID bits, not
/// glibc's "active" ones, which a `GLIBC_TUNABLES` mask can clear while the
/// registers (and keys in them) are still there.
#[cfg(all(target_arch = "x86_64", target_env = "gnu"))]
fn detect_vector_registers() -> VectorRegs {
    /// glibc's `struct cpuid_feature`.
    #[repr(C)]
    struct CpuidFeature {
        cpuid: [u32; 4],
        active: [u32; 4],
    }
    extern "C" {
        fn __x86_get_cpuid_feature_leaf(leaf: libc::c_uint) -> *const CpuidFeature;
    }
    /// glibc's `CPUID_INDEX_1` and `CPUID_INDEX_7`; registers eax, ebx, ecx, edx.
    const LEAF_1: libc::c_uint = 0;
    const LEAF_7: libc::c_uint = 1;
    const EBX: usize = 1;
    const ECX: usize = 2;
    let reg = |leaf, r: usize| {
        // SAFETY: a plain query without preconditions.
        let entry = unsafe { __x86_get_cpuid_feature_leaf(leaf) };
        // SAFETY: glibc returns a pointer to its static, initialised
        // feature table (a zeroed entry for a leaf it does not know); it
        // lives as long as the process and is never written after start-up.
        unsafe { entry.as_ref() }.map_or(0, |f| f.cpuid[r])
    };
    let (leaf1_ecx, leaf7_ebx) = (reg(LEAF_1, ECX), reg(LEAF_7, EBX));
    let osxsave = leaf1_ecx & (1 << 27) != 0;
    if !osxsave {
        return VectorRegs::Sse;
    }
    // SAFETY: OSXSAVE is set (checked above), so `xgetbv` with ecx = 0 reads
    // XCR0; it writes only the named registers.
    let xcr0 = unsafe {
        let (lo, hi): (u32, u32);
        std::arch::asm!("xgetbv", in("ecx") 0u32, out("eax") lo, out("edx") hi,
            options(nomem, nostack, preserves_flags));
        u64::from(hi) << 32 | u64::from(lo)
    };
    let avx = leaf1_ecx & (1 << 28) != 0 && xcr0 & 0b110 == 0b110;
    let avx512f = leaf7_ebx & (1 << 16) != 0 && xcr0 & 0b1110_0110 == 0b1110_0110;
    match (avx, avx512f) {
        (true, true) => VectorRegs::Avx512,
        (true, false) => VectorRegs::Avx,
        _ => VectorRegs::Sse,
    }
}

/// Elsewhere than glibc: the standard library's detection.
#[cfg(all(target_arch = "x86_64", not(target_env = "gnu")))]
fn detect_vector_registers() -> VectorRegs {
    if std::arch::is_x86_feature_detected!("avx512f") {
        VectorRegs::Avx512
    } else if std::arch::is_x86_feature_detected!("avx") {
        VectorRegs::Avx
    } else {
        VectorRegs::Sse
    }
}

/// [`clear_vector_registers`] on a CPU with AVX-512: `vzeroall` zeroes
/// zmm0-15 whole, and glibc's EVEX memcpy uses zmm16-31 (ymm16-31), which
/// it leaves alone.
///
/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn clear_avx512() {
    // SAFETY: AVX-512F is available (the caller's contract); every register
    // written is caller-saved in the C ABI (clobber_abi covers zmm0-31 and
    // k0-7 with avx512f enabled).
    unsafe {
        std::arch::asm!(
            "vzeroall",
            "vpxord zmm16, zmm16, zmm16",
            "vpxord zmm17, zmm17, zmm17",
            "vpxord zmm18, zmm18, zmm18",
            "vpxord zmm19, zmm19, zmm19",
            "vpxord zmm20, zmm20, zmm20",
            "vpxord zmm21, zmm21, zmm21",
            "vpxord zmm22, zmm22, zmm22",
            "vpxord zmm23, zmm23, zmm23",
            "vpxord zmm24, zmm24, zmm24",
            "vpxord zmm25, zmm25, zmm25",
            "vpxord zmm26, zmm26, zmm26",
            "vpxord zmm27, zmm27, zmm27",
            "vpxord zmm28, zmm28, zmm28",
            "vpxord zmm29, zmm29, zmm29",
            "vpxord zmm30, zmm30, zmm30",
            "vpxord zmm31, zmm31, zmm31",
            clobber_abi("C"),
            options(nostack)
        )
    }
}

/// Registers fork handlers once: `prepare` runs before `fork()`, `parent` and
/// `child` after it in the respective process.
pub(crate) fn register_atfork(
    prepare: extern "C" fn(),
    parent: extern "C" fn(),
    child: extern "C" fn(),
) {
    // SAFETY: the handlers are plain functions that live as long as the program
    // (glibc unregisters them if this library is unloaded).
    unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
}

#[cfg(test)]
mod scrub_tests {
    use super::{page_size, scrub_stack, stack_in_use, STACK_SCRUB_LEN};

    const MARK: u8 = 0x5A;
    const MARK_LEN: usize = 8192;

    /// Leaves `MARK_LEN` bytes of `MARK` in the frame of a callee 4 KiB
    /// below its own, and says where (deep enough that the frames of the
    /// checks that follow do not reach it, well within a scrub's reach).
    #[inline(never)]
    fn leave_marker() -> usize {
        let mut pad = [0u8; 4096];
        std::hint::black_box(&mut pad);
        let at = leave_marker_here();
        std::hint::black_box(&mut pad);
        at
    }

    #[inline(never)]
    fn leave_marker_here() -> usize {
        let mut buf = [0u8; MARK_LEN];
        buf.fill(MARK);
        std::hint::black_box(&mut buf);
        buf.as_ptr() as usize
    }

    #[inline(never)]
    fn marks_at(at: usize) -> usize {
        let mut n = 0;
        for i in 0..MARK_LEN {
            // SAFETY: the bytes lie in this thread's stack, below the
            // current frame (a returned callee's frame): mapped and
            // readable; read one by one, volatile, as raw memory.
            n += usize::from(unsafe { std::ptr::read_volatile((at + i) as *const u8) } == MARK);
        }
        n
    }

    /// What a callee left on the stack is gone after a scrub from its caller
    /// (skipping untouched pages skips none of it).
    #[test]
    fn a_scrub_wipes_what_a_callee_left() {
        std::thread::spawn(|| {
            let at = leave_marker();
            assert_eq!(
                marks_at(at),
                MARK_LEN,
                "the marker is not where it was left"
            );
            scrub_stack();
            assert_eq!(marks_at(at), 0);
        })
        .join()
        .unwrap();
    }

    /// Of a range of fresh anonymous memory laid out as a stack (in use from
    /// the top), only the pages from the deepest one touched count.
    #[test]
    fn stack_in_use_starts_at_the_deepest_touched_page() {
        let page = page_size();
        let total = STACK_SCRUB_LEN + 4 * page;
        // SAFETY: a new private anonymous mapping (smaller than a huge
        // page, so its pages fault in one by one); checked below.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED);
        let base = base.cast::<u8>();
        // The "stack array": not page-aligned, as on a real stack.
        let p = base.wrapping_add(2 * page + 100);
        let len = STACK_SCRUB_LEN;
        let touch = |off: usize| {
            // SAFETY: `off` is inside the mapping.
            unsafe { std::ptr::write_volatile(base.wrapping_add(off), 1) }
        };
        // The top three pages of the range in use.
        let top = 2 * page + 100 + len;
        for k in 1..=3 {
            touch(top - k * page);
        }
        // Bytes from the page of `off` (not below `p`) to the top of the range.
        let in_use_from = |off: usize| {
            let page_start = (base as usize + off) & !(page - 1);
            (p as usize + len) - page_start.max(p as usize)
        };
        assert_eq!(stack_in_use(p, len), in_use_from(top - 3 * page));
        // A deeper page touched: everything from it up counts.
        touch(2 * page + 100 + 2 * page);
        assert_eq!(stack_in_use(p, len), in_use_from(2 * page + 100 + 2 * page));
        // The first page of the range: all of it.
        touch(2 * page + 100);
        assert_eq!(stack_in_use(p, len), len);
        // SAFETY: our own mapping, no longer used.
        unsafe { libc::munmap(base.cast(), total) };
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::{detect_vector_registers, vector_registers, VectorRegs};

    /// glibc's CPUID table, read through our declaration of its layout, says
    /// what the standard library's own `cpuid` detection says.
    #[test]
    fn vector_registers_agree_with_std_detect() {
        let std = if std::arch::is_x86_feature_detected!("avx512f") {
            VectorRegs::Avx512
        } else if std::arch::is_x86_feature_detected!("avx") {
            VectorRegs::Avx
        } else {
            VectorRegs::Sse
        };
        assert_eq!(detect_vector_registers(), std);
        assert_eq!(vector_registers(), std);
        assert_eq!(vector_registers(), std, "the cached answer");
    }
}
