//! Cargo's credential requests, parsed from one line of locked input with the
//! crate's locked-memory JSON reader ([`crate::json`]): every field is
//! metadata (a `String`) except `login`'s `token`, which is decoded straight
//! into [`SecretBytes`].
//!
//! The shapes are those of the `cargo-credential` crate's `CredentialRequest`
//! (what cargo serializes): `{"v":1,"registry":{"index-url":…,"name":…,
//! "headers":[…]},"kind":"get"|"login"|"logout",…,"args":[…]}`; `get` carries
//! `operation` (`read`, `publish`, `yank`, `unyank`, `owners`) and its crate
//! fields, `login` an optional `token` and `login-url`. Unknown fields are
//! ignored, as serde does for cargo; a known field given twice is refused.

use crate::json::{self, JsonError, ParseError, Value};
use keyward_secmem::SecretBytes;
use std::fmt;

/// The one protocol version this provider speaks (its hello is `{"v":[1]}`).
pub const PROTOCOL_VERSION: u32 = 1;

/// Why a request line was refused. Carries a field name or a position,
/// never input bytes.
#[derive(Debug)]
pub enum RequestError {
    /// Not JSON, or not the object the protocol defines.
    Json(JsonError),
    /// A required field is absent (`v`, `registry`, `registry.index-url`,
    /// `kind`, `operation` for `get`).
    Missing(&'static str),
    /// A field has the wrong JSON type.
    Type(&'static str, &'static str),
    /// A known field appears twice.
    Duplicate(&'static str),
    /// `v` is not a version this provider offered.
    Version,
    /// Locked memory for the token could not be had.
    Memory(keyward_secmem::Error),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Json(e) => write!(f, "invalid request: {} at byte {}", e.what, e.offset),
            RequestError::Missing(field) => write!(f, "invalid request: missing field `{field}`"),
            RequestError::Type(field, want) => {
                write!(f, "invalid request: `{field}` must be {want}")
            }
            RequestError::Duplicate(field) => {
                write!(f, "invalid request: duplicate field `{field}`")
            }
            RequestError::Version => write!(
                f,
                "unsupported protocol version: this provider speaks version {PROTOCOL_VERSION}"
            ),
            RequestError::Memory(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RequestError {}

impl From<ParseError> for RequestError {
    fn from(e: ParseError) -> Self {
        match e {
            ParseError::Json(e) => RequestError::Json(e),
            ParseError::Memory(e) => RequestError::Memory(e),
        }
    }
}

impl From<JsonError> for RequestError {
    fn from(e: JsonError) -> Self {
        RequestError::Json(e)
    }
}

/// What cargo asks for.
#[derive(Debug)]
pub enum Action {
    /// A token for `operation` (`read`, `publish`, `yank`, `unyank`,
    /// `owners`, or one cargo adds later): the answer is the same token.
    Get {
        /// The operation, as cargo names it.
        operation: String,
    },
    /// Store a token: the one cargo read (`--token` or standard input),
    /// else the provider asks on the terminal.
    Login {
        /// The token, in locked memory.
        token: Option<SecretBytes>,
        /// Where the user can get a token (shown when asking for it).
        login_url: Option<String>,
    },
    /// Forget the registry's token.
    Logout,
    /// A kind this provider does not know (answered `operation-not-supported`).
    Unknown(String),
}

/// One request.
#[derive(Debug)]
pub struct Request {
    /// `registry.index-url`, as cargo sent it.
    pub index_url: String,
    /// `registry.name` (the registry's name in cargo's configuration), if sent.
    pub name: Option<String>,
    /// What to do.
    pub action: Action,
}

/// A member of the request object, once.
fn once<T>(slot: &mut Option<T>, field: &'static str, v: T) -> Result<(), RequestError> {
    if slot.is_some() {
        return Err(RequestError::Duplicate(field));
    }
    *slot = Some(v);
    Ok(())
}

fn string(doc: &[u8], v: &Value, field: &'static str) -> Result<String, RequestError> {
    match v {
        Value::String(r) => Ok(json::decode(doc, r.clone())?),
        _ => Err(RequestError::Type(field, "a string")),
    }
}

/// `null` counts as absent for the optional fields, as serde's `Option` reads it.
fn is_null(doc: &[u8], span: &std::ops::Range<usize>) -> bool {
    &doc[span.clone()] == b"null"
}

/// Parses one request line (without its newline). The line must already be
/// UTF-8 without NUL bytes.
pub fn parse(doc: &[u8]) -> Result<Request, RequestError> {
    let (root, _) = json::parse(doc)?;
    let Value::Object(members) = root else {
        return Err(RequestError::Json(JsonError {
            what: "expected a JSON object",
            offset: 0,
        }));
    };
    let mut v = None;
    let mut index_url = None;
    let mut name = None;
    let mut kind = None;
    let mut operation = None;
    let mut token = None;
    let mut login_url = None;
    let mut registry_seen = false;
    for (k, value, span) in &members {
        match &doc[k.clone()] {
            b"v" => once(&mut v, "v", &doc[span.clone()])?,
            b"registry" => {
                if registry_seen {
                    return Err(RequestError::Duplicate("registry"));
                }
                registry_seen = true;
                let Value::Object(reg) = value else {
                    return Err(RequestError::Type("registry", "an object"));
                };
                for (rk, rv, rspan) in reg {
                    match &doc[rk.clone()] {
                        b"index-url" => once(
                            &mut index_url,
                            "registry.index-url",
                            string(doc, rv, "registry.index-url")?,
                        )?,
                        b"name" if !is_null(doc, rspan) => once(
                            &mut name,
                            "registry.name",
                            string(doc, rv, "registry.name")?,
                        )?,
                        _ => {}
                    }
                }
            }
            b"kind" => once(&mut kind, "kind", string(doc, value, "kind")?)?,
            b"operation" => once(
                &mut operation,
                "operation",
                string(doc, value, "operation")?,
            )?,
            b"token" if !is_null(doc, span) => {
                let Value::String(r) = value else {
                    return Err(RequestError::Type("token", "a string"));
                };
                once(&mut token, "token", json::decode_secret(doc, r.clone())?)?
            }
            b"login-url" if !is_null(doc, span) => once(
                &mut login_url,
                "login-url",
                string(doc, value, "login-url")?,
            )?,
            _ => {}
        }
    }
    match v {
        None => return Err(RequestError::Missing("v")),
        Some(b"1") => {}
        Some(raw) if raw.first().is_some_and(u8::is_ascii_digit) => {
            return Err(RequestError::Version)
        }
        Some(_) => return Err(RequestError::Type("v", "a number")),
    }
    if !registry_seen {
        return Err(RequestError::Missing("registry"));
    }
    let index_url = index_url.ok_or(RequestError::Missing("registry.index-url"))?;
    let kind = kind.ok_or(RequestError::Missing("kind"))?;
    let action = match kind.as_str() {
        "get" => Action::Get {
            operation: operation.ok_or(RequestError::Missing("operation"))?,
        },
        "login" => Action::Login { token, login_url },
        "logout" => Action::Logout,
        _ => Action::Unknown(kind),
    };
    Ok(Request {
        index_url,
        name,
        action,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_secmem::ExposeSecret;

    #[test]
    fn parses_what_cargo_sends() {
        let r = parse(br#"{"v":1,"registry":{"index-url":"sparse+http://127.0.0.1:1/index/","name":"local","headers":["WWW-Authenticate: Cargo login_url=\"x\""]},"kind":"get","operation":"read"}"#).unwrap();
        assert_eq!(r.index_url, "sparse+http://127.0.0.1:1/index/");
        assert_eq!(r.name.as_deref(), Some("local"));
        assert!(matches!(r.action, Action::Get { ref operation } if operation == "read"));

        let r = parse(br#"{"v":1,"registry":{"index-url":"u","name":"n"},"kind":"login","token":"s3cr\u0065t","login-url":"http://h/me"}"#).unwrap();
        let Action::Login { token, login_url } = r.action else {
            panic!()
        };
        assert_eq!(token.unwrap().expose_secret(), b"s3cret");
        assert_eq!(login_url.as_deref(), Some("http://h/me"));

        let r = parse(br#"{"extra":true,"v":1,"registry":{"index-url":"u","extra":1},"kind":"logout","args":["--x"]}"#).unwrap();
        assert!(matches!(r.action, Action::Logout));
        assert!(r.name.is_none());

        let r = parse(
            br#"{"v":1,"registry":{"index-url":"u","name":null},"kind":"login","token":null}"#,
        )
        .unwrap();
        assert!(matches!(r.action, Action::Login { token: None, .. }));

        let r = parse(br#"{"v":1,"registry":{"index-url":"u"},"kind":"get","operation":"publish","name":"c","vers":"0.1.0","cksum":"ab"}"#).unwrap();
        assert!(matches!(r.action, Action::Get { ref operation } if operation == "publish"));

        let r = parse(br#"{"v":1,"registry":{"index-url":"u"},"kind":"rotate"}"#).unwrap();
        assert!(matches!(r.action, Action::Unknown(ref k) if k == "rotate"));
    }

    #[test]
    fn refuses_what_cargo_would_not_send() {
        let err = |line: &[u8]| parse(line).unwrap_err().to_string();
        assert_eq!(
            err(br#"{"registry":{"index-url":"u"},"kind":"get","operation":"read"}"#),
            "invalid request: missing field `v`"
        );
        assert_eq!(
            err(br#"{"v":2,"registry":{"index-url":"u"},"kind":"get","operation":"read"}"#),
            "unsupported protocol version: this provider speaks version 1"
        );
        assert_eq!(
            err(br#"{"v":"1","registry":{"index-url":"u"},"kind":"logout"}"#),
            "invalid request: `v` must be a number"
        );
        assert_eq!(
            err(br#"{"v":1,"kind":"logout"}"#),
            "invalid request: missing field `registry`"
        );
        assert_eq!(
            err(br#"{"v":1,"registry":{},"kind":"logout"}"#),
            "invalid request: missing field `registry.index-url`"
        );
        assert_eq!(
            err(br#"{"v":1,"registry":{"index-url":"u"},"kind":"get"}"#),
            "invalid request: missing field `operation`"
        );
        assert_eq!(
            err(br#"{"v":1,"registry":{"index-url":"u"}}"#),
            "invalid request: missing field `kind`"
        );
        assert_eq!(
            err(br#"{"v":1,"registry":{"index-url":"u"},"kind":"login","token":7}"#),
            "invalid request: `token` must be a string"
        );
        assert_eq!(
            err(br#"{"v":1,"registry":{"index-url":"u"},"kind":"login","token":"a","token":"b"}"#),
            "invalid request: duplicate field `token`"
        );
        assert_eq!(
            err(br#"{"v":1,"registry":"u","kind":"logout"}"#),
            "invalid request: `registry` must be an object"
        );
        assert_eq!(
            err(br#"[1]"#),
            "invalid request: expected a JSON object at byte 0"
        );
        assert_eq!(
            err(br#"{"v":1,"registry":{"index-url":"u"},"kind":"login","token":"hunter2"#),
            "invalid request: unterminated string at byte 67"
        );
    }
}
