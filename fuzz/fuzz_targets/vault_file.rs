//! Opening a vault file from its bytes with a fixed key (what
//! `SealedVault::read` + `open_with_key` do after reading the file). Raw
//! bytes stop at the header checksum or the index tag, so the input is also
//! sealed as an index under the fixed key, which reaches the index parser and
//! every accessor through the real open path. Never panics.
#![no_main]

use keyward_vault::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // As a whole file.
    let _ = fuzzing::open(data.to_vec(), fuzzing::fixed_key());
    // As [secrets_len: u16][secrets region][index plaintext], sealed.
    if let [a, b, rest @ ..] = data {
        let n = usize::from(u16::from_le_bytes([*a, *b])).min(rest.len());
        let (secrets, index) = rest.split_at(n);
        let file = fuzzing::sealed_file(secrets, index);
        let opened = fuzzing::open(file, fuzzing::fixed_key());
        // The same verdict as the index parser alone.
        assert_eq!(opened, fuzzing::index(index, secrets.len()).map(|(_, n)| n));
    }
});
