//! End to end: `keyward pam passwd` writes the database, the real libpam
//! (through pam_wrapper) loads pam_keyward.so, and pamtester logs in with it.
//! Runs as root, as scripts/test does: the module trusts only root-owned files.

use keyward_tests::{bin, have, TestHome};
use std::io::Write;
use std::process::{Command, Stdio};

const WRAPPER: &str = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so";

fn pamtester(h: &TestHome, svc: &std::path::Path, user: &str, password: &str) -> (bool, String) {
    let mut child = Command::new("pamtester")
        .args(["-v", "kw", user, "authenticate", "acct_mgmt"])
        .env("LD_PRELOAD", WRAPPER)
        .env("PAM_WRAPPER", "1")
        .env("PAM_WRAPPER_SERVICE_DIR", svc)
        .env("PAM_WRAPPER_DEBUGLEVEL", "2")
        .current_dir(h.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pamtester");
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(password), "password in output: {all}");
    (out.status.success(), all)
}

#[test]
fn keyward_pam_passwd_then_login_with_pamtester() {
    assert!(
        std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap() == 0,
        "must run as root: pam_keyward trusts only root-owned databases (scripts/test runs as root)"
    );
    assert!(have("pamtester"), "pamtester missing: install it");
    assert!(
        std::path::Path::new(WRAPPER).exists(),
        "install libpam-wrapper"
    );
    let h = TestHome::new();
    h.write_config("[kdf]\nlog_n = 12\n");
    let db = h.path().join("shadow");
    let out = h.keyward(
        &[
            "pam",
            "passwd",
            "carol",
            "--db",
            db.to_str().unwrap(),
            "--password-fd",
            "0",
        ],
        "carol's-login-pw\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svc = h.path().join("svc");
    std::fs::create_dir(&svc).unwrap();
    let so = bin("libpam_keyward.so");
    std::fs::write(
        svc.join("kw"),
        format!(
            "auth required {so} db={db} nodelay\naccount required {so} db={db}\n",
            so = so.display(),
            db = db.display()
        ),
    )
    .unwrap();
    let (ok, all) = pamtester(&h, &svc, "carol", "carol's-login-pw");
    assert!(ok, "{all}");
    assert!(all.contains("successfully authenticated"), "{all}");
    let (ok, all) = pamtester(&h, &svc, "carol", "not-carols-pw");
    assert!(!ok, "{all}");
    // Removed users can no longer log in, and `account` no longer knows them.
    let out = h.keyward(&["pam", "rm", "carol", "--db", db.to_str().unwrap()], "");
    assert!(out.status.success());
    let (ok, all) = pamtester(&h, &svc, "carol", "carol's-login-pw");
    assert!(!ok, "{all}");
}
