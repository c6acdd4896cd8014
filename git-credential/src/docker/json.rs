//! The JSON of the docker credential protocol: `store` reads
//! `{"ServerURL":…,"Username":…,"Secret":…}`, decoding `Secret` straight into
//! [`SecretBytes`] through the shared reader ([`crate::json`]). As Go's
//! `encoding/json` does, keys match case-insensitively, the last duplicate
//! wins, unknown keys and `null` values are ignored; trailing data after the
//! object is an error.

use crate::json::Parser;
pub use crate::json::{push_string, JsonError, ParseError};
use keyward_secmem::{ExposeSecret, SecretBytes};

/// A parsed `store` request. `server_url` and `username` are metadata; the
/// secret is only ever in locked memory.
#[derive(Debug)]
pub struct StoreRequest {
    /// `ServerURL`, verbatim (empty when absent or `null`).
    pub server_url: String,
    /// `Username`, verbatim (empty when absent or `null`).
    pub username: String,
    /// `Secret`, decoded (empty when absent or `null`).
    pub secret: SecretBytes,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    ServerUrl,
    Username,
    Secret,
    Other,
}

fn field(key: &[u8]) -> Field {
    if key.eq_ignore_ascii_case(b"ServerURL") {
        Field::ServerUrl
    } else if key.eq_ignore_ascii_case(b"Username") {
        Field::Username
    } else if key.eq_ignore_ascii_case(b"Secret") {
        Field::Secret
    } else {
        Field::Other
    }
}

/// Parses a `store` payload. `input` must already be checked as UTF-8 without
/// NUL bytes.
pub fn parse_store(input: &[u8]) -> Result<StoreRequest, ParseError> {
    let mut p = Parser { b: input, i: 0 };
    let mut server_url = String::new();
    let mut username = String::new();
    let mut secret = SecretBytes::with_capacity(0)?;
    p.ws();
    if p.peek().is_none() {
        return Err(p.err("empty input, expected a JSON object"));
    }
    p.expect(b'{', "expected a JSON object")?;
    p.ws();
    if p.peek() == Some(b'}') {
        p.i += 1;
    } else {
        loop {
            p.ws();
            let mut key = Vec::new();
            p.string_into(&mut key)?;
            let f = field(&key);
            p.ws();
            p.expect(b':', "expected ':'")?;
            p.ws();
            let is_null = p.b[p.i..].starts_with(b"null");
            match f {
                Field::Other => p.skip_value(1)?,
                _ if is_null => {
                    p.i += 4;
                    // Go leaves the field as it was; nothing to do.
                }
                Field::ServerUrl => {
                    if p.peek() != Some(b'"') {
                        return Err(p.err("ServerURL must be a string"));
                    }
                    server_url = p.metadata_string()?;
                }
                Field::Username => {
                    if p.peek() != Some(b'"') {
                        return Err(p.err("Username must be a string"));
                    }
                    username = p.metadata_string()?;
                }
                Field::Secret => {
                    if p.peek() != Some(b'"') {
                        return Err(p.err("Secret must be a string"));
                    }
                    // Escapes only shrink: one allocation, never regrown.
                    let raw_len = p.string_end()? - p.i;
                    let mut s = SecretBytes::with_capacity(raw_len)?;
                    p.string_into(&mut s)?;
                    secret = s; // the previous value (a duplicate key) is wiped on drop
                }
            }
            p.ws();
            match p.peek() {
                Some(b',') => p.i += 1,
                Some(b'}') => {
                    p.i += 1;
                    break;
                }
                _ => return Err(p.err("expected ',' or '}'")),
            }
        }
    }
    p.ws();
    if p.peek().is_some() {
        return Err(p.err("unexpected data after the JSON object"));
    }
    Ok(StoreRequest {
        server_url,
        username,
        secret,
    })
}

