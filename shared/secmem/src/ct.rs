//! Constant-time comparison.

use subtle::ConstantTimeEq;

/// Compares two byte strings without an early return on content. Lengths are
/// compared in the open: use [`ct_eq_fixed`] for digests so length leaks nothing.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    bool::from(a.ct_eq(b))
}

/// Compares two fixed-length digests in constant time.
pub fn ct_eq_fixed<const N: usize>(a: &[u8; N], b: &[u8; N]) -> bool {
    bool::from(a[..].ct_eq(&b[..]))
}
