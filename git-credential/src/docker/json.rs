//! The little JSON the docker credential protocol needs, without a heap copy of
//! the secret.
//!
//! `store` reads `{"ServerURL":…,"Username":…,"Secret":…}`. A general JSON
//! library would decode `Secret` into a `String` on the heap, so this module
//! parses the (already locked) input itself and decodes `Secret` straight into
//! [`SecretBytes`]. It follows Go's `encoding/json`, which the reference helpers
//! use: keys match case-insensitively, the last duplicate wins, unknown keys and
//! `null` values are ignored. It is stricter where Go is lax: a lone surrogate
//! escape, a `\u0000` or trailing data after the object is an error.
//!
//! Output strings are escaped exactly as Go's `json.Encoder` escapes them
//! (HTML-safe: `<`, `>`, `&` become `\u003c`, `\u003e`, `\u0026`).

use keyward_secmem::{ExposeSecret, SecretBytes};
use std::fmt;

/// Why the `store` payload was refused. Carries a position, never input bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// What was wrong.
    pub what: &'static str,
    /// Byte offset in the input where it was noticed.
    pub offset: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid JSON on stdin: {} at byte {}",
            self.what, self.offset
        )
    }
}

impl std::error::Error for JsonError {}

/// Errors from parsing a `store` payload.
#[derive(Debug)]
pub enum ParseError {
    /// The input is not the JSON object the protocol expects.
    Json(JsonError),
    /// Locked memory for the secret could not be had.
    Memory(keyward_secmem::Error),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Json(e) => e.fmt(f),
            ParseError::Memory(e) => e.fmt(f),
        }
    }
}

impl From<JsonError> for ParseError {
    fn from(e: JsonError) -> Self {
        ParseError::Json(e)
    }
}

impl From<keyward_secmem::Error> for ParseError {
    fn from(e: keyward_secmem::Error) -> Self {
        ParseError::Memory(e)
    }
}

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

/// Deepest nesting accepted inside ignored values.
const MAX_DEPTH: usize = 64;

/// Where decoded string bytes go.
trait Sink {
    fn put(&mut self, bytes: &[u8]) -> Result<(), ParseError>;
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), ParseError> {
        self.extend_from_slice(bytes);
        Ok(())
    }
}

impl Sink for SecretBytes {
    fn put(&mut self, bytes: &[u8]) -> Result<(), ParseError> {
        Ok(self.extend_from_slice(bytes)?)
    }
}

/// Discards decoded bytes (strings inside ignored values are still validated).
struct Discard;

