//! Where secret bytes are allocated: a pool of size-class slabs in guarded,
//! locked chunks, plus a guarded mapping of its own for each large secret.
//!
//! Layout of a chunk's data pages (`C` = 16-byte canary, `d` = one slot):
//!
//! ```text
//! guard page | C d0 C d1 C d2 ... C d(n-1) C | guard page
//! ```
//!
//! Every slot has a canary on both sides; both are checked when the slot is
//! freed. Free lists and all other bookkeeping live in the ordinary heap, never
//! in the secret pages.
//!
//! A large secret, and every *guarded* one (long-lived keys), gets a mapping of
//! its own with the data right-aligned against the trailing guard page:
//!
//! ```text
//! guard page | zero slack C data | guard page
//! ```
//!
//! so that a read or write one byte past the end faults at once (libsodium's
//! layout); the canary and the zero slack before the data catch underflows on
//! free.
//!
//! Fork: pages are wiped (`MADV_WIPEONFORK`) or absent (`MADV_DONTFORK`) in a
//! child. The child's fork handler bumps an epoch and reserves every absent
//! data range inaccessible, so nothing the child maps can land there; a child
//! never unmaps, reuses or touches a range it inherited (it forgets them), and
//! dropping an inherited secret touches neither its pages nor the parent's
//! bookkeeping.

use crate::error::{Error, Result};
use crate::policy::{self, Backend, LockPolicy};
use crate::sys::{self, Guarded, MapError};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Largest single secret keyward handles (tokens, keys, a whole decrypted record).
pub const MAX_SECRET_LEN: usize = 16 << 20;

/// Bytes of the canary on each side of a slot.
pub(crate) const CANARY: usize = 16;
/// Slot sizes of the pooled classes; larger secrets get their own mapping.
const CLASS_SIZES: [usize; 8] = [16, 32, 64, 128, 256, 512, 1024, 2048];
const NCLASS: usize = CLASS_SIZES.len();
/// Largest pooled slot.
pub(crate) const MAX_POOLED: usize = CLASS_SIZES[NCLASS - 1];
/// Largest chunk of one class (data pages, guards excluded).
const MAX_CHUNK: usize = 256 * 1024;
/// Fewest slots in a chunk.
const MIN_SLOTS: usize = 4;

/// Incremented in a forked child: regions from an older epoch belong to the parent.
static EPOCH: AtomicU32 = AtomicU32::new(0);
/// 0: not chosen yet, 1: memfd_secret, 2: mlock.
static BACKEND: AtomicU8 = AtomicU8::new(0);
/// Backend asked for by [`prefer_backend`] (0: none).
static PREFERRED: AtomicU8 = AtomicU8::new(0);

/// Per-process key the canaries are derived from (set before the first slot exists).
static CANARY_KEY: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

static POOL: Mutex<Pool> = Mutex::new(Pool::new());
static ATFORK: AtomicBool = AtomicBool::new(false);

/// Registers the fork handlers. Runs when the program or library is loaded
/// (before `main`, before any thread can be inside the allocator), so a fork
/// can never catch the registration half done; `lock()` calls it too in case
/// the loader did not.
extern "C" fn register_fork_handlers() {
    if !ATFORK.swap(true, Ordering::SeqCst) {
        sys::register_atfork(fork_prepare, fork_parent, fork_child);
    }
}

#[used]
#[cfg_attr(target_os = "linux", link_section = ".init_array")]
static REGISTER_AT_LOAD: extern "C" fn() = register_fork_handlers;

thread_local! {
    /// The pool lock, held across `fork()` so the child gets a consistent pool.
    static HELD: RefCell<Option<MutexGuard<'static, Pool>>> = const { RefCell::new(None) };
}

extern "C" fn fork_prepare() {
    let g = lock_raw();
    let _ = HELD.try_with(|h| *h.borrow_mut() = Some(g));
}

extern "C" fn fork_parent() {
    let _ = HELD.try_with(|h| h.borrow_mut().take());
}

