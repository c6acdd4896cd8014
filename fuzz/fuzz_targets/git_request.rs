//! `git-credential-keyward`'s request parser (git-credential(1) attribute
//! lines). Never panics; a parsed request, written back as attribute lines,
//! parses to the same fields.
#![no_main]

use keyward_protocols::git::proto::{Request, MAX_LINE};
use keyward_secmem::{ExposeSecret, SecretBytes};
use libfuzzer_sys::fuzz_target;

/// The request as attribute lines, or `None` when the wire format cannot
/// carry it: a value ending in `\r` loses that `\r` (git strips one before
/// the newline, and so does the parser), and lines have a length limit.
fn encode(r: &Request) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut line = |key: &str, value: &[u8]| -> Option<()> {
        if value.ends_with(b"\r") || key.len() + value.len() + 2 > MAX_LINE {
            return None;
        }
        out.extend_from_slice(key.as_bytes());
        out.push(b'=');
        out.extend_from_slice(value);
        out.push(b'\n');
        Some(())
    };
    let text = [
        ("protocol", &r.protocol),
        ("host", &r.host),
        ("path", &r.path),
        ("username", &r.username),
        ("authtype", &r.authtype),
    ];
    for (k, v) in text {
        if let Some(v) = v {
            line(k, v.as_bytes())?;
        }
    }
    let secrets = [
        ("password", &r.password),
        ("oauth_refresh_token", &r.oauth_refresh_token),
        ("credential", &r.credential),
    ];
    for (k, v) in secrets {
        if let Some(v) = v {
            line(k, v.expose_secret())?;
        }
    }
    if let Some(t) = r.password_expiry_utc {
        line("password_expiry_utc", t.to_string().as_bytes())?;
    }
    if r.capability_authtype {
        line("capability[]", b"authtype")?;
    }
    if r.capability_state {
        line("capability[]", b"state")?;
    }
    if r.ephemeral {
        line("ephemeral", b"true")?;
    }
    if r.continue_ {
        line("continue", b"1")?;
    }
    for w in &r.wwwauth {
        line("wwwauth[]", w.as_bytes())?;
    }
    for s in &r.state {
        line("state[]", s.as_bytes())?;
    }
    out.push(b'\n');
    Some(out)
}

fn secret(s: &Option<SecretBytes>) -> Option<&[u8]> {
    s.as_ref().map(|s| s.expose_secret())
}

fuzz_target!(|data: &[u8]| {
    let Ok(req) = Request::parse(data) else {
        return;
    };
    let _ = (req.is_empty_pattern(), req.wants_authtype());
    let Some(wire) = encode(&req) else {
        return;
    };
    let again = Request::parse(&wire).expect("a re-encoded request parses");
    assert_eq!(
        (&again.protocol, &again.host, &again.path, &again.username),
        (&req.protocol, &req.host, &req.path, &req.username)
    );
    assert_eq!(
        (&again.authtype, again.password_expiry_utc),
        (&req.authtype, req.password_expiry_utc)
    );
    assert_eq!(secret(&again.password), secret(&req.password));
    assert_eq!(
        secret(&again.oauth_refresh_token),
        secret(&req.oauth_refresh_token)
    );
    assert_eq!(secret(&again.credential), secret(&req.credential));
    assert_eq!(
        (
            again.capability_authtype,
            again.capability_state,
            again.ephemeral,
            again.continue_
        ),
        (
            req.capability_authtype,
            req.capability_state,
            req.ephemeral,
            req.continue_
        )
    );
    assert_eq!((&again.wwwauth, &again.state), (&req.wwwauth, &req.state));
});
