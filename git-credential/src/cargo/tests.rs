//! The protocol over an in-memory store: sessions of several requests,
//! answers byte for byte, the bad-input paths.

use super::*;
use std::collections::HashMap;

#[derive(Debug, Default)]
struct Memory {
    tokens: HashMap<String, Vec<u8>>,
}

impl Store for Memory {
    fn get(&mut self, key: &str) -> Result<Option<SecretBytes>, Answer> {
        match self.tokens.get(key) {
            Some(t) => Ok(Some(SecretBytes::from_slice(t)?)),
            None => Ok(None),
        }
    }
    fn put(&mut self, key: &str, token: SecretBytes) -> Result<(), Answer> {
        self.tokens
            .insert(key.to_owned(), token.expose_secret().to_vec());
        Ok(())
    }
    fn erase(&mut self, key: &str) -> Result<bool, Answer> {
        Ok(self.tokens.remove(key).is_some())
    }
    fn ask_token(&mut self, prompt: &str) -> Result<SecretBytes, Option<Answer>> {
        assert_eq!(prompt, "keyward: token for r (from http://r/me): ");
        Ok(SecretBytes::from_slice(b"typed-token").unwrap())
    }
}

fn session(store: &mut Memory, input: &[u8]) -> (i32, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = serve(&["--cargo-plugin".into()], input, &mut out, &mut err, store);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

/// A reader that hands out one byte per read, as a slow pipe might.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.split_first() {
            Some((b, rest)) if !buf.is_empty() => {
                buf[0] = *b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn login_get_logout_on_one_connection() {
    let mut m = Memory::default();
    let input = concat!(
        r#"{"v":1,"registry":{"index-url":"sparse+http://r/index/","name":"r"},"kind":"get","operation":"read"}"#,
        "\n",
        r#"{"v":1,"registry":{"index-url":"sparse+http://r/index/","name":"r"},"kind":"login","token":"s3<cr>et\"x","login-url":"http://r/me"}"#,
        "\n",
        r#"{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"get","operation":"publish","name":"c","vers":"1.0.0","cksum":"00"}"#,
        "\n",
        r#"{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"logout"}"#,
        "\n",
        r#"{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"logout"}"#,
        "\n",
        r#"{"v":1,"registry":{"index-url":"sparse+http://r/index/"},"kind":"rotate"}"#,
        "\n",
    );
    let (code, out, err) = session(&mut m, input.as_bytes());
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        concat!(
            "{\"v\":[1]}\n",
            "{\"Err\":{\"kind\":\"not-found\"}}\n",
            "{\"Ok\":{\"kind\":\"login\"}}\n",
            "{\"Ok\":{\"kind\":\"get\",\"token\":\"s3\\u003ccr\\u003eet\\\"x\",\"cache\":\"session\",\"operation_independent\":true}}\n",
            "{\"Ok\":{\"kind\":\"logout\"}}\n",
            "{\"Err\":{\"kind\":\"not-found\"}}\n",
            "{\"Err\":{\"kind\":\"operation-not-supported\",\"message\":\"cargo-credential-keyward does not support `rotate` requests\"}}\n",
        )
    );
    assert!(err.is_empty());
    assert!(m.tokens.is_empty());
}

#[test]
fn crates_io_has_one_key_and_lines_may_arrive_in_pieces() {
    let mut m = Memory::default();
    let input = concat!(
        r#"{"v":1,"registry":{"index-url":"https://github.com/rust-lang/crates.io-index","name":"crates-io"},"kind":"login","token":"hunter2"}"#,
        "\n",
        r#"{"v":1,"registry":{"index-url":"sparse+https://index.crates.io/","name":"crates-io"},"kind":"get","operation":"read"}"#,
    );
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = serve(
        &["--cargo-plugin".into()],
        Trickle(input.as_bytes()),
        &mut out,
        &mut err,
        &mut m,
    );
    assert_eq!(code, 0);
    assert!(String::from_utf8(out)
        .unwrap()
        .ends_with("{\"Ok\":{\"kind\":\"get\",\"token\":\"hunter2\",\"cache\":\"session\",\"operation_independent\":true}}\n"));
    assert_eq!(
        m.tokens.keys().collect::<Vec<_>>(),
        vec!["sparse+https://index.crates.io/"]
    );
}

#[test]
fn bad_lines_end_the_session_with_an_other_error() {
    let cases: &[(&[u8], &str)] = &[
        (b"not json\n", "invalid request: unexpected character at byte 0"),
        (b"\n", "invalid request: unexpected end of input at byte 0"),
        (b"{\"v\":1,\"registry\":{\"index-url\":\"u\"},\"kind\":\"login\",\"token\":\"hun\0ter2\"}\n", "invalid request: NUL byte"),
        (b"{\"v\":1,\"registry\":{\"index-url\":\"u\"},\"kind\":\"login\",\"token\":\"hun\xffter2\"}\n", "invalid request: not valid UTF-8"),
        (b"{\"v\":1,\"registry\":{\"index-url\":\"\"},\"kind\":\"logout\"}\n", "invalid request: empty `registry.index-url`"),
    ];
    for (input, message) in cases {
        let mut m = Memory::default();
        let mut with_more = input.to_vec();
        with_more.extend_from_slice(
            b"{\"v\":1,\"registry\":{\"index-url\":\"u\"},\"kind\":\"login\",\"token\":\"x\"}\n",
        );
        let (code, out, err) = session(&mut m, &with_more);
        assert_eq!(code, 0);
        let want = format!(
            "{{\"v\":[1]}}\n{{\"Err\":{{\"kind\":\"other\",\"message\":\"{message}\"}}}}\n"
        );
        if message.starts_with("invalid request: empty") {
            // A well-formed request with a bad value: the session goes on.
            assert!(out.starts_with(&want), "{out}");
            assert!(out.ends_with("{\"Ok\":{\"kind\":\"login\"}}\n"));
        } else {
            assert_eq!(out, want);
            assert!(m.tokens.is_empty());
        }
        assert!(err.is_empty());
    }
    let mut long = vec![b' '; MAX_LINE + 1];
    long.push(b'\n');
    let (code, out, _) = session(&mut Memory::default(), &long);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        format!("{{\"v\":[1]}}\n{{\"Err\":{{\"kind\":\"other\",\"message\":\"invalid request: longer than {MAX_LINE} bytes\"}}}}\n")
    );
}

#[test]
fn login_without_a_token_asks() {
    let mut m = Memory::default();
    let input = br#"{"v":1,"registry":{"index-url":"sparse+http://r/index/","name":"r"},"kind":"login","login-url":"http://r/me"}
"#;
    let (code, out, _) = session(&mut m, input);
    assert_eq!(code, 0);
    assert!(out.ends_with("{\"Ok\":{\"kind\":\"login\"}}\n"), "{out}");
    assert_eq!(m.tokens["sparse+http://r/index/"], b"typed-token");
}

#[test]
fn not_run_by_cargo() {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = serve(&[], &b""[..], &mut out, &mut err, &mut Memory::default());
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(String::from_utf8(err).unwrap().starts_with("usage: "));
}