extern "C" fn fork_child() {
    EPOCH.fetch_add(1, Ordering::SeqCst);
    let _ = HELD.try_with(|h| {
        if let Some(pool) = h.borrow_mut().take() {
            // Only system calls here (no allocation): the parent's data ranges
            // that are holes in the child (memfd_secret, MADV_DONTFORK) are
            // reserved inaccessible before the child can map anything.
            pool.reserve_inherited_holes();
        }
    });
}

fn lock_raw() -> MutexGuard<'static, Pool> {
    POOL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The pool, reset first if this is a forked child's first use.
fn lock() -> MutexGuard<'static, Pool> {
    if !ATFORK.load(Ordering::Relaxed) {
        register_fork_handlers();
    }
    let mut g = lock_raw();
    let epoch = EPOCH.load(Ordering::SeqCst);
    if g.epoch != epoch {
        // A forked child: the parent's chunks are wiped or absent here and the
        // parent's secrets are not ours to free. Start afresh, forgetting the
        // inherited chunks without unmapping them: their ranges (reserved
        // inaccessible by the fork handler where they were holes) stay taken
        // for the life of the child, so no new mapping can alias them.
        let old = std::mem::replace(&mut *g, Pool::new());
        std::mem::forget(old);
        g.epoch = epoch;
    }
    g
}

/// Chooses the backend for this process before the first secret is made:
/// `MemfdSecret` or `Mlock` (`Unlocked` is not a choice; it is what
/// `best-effort` falls back to). The environment variable
/// `KEYWARD_SECMEM_BACKEND=mlock|memfd_secret` does the same. Ignored once a
/// backend has been chosen. `memfd_secret` pages block hibernation while they
/// exist, which is one reason to prefer `mlock`.
pub fn prefer_backend(backend: Backend) {
    let v = match backend {
        Backend::MemfdSecret => 1,
        Backend::Mlock => 2,
        Backend::Unlocked => 0,
    };
    PREFERRED.store(v, Ordering::SeqCst);
}

/// Unmaps the pooled chunks that hold no live secret, and the wiped guarded
/// mappings kept for reuse, and returns how many bytes that released. The
/// pool keeps one empty chunk per size class, and up to two spare guarded
/// mappings, for speed; a long-lived host that must keep no secret pages between uses (the
/// PAM module: memfd_secret pages block hibernation while they exist) calls
/// this once its secrets are dropped.
pub fn release_unused() -> usize {
    lock().release_unused()
}

/// Set by [`ignore_environment`].
static IGNORE_ENV: AtomicBool = AtomicBool::new(false);

/// Makes this process ignore `KEYWARD_SECMEM_BACKEND`. The PAM module calls it
/// before anything else: the environment of a PAM host (`su`, `sudo`, `login`)
/// belongs to the user who started it, who must not choose how root keeps
/// another user's password.
pub fn ignore_environment() {
    IGNORE_ENV.store(true, Ordering::SeqCst);
}

/// `KEYWARD_SECMEM_BACKEND`, with `secure_getenv` semantics: never in a
/// process that runs setuid, setgid or with file capabilities (`AT_SECURE`),
/// nor after [`ignore_environment`].
fn backend_from_env() -> Option<std::ffi::OsString> {
    if IGNORE_ENV.load(Ordering::SeqCst) || sys::is_secure_exec() {
        return None;
    }
    std::env::var_os("KEYWARD_SECMEM_BACKEND")
}

fn choose_backend() -> u8 {
    let b = BACKEND.load(Ordering::SeqCst);
    if b != 0 {
        return b;
    }
    let mut want = PREFERRED.load(Ordering::SeqCst);
    if want == 0 {
        want = match backend_from_env() {
            Some(v) if v == "mlock" => 2,
            _ => 1,
        };
    }
    let chosen = if want == 1 && sys::memfd_secret_available() {
        1
    } else {
        2
    };
    BACKEND.store(chosen, Ordering::SeqCst);
    chosen
}

/// The locking backend this process uses (chosen on first use).
pub(crate) fn locking_backend() -> Backend {
    if choose_backend() == 1 {
        Backend::MemfdSecret
    } else {
        Backend::Mlock
    }
}

