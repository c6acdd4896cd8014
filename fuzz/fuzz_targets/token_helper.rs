//! `keyward-token-helper`: the server address (first line) and the token of
//! `store` (the rest). Never panics; an address names one valid secret, the
//! same with a trailing `/`; a token kept is printable ASCII.
#![no_main]

use keyward_protocols::tokenhelper::{read_token, secret_name};
use keyward_secmem::ExposeSecret;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (first, rest) = match data.iter().position(|&c| c == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    if let Ok(addr) = std::str::from_utf8(first) {
        if let Ok(name) = secret_name(addr) {
            assert!(keyward_vault::check_name(&name).is_ok());
            assert_eq!(secret_name(&format!("{addr}/")).ok(), Some(name));
        }
    }
    if let Ok(token) = read_token(&mut &rest[..]) {
        assert!(!token.is_empty());
        assert!(token.expose_secret().iter().all(|c| c.is_ascii_graphic()));
    }
});
