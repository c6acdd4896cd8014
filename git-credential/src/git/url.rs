//! Splitting a `url=` attribute into its parts exactly as git 2.47 does
//! (`credential_from_url` in git's credential.c, checked against the git on
//! this machine): `proto://[user[:password]@]host[/path]`.
//!
//! - The scheme is mandatory; the host may be empty (`cert:///file`).
//! - The host ends at the first `/`, `?` or `#`; `?` and `#` stay in the path.
//! - The first `@` before that ends the user part; the first `:` before the
//!   `@` separates user and password.
//! - Leading slashes of the path and trailing ones are trimmed.
//! - Parts are percent-decoded like git's `url_decode_mem`: bytes before the
//!   first `:` of a part are kept as they are, `%00` is never decoded, and a
//!   decoded newline is an error.
//!
//! The password is decoded straight into locked memory.

use super::error::ProtocolError;
use keyward_secmem::{ExposeSecret, SecretBytes};

/// The parts of a url. Absent parts are `None`; the host is always present.
#[derive(Debug)]
pub struct UrlParts {
    /// The scheme.
    pub protocol: String,
    /// Host and port, possibly empty.
    pub host: String,
    /// The path without leading and trailing slashes, if not empty.
    pub path: Option<String>,
    /// The user, if the url has a user part (possibly empty).
    pub username: Option<String>,
    /// The password, if the url has one (possibly empty).
    pub password: Option<SecretBytes>,
}