/// The backend that holds secrets now: the locking backend, or `Unlocked` once
/// locking has failed under `best-effort`.
pub(crate) fn backend() -> Backend {
    if policy::LOCK_FAILED.load(Ordering::SeqCst) {
        Backend::Unlocked
    } else {
        locking_backend()
    }
}

/// Counters for the status report.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counters {
    pub(crate) live: usize,
    pub(crate) locked_bytes: usize,
    pub(crate) mapped_bytes: usize,
    pub(crate) chunks: usize,
}

pub(crate) fn counters() -> Counters {
    lock().counters
}

/// A guarded mapping, locked or not.
#[derive(Debug)]
struct Map {
    g: Guarded,
    locked: bool,
}

/// Makes a locked, guarded mapping of `data_len` bytes.
fn locked_map(data_len: usize) -> std::result::Result<Map, MapError> {
    if choose_backend() == 1 {
        match Guarded::memfd_secret(data_len) {
            Ok(g) => return Ok(Map { g, locked: true }),
            // RLIMIT_FSIZE applies to the memfd (`ulimit -f`, set by a shell
            // or a build tool): lock an anonymous mapping instead.
            Err(MapError::Other(e)) if e.raw_os_error() == Some(libc::EFBIG) => {}
            Err(e) => return Err(e),
        }
        let g = Guarded::anon(data_len).map_err(MapError::Other)?;
        g.mlock().map_err(MapError::Lock)?;
        Ok(Map { g, locked: true })
    } else {
        let g = Guarded::anon(data_len).map_err(MapError::Other)?;
        g.mlock().map_err(MapError::Lock)?;
        Ok(Map { g, locked: true })
    }
}

/// Makes a guarded mapping of `data_len` bytes, applying the lock policy.
fn new_map(data_len: usize, locked_now: usize) -> Result<Map> {
    match locked_map(data_len) {
        Ok(m) => Ok(m),
        Err(MapError::Other(e)) => Err(Error::Map(e)),
        Err(MapError::Lock(e)) => unlocked_map(data_len, locked_now, e),
    }
}

/// What the lock policy does when `data_len` bytes could not be locked.
fn unlocked_map(data_len: usize, locked_now: usize, lock_err: std::io::Error) -> Result<Map> {
    match policy::policy() {
        LockPolicy::Required => {
            let limit = policy::memlock_limit();
            let exhausted = matches!(
                lock_err.raw_os_error(),
                Some(libc::ENOMEM) | Some(libc::EAGAIN) | Some(libc::EPERM)
            ) && limit.is_some();
            Err(if exhausted {
                Error::MemlockExhausted {
                    requested: data_len,
                    locked: locked_now,
                    limit: limit
                        .map(|l| usize::try_from(l).unwrap_or(usize::MAX))
                        .unwrap_or(usize::MAX),
                }
            } else {
                Error::LockUnavailable(lock_err)
            })
        }
        LockPolicy::BestEffort => {
            policy::warn_unlocked_once(&lock_err);
            let g = Guarded::anon(data_len).map_err(Error::Map)?;
            Ok(Map { g, locked: false })
        }
    }
}

struct Chunk {
    map: Map,
    nslots: u32,
    free: Vec<u32>,
    in_partial: bool,
}

struct Class {
    stride: usize,
    chunks: Vec<Option<Chunk>>,
    /// Chunks with at least one free slot.
    partial: Vec<u32>,
    /// Vacant indices in `chunks`.
    vacant: Vec<u32>,
}

impl Class {
    const fn new(size: usize) -> Self {
        Class {
            stride: size + CANARY,
            chunks: Vec::new(),
            partial: Vec::new(),
            vacant: Vec::new(),
        }
    }

    /// The smallest chunk of this class.
    fn min_chunk_len(&self) -> usize {
        sys::round_to_pages(CANARY + MIN_SLOTS * self.stride)
    }

