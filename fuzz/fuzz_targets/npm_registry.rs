//! `keyward setup pnpm` / `keyward npm-token`: a registry URL. Never panics;
//! its npm key is `//…/` and idempotent, its secret name valid.
#![no_main]

use keyward_protocols::npm::{nerf_dart, secret_name};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(url) = std::str::from_utf8(data) else {
        return;
    };
    let Some(dart) = nerf_dart(url) else {
        return;
    };
    assert!(dart.starts_with("//") && dart.ends_with('/'));
    assert_eq!(nerf_dart(&dart).as_deref(), Some(dart.as_str()));
    if let Some((d, name)) = secret_name(url) {
        assert_eq!(d, dart);
        assert!(keyward_vault::check_name(&name).is_ok());
    }
});
