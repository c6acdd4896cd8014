//! A guarded mapping outlives its secret, wiped, for the next guarded secret
//! of its size (one test per process: it reads the pool's counters).

use keyward_secmem::{status, ExposeSecret, SecretBytes};

/// A guarded key's mapping is wiped when the key goes and kept for the next
/// guarded secret of its size, instead of being unmapped (which flushes every
/// CPU's TLB); the next secret starts zeroed with a fresh canary, and
/// `release_unused` unmaps the spare.
#[test]
fn a_dropped_guarded_mapping_is_reused_zeroed_and_released_on_request() {
    let first = SecretBytes::guarded_from_slice(&[0xA5u8; 32]).unwrap();
    let at = first.expose_secret().as_ptr() as usize;
    let mapped = status().mapped_bytes;
    drop(first);
    assert_eq!(status().mapped_bytes, mapped, "the spare stays mapped");
    let second = SecretBytes::guarded(48).unwrap();
    assert_eq!(status().mapped_bytes, mapped, "and is reused");
    assert_eq!(
        second.expose_secret().as_ptr() as usize / 4096,
        at / 4096,
        "in the same page"
    );
    assert!(second.expose_secret().iter().all(|&b| b == 0));
    drop(second);
    keyward_secmem::release_unused();
    assert_eq!(status().mapped_bytes, mapped - 4096);
}
