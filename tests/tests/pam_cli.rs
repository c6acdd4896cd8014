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

/// Issue 14.11: `keyward pam lock|unlock|status|age|faillock` against the
/// real libpam (pamtester under pam_wrapper, `authenticate acct_mgmt`): a
/// locked password never logs in, aging answers as pam_unix does with its
/// messages, and a locked-out user is told so until `faillock --reset`.
#[test]
fn account_lock_aging_and_faillock_through_pamtester() {
    keyward_tests::require_root("pam_keyward trusts only root-owned databases");
    assert!(have("pamtester"), "pamtester missing: install it");
    let h = TestHome::new();
    h.write_config("[kdf]\nlog_n = 10\n");
    let db = h.path().join("shadow");
    let tally = h.path().join("tally");
    let dbs = db.to_str().unwrap();
    let kw = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        if args[1] == "faillock" {
            all.extend(["--dir", tally.to_str().unwrap()]);
        } else {
            all.extend(["--db", dbs]);
        }
        let out = h.keyward(&all, "");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let out = h.keyward(
        &["pam", "passwd", "dave", "--db", dbs, "--password-fd", "0"],
        "dave-login-pw\n",
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
            "auth required {so} db={db} nodelay deny=2 unlock_time=600 tally_dir={tally}\n\
             account required {so} db={db}\n",
            so = so.display(),
            db = db.display(),
            tally = tally.display()
        ),
    )
    .unwrap();
    let login = |pw: &str| pamtester(&h, &svc, "dave", pw);

    // lock / unlock / status
    assert_eq!(
        kw(&["pam", "status", "dave"]),
        (true, "dave P never -1 -1 -1 -1\n".into())
    );
    assert!(kw(&["pam", "lock", "dave"]).0);
    assert_eq!(
        kw(&["pam", "status", "dave"]).1,
        "dave L never -1 -1 -1 -1\n"
    );
    let (ok, all) = login("dave-login-pw");
    assert!(!ok, "a locked password logged in: {all}");
    assert!(kw(&["pam", "unlock", "dave"]).0);
    let (ok, all) = login("dave-login-pw");
    assert!(ok, "{all}");

    // aging: forced change, aged password with a warning, expired account
    assert!(kw(&["pam", "age", "dave", "-d", "0"]).0);
    let (ok, all) = login("dave-login-pw");
    assert!(!ok, "{all}");
    assert!(
        all.contains(
            "You are required to change your password immediately (administrator enforced)."
        ),
        "{all}"
    );
    let today = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 86_400;
    let last = (today - 88).to_string();
    assert!(kw(&["pam", "age", "dave", "-d", &last, "-M", "90", "-W", "7"]).0);
    let (ok, all) = login("dave-login-pw");
    assert!(ok, "{all}");
    assert!(
        all.contains("Warning: your password will expire in 2 days."),
        "{all}"
    );
    assert!(kw(&["pam", "age", "dave", "-M", "-1", "-E", "2000-01-01"]).0);
    let (ok, all) = login("dave-login-pw");
    assert!(!ok, "{all}");
    assert!(
        all.contains("Your account has expired; please contact your system administrator."),
        "{all}"
    );
    let (_, report) = kw(&["pam", "age", "dave"]);
    assert!(
        report.contains("Account expires                                     : 2000-01-01"),
        "{report}"
    );
    assert!(kw(&["pam", "age", "dave", "-E", "-1"]).0);
    let (ok, all) = login("dave-login-pw");
    assert!(ok, "{all}");

    // faillock: two failures lock; the user is told; --reset lets them in
    for _ in 0..2 {
        assert!(!login("not-daves-pw").0);
    }
    let (ok, all) = login("dave-login-pw");
    assert!(!ok, "{all}");
    assert!(
        all.contains("The account is locked due to 2 failed logins."),
        "{all}"
    );
    assert!(all.contains("(10 minutes left to unlock)"), "{all}");
    let (_, shown) = kw(&["pam", "faillock", "dave"]);
    assert!(
        shown.starts_with("dave: 2 failed login(s) in a row, the last at "),
        "{shown}"
    );
    assert!(kw(&["pam", "faillock", "dave", "--reset"]).0);
    assert_eq!(
        kw(&["pam", "faillock", "dave"]).1,
        "dave: no failed logins\n"
    );
    let (ok, all) = login("dave-login-pw");
    assert!(ok, "{all}");
}
