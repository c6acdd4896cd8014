//! pnpm's (and npm's) registry keys for the pnpm token helper (`keyward
//! npm-token`, `keyward setup pnpm`): a registry URL becomes npm's key for it
//! (its "nerf dart", `//HOST[:PORT]/PATH/`, as `.npmrc` lines are keyed) and
//! the named secret its token is kept under, `npm/HOST[:PORT][/PATH…]`.
//!
//! pnpm runs `//HOST/PATH/:tokenHelper=/abs/path` (from the user's `.npmrc`
//! only; an absolute path, no arguments, through a shell) and sends what it
//! prints, trailing white space trimmed, as the `Authorization` header:
//! `keyward npm-token` prints `Bearer TOKEN`.

/// The named-secret prefix of registry tokens.
pub const PREFIX: &str = "npm";

/// npm's key for a registry (its "nerf dart"): `//HOST[:PORT]/PATH/`, scheme,
/// user, query and fragment dropped, path ending in `/`.
pub fn nerf_dart(url: &str) -> Option<String> {
    if url.bytes().any(|c| c <= b' ' || c == 0x7f) {
        return None;
    }
    let rest = match url.strip_prefix("//") {
        Some(r) => r,
        None => url.split_once("://")?.1,
    };
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority
        .rsplit('@')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    let path = path.trim_matches('/');
    Some(if path.is_empty() {
        format!("//{host}/")
    } else {
        format!("//{host}/{path}/")
    })
}

/// A registry's npm key and its named secret `npm/HOST[:PORT][/PATH…]`
/// (each part escaped); `None` for a URL without a host, or one too long.
pub fn secret_name(registry: &str) -> Option<(String, String)> {
    let dart = nerf_dart(registry)?;
    let parts: Vec<&str> = dart.trim_matches('/').split('/').collect();
    let name = crate::named::name(PREFIX, &parts).ok()?;
    Some((dart, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_keys() {
        let cases = [
            (
                "https://registry.npmjs.org/",
                "//registry.npmjs.org/",
                "npm/registry.npmjs.org",
            ),
            (
                "https://registry.npmjs.org",
                "//registry.npmjs.org/",
                "npm/registry.npmjs.org",
            ),
            (
                "http://127.0.0.1:4873/",
                "//127.0.0.1:4873/",
                "npm/127.0.0.1:4873",
            ),
            (
                "https://u@Npm.Corp/api/npm/x/",
                "//npm.corp/api/npm/x/",
                "npm/npm.corp/api/npm/x",
            ),
            ("//npm.corp/a?x#y", "//npm.corp/a/", "npm/npm.corp/a"),
        ];
        for (url, dart, name) in cases {
            assert_eq!(
                secret_name(url).unwrap(),
                (dart.into(), name.into()),
                "{url}"
            );
        }
        assert_eq!(nerf_dart("x://reg://rpm/").as_deref(), Some("//reg:/rpm/"));
        assert_eq!(nerf_dart("//reg:/rpm/").as_deref(), Some("//reg:/rpm/"));
        for bad in [
            "",
            "npm.corp",
            "https://",
            "https:///x",
            "https://a b/",
            "https://a/\0",
        ] {
            assert!(secret_name(bad).is_none(), "{bad:?}");
        }
    }
}