    /// The next chunk's size: doubles with the chunks alive now (so it follows
    /// live use and shrinks again after a burst), up to [`MAX_CHUNK`].
    fn next_chunk_len(&self) -> usize {
        let min = self.min_chunk_len();
        let live = (self.chunks.len() - self.vacant.len()).min(16) as u32;
        let grow = sys::page_size() << live;
        sys::round_to_pages(grow.clamp(min, MAX_CHUNK.max(min)))
    }
}

struct Pool {
    epoch: u32,
    classes: [Class; NCLASS],
    counters: Counters,
    /// Data ranges (start → length) of the mappings of large and guarded
    /// secrets, which their `Region`s own: the fork handler needs them.
    own: BTreeMap<usize, usize>,
    /// Guarded mappings whose secret was dropped, wiped, kept for the next
    /// guarded secret of the same size (at most [`MAX_SPARE`] of at most
    /// [`MAX_SPARE_LEN`] bytes): unmapping a `memfd_secret` mapping flushes
    /// the TLB of every CPU, which a short-lived helper pays for its vault key
    /// otherwise. [`release_unused`] unmaps them.
    spare: Vec<Map>,
}

/// Most wiped guarded mappings kept for reuse.
const MAX_SPARE: usize = 2;
/// Largest data size of a guarded mapping kept for reuse.
const MAX_SPARE_LEN: usize = 2 * 4096;

impl Pool {
    const fn new() -> Self {
        Pool {
            epoch: 0,
            classes: [
                Class::new(CLASS_SIZES[0]),
                Class::new(CLASS_SIZES[1]),
                Class::new(CLASS_SIZES[2]),
                Class::new(CLASS_SIZES[3]),
                Class::new(CLASS_SIZES[4]),
                Class::new(CLASS_SIZES[5]),
                Class::new(CLASS_SIZES[6]),
                Class::new(CLASS_SIZES[7]),
            ],
            counters: Counters {
                live: 0,
                locked_bytes: 0,
                mapped_bytes: 0,
                chunks: 0,
            },
            own: BTreeMap::new(),
            spare: Vec::new(),
        }
    }

    /// In a forked child, from the fork handler: reserves every data range of
    /// the parent's that `MADV_DONTFORK` left as a hole (system calls only).
    fn reserve_inherited_holes(&self) {
        for class in &self.classes {
            for chunk in class.chunks.iter().flatten() {
                sys::reserve_hole(chunk.map.g.data_ptr(), chunk.map.g.data_len());
            }
        }
        for (&start, &len) in &self.own {
            sys::reserve_hole(start as *mut u8, len);
        }
        for map in &self.spare {
            sys::reserve_hole(map.g.data_ptr(), map.g.data_len());
        }
    }

    /// The canary key, made on first use (callers hold the pool lock).
    fn key(&mut self) -> Result<[u64; 2]> {
        let k = canary_key();
        if k != [0, 0] {
            return Ok(k);
        }
        let mut b = [0u8; 16];
        getrandom::getrandom(&mut b).map_err(|_| Error::Random)?;
        let (x, y) = b.split_at(8);
        let k = [
            u64::from_ne_bytes(x.try_into().unwrap_or([1; 8])),
            u64::from_ne_bytes(y.try_into().unwrap_or([2; 8])) | 1,
        ];
        CANARY_KEY[0].store(k[0], Ordering::Relaxed);
        CANARY_KEY[1].store(k[1], Ordering::Relaxed);
        Ok(k)
    }

    fn account(&mut self, map: &Map, add: bool) {
        let n = map.g.data_len();
        let c = &mut self.counters;
        if add {
            c.mapped_bytes += n;
            if map.locked {
                c.locked_bytes += n;
            }
        } else {
            c.mapped_bytes -= n;
            if map.locked {
                c.locked_bytes -= n;
            }
        }
    }

