//! The docker CLI (no engine needed) with `"credsStore": "keyward"` in a
//! throwaway DOCKER_CONFIG: `docker login` against a local authenticated
//! registry, `docker logout`.

mod docker_common;
use docker_common::*;
use std::process::{Command, Output};

const USER: &str = "bob";
const PASSWORD: &str = "d0cker <pass> & \"more\"";

/// `docker ARGS` in the home, pointed at no engine (login falls back to
/// authenticating client-side; logout needs no engine).
fn docker(vh: &VaultHome, args: &[&str], stdin: &[u8]) -> Output {
    let mut c: Command = vh.command("timeout");
    c.args(["-s", "KILL", "120", "docker"]).args(args).env(
        "DOCKER_HOST",
        format!("unix://{}/no-engine.sock", vh.path().display()),
    );
    run(&mut c, stdin)
}

fn setup() -> (VaultHome, std::path::PathBuf) {
    require("docker", "docker.io (the CLI)");
    let vh = VaultHome::unlocked();
    let dir = vh.path().join(".docker");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.json");
    std::fs::write(&config, r#"{"credsStore":"keyward"}"#).unwrap();
    (vh, config)
}

#[test]
fn docker_login_and_logout_store_and_erase_in_the_vault() {
    let reg = Registry::start(USER, PASSWORD);
    let (vh, config) = setup();
    let addr = reg.addr.as_str();

    let out = docker(
        &vh,
        &["login", "-u", USER, "--password-stdin", addr],
        b"wrong\n",
    );
    assert!(
        !out.status.success(),
        "login with a wrong password succeeded"
    );
    assert_eq!(vh.list(), "{}\n");

    let out = docker(
        &vh,
        &["login", "-u", USER, "--password-stdin", addr],
        format!("{PASSWORD}\n").as_bytes(),
    );
    assert!(
        out.status.success() && text(&out.stdout).contains("Login Succeeded"),
        "docker login: {}{}\nregistry log:\n{}",
        text(&out.stdout),
        text(&out.stderr),
        reg.log()
    );
    let cfg = std::fs::read_to_string(&config).unwrap();
    assert!(
        !cfg.contains("d0cker") && !cfg.contains("\"auth\":"),
        "{cfg}"
    );
    assert_eq!(vh.list(), format!("{{\"{addr}\":\"{USER}\"}}\n"));
    let got = vh.helper("get", addr.as_bytes());
    assert_eq!(
        text(&got.stdout),
        format!(
            "{{\"ServerURL\":\"{addr}\",\"Username\":\"{USER}\",\"Secret\":\"d0cker \\u003cpass\\u003e \\u0026 \\\"more\\\"\"}}\n"
        )
    );

    // A second login with no credentials given reads the stored ones (get).
    // (Re-validating them needs an engine; the CLI has no client-side
    // fallback on this path, so only the lookup is checked.)
    let out = docker(&vh, &["login", addr], b"");
    assert!(
        (text(&out.stdout) + &text(&out.stderr)).contains(&format!(
            "Authenticating with existing credentials... [Username: {USER}]"
        )),
        "docker login with stored credentials: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );

    let out = docker(&vh, &["logout", addr], b"");
    assert!(
        out.status.success(),
        "docker logout: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains(&format!("Removing login credentials for {addr}")));
    assert_eq!(vh.list(), "{}\n");
    let got = vh.helper("get", addr.as_bytes());
    assert_eq!(
        text(&got.stdout),
        "credentials not found in native keychain\n"
    );
}

#[test]
fn docker_logout_from_hub_erases_the_hub_credential() {
    let (vh, config) = setup();
    // What `docker login` for Docker Hub leaves behind.
    std::fs::write(
        &config,
        r#"{"auths":{"https://index.docker.io/v1/":{}},"credsStore":"keyward"}"#,
    )
    .unwrap();
    let out = vh.helper(
        "store",
        br#"{"ServerURL":"https://index.docker.io/v1/","Username":"hubuser","Secret":"hubpass"}"#,
    );
    assert!(out.status.success(), "{}", text(&out.stdout));
    let out = docker(&vh, &["logout"], b"");
    assert!(
        out.status.success(),
        "docker logout: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(vh.list(), "{}\n");
}
