//! Figures that are not timings of one call, side by side in one run:
//! alloc + write + free against a `Vec` wiped with zeroize's slice path,
//! libsodium's `sodium_malloc` and OpenSSL's secure heap
//! (`CRYPTO_secure_malloc`); a guarded key allocation against
//! `sodium_malloc`; locked bytes per 32-byte secret; how many live 32-byte
//! secrets stay locked under an 8 MiB RLIMIT_MEMLOCK without CAP_IPC_LOCK
//! (keyward-secmem vs libsodium); and a dudect check of every comparison the
//! project uses: fixed-vs-random input classes (Welch's t over 2·10^6
//! timings, cropped at several percentiles as dudect does; |t| < 4.5
//! passes), at 32 bytes and 1 KiB, each beside a positive control of the same
//! size (a byte loop that returns at the first difference) that the
//! benchmark must flag, or it fails as too weak to mean anything.
//!
//! `cargo bench -p keyward-secmem --bench report` (Debian libsodium-dev,
//! libssl-dev)

use keyward_secmem::{
    ct_eq, ct_eq_fixed, set_policy, status, Error, ExposeSecret, ExposeSecretMut, LockPolicy,
    SecretBytes,
};
use std::ffi::{c_int, c_void};
use std::hint::black_box;
use std::process::Command;

#[link(name = "sodium")]
extern "C" {
    fn sodium_init() -> c_int;
    fn sodium_malloc(size: usize) -> *mut c_void;
    fn sodium_free(ptr: *mut c_void);
}

#[link(name = "crypto")]
extern "C" {
    fn CRYPTO_secure_malloc_init(size: usize, minsize: usize) -> c_int;
    fn CRYPTO_secure_malloc(num: usize, file: *const std::ffi::c_char, line: c_int) -> *mut c_void;
    fn CRYPTO_secure_free(ptr: *mut c_void, file: *const std::ffi::c_char, line: c_int);
}

const LIMIT: u64 = 8 << 20;

fn main() {
    match std::env::var("KW_REPORT_CHILD").as_deref() {
        Ok("secmem") => return child_secmem(),
        Ok("sodium") => return child_sodium(),
        _ => {}
    }
    let mut ok = true;
    p50s();
    locked_per_secret();
    capacity();
    println!(
        "== constant-time comparison (dudect, fixed vs random inputs, Welch's t; |t| < 4.5 passes)"
    );
    let n = std::env::var("KW_CT_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000usize);
    let secret32 = SecretBytes::random(32).expect("secret");
    let secret1k = SecretBytes::random(1024).expect("secret");
    let s32: &[u8; 32] = secret32.expose_secret().try_into().expect("32 bytes");
    let s1k: &[u8; 1024] = secret1k.expose_secret().try_into().expect("1 KiB");
    let held32 = SecretBytes::from_slice(s32).expect("secret");
    let held1k = SecretBytes::from_slice(s1k).expect("secret");
    // Every comparison the project makes: ct_eq (slices), ct_eq_fixed (the
    // password database's digests), SecretBytes::ct_eq (SecretString's too).
    let t = dudect(n, s32, |x| ct_eq(s32, x));
    ok &= report("ct_eq, 32 B", n, t, true);
    let t = dudect(n, s1k, |x| ct_eq(s1k, x));
    ok &= report("ct_eq, 1 KiB", n, t, true);
    let t = dudect(n, s32, |x| ct_eq_fixed(s32, x.try_into().expect("32")));
    ok &= report("ct_eq_fixed, 32 B", n, t, true);
    let t = dudect(n, s1k, |x| ct_eq_fixed(s1k, x.try_into().expect("1 KiB")));
    ok &= report("ct_eq_fixed, 1 KiB", n, t, true);
    let mut other32 = SecretBytes::zeroed(32).expect("secret");
    let t = dudect(n, s32, |x| {
        other32.expose_secret_mut().copy_from_slice(x);
        held32.ct_eq(&other32)
    });
    ok &= report("SecretBytes::ct_eq, 32 B", n, t, true);
    let mut other1k = SecretBytes::zeroed(1024).expect("secret");
    let t = dudect(n, s1k, |x| {
        other1k.expose_secret_mut().copy_from_slice(x);
        held1k.ct_eq(&other1k)
    });
    ok &= report("SecretBytes::ct_eq, 1 KiB", n, t, true);
    // For reference (no verdict): subtle's slice comparison, which ct_eq used
    // before; it puts an optimisation barrier on every byte's result.
    let t = dudect(n, s32, |x| {
        bool::from(subtle::ConstantTimeEq::ct_eq(&s32[..], x))
    });
    println!(
        "{:<40} n={n:>8}  max|t|={:>8.2}  (reference, the former ct_eq)",
        "subtle slice ct_eq, 32 B",
        t.abs()
    );
    // Positive controls: the benchmark must see an early exit at each size.
    let t = dudect(n, s32, |x| early_exit_eq(s32, x));
    ok &= report("control: early-exit loop, 32 B", n, t, false);
    let t = dudect(n, s1k, |x| early_exit_eq(s1k, x));
    ok &= report("control: early-exit loop, 1 KiB", n, t, false);
    if !ok {
        std::process::exit(1);
    }
}

/// The positive control: a byte loop that returns at the first difference.
#[inline(never)]
fn early_exit_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    for i in 0..a.len() {
        if black_box(a[i]) != black_box(b[i]) {
            return false;
        }
    }
    true
}

