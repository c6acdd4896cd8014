//! `terraform-credentials-keyward store` input: the credentials object on
//! stdin. Never panics; a token it keeps is non-empty without control
//! characters, and the `get` answer built from it reads back as the same token.
#![no_main]

use keyward_protocols::terraform::{parse, secret_name};
use keyward_secmem::ExposeSecret;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The hostname argument: any name accepted is one valid secret name.
    if let Ok(host) = std::str::from_utf8(data.split(|&c| c == b'\n').next().unwrap_or(b"")) {
        if let Ok(name) = secret_name(host) {
            assert!(keyward_vault::check_name(&name).is_ok());
            assert_eq!(secret_name(&host.to_ascii_uppercase()).ok(), Some(name));
        }
    }
    let Ok(token) = parse::token(data) else {
        return;
    };
    assert!(!token.is_empty());
    assert!(!token.expose_secret().iter().any(|&c| c < 0x20 || c == 0x7f));
    let answer = parse::answer(&token).expect("locked memory");
    let back = parse::token(answer.expose_secret()).expect("answer reads back");
    assert_eq!(back.expose_secret(), token.expose_secret());
});
