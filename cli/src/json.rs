//! A small JSON reader for `~/.docker/config.json` whose strings stay in the
//! source buffer (locked memory) until asked for: `auth` and `identitytoken`
//! are decoded straight into `SecretBytes`, everything else into `String`.

use keyward_secmem::{ExposeSecret, SecretBytes};
use std::ops::Range;

/// A parsed value; strings are byte ranges (without quotes) of the source.
#[derive(Debug)]
pub(crate) enum Value {
    Object(Vec<(Range<usize>, Value, Range<usize>)>), // key, value, value span
    Array,
    String(Range<usize>),
    Other,
}

#[derive(Debug)]
pub(crate) struct Syntax(pub usize);

struct P<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> Result<(), Syntax> {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(Syntax(self.i))
        }
    }
    fn string(&mut self) -> Result<Range<usize>, Syntax> {
        self.eat(b'"')?;
        let start = self.i;
        loop {
            match self.s.get(self.i) {
                None => return Err(Syntax(self.i)),
                Some(b'"') => break,
                Some(b'\\') => self.i += 2,
                Some(c) if *c < 0x20 => return Err(Syntax(self.i)),
                Some(_) => self.i += 1,
            }
        }
        let r = start..self.i;
        self.i += 1;
        Ok(r)
    }
    fn value(&mut self) -> Result<(Value, Range<usize>), Syntax> {
        self.ws();
        let start = self.i;
        self.depth += 1;
        if self.depth > 64 {
            return Err(Syntax(self.i));
        }
        let v =
            match self.s.get(self.i) {
                Some(b'{') => {
                    self.i += 1;
                    let mut members = Vec::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b'}') {
                        self.i += 1;
                    } else {
                        loop {
                            let k = self.string()?;
                            self.eat(b':')?;
                            let (v, span) = self.value()?;
                            members.push((k, v, span));
                            self.ws();
                            match self.s.get(self.i) {
                                Some(b',') => self.i += 1,
                                Some(b'}') => {
                                    self.i += 1;
                                    break;
                                }
                                _ => return Err(Syntax(self.i)),
                            }
                        }
                    }
                    Value::Object(members)
                }
                Some(b'[') => {
                    self.i += 1;
                    self.ws();
                    if self.s.get(self.i) == Some(&b']') {
                        self.i += 1;
                    } else {
                        loop {
                            self.value()?;
                            self.ws();
                            match self.s.get(self.i) {
                                Some(b',') => self.i += 1,
                                Some(b']') => {
                                    self.i += 1;
                                    break;
                                }
                                _ => return Err(Syntax(self.i)),
                            }
                        }
                    }
                    Value::Array
                }
                Some(b'"') => Value::String(self.string()?),
                Some(c) if c.is_ascii_alphanumeric() || *c == b'-' => {
                    while self.s.get(self.i).is_some_and(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.')
                    }) {
                        self.i += 1;
                    }
                    Value::Other
                }
                _ => return Err(Syntax(self.i)),
            };
        self.depth -= 1;
        Ok((v, start..self.i))
    }
}

/// Parses a whole document.
pub(crate) fn parse(s: &[u8]) -> Result<(Value, Range<usize>), Syntax> {
    let mut p = P { s, i: 0, depth: 0 };
    let v = p.value()?;
    p.ws();
    if p.i != s.len() {
        return Err(Syntax(p.i));
    }
    Ok(v)
}

/// Decodes a JSON string's escapes into locked memory.
pub(crate) fn unescape_secret(src: &[u8]) -> Result<SecretBytes, Syntax> {
    let mut out = SecretBytes::with_capacity(src.len().max(1)).map_err(|_| Syntax(0))?;
    let mut i = 0;
    while i < src.len() {
        let c = src[i];
        if c != b'\\' {
            out.push(c).map_err(|_| Syntax(i))?;
            i += 1;
            continue;
        }
        let e = *src.get(i + 1).ok_or(Syntax(i))?;
        i += 2;
        let b = match e {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let hex = src.get(i..i + 4).ok_or(Syntax(i))?;
                let cp = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .ok_or(Syntax(i))?;
                i += 4;
                let ch = char::from_u32(cp).ok_or(Syntax(i))?;
                let mut tmp = [0u8; 4];
                let enc = ch.encode_utf8(&mut tmp);
                out.extend_from_slice(enc.as_bytes())
                    .map_err(|_| Syntax(i))?;
                zeroize::Zeroize::zeroize(&mut tmp);
                continue;
            }
            _ => return Err(Syntax(i)),
        };
        out.push(b).map_err(|_| Syntax(i))?;
    }
    Ok(out)
}

/// Decodes a (non-secret) JSON string.
pub(crate) fn unescape(src: &[u8]) -> Result<String, Syntax> {
    let s = unescape_secret(src)?;
    String::from_utf8(s.expose_secret().to_vec()).map_err(|_| Syntax(0))
}
