//! The JSON keyward reads and writes, without a heap copy of a secret: one
//! reader for docker's `store` payload ([`crate::docker::json`]) and for
//! `~/.docker/config.json` (`keyward import docker`).
//!
//! A general JSON library would decode strings into `String`s on the heap, so
//! this module parses the (already locked) input itself: [`parse`] returns a
//! tree whose strings are byte ranges of the input, and [`decode_secret`]
//! decodes one straight into [`SecretBytes`]. Strings follow Go's
//! `encoding/json`, which the reference helpers use, and are stricter where Go
//! is lax: a lone surrogate escape or a `\u0000` is an error.
//!
//! Output strings are escaped exactly as Go's `json.Encoder` escapes them
//! (HTML-safe: `<`, `>`, `&` become `\u003c`, `\u003e`, `\u0026`).

use keyward_secmem::SecretBytes;
use std::fmt;
use std::ops::Range;

/// Why JSON input was refused. Carries a position, never input bytes.
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

/// Errors from parsing JSON into locked memory.
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

impl ParseError {
    /// The syntax error, or (for a memory failure) a [`JsonError`] at offset 0.
    fn into_json(self) -> JsonError {
        match self {
            ParseError::Json(e) => e,
            ParseError::Memory(_) => JsonError {
                what: "out of locked memory",
                offset: 0,
            },
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

/// Deepest nesting accepted inside ignored values.
pub(crate) const MAX_DEPTH: usize = 64;

/// Where decoded string bytes go.
pub(crate) trait Sink {
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

pub(crate) struct Parser<'a> {
    pub(crate) b: &'a [u8],
    pub(crate) i: usize,
}

impl<'a> Parser<'a> {
    pub(crate) fn err(&self, what: &'static str) -> ParseError {
        ParseError::Json(JsonError {
            what,
            offset: self.i,
        })
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    pub(crate) fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    pub(crate) fn expect(&mut self, c: u8, what: &'static str) -> Result<(), ParseError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(what))
        }
    }

    /// Offset just past the closing quote of the string starting at `self.i`
    /// (which must be `"`), without decoding.
    pub(crate) fn string_end(&self) -> Result<usize, ParseError> {
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
    pub(crate) fn string_into(&mut self, out: &mut impl Sink) -> Result<(), ParseError> {
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

    pub(crate) fn metadata_string(&mut self) -> Result<String, ParseError> {
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
    pub(crate) fn skip_value(&mut self, depth: usize) -> Result<(), ParseError> {
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

/// A parsed value. Strings are byte ranges of the input between the quotes,
/// still escaped: nothing is decoded until asked for.
#[derive(Debug)]
pub enum Value {
    /// Members in order: the key's range, the value, and the value's whole span
    /// (quotes and brackets included).
    Object(Vec<(Range<usize>, Value, Range<usize>)>),
    /// An array (its elements are validated, not kept).
    Array,
    /// A string's range, without the quotes.
    String(Range<usize>),
    /// A number, `true`, `false` or `null`.
    Other,
}

impl Parser<'_> {
    /// The range of the string at `self.i` (validated, not decoded).
    fn string_range(&mut self) -> Result<Range<usize>, ParseError> {
        let start = self.i + 1;
        self.string_into(&mut Discard)?;
        Ok(start..self.i - 1)
    }

    fn tree(&mut self, depth: usize) -> Result<(Value, Range<usize>), ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        self.ws();
        let start = self.i;
        let v = match self.peek() {
            Some(b'"') => Value::String(self.string_range()?),
            Some(b'{') => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        let k = self.string_range()?;
                        self.ws();
                        self.expect(b':', "expected ':'")?;
                        let (v, span) = self.tree(depth + 1)?;
                        members.push((k, v, span));
                        self.ws();
                        match self.peek() {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                break;
                            }
                            _ => return Err(self.err("expected ',' or '}'")),
                        }
                    }
                }
                Value::Object(members)
            }
            Some(b'[') => {
                self.skip_value(depth)?;
                Value::Array
            }
            _ => {
                self.skip_value(depth)?;
                Value::Other
            }
        };
        Ok((v, start..self.i))
    }
}

/// Parses a whole document into a [`Value`] tree and the root's span.
pub fn parse(doc: &[u8]) -> Result<(Value, Range<usize>), JsonError> {
    let mut p = Parser { b: doc, i: 0 };
    let root = p.tree(1).map_err(ParseError::into_json)?;
    p.ws();
    if p.peek().is_some() {
        return Err(JsonError {
            what: "unexpected data after the JSON value",
            offset: p.i,
        });
    }
    Ok(root)
}

/// Decodes the string at `range` (a [`Value::String`] or key range of `doc`)
/// straight into locked memory.
pub fn decode_secret(doc: &[u8], range: Range<usize>) -> Result<SecretBytes, ParseError> {
    let mut p = Parser {
        b: doc,
        i: range.start.saturating_sub(1),
    };
    // Escapes only shrink: one allocation, never regrown.
    let mut out = SecretBytes::with_capacity(range.len().max(1))?;
    p.string_into(&mut out)?;
    Ok(out)
}

/// Decodes the (non-secret) string at `range` of `doc`.
pub fn decode(doc: &[u8], range: Range<usize>) -> Result<String, ParseError> {
    let mut p = Parser {
        b: doc,
        i: range.start.saturating_sub(1),
    };
    p.metadata_string()
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

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_secmem::ExposeSecret;

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
    fn tree_keeps_ranges_and_decodes_on_demand() {
        let doc = br#" {"auths": {"r.example": {"auth": "dTpw\u0041"}}, "n": [1, {"x": null}], "credsStore": "desktop"} "#;
        let (root, span) = parse(doc).unwrap();
        assert_eq!(span, 1..doc.len() - 1);
        let Value::Object(top) = root else { panic!() };
        assert_eq!(decode(doc, top[0].0.clone()).unwrap(), "auths");
        let Value::Object(auths) = &top[0].1 else {
            panic!()
        };
        let Value::Object(fields) = &auths[0].1 else {
            panic!()
        };
        let Value::String(r) = &fields[0].1 else {
            panic!()
        };
        assert_eq!(
            decode_secret(doc, r.clone()).unwrap().expose_secret(),
            b"dTpwA"
        );
        assert!(matches!(top[1].1, Value::Array));
        assert_eq!(&doc[top[2].2.clone()], b"\"desktop\"");
        for bad in [
            &b"{"[..],
            b"{\"a\":}",
            b"{} x",
            b"\"\\ud800\"",
            b"[1,]",
            b"{\"a\":tru}",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = "[".repeat(100);
        assert_eq!(parse(deep.as_bytes()).unwrap_err().what, "nesting too deep");
    }
}