/// Splits `url` (any bytes but NUL and newline) into its parts.
pub fn split(url: &[u8]) -> Result<UrlParts, ProtocolError> {
    let proto_end = find(url, b"://")
        .filter(|&i| i > 0)
        .ok_or(ProtocolError::BadUrl {
            why: "it has no scheme",
        })?;
    let cp = &url[proto_end + 3..];
    let slash = cp
        .iter()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(cp.len());
    let at = cp.iter().position(|&b| b == b'@');
    let colon = cp.iter().position(|&b| b == b':');

    let mut username = None;
    let mut password = None;
    let host_start = match at {
        Some(at) if at < slash => {
            match colon {
                Some(colon) if colon < at => {
                    username = Some(decode_text(&cp[..colon], "username")?);
                    password = Some(decode_secret(&cp[colon + 1..at])?);
                }
                _ => username = Some(decode_text(&cp[..at], "username")?),
            }
            at + 1
        }
        _ => 0,
    };
    let protocol = text(&url[..proto_end], "protocol")?;
    if protocol.contains('\n') {
        return Err(ProtocolError::BadUrl {
            why: "it contains a newline in its protocol component",
        });
    }
    let host = decode_text(&cp[host_start..slash], "host")?;
    let mut rest = &cp[slash..];
    while let [b'/', tail @ ..] = rest {
        rest = tail;
    }
    let path = if rest.is_empty() {
        None
    } else {
        let mut p = decode_text(rest, "path")?;
        while p.len() > 1 && p.ends_with('/') {
            p.pop();
        }
        Some(p)
    };
    Ok(UrlParts {
        protocol,
        host,
        path,
        username,
        password,
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// git's `url_decode_mem`: the part before the first `:` (if not at the start)
/// is copied as it is; `%XX` is decoded after it, except `%00`.
fn decode(
    src: &[u8],
    mut out: impl FnMut(u8) -> Result<(), ProtocolError>,
) -> Result<(), ProtocolError> {
    let verbatim = match src.iter().position(|&b| b == b':') {
        Some(c) if c > 0 => c,
        _ => 0,
    };
    for &b in &src[..verbatim] {
        out(b)?;
    }
    let mut i = verbatim;
    while i < src.len() {
        if src[i] == b'%' && src.len() - i >= 3 {
            if let (Some(h), Some(l)) = (hex(src[i + 1]), hex(src[i + 2])) {
                let v = h * 16 + l;
                if v > 0 {
                    out(v)?;
                    i += 3;
                    continue;
                }
            }
        }
        out(src[i])?;
        i += 1;
    }
    Ok(())
}

fn newline_error(component: &'static str) -> ProtocolError {
    ProtocolError::BadUrl {
        why: match component {
            "username" => "it contains a newline in its username component",
            "password" => "it contains a newline in its password component",
            "host" => "it contains a newline in its host component",
            _ => "it contains a newline in its path component",
        },
    }
}

fn text(bytes: &[u8], key: &'static str) -> Result<String, ProtocolError> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| ProtocolError::NotUtf8 { key })
}

fn decode_text(src: &[u8], component: &'static str) -> Result<String, ProtocolError> {
    let mut v = Vec::with_capacity(src.len());
    decode(src, |b| {
        if b == b'\n' {
            return Err(newline_error(component));
        }
        v.push(b);
        Ok(())
    })?;
    String::from_utf8(v).map_err(|_| ProtocolError::NotUtf8 { key: component })
}

fn decode_secret(src: &[u8]) -> Result<SecretBytes, ProtocolError> {
    // Decoding only shrinks, so this never reallocates.
    let mut s = SecretBytes::with_capacity(src.len())?;
    let mut failed = None;
    decode(src, |b| {
        if b == b'\n' {
            return Err(newline_error("password"));
        }
        if let Err(e) = s.push(b) {
            failed = Some(e);
        }
        Ok(())
    })?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    debug_assert!(s.expose_secret().len() <= src.len());
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(
        url: &str,
    ) -> (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<Vec<u8>>,
    ) {
        let p = split(url.as_bytes()).unwrap();
        (
            p.protocol,
            p.host,
            p.path,
            p.username,
            p.password.map(|s| s.expose_secret().to_vec()),
        )
    }

    fn s(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    // Every expectation below was checked against `git credential` 2.47.
    #[test]
    fn splits_like_git() {
        assert_eq!(
            parts("https://us%41r:p%41ss@h%2Fx/p%41th%2F/"),
            (
                "https".into(),
                "h/x".into(),
                s("pAth"),
                s("usAr"),
                Some(b"pAss".to_vec())
            )
        );
        assert_eq!(
            parts("https://h?x/y"),
            ("https".into(), "h".into(), s("?x/y"), None, None)
        );
        assert_eq!(parts("https://h#frag").2, s("#frag"));
        assert_eq!(
            parts("cert:///etc/x.pem"),
            ("cert".into(), "".into(), s("etc/x.pem"), None, None)
        );
        assert_eq!(
            parts("https://"),
            ("https".into(), "".into(), None, None, None)
        );
        assert_eq!(parts("https://@h").3, s(""));
        assert_eq!(parts("https://:pw@h").3, s(""));
        assert_eq!(parts("https://:pw@h").4, Some(b"pw".to_vec()));
        assert_eq!(parts("https://a:b:c@h:1/").4, Some(b"b:c".to_vec()));
        assert_eq!(parts("https://a:b:c@h:1/").1, "h:1");
        assert_eq!(parts("https://a:b@c@h/").1, "c@h");
        assert_eq!(parts("https://a@b@h/").1, "b@h");
        assert_eq!(parts("https://a:@h/").4, Some(Vec::new()));
        assert_eq!(parts("https://u:p%00q@h/").4, Some(b"p%00q".to_vec()));
        // url_decode_mem keeps what precedes the first colon as it is.
        assert_eq!(parts("https://h%41:8/p%41").1, "h%41:8");
        assert_eq!(parts("https://h%41:8/p%41").2, s("pA"));
        assert_eq!(parts("https://h%41/x").1, "hA");
        assert_eq!(parts("https://h/a/b//").2, s("a/b"));
        assert_eq!(parts("https://h/%").2, s("%"));
    }

    #[test]
    fn rejects_like_git() {
        assert!(split(b"nourl").is_err());
        assert!(split(b"://h").is_err());
        assert!(split(b"https://h/%0Ax").is_err());
        let e = split(b"https://u:se%0Acret@h/").unwrap_err().to_string();
        assert!(
            e.contains("password component") && !e.contains("cret"),
            "{e}"
        );
    }
}
