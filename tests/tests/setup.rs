//! `keyward setup git|docker|podman` (issue 13.8) with the real clients: what
//! the command changes, what it keeps, what it refuses, and that the client
//! then stores its credentials in the vault.
#![forbid(unsafe_code)]

mod docker_common;
use docker_common::*;
use keyward_tests::bin;
use std::os::unix::fs::PermissionsExt;
use std::process::Output;

fn keyward(vh: &VaultHome, args: &[&str]) -> Output {
    run(vh.command(bin("keyward")).args(args), b"")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn git(vh: &VaultHome, dir: &std::path::Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut c = vh.command("git");
    c.args(args).current_dir(dir);
    run(&mut c, stdin)
}

#[test]
fn setup_git_replaces_the_global_helpers_and_warns_about_plaintext_left() {
    require("git", "git");
    let vh = VaultHome::unlocked();
    let home = vh.path().to_path_buf();
    std::fs::write(
        home.join(".gitconfig"),
        "[user]\n\tname = Keep Me\n[credential]\n\thelper = store\n\thelper = cache --timeout=900\n",
    )
    .unwrap();
    let store = home.join(".git-credentials");
    std::fs::write(&store, "https://u:s3cret@old.example\n").unwrap();
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o600)).unwrap();
    // A repository that still says `store`.
    let repo = home.join("repo");
    std::fs::create_dir(&repo).unwrap();
    ok(&git(&vh, &repo, &["init", "-q"], b""));
    ok(&git(
        &vh,
        &repo,
        &["config", "credential.helper", "store"],
        b"",
    ));

    let mut c = vh.command(bin("keyward"));
    c.args(["setup", "git"]).current_dir(&repo);
    let out = run(&mut c, b"");
    let said = ok(&out);
    assert!(
        said.contains("replacing: `store`, `cache --timeout=900`"),
        "{said}"
    );
    let warned = text(&out.stderr);
    assert!(
        warned.contains("credential.helper `store` is still configured in .git/config"),
        "{warned}"
    );
    assert!(
        warned.contains(
            ".git-credentials still holds 1 plaintext git credential(s): `keyward import git`"
        ),
        "{warned}"
    );
    assert!(!warned.contains("s3cret"));
    let out = git(
        &vh,
        &home,
        &["config", "--global", "--get-all", "credential.helper"],
        b"",
    );
    assert_eq!(ok(&out), "keyward\n");
    let out = git(&vh, &home, &["config", "--global", "user.name"], b"");
    assert_eq!(ok(&out), "Keep Me\n");
    assert!(ok(&keyward(&vh, &["setup", "git"])).contains("already keyward"));

    // Real git now stores in and reads from the vault.
    ok(&git(
        &vh,
        &home,
        &["credential", "approve"],
        b"protocol=https\nhost=forge.example\nusername=dev\npassword=t0ken\n\n",
    ));
    let out = git(
        &vh,
        &home,
        &["credential", "fill"],
        b"protocol=https\nhost=forge.example\n\n",
    );
    assert!(ok(&out).contains("password=t0ken\n"));
    let list = ok(&keyward(&vh, &["list"]));
    assert!(list.contains("forge.example"), "{list}");
}

fn docker_config(vh: &VaultHome) -> std::path::PathBuf {
    let dir = vh.path().join(".docker");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("config.json")
}

#[test]
fn setup_docker_merges_credsstore_and_keeps_every_other_key() {
    let vh = VaultHome::unlocked();
    let config = docker_config(&vh);
    let before = r#"{
	"auths": {"reg.example": {}},
	"credHelpers": {"gcr.io": "gcloud"},
	"proxies": {"default": {"httpProxy": "http://proxy.example:3128"}},
	"someFutureKey": {"a": [1, 2, {"b": null}]},
	"currentContext": "colima"
}
"#;
    std::fs::write(&config, before).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = keyward(&vh, &["setup", "docker"]);
    let said = ok(&out);
    assert!(said.contains("set \"credsStore\": \"keyward\""), "{said}");
    assert!(
        text(&out.stderr).contains("gcr.io → docker-credential-gcloud"),
        "{}",
        text(&out.stderr)
    );
    let old: serde_json::Value = serde_json::from_str(before).unwrap();
    let new: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let mut want = old.as_object().unwrap().clone();
    want.insert("credsStore".into(), "keyward".into());
    assert_eq!(new.as_object().unwrap(), &want);
    let backup = config.with_file_name("config.json.before-keyward");
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), before);
    let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    assert!(ok(&keyward(&vh, &["setup", "docker"])).contains("already has"));

    // The real docker CLI now stores its login in the vault.
    require("docker", "docker.io (the CLI)");
    let reg = Registry::start("bob", "d0cker-pass");
    let mut c = vh.command("timeout");
    c.args([
        "-s",
        "KILL",
        "120",
        "docker",
        "login",
        "-u",
        "bob",
        "--password-stdin",
    ])
    .arg(&reg.addr)
    .env(
        "DOCKER_HOST",
        format!("unix://{}/no-engine.sock", vh.path().display()),
    );
    let out = run(&mut c, b"d0cker-pass\n");
    assert!(ok(&out).contains("Login Succeeded"));
    assert_eq!(vh.list(), format!("{{\"{}\":\"bob\"}}\n", reg.addr));
    assert!(!std::fs::read_to_string(&config).unwrap().contains("auth\""));
}

