//! A small secret takes a free slot of a larger size's chunk before the pool
//! maps a chunk for its own size: a short-lived helper (a `git credential get`)
//! then holds its request and its cached-key payload in one `memfd_secret`
//! mapping, not one per size (each mapping costs a TLB flush on every CPU).

use keyward_secmem::{status, ExposeSecret, SecretBytes};

#[test]
fn a_small_secret_shares_a_larger_sizes_chunk_before_mapping_its_own() {
    let request = SecretBytes::from_slice(&[1u8; 400]).unwrap();
    assert_eq!(status().chunks, 1);
    let payload = SecretBytes::from_slice(&[2u8; 41]).unwrap();
    assert_eq!(
        status().chunks,
        1,
        "the 64-byte secret used the 512-byte chunk"
    );
    assert_eq!(payload.expose_secret(), &[2u8; 41]);
    assert_eq!(request.expose_secret(), &[1u8; 400]);
    drop(payload);
    // Fill the 512-byte chunk; then small secrets get a chunk of their own.
    let many: Vec<SecretBytes> = (0..64)
        .map_while(|_| {
            let s = SecretBytes::from_slice(&[3u8; 400]).unwrap();
            (status().chunks == 1).then_some(s)
        })
        .collect();
    assert!(!many.is_empty());
    let small: Vec<SecretBytes> = (0..4)
        .map(|i| SecretBytes::from_slice(&[i; 20]).unwrap())
        .collect();
    assert!(status().chunks >= 2);
    for (i, s) in small.iter().enumerate() {
        assert_eq!(s.expose_secret(), &[i as u8; 20]);
    }
    assert_eq!(status().live_secrets, 1 + many.len() + small.len());
}
