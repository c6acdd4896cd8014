//! `keyward import` end to end with the real clients: files written by
//! `docker login` (no credsStore: plaintext `auths`) and by `git
//! credential-store`, imported, the plaintext removed, and the same clients
//! then served from the vault.

mod docker_common;
use docker_common::*;
use keyward_tests::bin;

const USER: &str = "importer";
const PASSWORD: &str = "pl@in:text \"secret\"";

fn keyward(vh: &VaultHome, args: &[&str]) -> std::process::Output {
    run(vh.command(bin("keyward")).args(args), b"")
}

#[test]
fn docker_login_plaintext_then_import_then_docker_uses_the_vault() {
    require("docker", "docker.io (the CLI)");
    let reg = Registry::start(USER, PASSWORD);
    let vh = VaultHome::unlocked();
    let dir = vh.path().join(".docker");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.json");
    std::fs::write(&config, "{}").unwrap();
    // With no credsStore, docker picks a default store when its helper is on
    // PATH (docker-credential-secretservice or -pass, as a desktop has): the
    // client here sees only itself, `timeout` and keyward's binaries, so its
    // login is the plaintext `auths` this test imports.
    let only = tempfile::tempdir().unwrap();
    for tool in ["docker", "timeout"] {
        let real = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
            .unwrap();
        std::os::unix::fs::symlink(real, only.path().join(tool)).unwrap();
    }
    let path =
        std::env::join_paths([keyward_tests::target_dir(), only.path().to_path_buf()]).unwrap();
    let docker = |args: &[&str], stdin: &[u8]| {
        let mut c = vh.command("timeout");
        c.args(["-s", "KILL", "120", "docker"])
            .args(args)
            .env("PATH", &path)
            .env(
                "DOCKER_HOST",
                format!("unix://{}/no-engine.sock", vh.path().display()),
            );
        run(&mut c, stdin)
    };
    let addr = reg.addr.as_str();
    let out = docker(
        &["login", "-u", USER, "--password-stdin", addr],
        format!("{PASSWORD}\n").as_bytes(),
    );
    assert!(
        out.status.success(),
        "docker login: {}{}\n{}",
        text(&out.stdout),
        text(&out.stderr),
        reg.log()
    );
    let plain = std::fs::read_to_string(&config).unwrap();
    assert!(
        plain.contains("\"auth\""),
        "docker wrote plaintext auths: {plain}"
    );

    let out = keyward(&vh, &["import", "docker", "--remove-plaintext"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("imported 1 docker credential(s)"));
    let after = std::fs::read_to_string(&config).unwrap();
    assert!(!after.contains("\"auth\""), "plaintext left: {after}");
    assert!(after.contains("\"credsStore\": \"keyward\""), "{after}");

    // docker's own helper protocol now answers from the vault.
    let got = vh.helper("get", addr.as_bytes());
    assert!(got.status.success(), "{}", text(&got.stderr));
    let cred = text(&got.stdout);
    assert!(cred.contains(&format!("\"Username\":\"{USER}\"")), "{cred}");
    assert!(
        cred.contains(r#""Secret":"pl@in:text \"secret\"""#),
        "{cred}"
    );
    // And docker logout erases it there.
    let out = docker(&["logout", addr], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&vh.helper("list", b"").stdout), "{}\n");
}

#[test]
fn git_credential_store_file_then_import_then_git_fills_from_the_vault() {
    require("git", "git");
    let vh = VaultHome::unlocked();
    let store = vh.path().join(".git-credentials");
    let out = run(
        vh.command("git")
            .args(["credential-store", "--file"])
            .arg(&store)
            .arg("store"),
        b"protocol=https\nhost=forge.example:8443\nusername=al ice\npassword=p%ss w0rd\n\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = keyward(&vh, &["import", "git", "--remove-plaintext"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&store).unwrap(), "");

    let out = run(
        vh.command("git")
            .args([
                "-c",
                "credential.helper=",
                "-c",
                "credential.helper=keyward",
            ])
            .args(["credential", "fill"]),
        b"protocol=https\nhost=forge.example:8443\n\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "protocol=https\nhost=forge.example:8443\nusername=al ice\npassword=p%ss w0rd\n"
    );
}
