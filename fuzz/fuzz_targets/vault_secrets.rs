//! The decrypted record-secret parser. Never panics; accepted secrets
//! re-encode to the same bytes.
#![no_main]

use keyward_vault::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::secrets(data);
});
