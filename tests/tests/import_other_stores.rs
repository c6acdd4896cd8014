//! `keyward import docker` from a config.json whose credentials live in
//! another credential helper (`credsStore`, `credHelpers`), read through
//! that helper's own `list`/`get` (issue 13.7). The helpers are fake ones on
//! PATH speaking the docker-credential-helpers protocol.
#![forbid(unsafe_code)]

mod docker_common;
use docker_common::*;
use keyward_tests::bin;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// A `docker-credential-NAME` shell script holding `creds` (server, user, secret).
fn fake_helper(dir: &Path, name: &str, creds: &[(&str, &str, &str)], broken: Option<&str>) {
    let mut list = String::from("{");
    let mut cases = String::new();
    for (i, (server, user, secret)) in creds.iter().enumerate() {
        if i > 0 {
            list.push(',');
        }
        list.push_str(&format!("\"{server}\":\"{user}\""));
        if Some(*server) == broken {
            cases.push_str(&format!(
                "  {server}) echo 'the keychain is locked'; exit 1;;\n"
            ));
        } else {
            cases.push_str(&format!(
                "  {server}) printf '%s' '{{\"ServerURL\":\"{server}\",\"Username\":\"{user}\",\"Secret\":\"{secret}\"}}';;\n"
            ));
        }
    }
    list.push('}');
    let script = format!(
        "#!/bin/sh\ncase \"$1\" in\nlist) printf '%s' '{list}';;\nget) read -r s || true\n case \"$s\" in\n{cases}  *) echo 'credentials not found in native keychain'; exit 1;;\n esac;;\n*) exit 1;;\nesac\n"
    );
    let p = dir.join(format!("docker-credential-{name}"));
    std::fs::write(&p, script).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn import(vh: &VaultHome, fakes: &Path, config: &Path, extra: &[&str]) -> std::process::Output {
    let mut c = vh.command(bin("keyward"));
    let path = format!(
        "{}:{}",
        fakes.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut paths = vec![keyward_tests::target_dir()];
    paths.extend(std::env::split_paths(&path));
    c.env("PATH", std::env::join_paths(paths).unwrap())
        .args(["import", "docker"])
        .args(extra)
        .arg(config);
    run(&mut c, b"")
}

fn setup() -> (VaultHome, std::path::PathBuf, std::path::PathBuf) {
    let vh = VaultHome::unlocked();
    let fakes = vh.path().join("fakebin");
    std::fs::create_dir(&fakes).unwrap();
    let config = vh.path().join("config.json");
    (vh, fakes, config)
}

#[test]
fn creds_store_and_cred_helpers_are_read_through_their_own_helpers() {
    let (vh, fakes, config) = setup();
    fake_helper(
        &fakes,
        "fake",
        &[
            ("https://index.docker.io/v1/", "hubuser", "s3cret-hub"),
            ("reg.example", "alice", "s3cret-reg"),
        ],
        None,
    );
    fake_helper(
        &fakes,
        "gcloudish",
        &[("gcr.example", "oauth2", "s3cret-gcr")],
        None,
    );
    let before = r#"{"auths":{"https://index.docker.io/v1/":{},"reg.example":{}},"credsStore":"fake","credHelpers":{"gcr.example":"gcloudish"},"proxies":{"default":{"noProxy":"*.local"}}}"#;
    std::fs::write(&config, before).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = import(&vh, &fakes, &config, &["--remove-plaintext"]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let said = text(&out.stdout);
    assert!(
        said.contains("3 added, 0 replaced, 0 skipped (3 read through other credential helpers)"),
        "{said}"
    );
    assert!(
        said.contains("gcr.example → docker-credential-gcloudish"),
        "{said}"
    );
    assert!(!said.contains("s3cret") && !text(&out.stderr).contains("s3cret"));
    for (server, answer) in [
        ("https://index.docker.io/v1/", "s3cret-hub"),
        ("reg.example", "s3cret-reg"),
        ("gcr.example", "s3cret-gcr"),
    ] {
        let got = vh.helper("get", server.as_bytes());
        assert!(
            text(&got.stdout).contains(answer),
            "{server}: {}",
            text(&got.stdout)
        );
    }
    // Everything was read: docker now asks keyward; credHelpers and proxies are kept.
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(v["credsStore"], "keyward");
    assert_eq!(v["credHelpers"]["gcr.example"], "gcloudish");
    assert_eq!(v["proxies"]["default"]["noProxy"], "*.local");
}

#[test]
fn a_store_that_cannot_be_read_whole_is_never_cut_off() {
    let (vh, fakes, config) = setup();
    // One server's `get` fails.
    fake_helper(
        &fakes,
        "fake",
        &[
            ("reg.example", "alice", "s3cret-a"),
            ("locked.example", "bob", "s3cret-b"),
        ],
        Some("locked.example"),
    );
    let body = r#"{"credsStore":"fake","auths":{"plain.example":{"auth":"dTpzM2NyZXQtcA=="}}}"#;
    std::fs::write(&config, body).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = import(&vh, &fakes, &config, &["--remove-plaintext"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr)
            .contains("credsStore \"fake\": locked.example: the keychain is locked: skipped"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("kept"), "{}", text(&out.stdout));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), body, "unchanged");
    let list = vh.list();
    assert!(
        list.contains("reg.example") && list.contains("plain.example"),
        "{list}"
    );
    assert!(!list.contains("locked.example"), "{list}");

    // A store whose helper is not installed here: nothing read from it, config kept.
    let body =
        r#"{"credsStore":"nosuchstore","auths":{"plain.example":{"auth":"dTpzM2NyZXQtcA=="}}}"#;
    std::fs::write(&config, body).unwrap();
    let out = import(&vh, &fakes, &config, &["--remove-plaintext"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("docker-credential-nosuchstore is not installed here"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), body, "unchanged");
}
