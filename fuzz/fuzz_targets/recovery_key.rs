//! The typed recovery key (`keyward unlock --recovery-key-fd`,
//! `keyward_vault::recovery_key::parse`): never panics; whatever parses
//! prints back (`to_text`) as text that parses to the same 32 bytes. (The
//! header's slot list is reached by `vault_file`.)
#![no_main]

use keyward_secmem::ExposeSecret;
use keyward_vault::recovery_key::{parse, to_text, TEXT_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = parse(data) {
        assert_eq!(key.len(), 32);
        let text = to_text(&key).unwrap();
        assert_eq!(text.len(), TEXT_LEN);
        let again = parse(text.expose_secret()).expect("printed key parses");
        assert_eq!(again.expose_secret(), key.expose_secret());
    }
});
