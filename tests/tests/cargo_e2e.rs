//! `cargo-credential-keyward` with the real cargo against a local sparse
//! registry that requires a token (`cargo_common/registry.py`): `cargo login`
//! stores the token in the vault (never in CARGO_HOME), a build fetches a
//! crate with it, a wrong token is refused by the server, `cargo logout`
//! erases it, and a locked vault fails fast with the hint.
#![forbid(unsafe_code)]

mod cargo_common;
use cargo_common::*;
use keyward_tests::text;

const TOKEN: &str = "kw-test-token-s3cret";

/// Every file under `dir`, for "the token is nowhere in CARGO_HOME".
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn login_build_wrong_token_logout() {
    let reg = Registry::start(TOKEN);
    let h = CargoHome::unlocked();
    h.use_registry(&reg.index());
    let project = h.project();

    // No token yet: the provider answers not-found and cargo says so.
    let out = h.cargo(&project, &["build"], b"");
    assert!(!out.status.success(), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("no token found for `local`"),
        "{}",
        both(&out)
    );

    // `cargo login` reads the token from stdin and hands it to the provider.
    let out = h.cargo(
        &project,
        &["login", "--registry", "local"],
        format!("{TOKEN}\n").as_bytes(),
    );
    assert!(out.status.success(), "{}", both(&out));
    let list = h.keyward(&["list", "--kind", "cargo", "--json"], b"");
    let listed = text(&list.stdout);
    assert!(
        listed.contains(&format!("\"host\": \"{}\"", reg.index())),
        "{listed}"
    );
    assert!(!listed.contains(TOKEN));
    for f in files_under(&h.cargo_home()) {
        let data = std::fs::read(&f).unwrap();
        assert!(
            !data.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
            "the token is in {}",
            f.display()
        );
    }

    // The build fetches config.json, the index entry and the .crate with it.
    reg.clear_requests();
    let out = h.cargo(&project, &["run", "-q"], b"");
    assert!(out.status.success(), "{}\n{:?}", both(&out), reg.requests());
    assert_eq!(text(&out.stdout), "hello from the keyward test registry\n");
    let requests = reg.requests();
    assert!(
        requests.contains(&"200 /dl/kwdemo/0.1.0/download".to_owned()),
        "{requests:?}"
    );
    assert!(
        requests.contains(&"200 /index/kw/de/kwdemo".to_owned()),
        "{requests:?}"
    );

    // The server changes its token: the vault's is refused, and cargo shows it.
    reg.set_token("kw-rotated-token");
    h.forget_downloads(&project);
    reg.clear_requests();
    let out = h.cargo(&project, &["build"], b"");
    assert!(!out.status.success(), "{}", both(&out));
    let err = text(&out.stderr);
    assert!(err.contains("token rejected for `local`"), "{err}");
    assert!(err.contains("got 401"), "{err}");
    assert!(
        reg.requests().iter().all(|r| r.starts_with("401 ")),
        "{:?}",
        reg.requests()
    );

    // A new login replaces the token; the build works again.
    let out = h.cargo(
        &project,
        &["login", "--registry", "local"],
        b"kw-rotated-token\n",
    );
    assert!(out.status.success(), "{}", both(&out));
    let out = h.cargo(&project, &["run", "-q"], b"");
    assert!(out.status.success(), "{}", both(&out));
    let listed = text(
        &h.keyward(&["list", "--kind", "cargo", "--json"], b"")
            .stdout,
    );
    assert_eq!(listed.matches("\"kind\": \"cargo\"").count(), 1, "{listed}");

    // A locked vault: the provider fails at once and cargo shows the hint.
    let out = h.keyward(&["lock"], b"");
    assert!(out.status.success(), "{}", both(&out));
    h.forget_downloads(&project);
    let out = h.cargo(&project, &["build"], b"");
    assert!(!out.status.success(), "{}", both(&out));
    let err = text(&out.stderr);
    assert!(
        err.contains("credential provider `cargo-credential-keyward")
            && err.contains("keyward unlock"),
        "{err}"
    );
    let out = h.keyward(
        &["unlock", "--password-fd", "0"],
        format!("{VAULT_PASSWORD}\n").as_bytes(),
    );
    assert!(out.status.success(), "{}", both(&out));

    // `cargo logout` erases it; a second logout finds nothing to erase.
    let out = h.cargo(&project, &["logout", "--registry", "local"], b"");
    assert!(out.status.success(), "{}", both(&out));
    let listed = text(
        &h.keyward(&["list", "--kind", "cargo", "--json"], b"")
            .stdout,
    );
    assert!(!listed.contains("cargo"), "{listed}");
    let out = h.cargo(&project, &["logout", "--registry", "local"], b"");
    assert!(out.status.success(), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("not currently logged in"),
        "{}",
        both(&out)
    );
    h.forget_downloads(&project);
    let out = h.cargo(&project, &["build"], b"");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no token found for `local`"),
        "{}",
        both(&out)
    );
}

