//! `~/.netrc` as curl and Python's `netrc` module read it: one pass over the
//! caller's (locked) buffer giving each entry's tokens as byte ranges, so a
//! password is decoded only into locked memory and a rewrite can cut an
//! entry out and keep every other byte.
//!
//! Tokens are separated by whitespace. A token starting with `"` runs to the
//! next unescaped `"`, and `\c` inside it stands for `c` (curl ≥ 7.84 and
//! Python ≥ 3.11 read quotes this way). Keywords: `machine NAME` and
//! `default` start an entry; `login`, `password` and `account` take the next
//! token; `macdef NAME` skips a macro body up to the next blank line. Where a
//! keyword is expected, a token starting with `#` comments out the rest of
//! the line. Any other word there is an error, as in Python.

use keyward_secmem::SecretBytes;
use std::ops::Range;

/// One token: its bytes in the file (quotes included when quoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token as written.
    pub raw: Range<usize>,
    /// Whether it was written in double quotes (then `\c` stands for `c`).
    pub quoted: bool,
}

/// One `machine` (or `default`) entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    /// The machine's name; `None` for `default`.
    pub machine: Option<Token>,
    /// `login`.
    pub login: Option<Token>,
    /// `password`.
    pub password: Option<Token>,
    /// `account`.
    pub account: Option<Token>,
    /// From the `machine`/`default` keyword to the end of its last token.
    pub span: Range<usize>,
}

/// Why a file is not a netrc file: what and where (never a value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte {offset}: {why}")]
pub struct ParseError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What is wrong.
    pub why: &'static str,
}

struct Lexer<'a> {
    doc: &'a [u8],
    at: usize,
}

