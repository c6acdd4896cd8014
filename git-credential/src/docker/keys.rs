//! Which stored server keys answer a request.
//!
//! Keys are stored verbatim and match verbatim, with one exception: Docker Hub
//! has several spellings. The docker CLI and docker-py use
//! `https://index.docker.io/v1/`; skopeo, podman and buildah (containers/image)
//! ask for `docker.io`; both treat `index.docker.io` and `registry-1.docker.io`
//! as the same registry. The CLI's OAuth login also stores
//! `https://index.docker.io/v1/access-token` and `…/refresh-token`. Every
//! spelling of one of those three Hub credentials finds the same entry. Nothing
//! else is ever matched across a different spelling, host or port.

/// One of Docker Hub's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hub {
    /// The login credential (`https://index.docker.io/v1/`, `docker.io`, …).
    Login,
    /// The CLI's OAuth access token (`https://index.docker.io/v1/access-token`).
    AccessToken,
    /// The CLI's OAuth refresh token (`https://index.docker.io/v1/refresh-token`).
    RefreshToken,
}

const HUB_HOSTS: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/// Which Hub credential `key` names, if any.
pub fn hub(key: &str) -> Option<Hub> {
    let rest = match key.get(..8) {
        Some(p) if p.eq_ignore_ascii_case("https://") => &key[8..],
        _ if key.contains("://") => return None,
        _ => key,
    };
    let (host, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if !HUB_HOSTS.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return None;
    }
    match path {
        "" | "/" | "/v1" | "/v1/" | "/v2" | "/v2/" => Some(Hub::Login),
        "/v1/access-token" | "/access-token" => Some(Hub::AccessToken),
        "/v1/refresh-token" | "/refresh-token" => Some(Hub::RefreshToken),
        _ => None,
    }
}

/// Whether a stored key answers a request for `requested`.
pub fn matches(stored: &str, requested: &str) -> bool {
    stored == requested || hub(requested).is_some_and(|h| hub(stored) == Some(h))
}

/// Index of the entry that answers `requested`: a verbatim match first, else
/// the first equivalent spelling.
pub fn best<'a>(keys: impl Iterator<Item = &'a str> + Clone, requested: &str) -> Option<usize> {
    keys.clone()
        .position(|k| k == requested)
        .or_else(|| keys.clone().position(|k| matches(k, requested)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_spellings_are_one_credential() {
        let login = [
            "https://index.docker.io/v1/",
            "https://index.docker.io/v1",
            "https://index.docker.io",
            "index.docker.io",
            "docker.io",
            "registry-1.docker.io",
            "https://registry-1.docker.io/v2/",
            "Docker.IO",
        ];
        for a in login {
            assert_eq!(hub(a), Some(Hub::Login), "{a}");
            for b in login {
                assert!(matches(a, b), "{a} ~ {b}");
            }
        }
        assert_eq!(
            hub("https://index.docker.io/v1/access-token"),
            Some(Hub::AccessToken)
        );
        assert_eq!(hub("docker.io/access-token"), Some(Hub::AccessToken));
        assert_eq!(
            hub("https://index.docker.io/v1/refresh-token"),
            Some(Hub::RefreshToken)
        );
        assert!(!matches(
            "https://index.docker.io/v1/access-token",
            "docker.io"
        ));
        assert!(!matches(
            "https://index.docker.io/v1/",
            "https://index.docker.io/v1/refresh-token"
        ));
    }

    #[test]
    fn nothing_else_matches_across_spellings() {
        for (a, b) in [
            ("docker.io", "docker.io:443"),
            ("docker.io", "http://docker.io"),
            ("docker.io", "evil-docker.io"),
            ("docker.io", "docker.io.evil.com"),
            ("docker.io", "index.docker.io.evil.com/v1/"),
            ("docker.io", "https://index.docker.io/v1/other"),
            ("ghcr.io", "https://ghcr.io"),
            ("127.0.0.1:5000", "127.0.0.1:5001"),
            ("127.0.0.1:5000", "127.0.0.1"),
            ("localhost:5000", "127.0.0.1:5000"),
            ("registry.example.com", "Registry.example.com"),
        ] {
            assert!(!matches(a, b), "{a} !~ {b}");
            assert!(!matches(b, a), "{b} !~ {a}");
        }
        assert!(matches("ghcr.io", "ghcr.io"));
    }

    #[test]
    fn verbatim_match_wins() {
        let keys = ["docker.io", "https://index.docker.io/v1/", "ghcr.io"];
        assert_eq!(
            best(keys.iter().copied(), "https://index.docker.io/v1/"),
            Some(1)
        );
        assert_eq!(best(keys.iter().copied(), "docker.io"), Some(0));
        assert_eq!(best(keys.iter().copied(), "index.docker.io"), Some(0));
        assert_eq!(best(keys.iter().copied(), "ghcr.io"), Some(2));
        assert_eq!(best(keys.iter().copied(), "quay.io"), None);
    }
}