impl Sink for Discard {
    fn put(&mut self, _: &[u8]) -> Result<(), ParseError> {
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    ServerUrl,
    Username,
    Secret,
    Other,
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, what: &'static str) -> ParseError {
        ParseError::Json(JsonError {
            what,
            offset: self.i,
        })
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8, what: &'static str) -> Result<(), ParseError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(what))
        }
    }

    /// Offset just past the closing quote of the string starting at `self.i`
    /// (which must be `"`), without decoding.
    fn string_end(&self) -> Result<usize, ParseError> {
        let mut j = self.i + 1;
        loop {
            match self.b.get(j) {
                None => {
                    return Err(ParseError::Json(JsonError {
                        what: "unterminated string",
                        offset: j,
                    }))
                }
                Some(b'"') => return Ok(j + 1),
                Some(b'\\') => j += 2,
                Some(_) => j += 1,
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err("bad \\u escape")),
            };
            v = v * 16 + u32::from(d);
            self.i += 1;
        }
        Ok(v)
    }

    /// Decodes the string at `self.i` into `out`.
    fn string_into(&mut self, out: &mut impl Sink) -> Result<(), ParseError> {
        self.expect(b'"', "expected a string")?;
        loop {
            // Copy the longest run of plain bytes in one go.
            let start = self.i;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            if self.i > start {
                out.put(&self.b[start..self.i])?;
            }
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
                    self.i += 1;
                    let simple = match c {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            let ch = self.unicode_escape()?;
                            let mut buf = [0u8; 4];
                            out.put(ch.encode_utf8(&mut buf).as_bytes())?;
                            zeroize::Zeroize::zeroize(&mut buf);
                            continue;
                        }
                        _ => {
                            self.i -= 1;
                            return Err(self.err("unknown escape"));
                        }
                    };
                    out.put(&[simple])?;
                }
                Some(_) => return Err(self.err("control character in string")),
            }
        }
    }

    /// After `\u`: one code point, joining a surrogate pair.
    fn unicode_escape(&mut self) -> Result<char, ParseError> {
        let at = self.i;
        let hi = self.hex4()?;
        let cp = if (0xD800..0xDC00).contains(&hi) {
            if self.b.get(self.i..self.i + 2) != Some(b"\\u") {
                self.i = at;
                return Err(self.err("lone surrogate in \\u escape"));
            }
            self.i += 2;
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                self.i = at;
                return Err(self.err("lone surrogate in \\u escape"));
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else if (0xDC00..0xE000).contains(&hi) {
            self.i = at;
            return Err(self.err("lone surrogate in \\u escape"));
        } else {
            hi
        };
        if cp == 0 {
            self.i = at;
            return Err(self.err("NUL character (\\u0000) in string"));
        }
        char::from_u32(cp).ok_or_else(|| self.err("bad \\u escape"))
    }

    fn metadata_string(&mut self) -> Result<String, ParseError> {
        let mut v = Vec::new();
        self.string_into(&mut v)?;
        // The input was checked as UTF-8 and escapes decode to whole characters.
        String::from_utf8(v).map_err(|_| self.err("invalid UTF-8 in string"))
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<(), ParseError> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.err("unexpected character"))
        }
    }

    fn number(&mut self) -> Result<(), ParseError> {
        let digits = |p: &mut Self| {
            let s = p.i;
            while let Some(b'0'..=b'9') = p.peek() {
                p.i += 1;
            }
            p.i > s
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        if self.peek() == Some(b'0') {
            self.i += 1;
        } else if !digits(self) {
            return Err(self.err("bad number"));
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !digits(self) {
                return Err(self.err("bad number"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if !digits(self) {
                return Err(self.err("bad number"));
            }
        }
        Ok(())
    }

    /// Validates and skips any value.
    fn skip_value(&mut self, depth: usize) -> Result<(), ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        self.ws();
        match self.peek() {
            Some(b'"') => self.string_into(&mut Discard),
            Some(b'{') => {
                self.i += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.ws();
                    self.string_into(&mut Discard)?;
                    self.ws();
                    self.expect(b':', "expected ':'")?;
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(self.err("expected ',' or '}'")),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(self.err("expected ',' or ']'")),
                    }
                }
            }
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            None => Err(self.err("unexpected end of input")),
            Some(_) => Err(self.err("unexpected character")),
        }
    }
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

/// Appends `s` as a JSON string literal, escaped as Go's `json.Encoder` does.
pub fn push_string(out: &mut SecretBytes, s: &[u8]) -> Result<(), keyward_secmem::Error> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"')?;
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c < 0x80 {
            let esc: Option<&[u8]> = match c {
                b'"' => Some(b"\\\""),
                b'\\' => Some(b"\\\\"),
                0x08 => Some(b"\\b"),
                0x0c => Some(b"\\f"),
                b'\n' => Some(b"\\n"),
                b'\r' => Some(b"\\r"),
                b'\t' => Some(b"\\t"),
                _ => None,
            };
            if esc.is_none() && c >= 0x20 && c != b'<' && c != b'>' && c != b'&' {
                i += 1;
                continue;
            }
            out.extend_from_slice(&s[start..i])?;
            match esc {
                Some(e) => out.extend_from_slice(e)?,
                None => out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(c >> 4)],
                    HEX[usize::from(c & 0xf)],
                ])?,
            }
            i += 1;
            start = i;
            continue;
        }
        // Multi-byte: U+2028 and U+2029 are escaped, invalid UTF-8 becomes U+FFFD.
        let width = utf8_width(&s[i..]);
        match width {
            Some(3) if s[i] == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] & 0xFE) == 0xA8 => {
                out.extend_from_slice(&s[start..i])?;
                out.extend_from_slice(if s[i + 2] == 0xA8 {
                    b"\\u2028"
                } else {
                    b"\\u2029"
                })?;
                i += 3;
                start = i;
            }
            Some(w) => i += w,
            None => {
                out.extend_from_slice(&s[start..i])?;
                out.extend_from_slice(b"\\ufffd")?;
                i += 1;
                start = i;
            }
        }
    }
    out.extend_from_slice(&s[start..])?;
    out.push(b'"')
}

/// Length of the valid UTF-8 sequence at the start of `s`, if it is one.
fn utf8_width(s: &[u8]) -> Option<usize> {
    let w = match s.first()? {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let head = s.get(..w)?;
    std::str::from_utf8(head).ok().map(|_| w)
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

    fn encoded(s: &[u8]) -> String {
        let mut out = SecretBytes::with_capacity(0).unwrap();
        push_string(&mut out, s).unwrap();
        String::from_utf8(out.expose_secret().to_vec()).unwrap()
    }

    #[test]
    fn encodes_like_go() {
        assert_eq!(encoded(b"<token>"), r#""\u003ctoken\u003e""#);
        assert_eq!(encoded(b"a&b\"c\\d/e"), r#""a\u0026b\"c\\d/e""#);
        assert_eq!(
            encoded(b"\x01\x08\x0c\n\r\t\x1f\x7f"),
            "\"\\u0001\\b\\f\\n\\r\\t\\u001f\x7f\""
        );
        assert_eq!(
            encoded("é\u{2028}\u{2029}😀".as_bytes()),
            "\"é\\u2028\\u2029😀\""
        );
        assert_eq!(encoded(b"a\xffb\xe2\x80"), r#""a\ufffdb\ufffd\ufffd""#);
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
