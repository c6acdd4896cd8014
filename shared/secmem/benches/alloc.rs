//! alloc + write + free of a 32-byte and a 1 KiB secret, side by side:
//! keyward-secmem, `Vec` + zeroize (unprotected baseline), and libsodium's
//! guarded heap (`sodium_malloc`/`sodium_free`, Debian libsodium-dev).
//!
//! `cargo bench -p keyward-secmem --bench alloc`

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use keyward_secmem::{ExposeSecretMut, SecretBytes};
use std::ffi::{c_int, c_void};
use zeroize::Zeroize;

#[link(name = "sodium")]
extern "C" {
    fn sodium_init() -> c_int;
    fn sodium_malloc(size: usize) -> *mut c_void;
    fn sodium_free(ptr: *mut c_void);
}

fn bench(c: &mut Criterion) {
    // SAFETY: libsodium's documented initialiser; safe to call more than once.
    assert!(unsafe { sodium_init() } >= 0, "sodium_init failed");
    let mut g = c.benchmark_group("alloc_write_free");
    for n in [32usize, 1024] {
        let src = vec![0x5Au8; n];
        g.bench_with_input(BenchmarkId::new("keyward-secmem", n), &n, |b, &n| {
            b.iter(|| {
                let mut s = SecretBytes::zeroed(n).expect("secure allocation");
                s.expose_secret_mut().copy_from_slice(black_box(&src));
                black_box(&s);
            })
        });
        g.bench_with_input(BenchmarkId::new("vec+zeroize", n), &n, |b, &n| {
            b.iter(|| {
                let mut v = vec![0u8; n];
                v.copy_from_slice(black_box(&src));
                black_box(&v);
                v.zeroize();
            })
        });
        g.bench_with_input(BenchmarkId::new("libsodium", n), &n, |b, &n| {
            b.iter(|| {
                // SAFETY: sodium_malloc returns `n` writable bytes or null.
                let p = unsafe { sodium_malloc(n) }.cast::<u8>();
                assert!(!p.is_null());
                // SAFETY: `p` holds `n` bytes and does not overlap `src`.
                unsafe { std::ptr::copy_nonoverlapping(black_box(src.as_ptr()), p, n) };
                black_box(p);
                // SAFETY: `p` came from sodium_malloc and is freed once.
                unsafe { sodium_free(p.cast()) };
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
