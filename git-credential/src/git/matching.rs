//! Which stored credentials a request names, as git's own helpers decide
//! (`credential_match` in git's credential.c): every field present in the
//! request must equal the stored field exactly; an absent field matches
//! anything; an empty string is a value like any other, not a wildcard.
//! `host` includes the port and is compared as a plain string.

use super::proto::Request;

/// The identifying fields of a stored credential, as bytes (equal strings
/// are equal bytes). A field stored absent is kept as the empty string.
#[derive(Debug, Clone, Copy)]
pub struct StoredKey<'a> {
    /// `protocol`.
    pub protocol: &'a [u8],
    /// `host` (with port).
    pub host: &'a [u8],
    /// `path`.
    pub path: &'a [u8],
    /// `username`.
    pub username: &'a [u8],
}

fn field(want: Option<&str>, have: &[u8]) -> bool {
    want.is_none_or(|w| w.as_bytes() == have)
}

/// Whether `stored` matches the request's protocol, host, path and username.
pub fn matches(req: &Request, stored: StoredKey<'_>) -> bool {
    field(req.protocol.as_deref(), stored.protocol)
        && field(req.host.as_deref(), stored.host)
        && field(req.path.as_deref(), stored.path)
        && field(req.username.as_deref(), stored.username)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORED: StoredKey<'static> = StoredKey {
        protocol: b"https",
        host: b"example.com:8443",
        path: b"",
        username: b"bob",
    };

    fn req(input: &str) -> Request {
        Request::parse(input.as_bytes()).unwrap()
    }

    #[test]
    fn absent_fields_match_anything() {
        assert!(matches(&req(""), STORED));
        assert!(matches(&req("host=example.com:8443\n"), STORED));
        assert!(matches(
            &req("protocol=https\nhost=example.com:8443\n"),
            STORED
        ));
    }

    #[test]
    fn present_fields_must_be_equal() {
        assert!(!matches(&req("host=example.com\n"), STORED));
        assert!(!matches(&req("host=EXAMPLE.COM:8443\n"), STORED));
        assert!(!matches(&req("protocol=http\n"), STORED));
        assert!(!matches(&req("username=alice\n"), STORED));
        assert!(!matches(&req("path=repo.git\n"), STORED));
    }

    #[test]
    fn empty_is_a_value() {
        assert!(!matches(&req("username=\n"), STORED));
        assert!(matches(&req("path=\n"), STORED));
        let anonymous = StoredKey {
            username: b"",
            ..STORED
        };
        assert!(matches(&req("username=\n"), anonymous));
        assert!(!matches(&req("username=bob\n"), anonymous));
    }
}
