//! skopeo (containers/image) with `credHelpers` pointing at the built helper,
//! against a local registry that requires authentication.

mod docker_common;
use docker_common::*;
use std::path::Path;
use std::process::{Command, Output};

const USER: &str = "alice";
// JSON-escaped on the way in and out (quote, backslash, <, &, non-ASCII).
const PASSWORD: &str = "s3cret \"quoted\" \\ <&> é";

fn skopeo(vh: &VaultHome, authfile: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut c: Command = vh.command("timeout");
    c.args(["-s", "KILL", "120", "skopeo"]).args(&args[..1]);
    c.arg("--authfile").arg(authfile).args(&args[1..]);
    run(&mut c, stdin)
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "skopeo {what} failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[test]
fn skopeo_login_copy_inspect_logout_through_the_helper() {
    require("skopeo", "skopeo");
    require("gzip", "gzip");
    let reg = Registry::start(USER, PASSWORD);
    let vh = VaultHome::unlocked();
    let authfile = vh.path().join("auth.json");
    let authfile_text = format!(r#"{{"credHelpers":{{"{}":"keyward"}}}}"#, reg.addr);
    std::fs::write(&authfile, &authfile_text).unwrap();
    let image = oci_image(vh.path(), "v1");
    let dest = format!("docker://{}/keyward/hello:v1", reg.addr);
    let addr = reg.addr.as_str();

    // A wrong password is refused by the registry and nothing is stored.
    let out = skopeo(
        &vh,
        &authfile,
        &[
            "login",
            "--tls-verify=false",
            "-u",
            USER,
            "--password-stdin",
            addr,
        ],
        b"wrong\n",
    );
    assert!(
        !out.status.success(),
        "login with a wrong password succeeded"
    );
    assert_eq!(vh.list(), "{}\n");

    let out = skopeo(
        &vh,
        &authfile,
        &[
            "login",
            "--tls-verify=false",
            "-u",
            USER,
            "--password-stdin",
            addr,
        ],
        format!("{PASSWORD}\n").as_bytes(),
    );
    assert!(ok(&out, "login").contains("Login Succeeded"));
    // The credential went to the helper, not into the auth file.
    assert_eq!(std::fs::read_to_string(&authfile).unwrap(), authfile_text);
    assert_eq!(vh.list(), format!("{{\"{addr}\":\"{USER}\"}}\n"));
    let out = skopeo(&vh, &authfile, &["login", "--get-login", addr], b"");
    assert_eq!(ok(&out, "login --get-login"), format!("{USER}\n"));

    let src = format!("oci:{}:v1", image.dir.display());
    let out = skopeo(
        &vh,
        &authfile,
        &[
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            &src,
            &dest,
        ],
        b"",
    );
    ok(&out, "copy");
    let out = skopeo(
        &vh,
        &authfile,
        &["inspect", "--raw", "--tls-verify=false", &dest],
        b"",
    );
    assert_eq!(ok(&out, "inspect --raw"), image.manifest);
    let out = skopeo(
        &vh,
        &authfile,
        &["inspect", "--tls-verify=false", &dest],
        b"",
    );
    let inspected = ok(&out, "inspect");
    assert!(inspected.contains(&image.manifest_digest), "{inspected}");
    assert!(inspected.contains(&image.layer_digest), "{inspected}");

    let out = skopeo(&vh, &authfile, &["logout", addr], b"");
    assert!(ok(&out, "logout").contains("Removed login credentials"));
    assert_eq!(vh.list(), "{}\n");

    // Without the helper's credential the registry refuses: proof that it
    // came from the helper.
    let out = skopeo(
        &vh,
        &authfile,
        &["inspect", "--raw", "--tls-verify=false", &dest],
        b"",
    );
    assert!(!out.status.success(), "inspect after logout succeeded");
    let err = text(&out.stderr);
    assert!(
        err.contains("unauthorized") || err.contains("authentication required"),
        "{err}\nregistry log:\n{}",
        reg.log()
    );
}

#[test]
fn skopeo_finds_a_docker_cli_hub_login_under_docker_io() {
    require("skopeo", "skopeo");
    let vh = VaultHome::unlocked();
    // What `docker login` stores for Docker Hub.
    let out = vh.helper(
        "store",
        br#"{"ServerURL":"https://index.docker.io/v1/","Username":"hubuser","Secret":"hubpass"}"#,
    );
    assert!(out.status.success(), "{}", text(&out.stdout));
    let authfile = vh.path().join("auth.json");
    std::fs::write(&authfile, r#"{"credHelpers":{"docker.io":"keyward"}}"#).unwrap();
    let out = skopeo(&vh, &authfile, &["login", "--get-login", "docker.io"], b"");
    assert_eq!(ok(&out, "login --get-login docker.io"), "hubuser\n");
    let out = skopeo(&vh, &authfile, &["logout", "docker.io"], b"");
    ok(&out, "logout docker.io");
    assert_eq!(vh.list(), "{}\n");
}

#[test]
fn registries_conf_drop_in_makes_keyward_the_default_helper() {
    require("skopeo", "skopeo");
    let reg = Registry::start(USER, PASSWORD);
    let vh = VaultHome::unlocked();
    // What the README tells users to write; no auth file on the command line.
    let dropin = vh.path().join(".config/containers/registries.conf.d");
    std::fs::create_dir_all(&dropin).unwrap();
    std::fs::write(
        dropin.join("50-keyward.conf"),
        "credential-helpers = [\"keyward\"]\n",
    )
    .unwrap();
    let runtime = vh.path().join("run");
    std::fs::create_dir(&runtime).unwrap();
    let addr = reg.addr.as_str();
    let skopeo_cmd = |args: &[&str], stdin: &[u8]| {
        let mut c: Command = vh.command("timeout");
        c.args(["-s", "KILL", "120", "skopeo"])
            .args(args)
            .env("XDG_RUNTIME_DIR", &runtime)
            // With DOCKER_CONFIG set, skopeo logout insists on its config.json.
            .env_remove("DOCKER_CONFIG");
        run(&mut c, stdin)
    };
    let out = skopeo_cmd(
        &[
            "login",
            "--tls-verify=false",
            "-u",
            USER,
            "--password-stdin",
            addr,
        ],
        format!("{PASSWORD}\n").as_bytes(),
    );
    assert!(ok(&out, "login").contains("Login Succeeded"));
    assert_eq!(vh.list(), format!("{{\"{addr}\":\"{USER}\"}}\n"));
    // No auth file was written anywhere in the home.
    assert!(!runtime.join("containers/auth.json").exists());
    let out = skopeo_cmd(&["login", "--get-login", addr], b"");
    assert_eq!(ok(&out, "login --get-login"), format!("{USER}\n"));
    let out = skopeo_cmd(&["logout", addr], b"");
    ok(&out, "logout");
    assert_eq!(vh.list(), "{}\n");
}