impl Lexer<'_> {
    fn skip_space(&mut self) {
        while self.at < self.doc.len() && self.doc[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    fn next(&mut self) -> Result<Option<Token>, ParseError> {
        self.skip_space();
        let start = self.at;
        if start >= self.doc.len() {
            return Ok(None);
        }
        if self.doc[start] == b'"' {
            self.at += 1;
            loop {
                match self.doc.get(self.at) {
                    None => {
                        return Err(ParseError {
                            offset: start,
                            why: "unterminated quoted token",
                        })
                    }
                    Some(b'\\') => self.at += 2,
                    Some(b'"') => {
                        self.at += 1;
                        break;
                    }
                    Some(_) => self.at += 1,
                }
            }
            self.at = self.at.min(self.doc.len());
            return Ok(Some(Token {
                raw: start..self.at,
                quoted: true,
            }));
        }
        while self.at < self.doc.len() && !self.doc[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
        Ok(Some(Token {
            raw: start..self.at,
            quoted: false,
        }))
    }

    fn skip_line(&mut self) {
        while self.at < self.doc.len() && self.doc[self.at] != b'\n' {
            self.at += 1;
        }
    }

    /// Skips a macro body: everything up to and including the next blank line.
    fn skip_macro(&mut self) {
        self.skip_line();
        while self.at < self.doc.len() {
            self.at += 1; // the newline
            let line_start = self.at;
            self.skip_line();
            if self.doc[line_start..self.at]
                .iter()
                .all(|c| c.is_ascii_whitespace())
            {
                return;
            }
        }
    }
}

/// Parses a netrc file into its entries (see the module docs).
pub fn parse(doc: &[u8]) -> Result<Vec<Entry>, ParseError> {
    let mut lx = Lexer { doc, at: 0 };
    let mut entries: Vec<Entry> = Vec::new();
    let mut current: Option<Entry> = None;
    while let Some(tok) = lx.next()? {
        let word = &doc[tok.raw.clone()];
        if !tok.quoted && word.first() == Some(&b'#') {
            lx.skip_line();
            continue;
        }
        let kw = if tok.quoted { &b""[..] } else { word };
        let value = |lx: &mut Lexer<'_>, why| {
            lx.next()?.ok_or(ParseError {
                offset: tok.raw.start,
                why,
            })
        };
        match kw {
            b"machine" | b"default" => {
                entries.extend(current.take());
                let machine = if kw == b"machine" {
                    Some(value(&mut lx, "`machine` without a name")?)
                } else {
                    None
                };
                current = Some(Entry {
                    machine,
                    span: tok.raw.start..lx.at,
                    ..Entry::default()
                });
            }
            b"login" | b"user" | b"password" | b"account" => {
                let Some(e) = current.as_mut() else {
                    return Err(ParseError {
                        offset: tok.raw.start,
                        why: "a field before any `machine` or `default`",
                    });
                };
                let v = value(&mut lx, "a field without a value")?;
                e.span.end = lx.at;
                match kw {
                    b"password" => e.password = Some(v),
                    b"account" => e.account = Some(v),
                    _ => e.login = Some(v),
                }
            }
            b"macdef" => {
                entries.extend(current.take());
                value(&mut lx, "`macdef` without a name")?;
                lx.skip_macro();
            }
            _ => {
                return Err(ParseError {
                    offset: tok.raw.start,
                    why: "unknown word where a keyword belongs",
                })
            }
        }
    }
    entries.extend(current);
    Ok(entries)
}

/// A token's value: quotes removed and `\c` made `c`.
fn unquote(
    doc: &[u8],
    t: &Token,
    mut push: impl FnMut(u8) -> Result<(), keyward_secmem::Error>,
) -> Result<(), keyward_secmem::Error> {
    if !t.quoted {
        for &c in &doc[t.raw.clone()] {
            push(c)?;
        }
        return Ok(());
    }
    let inner = &doc[t.raw.start + 1..t.raw.end.saturating_sub(1).max(t.raw.start + 1)];
    let mut it = inner.iter();
    while let Some(&c) = it.next() {
        match c {
            b'\\' => {
                if let Some(&n) = it.next() {
                    push(n)?;
                }
            }
            c => push(c)?,
        }
    }
    Ok(())
}

/// A token's value in locked memory (for `password` and `account`).
pub fn decode_secret(doc: &[u8], t: &Token) -> Result<SecretBytes, keyward_secmem::Error> {
    let mut out = SecretBytes::with_capacity(t.raw.len().max(1))?;
    unquote(doc, t, |c| out.push(c))?;
    Ok(out)
}

/// A token's value as text (for `machine` and `login`), lossy for bad UTF-8.
pub fn decode(doc: &[u8], t: &Token) -> String {
    let mut v = Vec::with_capacity(t.raw.len());
    let _ = unquote(doc, t, |c| {
        v.push(c);
        Ok(())
    });
    String::from_utf8_lossy(&v).into_owned()
}

/// The range to cut to remove `e` from `doc`: its span, and when it starts
/// a line, the whitespace and newline after it.
pub fn cut_range(doc: &[u8], e: &Entry) -> Range<usize> {
    let line_start = doc[..e.span.start]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |n| n + 1);
    let starts_line = doc[line_start..e.span.start]
        .iter()
        .all(|c| c.is_ascii_whitespace());
    let mut end = e.span.end;
    if starts_line {
        while end < doc.len() && (doc[end] == b' ' || doc[end] == b'\t' || doc[end] == b'\r') {
            end += 1;
        }
        if end < doc.len() && doc[end] == b'\n' {
            end += 1;
        }
        return line_start..end;
    }
    e.span.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_secmem::ExposeSecret;

    #[test]
    fn entries_tokens_and_comments() {
        let doc = b"# top\nmachine a.example login alice password s3cret\nmacdef init\ncd /\nls\n\nmachine \"b ex\" login \"bo\\\"b\" password \"p w\" account x\ndefault login anonymous password me@\n";
        let es = parse(doc).unwrap();
        assert_eq!(es.len(), 3);
        assert_eq!(decode(doc, es[0].machine.as_ref().unwrap()), "a.example");
        assert_eq!(decode(doc, es[0].login.as_ref().unwrap()), "alice");
        let pw = decode_secret(doc, es[0].password.as_ref().unwrap()).unwrap();
        assert_eq!(pw.expose_secret(), b"s3cret");
        assert_eq!(decode(doc, es[1].machine.as_ref().unwrap()), "b ex");
        assert_eq!(decode(doc, es[1].login.as_ref().unwrap()), "bo\"b");
        let pw = decode_secret(doc, es[1].password.as_ref().unwrap()).unwrap();
        assert_eq!(pw.expose_secret(), b"p w");
        assert!(es[2].machine.is_none());
        // Cutting the first entry keeps the comment, the macro and the rest.
        let r = cut_range(doc, &es[0]);
        let mut out = doc[..r.start].to_vec();
        out.extend_from_slice(&doc[r.end..]);
        assert!(out.starts_with(b"# top\nmacdef init\n"));
        assert_eq!(parse(&out).unwrap().len(), 2);
    }

    #[test]
    fn errors_name_a_place() {
        for (doc, why) in [
            (&b"login x"[..], "a field before any `machine` or `default`"),
            (b"machine", "`machine` without a name"),
            (b"machine a password", "a field without a value"),
            (b"machine a password \"x", "unterminated quoted token"),
            (
                b"machine a frobnicate",
                "unknown word where a keyword belongs",
            ),
        ] {
            assert_eq!(parse(doc).unwrap_err().why, why, "{doc:?}");
        }
    }
}