    /// Maps a chunk for class `ci`: the next size if it can be locked, else
    /// halves down to the smallest chunk, so a chunk is made whenever one fits
    /// the remaining RLIMIT_MEMLOCK; only then does the lock policy decide.
    fn chunk_map(&self, ci: usize) -> Result<Map> {
        let class = &self.classes[ci];
        let min = class.min_chunk_len();
        let mut len = class.next_chunk_len();
        loop {
            match locked_map(len) {
                Ok(m) => return Ok(m),
                Err(MapError::Other(e)) => return Err(Error::Map(e)),
                Err(MapError::Lock(_)) if len > min => {
                    len = sys::round_to_pages((len / 2).max(min));
                }
                Err(MapError::Lock(e)) => return unlocked_map(len, self.counters.locked_bytes, e),
            }
        }
    }

    /// Adds a chunk to class `ci`.
    fn grow(&mut self, ci: usize) -> Result<()> {
        let key = self.key()?;
        let map = self.chunk_map(ci)?;
        let len = map.g.data_len();
        self.account(&map, true);
        self.counters.chunks += 1;
        let class = &mut self.classes[ci];
        let stride = class.stride;
        let nslots = (len - CANARY) / stride;
        let data = map.g.data_ptr();
        for i in 0..=nslots {
            let at = data.wrapping_add(i * stride);
            // SAFETY: `i * stride + CANARY <= len`: canaries lie inside the data
            // pages we just mapped, 16-aligned since `stride` is a multiple of 16.
            unsafe { sys::write_canary(at, canary_words(key, at)) };
        }
        let chunk = Chunk {
            map,
            nslots: nslots as u32,
            free: (0..nslots as u32).rev().collect(),
            in_partial: true,
        };
        let id = match class.vacant.pop() {
            Some(id) => {
                class.chunks[id as usize] = Some(chunk);
                id
            }
            None => {
                class.chunks.push(Some(chunk));
                (class.chunks.len() - 1) as u32
            }
        };
        class.partial.push(id);
        Ok(())
    }

    /// Takes a free slot for a secret of class `ci`: from that class's
    /// chunks; else, before mapping a new chunk, from a larger class's chunk
    /// that has a free slot (a short-lived process then maps one chunk for its
    /// few secrets instead of one per size: each `memfd_secret` mapping costs
    /// a TLB flush on every CPU when it goes); else from a new chunk of class
    /// `ci`. Returns the class the slot belongs to, the chunk and the slot.
    fn take_slot(&mut self, ci: usize) -> Result<(usize, NonNull<u8>, u32, u32)> {
        for cj in ci..NCLASS {
            if let Some((p, id, slot)) = self.pop_free(cj)? {
                return Ok((cj, p, id, slot));
            }
        }
        loop {
            self.grow(ci)?;
            if let Some((p, id, slot)) = self.pop_free(ci)? {
                return Ok((ci, p, id, slot));
            }
        }
    }

    /// A free slot of class `ci` in an existing chunk, if there is one.
    fn pop_free(&mut self, ci: usize) -> Result<Option<(NonNull<u8>, u32, u32)>> {
        loop {
            let class = &mut self.classes[ci];
            let Some(&id) = class.partial.last() else {
                return Ok(None);
            };
            let stride = class.stride;
            if let Some(Some(chunk)) = class.chunks.get_mut(id as usize) {
                if let Some(slot) = chunk.free.pop() {
                    if chunk.free.is_empty() {
                        chunk.in_partial = false;
                        class.partial.pop();
                    }
                    // SAFETY: slot < nslots, so the slot lies inside the data pages.
                    let p = unsafe { chunk.map.g.data_ptr().add(CANARY + slot as usize * stride) };
                    self.counters.live += 1;
                    return Ok(Some((NonNull::new(p).ok_or_else(null_map)?, id, slot)));
                }
            }
            // Stale entry; drop it and look again.
            class.partial.pop();
        }
    }