/// Median over `batches` of the mean time of `per` calls of `f`, in ns.
fn p50(batches: usize, per: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..per * 10 {
        f();
    }
    let mut v: Vec<f64> = (0..batches)
        .map(|_| {
            let t0 = std::time::Instant::now();
            for _ in 0..per {
                f();
            }
            t0.elapsed().as_nanos() as f64 / per as f64
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn p50s() {
    // SAFETY: libsodium's documented initialiser.
    assert!(unsafe { sodium_init() } >= 0);
    // SAFETY: OpenSSL's secure heap initialiser: a 1 MiB arena, 16-byte minimum.
    let ossl = unsafe { CRYPTO_secure_malloc_init(1 << 20, 16) };
    assert!(ossl >= 1, "CRYPTO_secure_malloc_init failed");
    let file = c"report.rs".as_ptr();
    println!("== alloc + write + free, p50 (median of batch means), side by side");
    for n in [32usize, 1024] {
        let src = vec![0x5Au8; n];
        let ours = p50(20_000, 64, || {
            let mut s = SecretBytes::zeroed(n).expect("secret");
            s.expose_secret_mut().copy_from_slice(black_box(&src));
            black_box(&s);
        });
        let vec = p50(20_000, 64, || {
            let mut v = vec![0u8; n];
            v.copy_from_slice(black_box(&src));
            black_box(&v);
            // zeroize's slice path: one volatile loop over the whole buffer.
            zeroize::Zeroize::zeroize(v.as_mut_slice());
        });
        let openssl = p50(20_000, 64, || {
            // SAFETY: CRYPTO_secure_malloc returns `n` writable bytes or null.
            let p = unsafe { CRYPTO_secure_malloc(n, file, 0) }.cast::<u8>();
            assert!(!p.is_null());
            // SAFETY: `p` holds `n` bytes and does not overlap `src`.
            unsafe { std::ptr::copy_nonoverlapping(black_box(src.as_ptr()), p, n) };
            black_box(p);
            // SAFETY: `p` came from CRYPTO_secure_malloc and is freed once
            // (CRYPTO_secure_free wipes it).
            unsafe { CRYPTO_secure_free(p.cast(), file, 0) };
        });
        let sodium = p50(300, 4, || {
            // SAFETY: sodium_malloc returns `n` writable bytes or null.
            let p = unsafe { sodium_malloc(n) }.cast::<u8>();
            assert!(!p.is_null());
            // SAFETY: `p` holds `n` bytes and does not overlap `src`.
            unsafe { std::ptr::copy_nonoverlapping(black_box(src.as_ptr()), p, n) };
            black_box(p);
            // SAFETY: `p` came from sodium_malloc and is freed once.
            unsafe { sodium_free(p.cast()) };
        });
        println!(
            "{n:>5} B pooled: keyward-secmem {ours:>8.1} ns | Vec+zeroize {vec:>8.1} ns | OpenSSL secure heap {openssl:>8.1} ns | libsodium {sodium:>9.1} ns ({:.0}x ours){}",
            sodium / ours,
            if n == 32 { "  (target <= 100 ns)" } else { "" }
        );
    }
    let src = [0x5Au8; 32];
    let guarded = p50(300, 4, || {
        let mut s = SecretBytes::guarded(32).expect("secret");
        s.expose_secret_mut().copy_from_slice(black_box(&src));
        black_box(&s);
    });
    let sodium = p50(300, 4, || {
        // SAFETY: sodium_malloc returns 32 writable bytes or null.
        let p = unsafe { sodium_malloc(32) }.cast::<u8>();
        assert!(!p.is_null());
        // SAFETY: `p` holds 32 bytes and does not overlap `src`.
        unsafe { std::ptr::copy_nonoverlapping(black_box(src.as_ptr()), p, 32) };
        black_box(p);
        // SAFETY: `p` came from sodium_malloc and is freed once.
        unsafe { sodium_free(p.cast()) };
    });
    println!(
        "   32 B guarded key (own mapping, right-aligned to a guard page): keyward-secmem {guarded:>9.1} ns | libsodium sodium_malloc {sodium:>9.1} ns ({:.2}x ours)",
        sodium / guarded
    );
}

/// Prints one verdict. `must_pass`: a comparison of ours (|t| < 4.5 passes);
/// otherwise a positive control, which must be flagged (|t| >= 4.5).
fn report(what: &str, n: usize, t: f64, must_pass: bool) -> bool {
    let quiet = t.abs() < 4.5;
    let verdict = match (must_pass, quiet) {
        (true, true) => "PASS",
        (true, false) => "FAIL",
        (false, false) => "flagged, as it must be",
        (false, true) => "FAIL: the control was not flagged (the test is too weak)",
    };
    println!("{what:<40} n={n:>8}  max|t|={:>8.2}  {verdict}", t.abs());
    quiet == must_pass
}

fn locked_per_secret() {
    let before = status().locked_bytes;
    let v: Vec<SecretBytes> = (0..100_000)
        .map(|_| SecretBytes::zeroed(32).expect("secret"))
        .collect();
    let st = status();
    println!("== locked memory ({} backend)", st.locking_backend);
    println!(
        "100000 live 32-byte secrets: {} bytes locked = {:.1} locked bytes per secret (target <= 64)",
        st.locked_bytes - before,
        (st.locked_bytes - before) as f64 / v.len() as f64
    );
    drop(v);
}

fn capacity() {
    println!("== live 32-byte secrets locked under RLIMIT_MEMLOCK = 8 MiB, no CAP_IPC_LOCK");
    for (who, label) in [
        ("secmem", "keyward-secmem (required policy)"),
        ("sodium", "libsodium sodium_malloc"),
    ] {
        let out = Command::new(std::env::current_exe().expect("self"))
            .env("KW_REPORT_CHILD", who)
            .output()
            .expect("run child");
        let text = String::from_utf8_lossy(&out.stdout);
        println!("{label:<40} {}", text.trim());
    }
}

fn unprivileged() {
    use nix::sys::resource::{setrlimit, Resource};
    setrlimit(Resource::RLIMIT_MEMLOCK, LIMIT, LIMIT).expect("setrlimit");
    if nix::unistd::geteuid().is_root() {
        // SAFETY: credential calls in a single-threaded child.
        assert_eq!(unsafe { libc::setgroups(0, std::ptr::null()) }, 0);
        // SAFETY: as above.
        assert_eq!(unsafe { libc::setgid(65534) }, 0);
        // SAFETY: as above; drops every capability, CAP_IPC_LOCK included.
        assert_eq!(unsafe { libc::setuid(65534) }, 0);
    }
}

fn child_secmem() {
    unprivileged();
    set_policy(LockPolicy::Required);
    let mut v = Vec::new();
    let mut why = "stopped at 2000000";
    for _ in 0..2_000_000 {
        match SecretBytes::zeroed(32) {
            Ok(s) => v.push(s),
            Err(Error::MemlockExhausted { .. }) => {
                why = "then MemlockExhausted";
                break;
            }
            Err(_) => {
                why = "then another error";
                break;
            }
        }
    }
    println!(
        "{} ({}, {} bytes locked)",
        v.len(),
        why,
        status().locked_bytes
    );
}

fn vm_lck() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn child_sodium() {
    unprivileged();
    // SAFETY: libsodium's documented initialiser.
    assert!(unsafe { sodium_init() } >= 0);
    let (mut locked, mut last, mut flat) = (0u32, vm_lck(), 0);
    for _ in 0..50_000 {
        // SAFETY: allocation only; the memory is leaked on purpose (live secrets).
        let p = unsafe { sodium_malloc(32) };
        if p.is_null() {
            break;
        }
        let now = vm_lck();
        if now > last {
            locked += 1;
            flat = 0;
        } else {
            flat += 1;
            if flat > 1000 {
                break;
            }
        }
        last = now;
    }
    println!("{locked} (then sodium_malloc goes on silently without locking)");
}

/// Cycle counter (x86_64) or nanoseconds.
#[inline(always)]
fn now() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: mfence has no preconditions; pending stores (the input copy)
        // drain before the timer is read.
        unsafe { core::arch::x86_64::_mm_mfence() };
        // SAFETY: lfence has no preconditions; it orders the rdtsc below.
        unsafe { core::arch::x86_64::_mm_lfence() };
        // SAFETY: rdtsc has no preconditions on x86_64.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        use std::sync::OnceLock;
        static T0: OnceLock<std::time::Instant> = OnceLock::new();
        T0.get_or_init(std::time::Instant::now).elapsed().as_nanos() as u64
    }
}

/// dudect's fixed-vs-random test: class 0 is one fixed input (the secret with
/// its last byte changed, so the whole length must be compared), class 1 a
/// fresh random input each time (which almost always differs in the first
/// byte), in random order. Returns the largest |t| over the whole set and
/// sets cropped at several percentiles (as dudect does).
fn dudect(n: usize, secret: &[u8], mut f: impl FnMut(&[u8]) -> bool) -> f64 {
    let mut classes = vec![0u8; n];
    getrandom::getrandom(&mut classes).expect("random");
    let len = secret.len();
    let mut fixed = SecretBytes::from_slice(secret).expect("input");
    fixed.expose_secret_mut()[len - 1] ^= 0x01;
    assert!(!f(fixed.expose_secret()));
    for c in classes.iter_mut() {
        *c &= 1;
    }
    // Inputs are prepared a block at a time, before the block is timed, in a
    // pool of slots; each timing copies its slot into the same buffer, so the
    // classes differ only in content: not in the address read, the cache
    // lines touched, or the work done just before the timer starts.
    let pool = 4096usize;
    let mut slots = vec![0u8; pool * len];
    let mut work = SecretBytes::zeroed(len).expect("input");
    let mut times = vec![0u64; n];
    let fill = |slots: &mut [u8], start: usize, classes: &[u8]| {
        for k in 0..pool.min(classes.len().saturating_sub(start)) {
            let slot = &mut slots[k * len..(k + 1) * len];
            if classes[start + k] == 0 {
                slot.copy_from_slice(fixed.expose_secret());
            } else {
                getrandom::getrandom(slot).expect("random");
            }
        }
    };
    fill(&mut slots, 0, &classes);
    for i in 0..10_000 {
        let k = i % pool;
        work.expose_secret_mut()
            .copy_from_slice(&slots[k * len..(k + 1) * len]);
        black_box(f(black_box(work.expose_secret())));
    }
    for (i, time) in times.iter_mut().enumerate() {
        let k = i % pool;
        if k == 0 && i > 0 {
            fill(&mut slots, i, &classes);
        }
        work.expose_secret_mut()
            .copy_from_slice(&slots[k * len..(k + 1) * len]);
        let input = work.expose_secret();
        let t0 = now();
        let r = f(black_box(input));
        let t1 = now();
        black_box(r);
        *time = t1.wrapping_sub(t0);
    }
    let mut sorted = times.clone();
    sorted.sort_unstable();
    let mut worst: f64 = 0.0;
    for pct in [1.0, 0.99, 0.95, 0.9, 0.75, 0.5] {
        let cut = sorted[((n as f64 * pct) as usize).min(n - 1)];
        let t = welch(&times, &classes, cut);
        if t.abs() > worst.abs() {
            worst = t;
        }
    }
    worst
}

fn welch(times: &[u64], classes: &[u8], cut: u64) -> f64 {
    let mut n = [0f64; 2];
    let mut mean = [0f64; 2];
    let mut m2 = [0f64; 2];
    for (&t, &c) in times.iter().zip(classes) {
        if t > cut {
            continue;
        }
        let c = c as usize;
        let x = t as f64;
        n[c] += 1.0;
        let d = x - mean[c];
        mean[c] += d / n[c];
        m2[c] += d * (x - mean[c]);
    }
    if n[0] < 2.0 || n[1] < 2.0 {
        return 0.0;
    }
    let v0 = m2[0] / (n[0] - 1.0);
    let v1 = m2[1] / (n[1] - 1.0);
    let se = (v0 / n[0] + v1 / n[1]).sqrt();
    if se == 0.0 {
        return 0.0;
    }
    (mean[0] - mean[1]) / se
}
