//! The configuration file (TOML) merge. Never panics; merging is idempotent
//! (a text that merged, merged again, gives the same configuration) and an
//! error leaves the earlier configuration as it was.
#![no_main]

use keyward_vault::Config;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = Path::new("/fuzz/config.toml");
    let mut c = Config::default();
    match c.merge(file, text) {
        Ok(()) => {
            let once = c.clone();
            c.merge(file, text).expect("what merged once merges again");
            assert_eq!(c, once, "merging is idempotent");
            assert!(c.kdf.check().is_ok(), "merged KDF parameters are in bounds");
        }
        Err(e) => {
            assert!(!e.to_string().contains('\n'), "one-line error");
        }
    }
});