    /// Unmaps every chunk without a live slot and every spare guarded
    /// mapping; returns the bytes released.
    fn release_unused(&mut self) -> usize {
        let mut released = 0;
        for map in std::mem::take(&mut self.spare) {
            released += map.g.data_len();
            self.account(&map, false);
            // Wiped when its secret went; Guarded's drop unmaps.
        }
        for ci in 0..NCLASS {
            let empty: Vec<u32> = self.classes[ci]
                .chunks
                .iter()
                .enumerate()
                .filter_map(|(id, c)| match c {
                    Some(c) if c.free.len() == c.nslots as usize => u32::try_from(id).ok(),
                    _ => None,
                })
                .collect();
            for id in empty {
                let class = &mut self.classes[ci];
                if let Some(chunk) = class.chunks[id as usize].take() {
                    class.partial.retain(|&c| c != id);
                    class.vacant.push(id);
                    self.counters.chunks -= 1;
                    released += chunk.map.g.data_len();
                    self.account(&chunk.map, false);
                    // Slots are wiped on free; Guarded's drop unmaps.
                }
            }
        }
        released
    }

    fn put_slot(&mut self, ci: usize, id: u32, slot: u32) {
        self.counters.live -= 1;
        let class = &mut self.classes[ci];
        let Some(Some(chunk)) = class.chunks.get_mut(id as usize) else {
            return;
        };
        chunk.free.push(slot);
        if !chunk.in_partial {
            chunk.in_partial = true;
            class.partial.push(id);
        }
        // Give an empty chunk back to the kernel when another chunk has room,
        // so locked memory shrinks after a burst.
        if chunk.free.len() == chunk.nslots as usize && class.partial.len() > 1 {
            if let Some(pos) = class.partial.iter().position(|&c| c == id) {
                class.partial.swap_remove(pos);
            }
            if let Some(chunk) = class.chunks[id as usize].take() {
                class.vacant.push(id);
                self.counters.chunks -= 1;
                self.account(&chunk.map, false);
                // Slots are wiped on free; Guarded's drop unmaps.
            }
        }
    }
}

fn canary_key() -> [u64; 2] {
    [
        CANARY_KEY[0].load(Ordering::Relaxed),
        CANARY_KEY[1].load(Ordering::Relaxed),
    ]
}

fn canary_words(key: [u64; 2], at: *const u8) -> [u64; 2] {
    let a = at as usize as u64;
    [key[0] ^ a, key[1] ^ a.rotate_left(29)]
}

fn check_canary(key: [u64; 2], at: *const u8, len: usize, side: &str) {
    // SAFETY: callers pass the address of a canary inside a live mapping of ours.
    let found = unsafe { sys::read_canary(at) };
    if found != canary_words(key, at) {
        canary_abort(len, side);
    }
}

#[cold]
fn canary_abort(len: usize, side: &str) -> ! {
    let mut buf = [0u8; 200];
    let mut w = Cursor {
        buf: &mut buf,
        n: 0,
    };
    w.put("keyward-secmem: FATAL: the canary ");
    w.put(side);
    w.put(" a ");
    w.put_num(len);
    w.put(
        "-byte secret was overwritten (buffer overflow into secure memory); \
         aborting\n",
    );
    let n = w.n;
    sys::abort_with(std::str::from_utf8(&buf[..n]).unwrap_or("keyward-secmem: canary\n"))
}

/// A tiny non-allocating formatter for the abort message.
struct Cursor<'a> {
    buf: &'a mut [u8],
    n: usize,
}

impl Cursor<'_> {
    fn put(&mut self, s: &str) {
        for &b in s.as_bytes() {
            if self.n < self.buf.len() {
                self.buf[self.n] = b;
                self.n += 1;
            }
        }
    }
    fn put_num(&mut self, mut v: usize) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        for &d in &digits[i..] {
            self.put(std::str::from_utf8(&[d]).unwrap_or("?"));
        }
    }
}

#[derive(Debug)]
enum Home {
    /// A pooled slot: `C data slack C`.
    Slot { class: u8, chunk: u32, slot: u32 },
    /// A mapping of its own, data right-aligned against the trailing guard:
    /// `zero slack C data`.
    Own(Map),
    /// Only while a `Region` is being dropped.
    Gone,
}

