//! The tpm2 slot's payload in the vault header (`keyward_tpm::SealedKey`,
//! "KWT2"): read from a vault file anyone may have tampered with. Never
//! panics; what parses prints back byte for byte, so nothing is dropped or
//! invented on the way to the TPM.
#![no_main]

use keyward_tpm::SealedKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sealed) = SealedKey::from_bytes(data) {
        assert_eq!(sealed.to_bytes(), data);
        assert!(sealed.pcrs().mask() < 1 << 24);
    }
});
