//! `keyward doctor` finds Terraform's, OpenBao/Vault's, kubectl's and npm's
//! plaintext credential files, without printing what is in them, and stops
//! warning once `keyward import terraform|kube` has moved them.
#![forbid(unsafe_code)]

use keyward_tests::{text, TestHome};
use std::process::Command;

fn write_private(path: &std::path::Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
    Command::new("chmod").arg("600").arg(path).status().unwrap();
}

#[test]
fn doctor_finds_the_plaintext_files_and_import_clears_them() {
    let home = TestHome::new();
    home.init_unlocked_vault("s3cret");
    let h = home.path();
    write_private(
        &h.join(".terraform.d/credentials.tfrc.json"),
        r#"{"credentials":{"app.terraform.io":{"token":"tf-hunter2"}}}"#,
    );
    write_private(&h.join(".vault-token"), "s.bao-hunter2");
    write_private(
        &h.join(".kube/config"),
        "apiVersion: v1\nkind: Config\nusers:\n- name: dev\n  user:\n    token: kube-hunter2\n",
    );
    write_private(
        &h.join(".npmrc"),
        "//npm.example/:_authToken=npm-hunter2\n//env.example/:_authToken=${NPM_TOKEN}\n",
    );
    let doctor = || {
        let out = home.keyward(&["doctor"], "");
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        for secret in ["tf-hunter2", "s.bao-hunter2", "kube-hunter2", "npm-hunter2"] {
            assert!(!all.contains(secret), "doctor printed a secret:\n{all}");
        }
        all
    };
    let out = doctor();
    for want in [
        "credentials.tfrc.json: 1 Terraform token(s) in plaintext",
        ".vault-token: an OpenBao/Vault token in plaintext",
        ".kube/config: 1 kubectl token(s) or client key(s) in plaintext",
        ".npmrc: 1 registry token(s) in plaintext",
    ] {
        assert!(out.contains(want), "doctor lacks {want:?}:\n{out}");
    }
    for what in ["terraform", "kube"] {
        let out = home.keyward(&["import", what, "--remove-plaintext"], "");
        assert!(out.status.success(), "import {what}: {}", text(&out.stderr));
    }
    let out = doctor();
    assert!(!out.contains("Terraform token(s) in plaintext"), "{out}");
    assert!(!out.contains("kubectl token(s)"), "{out}");
    assert!(
        out.contains("credentials.tfrc.json.keyward-backup: a backup"),
        "{out}"
    );
    assert!(out.contains("config.keyward-backup: a backup"), "{out}");
}
