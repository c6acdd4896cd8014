//! The credentials object of Terraform's `store` (`{"token":"…"}`), read with
//! the crate's one locked-memory JSON reader ([`crate::json`]), and the
//! answer to `get`, built in locked memory.

use crate::json::{self, Value};
use keyward_secmem::{ExposeSecret, SecretBytes};
use std::fmt;

/// Why an object cannot be stored. Names a property or a byte offset, never
/// a value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refused {
    /// Not UTF-8, or a NUL byte.
    NotText,
    /// Not JSON: what and where.
    Json(&'static str, usize),
    /// Valid JSON, but not an object.
    NotObject,
    /// A property this helper cannot keep (its name, when printable and short).
    Property(Option<String>),
    /// No `token` property.
    NoToken,
    /// `token` given twice.
    TwoTokens,
    /// `token` is not a string.
    TokenNotString,
    /// `token` is the empty string.
    EmptyToken,
    /// `token` holds a control character (it would not survive an HTTP header).
    ControlInToken,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::NotText => f.write_str("stdin is not UTF-8 text without NUL bytes"),
            Refused::Json(what, at) => write!(f, "stdin is not a JSON object ({what} at byte {at})"),
            Refused::NotObject => f.write_str("stdin is JSON but not an object"),
            Refused::Property(Some(p)) => write!(
                f,
                "property {p:?}: this helper keeps only \"token\" and will not drop the rest"
            ),
            Refused::Property(None) => f.write_str(
                "a property other than \"token\": this helper keeps only \"token\" and will not drop the rest",
            ),
            Refused::NoToken => f.write_str("no \"token\" property"),
            Refused::TwoTokens => f.write_str("\"token\" is given twice"),
            Refused::TokenNotString => f.write_str("\"token\" is not a string"),
            Refused::EmptyToken => f.write_str("\"token\" is empty"),
            Refused::ControlInToken => f.write_str("\"token\" holds a control character"),
        }
    }
}

/// Errors of [`token`].
#[derive(Debug)]
pub enum Error {
    /// The object cannot be stored.
    Refused(Refused),
    /// Locked memory could not be had.
    Memory(keyward_secmem::Error),
}

impl From<Refused> for Error {
    fn from(r: Refused) -> Self {
        Error::Refused(r)
    }
}

/// The token of a `store` object, decoded straight into locked memory.
pub fn token(input: &[u8]) -> Result<SecretBytes, Error> {
    if input.contains(&0) || std::str::from_utf8(input).is_err() {
        return Err(Refused::NotText.into());
    }
    let (root, _) = json::parse(input).map_err(|e| Refused::Json(e.what, e.offset))?;
    let Value::Object(members) = root else {
        return Err(Refused::NotObject.into());
    };
    let mut found = None;
    for (key, value, _) in members {
        let name = json::decode(input, key.clone()).ok();
        if name.as_deref() != Some("token") {
            let shown = name.filter(|n| n.len() <= 64 && n.bytes().all(|c| c.is_ascii_graphic()));
            return Err(Refused::Property(shown).into());
        }
        if found.is_some() {
            return Err(Refused::TwoTokens.into());
        }
        let Value::String(range) = value else {
            return Err(Refused::TokenNotString.into());
        };
        found = Some(range);
    }
    let range = found.ok_or(Refused::NoToken)?;
    let secret = json::decode_secret(input, range).map_err(|e| match e {
        json::ParseError::Json(j) => Error::Refused(Refused::Json(j.what, j.offset)),
        json::ParseError::Memory(m) => Error::Memory(m),
    })?;
    if secret.is_empty() {
        return Err(Refused::EmptyToken.into());
    }
    if secret
        .expose_secret()
        .iter()
        .any(|&c| c < 0x20 || c == 0x7f)
    {
        return Err(Refused::ControlInToken.into());
    }
    Ok(secret)
}

/// `{"token":"…"}` and a newline, in locked memory.
pub fn answer(token: &SecretBytes) -> Result<SecretBytes, keyward_secmem::Error> {
    let mut out = SecretBytes::with_capacity(16 + 6 * token.len())?;
    out.extend_from_slice(b"{\"token\":")?;
    json::push_string(&mut out, token.expose_secret())?;
    out.extend_from_slice(b"}\n")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(s: &str) -> Result<Vec<u8>, Refused> {
        token(s.as_bytes())
            .map(|t| t.expose_secret().to_vec())
            .map_err(|e| match e {
                Error::Refused(r) => r,
                Error::Memory(m) => panic!("{m}"),
            })
    }

    #[test]
    fn keeps_only_the_token() {
        assert_eq!(tok(r#"{"token":"hunter2"}"#), Ok(b"hunter2".to_vec()));
        assert_eq!(
            tok(" {\n \"token\" : \"a\\u0062\\/c\" }\n"),
            Ok(b"ab/c".to_vec())
        );
        assert_eq!(
            tok(r#"{"token":"x","org":"y"}"#),
            Err(Refused::Property(Some("org".into())))
        );
        assert_eq!(
            tok(r#"{"Token":"x"}"#),
            Err(Refused::Property(Some("Token".into())))
        );
        assert_eq!(tok(r#"{"token":"x","token":"y"}"#), Err(Refused::TwoTokens));
        assert_eq!(tok(r#"{"token":1}"#), Err(Refused::TokenNotString));
        assert_eq!(tok(r#"{"token":null}"#), Err(Refused::TokenNotString));
        assert_eq!(tok(r#"{"token":""}"#), Err(Refused::EmptyToken));
        assert_eq!(tok(r#"{"token":"a\nb"}"#), Err(Refused::ControlInToken));
        assert_eq!(tok("{}"), Err(Refused::NoToken));
        assert_eq!(tok("[]"), Err(Refused::NotObject));
        assert!(matches!(tok(""), Err(Refused::Json(..))));
        assert!(matches!(tok(r#"{"token":"x"} x"#), Err(Refused::Json(..))));
        assert_eq!(
            token(b"{\"token\":\"a\0\"}")
                .err()
                .map(|e| matches!(e, Error::Refused(Refused::NotText))),
            Some(true)
        );
    }

    #[test]
    fn answer_round_trips() {
        for t in ["hunter2", "a\"b\\c<&>", "ünï"] {
            let s = SecretBytes::from_slice(t.as_bytes()).unwrap();
            let a = answer(&s).unwrap();
            let back = token(a.expose_secret()).unwrap();
            assert_eq!(back.expose_secret(), t.as_bytes());
        }
        let s = SecretBytes::from_slice(b"s3cret").unwrap();
        assert_eq!(
            answer(&s).unwrap().expose_secret(),
            b"{\"token\":\"s3cret\"}\n"
        );
    }
}
