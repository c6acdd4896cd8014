//! INI files as Python's `configparser` reads them (`RawConfigParser`, the
//! parser botocore uses for `~/.aws/credentials` and `~/.aws/config`, and
//! twine for `~/.pypirc`): one pass over the caller's buffer, which may be
//! locked memory, giving every line's kind and byte ranges. Nothing is
//! copied out, so a secret value stays where it is, and a rewrite keeps every
//! byte it does not change (comments, order, spacing).
//!
//! The rules, from `configparser.RawConfigParser._read` (Python 3.11) with
//! its defaults:
//! - a line whose stripped text starts with `#` or `;` is a comment (no
//!   inline comments);
//! - a blank line is blank (it does not end an option's value);
//! - a non-blank line indented deeper than the option line before it, in a
//!   section, continues that option's value;
//! - otherwise a stripped line starting with `[` and holding a later `]` is a
//!   section header, its name the text between `[` and the last `]`;
//! - otherwise, inside a section, `key = value` or `key: value` (the first
//!   `=` or `:` splits; key and value stripped; keys compare
//!   case-insensitively, as `optionxform` lower-cases them);
//! - anything else (text before any section, a line with no delimiter, an
//!   empty key) is [`Kind::Invalid`]: Python raises an error for it, so a
//!   caller refuses the file or leaves it untouched.
//!
//! Whitespace is ASCII whitespace (Python's `str.strip` also strips Unicode
//! spaces; a credential file written by the tools has none).

use std::ops::Range;

/// One line of an INI file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The line's bytes, without its line ending.
    pub text: Range<usize>,
    /// The line with its line ending (`\n`, or none on the last line).
    pub full: Range<usize>,
    /// What the line is.
    pub kind: Kind,
}

/// What a line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Only whitespace.
    Blank,
    /// A full-line comment.
    Comment,
    /// `[name]`: the range of `name` (not stripped, as Python keeps it).
    Section {
        /// The section's name.
        name: Range<usize>,
    },
    /// `key = value` in the section `section` (an index into the lines).
    Option {
        /// The key, stripped.
        key: Range<usize>,
        /// The value, stripped (may be empty).
        value: Range<usize>,
        /// The line index of the section header this option belongs to.
        section: usize,
    },
    /// An indented line continuing the option on line `option`.
    Continuation {
        /// The text, stripped.
        value: Range<usize>,
        /// The line index of the option it continues.
        option: usize,
    },
    /// A line Python's parser would raise an error for.
    Invalid,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

/// `r` without leading and trailing whitespace of `doc`.
fn strip(doc: &[u8], r: Range<usize>) -> Range<usize> {
    let mut s = r.start;
    let mut e = r.end;
    while s < e && is_space(doc[s]) {
        s += 1;
    }
    while e > s && is_space(doc[e - 1]) {
        e -= 1;
    }
    s..e
}

/// Splits `doc` into lines and classifies each (see the module docs).
pub fn parse(doc: &[u8]) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut section: Option<usize> = None;
    // The option line whose value may continue, and its indentation.
    let mut option: Option<(usize, usize)> = None;
    let mut at = 0;
    while at < doc.len() {
        let end = doc[at..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(doc.len(), |n| at + n);
        let full = at..(end + 1).min(doc.len());
        let text = at..end;
        at = full.end;
        let s = strip(doc, text.clone());
        let idx = lines.len();
        let kind = if s.is_empty() {
            Kind::Blank
        } else if doc[s.start] == b'#' || doc[s.start] == b';' {
            Kind::Comment
        } else {
            let indent = s.start - text.start;
            match option {
                Some((opt, level)) if indent > level && section.is_some() => Kind::Continuation {
                    value: s,
                    option: opt,
                },
                _ => {
                    option = None;
                    line_kind(doc, s, idx, &mut section, &mut option, indent)
                }
            }
        };
        lines.push(Line { text, full, kind });
    }
    lines
}

/// A section header, an option, or an invalid line.
fn line_kind(
    doc: &[u8],
    s: Range<usize>,
    idx: usize,
    section: &mut Option<usize>,
    option: &mut Option<(usize, usize)>,
    indent: usize,
) -> Kind {
    let t = &doc[s.clone()];
    if t[0] == b'[' {
        if let Some(close) = t.iter().rposition(|&c| c == b']').filter(|&c| c > 1) {
            *section = Some(idx);
            return Kind::Section {
                name: s.start + 1..s.start + close,
            };
        }
    }
    let Some(sec) = *section else {
        return Kind::Invalid;
    };
    let Some(d) = t.iter().position(|&c| c == b'=' || c == b':') else {
        return Kind::Invalid;
    };
    let key = strip(doc, s.start..s.start + d);
    if key.is_empty() {
        return Kind::Invalid;
    }
    *option = Some((idx, indent));
    Kind::Option {
        key,
        value: strip(doc, s.start + d + 1..s.end),
        section: sec,
    }
}

/// Whether the key `key` (a range of `doc`) is `name`, ignoring ASCII case.
pub fn key_is(doc: &[u8], key: &Range<usize>, name: &str) -> bool {
    doc[key.clone()].eq_ignore_ascii_case(name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(doc: &str) -> Vec<String> {
        let d = doc.as_bytes();
        let s = |r: &Range<usize>| doc[r.clone()].to_string();
        parse(d)
            .iter()
            .map(|l| match &l.kind {
                Kind::Blank => "blank".into(),
                Kind::Comment => "comment".into(),
                Kind::Section { name } => format!("[{}]", s(name)),
                Kind::Option {
                    key,
                    value,
                    section,
                } => format!("{}={}@{section}", s(key), s(value)),
                Kind::Continuation { value, option } => format!("+{}@{option}", s(value)),
                Kind::Invalid => "invalid".into(),
            })
            .collect()
    }

    #[test]
    fn configparser_lines() {
        let doc = "# c\n[default]\naws_access_key_id = AKIDEXAMPLE\n  ; not a value\nregion:us-east-1\n\n[profile dev] trailing\ns3 =\n    max_concurrent_requests = 10\n\n    x\nkey=a=b\n";
        assert_eq!(
            kinds(doc),
            [
                "comment",
                "[default]",
                "aws_access_key_id=AKIDEXAMPLE@1",
                "comment",
                "region=us-east-1@1",
                "blank",
                "[profile dev]",
                "s3=@6",
                "+max_concurrent_requests = 10@7",
                "blank",
                "+x@7",
                "key=a=b@6",
            ]
        );
    }

    #[test]
    fn invalid_lines_and_spans() {
        assert_eq!(
            kinds("k = v\n[s]\nnodelim\n = v\n[]\n"),
            ["invalid", "[s]", "invalid", "invalid", "invalid"]
        );
        let doc = b"[a]\r\nk = v\r\nlast";
        let lines = parse(doc);
        assert_eq!(lines.len(), 3);
        assert_eq!(&doc[lines[1].full.clone()], b"k = v\r\n");
        assert_eq!(&doc[lines[2].full.clone()], b"last");
        let Kind::Option { value, .. } = &lines[1].kind else {
            panic!("option")
        };
        assert_eq!(&doc[value.clone()], b"v");
        // Every byte is in exactly one line.
        let total: usize = lines.iter().map(|l| l.full.len()).sum();
        assert_eq!(total, doc.len());
    }
}
