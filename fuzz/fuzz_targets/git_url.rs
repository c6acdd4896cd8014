//! The `url=` splitter (git's `credential_from_url`). Never panics; parts
//! hold no newline, the password is never longer than the url, and a url
//! rebuilt from the parts (percent-encoding what decoding produced) splits
//! back into the same parts.
#![no_main]

use keyward_protocols::git::url::{split, UrlParts};
use keyward_secmem::ExposeSecret;
use libfuzzer_sys::fuzz_target;

/// Percent-encodes every byte that is not unreserved, so that decoding
/// (which keeps bytes before a part's first `:` verbatim) gives it back.
fn enc(out: &mut Vec<u8>, b: &[u8]) {
    for &c in b {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
            out.push(c);
        } else {
            out.extend_from_slice(format!("%{c:02X}").as_bytes());
        }
    }
}

fn rebuild(p: &UrlParts) -> Vec<u8> {
    let mut u = p.protocol.as_bytes().to_vec();
    u.extend_from_slice(b"://");
    if let Some(user) = &p.username {
        enc(&mut u, user.as_bytes());
        if let Some(pw) = &p.password {
            u.push(b':');
            enc(&mut u, pw.expose_secret());
        }
        u.push(b'@');
    }
    enc(&mut u, p.host.as_bytes());
    if let Some(path) = &p.path {
        u.push(b'/');
        // Slashes stay literal so the path's structure survives.
        for seg in path.as_bytes().split(|&b| b == b'/').enumerate() {
            if seg.0 > 0 {
                u.push(b'/');
            }
            enc(&mut u, seg.1);
        }
    }
    u
}

fuzz_target!(|data: &[u8]| {
    if data.contains(&0) || data.contains(&b'\n') {
        return; // the request parser never passes these
    }
    let Ok(p) = split(data) else {
        return;
    };
    for part in [
        Some(&p.protocol),
        Some(&p.host),
        p.path.as_ref(),
        p.username.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(!part.contains('\n'));
    }
    if let Some(pw) = &p.password {
        assert!(pw.expose_secret().len() <= data.len());
        assert!(p.username.is_some(), "a password comes with a user part");
    }
    // A path whose decoding made a leading, trailing or doubled `/` does not
    // rebuild with literal slashes; skip those.
    if p.path
        .as_deref()
        .is_some_and(|s| s.starts_with('/') || s.ends_with('/') || s.contains("//"))
    {
        return;
    }
    let again = split(&rebuild(&p)).expect("a rebuilt url splits");
    assert_eq!(
        (&again.protocol, &again.host, &again.path, &again.username),
        (&p.protocol, &p.host, &p.path, &p.username)
    );
    assert_eq!(
        again.password.as_ref().map(|s| s.expose_secret()),
        p.password.as_ref().map(|s| s.expose_secret())
    );
});