#[test]
fn setup_docker_refuses_to_cut_docker_off_and_creates_a_missing_config() {
    let vh = VaultHome::unlocked();
    let config = docker_config(&vh);
    for (body, says) in [
        (
            r#"{"auths":{"reg.example":{"auth":"dTpzM2NyZXQ="}}}"#,
            "plaintext credentials in `auths` (reg.example)",
        ),
        (
            r#"{"credsStore":"desktop","auths":{"reg.example":{}}}"#,
            "\"credsStore\" is \"desktop\"",
        ),
    ] {
        std::fs::write(&config, body).unwrap();
        let out = keyward(&vh, &["setup", "docker"]);
        assert_eq!(out.status.code(), Some(1), "{body}");
        assert!(text(&out.stderr).contains(says), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("`keyward import docker`"));
        assert!(!text(&out.stderr).contains("s3cret"));
        assert_eq!(std::fs::read_to_string(&config).unwrap(), body, "unchanged");
    }
    std::fs::remove_file(&config).unwrap();
    assert!(ok(&keyward(&vh, &["setup", "docker"])).contains("created"));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(v, serde_json::json!({"credsStore": "keyward"}));
}

#[test]
fn setup_podman_makes_skopeo_log_in_to_the_vault_and_keeps_old_logins() {
    require("skopeo", "skopeo");
    let reg = Registry::start("bob", "p0dman-pass");
    let vh = VaultHome::unlocked();
    let runtime = vh.path().join("run");
    std::fs::create_dir_all(runtime.join("containers")).unwrap();
    // An earlier plaintext login to another registry.
    std::fs::write(
        runtime.join("containers/auth.json"),
        r#"{"auths":{"old.example":{"auth":"b2xkOnMzY3JldA=="}}}"#,
    )
    .unwrap();
    let mut c = vh.command(bin("keyward"));
    c.args(["setup", "podman"]).env("XDG_RUNTIME_DIR", &runtime);
    let out = run(&mut c, b"");
    assert!(ok(&out).contains("50-keyward.conf"));
    assert!(
        text(&out.stderr).contains("holds plaintext logins for old.example"),
        "{}",
        text(&out.stderr)
    );
    let skopeo = |args: &[&str], stdin: &[u8]| {
        let mut c = vh.command("timeout");
        c.args(["-s", "KILL", "120", "skopeo"])
            .args(args)
            .env("XDG_RUNTIME_DIR", &runtime)
            .env_remove("DOCKER_CONFIG");
        run(&mut c, stdin)
    };
    let out = skopeo(
        &[
            "login",
            "--tls-verify=false",
            "-u",
            "bob",
            "--password-stdin",
            &reg.addr,
        ],
        b"p0dman-pass\n",
    );
    assert!(ok(&out).contains("Login Succeeded"));
    assert_eq!(vh.list(), format!("{{\"{}\":\"bob\"}}\n", reg.addr));
    let auth = std::fs::read_to_string(runtime.join("containers/auth.json")).unwrap();
    assert!(
        !auth.contains(&reg.addr),
        "login went to the auth file: {auth}"
    );
    assert_eq!(
        ok(&skopeo(&["login", "--get-login", &reg.addr], b"")),
        "bob\n"
    );
    // The old login still answers, from the auth file.
    assert_eq!(
        ok(&skopeo(&["login", "--get-login", "old.example"], b"")),
        "old\n"
    );
}