/// `{"ServerURL":…,"Username":…,"Secret":…}` and a newline, built in locked memory.
pub fn credentials_response(
    server_url: &str,
    username: &str,
    secret: &SecretBytes,
) -> Result<SecretBytes, keyward_secmem::Error> {
    let mut out =
        SecretBytes::with_capacity(48 + 6 * (server_url.len() + username.len() + secret.len()))?;
    out.extend_from_slice(b"{\"ServerURL\":")?;
    push_string(&mut out, server_url.as_bytes())?;
    out.extend_from_slice(b",\"Username\":")?;
    push_string(&mut out, username.as_bytes())?;
    out.extend_from_slice(b",\"Secret\":")?;
    push_string(&mut out, secret.expose_secret())?;
    out.extend_from_slice(b"}\n")?;
    Ok(out)
}

/// `{"server":"username",…}` and a newline, keys sorted as Go sorts map keys.
pub fn list_response(entries: &[(String, String)]) -> Result<Vec<u8>, keyward_secmem::Error> {
    let mut sorted: Vec<&(String, String)> = entries.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    sorted.dedup_by(|a, b| a.0 == b.0);
    // Metadata only; a locked buffer is used only for the shared escaper.
    let mut out = SecretBytes::with_capacity(64)?;
    out.push(b'{')?;
    for (n, (server, user)) in sorted.iter().enumerate() {
        if n > 0 {
            out.push(b',')?;
        }
        push_string(&mut out, server.as_bytes())?;
        out.push(b':')?;
        push_string(&mut out, user.as_bytes())?;
    }
    out.extend_from_slice(b"}\n")?;
    Ok(out.expose_secret().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<(String, String, Vec<u8>), String> {
        parse_store(s.as_bytes())
            .map(|r| (r.server_url, r.username, r.secret.expose_secret().to_vec()))
            .map_err(|e| e.to_string())
    }

    fn ok(server: &str, user: &str, secret: &[u8]) -> Result<(String, String, Vec<u8>), String> {
        Ok((server.into(), user.into(), secret.to_vec()))
    }

    #[test]
    fn parses_the_three_fields() {
        assert_eq!(
            parse(r#"{"ServerURL":"https://index.docker.io/v1/","Username":"u","Secret":"p"}"#),
            ok("https://index.docker.io/v1/", "u", b"p")
        );
    }

    #[test]
    fn keys_are_case_insensitive_unknown_ignored_last_wins() {
        assert_eq!(
            parse(
                "{\n  \"serverurl\": \"r.io\",\n \"USERNAME\":\"a\", \"extra\": {\"x\": [1, -2.5e3, true, false, null, \"s\"]},\n \
                 \"secret\": \"first\", \"sEcReT\": \"second\"\n}\n"
            ),
            ok("r.io", "a", b"second")
        );
    }

    #[test]
    fn missing_or_null_secret_is_empty() {
        assert_eq!(
            parse(r#"{"ServerURL":"r","Username":"u"}"#),
            ok("r", "u", b"")
        );
        assert_eq!(
            parse(r#"{"ServerURL":"r","Username":"u","Secret":null}"#),
            ok("r", "u", b"")
        );
        assert_eq!(parse("{}"), ok("", "", b""));
    }

    #[test]
    fn escapes_decode_into_the_secret() {
        assert_eq!(
            parse(r#"{"Secret":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00\u003c"}"#),
            ok("", "", "a\"b\\c/d\u{8}\u{c}\n\r\té😀<".as_bytes())
        );
        assert_eq!(parse(r#"{"Server\u0055RL":"x"}"#), ok("x", "", b""));
    }

    #[test]
    fn rejects_bad_json_without_echoing_it() {
        for (input, what) in [
            ("", "empty input"),
            ("   \n", "empty input"),
            ("[]", "expected a JSON object"),
            (r#"{"Secret":"hunter2""#, "expected ',' or '}'"),
            (r#"{"Secret":"hunter2"#, "unterminated string"),
            (r#"{"Secret":hunter2}"#, "Secret must be a string"),
            (r#"{"Username":5}"#, "Username must be a string"),
            (r#"{"ServerURL":["a"]}"#, "ServerURL must be a string"),
            (r#"{"Secret":"a\qhunter2"}"#, "unknown escape"),
            (r#"{"Secret":"\ud800hunter2"}"#, "lone surrogate"),
            (r#"{"Secret":"\udc00"}"#, "lone surrogate"),
            (r#"{"Secret":"\u12"}"#, "bad \\u escape"),
            (r#"{"Secret":"a\u0000b"}"#, "NUL character"),
            ("{\"Secret\":\"a\tb\"}", "control character"),
            (r#"{"Secret":"x"} {"Secret":"y"}"#, "unexpected data after"),
            (r#"{"Secret":"x",}"#, "expected a string"),
            (r#"{"a":01}"#, "expected ',' or '}'"),
            (r#"{"a":tru}"#, "unexpected character"),
            (r#"{"a":-}"#, "bad number"),
        ] {
            let e = parse(input).unwrap_err();
            assert!(e.contains(what), "{input:?}: {e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{{\"x\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse(&deep).unwrap_err().contains("nesting too deep"));
    }

    /// Fuzz smoke test: mutated payloads never panic, and what parses
    /// re-encodes to JSON that parses to the same values.
    #[test]
    fn mutated_payloads_never_panic() {
        let seeds: [&[u8]; 3] = [
            br#"{"ServerURL":"https://index.docker.io/v1/","Username":"u","Secret":"p\u00e9\ud83d\ude00"}"#,
            b"{\n \"serverurl\": \"a\", \"x\": [1, {\"y\": null}, -2.5e3, true],\n \"secret\": \"\\\"\\n\"}",
            br#"{"Secret":null,"Username":"<token>","ServerURL":"r:5000"}"#,
        ];
        let alphabet = b"{}[]:,\"\\u0123456789abcdefnrtl -+.eE\xc3\xa9";
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..10_000 {
            let mut input = seeds[round % seeds.len()].to_vec();
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % (input.len() + 1);
                match next() % 4 {
                    0 if at < input.len() => {
                        input.remove(at);
                    }
                    1 => input.insert(at, alphabet[(next() as usize) % alphabet.len()]),
                    2 if at < input.len() => {
                        input[at] = alphabet[(next() as usize) % alphabet.len()]
                    }
                    _ => input.truncate(at),
                }
            }
            if std::str::from_utf8(&input).is_err() || input.contains(&0) {
                continue; // refused before parsing
            }
            if let Ok(r) = parse_store(&input) {
                let mut again = SecretBytes::with_capacity(0).unwrap();
                again.extend_from_slice(b"{\"ServerURL\":").unwrap();
                push_string(&mut again, r.server_url.as_bytes()).unwrap();
                again.extend_from_slice(b",\"Username\":").unwrap();
                push_string(&mut again, r.username.as_bytes()).unwrap();
                again.extend_from_slice(b",\"Secret\":").unwrap();
                push_string(&mut again, r.secret.expose_secret()).unwrap();
                again.push(b'}').unwrap();
                let r2 = parse_store(again.expose_secret()).expect("re-encoded output parses");
                assert_eq!(r2.server_url, r.server_url);
                assert_eq!(r2.username, r.username);
                assert_eq!(r2.secret.expose_secret(), r.secret.expose_secret());
            }
        }
    }

    #[test]
    fn responses() {
        let s = SecretBytes::from_slice(b"p<").unwrap();
        let r = credentials_response("docker.io", "<token>", &s).unwrap();
        assert_eq!(
            r.expose_secret(),
            b"{\"ServerURL\":\"docker.io\",\"Username\":\"\\u003ctoken\\u003e\",\"Secret\":\"p\\u003c\"}\n"
        );
        assert_eq!(list_response(&[]).unwrap(), b"{}\n");
        let l = list_response(&[("b".into(), "2".into()), ("a".into(), "1".into())]).unwrap();
        assert_eq!(l, b"{\"a\":\"1\",\"b\":\"2\"}\n");
    }
}