#[test]
fn import_moves_tokens_out_of_credentials_toml_and_cargo_uses_them() {
    let reg = Registry::start(TOKEN);
    let h = CargoHome::unlocked();
    h.use_registry(&reg.index());
    let project = h.project();
    let creds = h.cargo_home().join("credentials.toml");
    std::fs::write(
        &creds,
        format!(
            "# written by cargo login\n[registry]\ntoken = \"cio-s3cret\"\n\n[registries.local]\ntoken = \"{TOKEN}\"\n\n\
             [registries.elsewhere]\ntoken = 'kept-s3cret' # no index for it in config.toml\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&creds, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();

    // doctor sees the plaintext tokens.
    let out = h.keyward(&["doctor"], b"");
    assert!(
        text(&out.stdout).contains("3 cargo registry token(s) in plaintext"),
        "{}",
        both(&out)
    );

    let out = h.keyward(&["import", "cargo", "--remove-plaintext"], b"");
    assert!(out.status.success(), "{}", both(&out));
    assert!(
        text(&out.stdout).contains("3 token(s) read: 2 added, 0 replaced, 1 skipped"),
        "{}",
        both(&out)
    );
    assert!(
        text(&out.stderr).contains("registry elsewhere"),
        "{}",
        both(&out)
    );
    assert!(!text(&out.stderr).contains("s3cret") && !text(&out.stdout).contains("s3cret"));
    let left = std::fs::read_to_string(&creds).unwrap();
    assert_eq!(
        left,
        "# written by cargo login\n[registry]\n\n[registries.local]\n\n\
         [registries.elsewhere]\ntoken = 'kept-s3cret' # no index for it in config.toml\n"
    );
    let listed = text(
        &h.keyward(&["list", "--kind", "cargo", "--json"], b"")
            .stdout,
    );
    assert!(
        listed.contains("\"host\": \"sparse+https://index.crates.io/\""),
        "{listed}"
    );
    assert!(
        listed.contains(&format!("\"host\": \"{}\"", reg.index())),
        "{listed}"
    );

    // cargo finds the imported token through the provider.
    let out = h.cargo(&project, &["run", "-q"], b"");
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(text(&out.stdout), "hello from the keyward test registry\n");
    // And the provider answers crates.io's token under its git spelling too.
    let out = h.provider(
        b"{\"v\":1,\"registry\":{\"index-url\":\"https://github.com/rust-lang/crates.io-index\"},\"kind\":\"get\",\"operation\":\"read\"}\n",
    );
    assert!(
        text(&out.stdout).contains("\"token\":\"cio-s3cret\""),
        "{}",
        both(&out)
    );

    // doctor now sees only the skipped one.
    let out = h.keyward(&["doctor"], b"");
    assert!(
        text(&out.stdout).contains("1 cargo registry token(s) in plaintext"),
        "{}",
        both(&out)
    );

    // A file that is not TOML: refused, nothing changed.
    std::fs::write(&creds, "[registry\ntoken = \"x\"\n").unwrap();
    let out = h.keyward(&["import", "cargo", "--remove-plaintext"], b"");
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("not a cargo credentials file"),
        "{}",
        both(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&creds).unwrap(),
        "[registry\ntoken = \"x\"\n"
    );
}
