//! The decrypted vault index parser. Never panics; an accepted index
//! re-encodes to the same bytes and every record decodes from its offset.
#![no_main]

use keyward_vault::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // [secrets_len: u32][index plaintext]
    if let [a, b, c, d, index @ ..] = data {
        let secrets_len = u32::from_le_bytes([*a, *b, *c, *d]) as usize;
        let _ = fuzzing::index(index, secrets_len);
    }
});
