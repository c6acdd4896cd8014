//! pam_keyward's module arguments (the words after the module path on the
//! PAM stack line; here NUL-separated). Never panics; each argument yields at
//! most one complaint, and an accepted `timeout=` survives formatting.
#![no_main]

use keyward_vault::{format_duration, parse_duration};
use libfuzzer_sys::fuzz_target;
use pam_keyward::args;

fuzz_target!(|data: &[u8]| {
    let words: Vec<&[u8]> = data.split(|&b| b == 0).collect();
    let (o, bad) = args::parse(words.iter().copied());
    assert!(bad.len() <= words.len());
    for path in [
        Some(&o.db),
        o.config.as_ref(),
        Some(&o.tally_dir),
        Some(&o.session_dir),
        Some(&o.login_helper),
    ]
    .into_iter()
    .flatten()
    {
        assert!(path.is_absolute(), "only absolute paths are taken");
    }
    if let Some(t) = o.timeout {
        assert!(!t.is_zero());
        let shown = format_duration(t).replace(' ', "");
        assert_eq!(parse_duration(&shown), Ok(t));
    }
    // Same arguments, same options.
    assert_eq!(args::parse(words.iter().copied()).0, o);
});
