//! `release_unused` gives every empty pooled chunk back to the kernel, so a
//! long-lived host (the PAM module's) keeps no secret pages between calls.

use keyward_secmem::{release_unused, status, SecretBytes};

#[test]
fn empty_chunks_are_unmapped_and_live_ones_kept() {
    let keep = SecretBytes::from_slice(b"still needed").unwrap();
    let gone: Vec<SecretBytes> = (0..8)
        .map(|i| SecretBytes::from_slice(&[i; 300]).unwrap())
        .collect();
    drop(gone);
    let before = status().mapped_bytes;
    assert!(before > 0);
    let released = release_unused();
    assert!(
        released > 0,
        "the 512-byte class chunk is empty and must go"
    );
    let after = status().mapped_bytes;
    assert_eq!(after, before - released);
    assert!(after > 0, "the chunk holding a live secret stays");
    assert_eq!(keep.len(), 12);
    drop(keep);
    release_unused();
    assert_eq!(status().mapped_bytes, 0);
    assert_eq!(status().live_secrets, 0);
    // The pool works again afterwards.
    let again = SecretBytes::from_slice(b"again").unwrap();
    assert_eq!(again.len(), 5);
}