/// Storage for one secret: zeroed on creation, canary-checked and wiped on drop.
#[derive(Debug)]
pub(crate) struct Region {
    ptr: NonNull<u8>,
    /// Bytes the caller asked for (and may use).
    cap: usize,
    /// Bytes up to the trailing canary of a pooled slot (`cap..size` is slack
    /// that must stay zero); `cap` for a mapping of its own.
    size: usize,
    epoch: u32,
    home: Home,
}

// SAFETY: a `Region` owns its slot or mapping exclusively; the pool it returns
// slots to is behind a mutex.
unsafe impl Send for Region {}
// SAFETY: `&Region` only allows reading the bytes.
unsafe impl Sync for Region {}

impl Region {
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr..ptr+cap` is mapped read-write for the life of `self` (in
        // a forked child it may fault, never alias another secret) and is ours alone.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.cap) }
    }

    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`; `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.cap) }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    /// Whether this region has a right-aligned mapping of its own.
    pub(crate) fn is_guarded(&self) -> bool {
        matches!(self.home, Home::Own(_))
    }

    /// Start of the bytes, for types placed in secure memory.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }
}

#[cfg(test)]
thread_local! {
    /// Test hook: the bytes of the last region this thread freed, read after the
    /// wipe and before the slot or mapping was given back.
    pub(crate) static LAST_FREED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl Drop for Region {
    fn drop(&mut self) {
        let home = std::mem::replace(&mut self.home, Home::Gone);
        if self.epoch != EPOCH.load(Ordering::SeqCst) {
            // Inherited from the parent across fork(): the pages are wiped or
            // absent (and reserved) here. Never touch, unmap or reuse them.
            if let Home::Own(map) = home {
                map.g.forget();
            }
            return;
        }
        let key = canary_key();
        let p = self.ptr.as_ptr();
        let before = p.wrapping_sub(CANARY);
        check_canary(key, before, self.cap, "before");
        match &home {
            Home::Slot { .. } => {
                // The trailing canary follows the slot, inside its chunk.
                check_canary(key, p.wrapping_add(self.size), self.cap, "after");
                // SAFETY: `cap..size` lies inside the slot.
                let slack =
                    unsafe { sys::all_zero(p.wrapping_add(self.cap), self.size - self.cap) };
                if !slack {
                    canary_abort(self.cap, "after");
                }
            }
            Home::Own(map) => {
                // Past the end is the guard page; before the canary, zero slack.
                let data = map.g.data_ptr();
                let lead = before as usize - data as usize;
                // SAFETY: `data..before` lies inside the mapping's data pages.
                if !unsafe { sys::all_zero(data, lead) } {
                    canary_abort(self.cap, "before");
                }
            }
            Home::Gone => {}
        }
        // SAFETY: the region is ours and writable.
        unsafe { sys::wipe(p, self.size) };
        #[cfg(test)]
        LAST_FREED.with(|l| *l.borrow_mut() = self.bytes().to_vec());
        let mut pool = lock();
        match home {
            Home::Slot { class, chunk, slot } => pool.put_slot(class as usize, chunk, slot),
            Home::Own(map) => {
                pool.counters.live -= 1;
                pool.own.remove(&(map.g.data_ptr() as usize));
                if pool.spare.len() < MAX_SPARE && map.g.data_len() <= MAX_SPARE_LEN {
                    // Kept for reuse: the secret is wiped above; its canary
                    // and everything else are zeroed when it is reused.
                    pool.spare.push(map);
                    return;
                }
                pool.account(&map, false);
                drop(pool);
                // Guarded's drop unmaps, outside the pool lock.
                drop(map);
            }
            Home::Gone => {}
        }
    }
}

fn null_map() -> Error {
    Error::Map(std::io::Error::other("null mapping"))
}

fn class_of(cap: usize) -> usize {
    if cap <= CLASS_SIZES[0] {
        0
    } else {
        (usize::BITS - (cap - 1).leading_zeros()) as usize - 4
    }
}

/// Allocates at least `cap` zeroed bytes of secure memory.
pub(crate) fn allocate(cap: usize) -> Result<Region> {
    if cap > MAX_SECRET_LEN {
        return Err(Error::TooLarge {
            requested: cap,
            max: MAX_SECRET_LEN,
        });
    }
    if cap <= MAX_POOLED {
        let (ci, ptr, chunk, slot, epoch) = {
            let mut pool = lock();
            let taken = pool.take_slot(class_of(cap));
            let epoch = pool.epoch;
            drop(pool);
            policy::flush_warning();
            let (ci, ptr, chunk, slot) = taken?;
            (ci, ptr, chunk, slot, epoch)
        };
        let size = CLASS_SIZES[ci];
        // SAFETY: the slot is ours now; wiped on its last free, zeroed again here.
        unsafe { sys::zero(ptr.as_ptr(), size) };
        return Ok(Region {
            ptr,
            cap,
            size,
            epoch,
            home: Home::Slot {
                class: ci as u8,
                chunk,
                slot,
            },
        });
    }
    allocate_guarded(cap)
}

/// Allocates `cap` zeroed bytes in a mapping of their own, right-aligned
/// against the trailing guard page: one byte past the end faults. For
/// long-lived keys (and every secret too large for the pool).
pub(crate) fn allocate_guarded(cap: usize) -> Result<Region> {
    if cap > MAX_SECRET_LEN {
        return Err(Error::TooLarge {
            requested: cap,
            max: MAX_SECRET_LEN,
        });
    }
    let data_len = sys::round_to_pages(cap + CANARY);
    let mut pool = lock();
    let key = pool.key()?;
    let map = match pool.spare.iter().position(|m| m.g.data_len() == data_len) {
        Some(i) => {
            let map = pool.spare.swap_remove(i);
            // SAFETY: the data pages of a mapping the pool owns, writable.
            unsafe { sys::zero(map.g.data_ptr(), data_len) };
            map
        }
        None => {
            let map = new_map(data_len, pool.counters.locked_bytes);
            let map = match map {
                Ok(m) => m,
                Err(e) => {
                    drop(pool);
                    policy::flush_warning();
                    return Err(e);
                }
            };
            pool.account(&map, true);
            map
        }
    };
    pool.counters.live += 1;
    pool.own.insert(map.g.data_ptr() as usize, map.g.data_len());
    let epoch = pool.epoch;
    drop(pool);
    policy::flush_warning();
    let data = map.g.data_ptr();
    let ptr = data.wrapping_add(data_len - cap);
    let canary = ptr.wrapping_sub(CANARY);
    // SAFETY: the canary lies inside the fresh mapping (`cap + C <= data_len`).
    unsafe { sys::write_canary(canary, canary_words(key, canary)) };
    Ok(Region {
        ptr: NonNull::new(ptr).ok_or_else(null_map)?,
        cap,
        size: cap,
        epoch,
        home: Home::Own(map),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_fit() {
        for cap in 0..=MAX_POOLED {
            let c = class_of(cap);
            assert!(CLASS_SIZES[c] >= cap, "{cap}");
            assert!(c == 0 || CLASS_SIZES[c - 1] < cap, "{cap}");
        }
    }

    #[test]
    fn slots_do_not_overlap_and_keep_canaries() {
        let mut v: Vec<Region> = (0..500).map(|_| allocate(32).unwrap()).collect();
        for (i, r) in v.iter_mut().enumerate() {
            r.bytes_mut().fill(i as u8);
        }
        for (i, r) in v.iter().enumerate() {
            assert!(r.bytes().iter().all(|&b| b == i as u8));
        }
        drop(v);
    }

    #[test]
    fn drop_wipes_slot_and_large_mapping() {
        for cap in [32, 1000, 100_000] {
            let mut r = allocate(cap).unwrap();
            r.bytes_mut().fill(0xA5);
            let n = r.capacity();
            drop(r);
            LAST_FREED.with(|l| {
                let l = l.borrow();
                assert_eq!(l.len(), n);
                assert!(l.iter().all(|&b| b == 0), "slot of {cap} not wiped");
            });
        }
    }
}
