//! docker-py (`docker.credentials.Store('keyward')`, `docker.auth.AuthConfig`)
//! against the built helper and a real vault.

mod docker_common;
use docker_common::*;

#[test]
fn docker_py_store_get_list_erase_tokens_and_errors() {
    require("python3", "python3");
    let vh = VaultHome::unlocked();
    let script = vh.path().join("docker_py_client.py");
    std::fs::write(&script, include_str!("docker_common/docker_py_client.py")).unwrap();
    let out = run(
        vh.command("timeout")
            .args(["-s", "KILL", "120", "/usr/bin/python3"])
            .arg(&script),
        b"",
    );
    assert!(
        out.status.success() && text(&out.stdout).trim_end().ends_with("OK"),
        "docker-py script failed (is python3-docker installed?):\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // What docker-py stored is really in the vault, and erased from it.
    assert_eq!(vh.list(), "{}\n");
}
