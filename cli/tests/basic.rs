//! `keyward init`, `unlock`, `lock`, `status` as a user runs them.

use keyward_tests::TestHome;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn init_unlock_status_lock() {
    let h = TestHome::new();
    h.write_config("[kdf]\nlog_n = 10\n");
    let out = h.keyward(&["init", "--password-fd", "0"], "pw one\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with(&format!("created vault {}", h.vault_path().display())));
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&h.vault_path()), 0o600);
    assert_eq!(mode(h.vault_path().parent().unwrap()), 0o700);

    let out = h.keyward(&["init", "--password-fd", "0"], "pw one\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("a vault already exists at"));

    let out = h.keyward(&["status"], "");
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("state: locked"),
        "{}",
        text(&out.stdout)
    );

    let out = h.keyward(&["unlock", "--password-fd", "0"], "pw two\n");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        text(&out.stderr),
        format!(
            "keyward: wrong vault password for {}\n",
            h.vault_path().display()
        )
    );

    let out = h.keyward(
        &["unlock", "--password-fd", "0", "--timeout", "5m"],
        "pw one\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = h.keyward(&["status"], "");
    let s = text(&out.stdout);
    assert!(
        s.contains("state: unlocked (4m 5") || s.contains("state: unlocked (5m 00s"),
        "{s}"
    );
    assert!(s.contains("records: 0"), "{s}");

    let out = h.keyward(&["lock"], "");
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        format!("locked {}\n", h.vault_path().display())
    );
    let out = h.keyward(&["status"], "");
    assert!(text(&out.stdout).contains("state: locked"));
}

#[test]
fn no_vault_and_usage_errors() {
    let h = TestHome::new();
    let out = h.keyward(&["unlock", "--password-fd", "0"], "x\n");
    assert_eq!(out.status.code(), Some(7));
    assert!(text(&out.stderr).contains("create one with `keyward init`"));
    let out = h.keyward(&["frobnicate"], "");
    assert_eq!(out.status.code(), Some(2));
    let out = h.keyward(&["--help"], "");
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("Exit codes:"));
}

#[test]
fn helper_setup_is_usable_by_other_tests() {
    let h = TestHome::new();
    h.init_unlocked_vault("secret");
    let out = h.keyward(&["status"], "");
    assert!(text(&out.stdout).contains("state: unlocked"));
    h.keyward(&["lock"], "");
}
