//! Constant-time comparison.
//!
//! Both functions XOR the inputs eight bytes at a time into one accumulator
//! and look at it once, behind a single optimisation barrier: no branch and no
//! per-byte barrier depends on where the inputs differ. (The earlier
//! implementation, `subtle`'s slice comparison, put a `black_box` on every
//! byte's result; at 32 bytes it showed a small repeatable timing difference
//! between a first-byte and a last-byte mismatch in the dudect benchmark.)

use subtle::{Choice, ConstantTimeEq};

/// Compares two byte strings without an early return on content. Lengths are
/// compared in the open: use [`ct_eq_fixed`] for digests so length leaks nothing.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    bool::from(equal(a, b))
}

/// Compares two fixed-length digests in constant time.
pub fn ct_eq_fixed<const N: usize>(a: &[u8; N], b: &[u8; N]) -> bool {
    bool::from(equal(a, b))
}

/// Whether `a == b` (same length), with time independent of the contents.
#[inline(never)]
fn equal(a: &[u8], b: &[u8]) -> Choice {
    let (a, b) = (std::hint::black_box(a), std::hint::black_box(b));
    let mut acc = 0u64;
    let (aw, bw) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ar, br) = (aw.remainder(), bw.remainder());
    for (x, y) in aw.zip(bw) {
        let x = u64::from_ne_bytes([x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]]);
        let y = u64::from_ne_bytes([y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7]]);
        acc |= x ^ y;
    }
    for (x, y) in ar.iter().zip(br) {
        acc |= u64::from(x ^ y);
    }
    // One barrier on the whole result, then subtle's constant-time compare.
    std::hint::black_box(acc).ct_eq(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_and_unequal_at_every_position_and_length() {
        for len in [0usize, 1, 7, 8, 9, 31, 32, 33, 1024] {
            let a: Vec<u8> = (0..len).map(|i| i as u8).collect();
            assert!(ct_eq(&a, &a.clone()));
            for pos in 0..len {
                for bit in [0x01u8, 0x80] {
                    let mut b = a.clone();
                    b[pos] ^= bit;
                    assert!(!ct_eq(&a, &b), "len {len} pos {pos}");
                }
            }
            let mut longer = a.clone();
            longer.push(0);
            assert!(!ct_eq(&a, &longer));
        }
        assert!(ct_eq_fixed(&[9u8; 32], &[9u8; 32]));
        assert!(!ct_eq_fixed(&[9u8; 32], &{
            let mut x = [9u8; 32];
            x[31] = 8;
            x
        }));
    }
}
