//! Passwords typed at a real terminal (a pty driven by `expect`): prompts
//! with echo off, confirmation on init, and the fallback prompt when locked.

use keyward_tests::{bin, have, TestHome};

fn expect(h: &TestHome, script: &str) -> std::process::Output {
    assert!(
        have("expect"),
        "expect is not installed (scripts/test installs it)"
    );
    let mut c = h.command("expect");
    // A terminal is allowed to prompt: drop TestHome's GIT_TERMINAL_PROMPT=0.
    c.env_remove("GIT_TERMINAL_PROMPT")
        .env("KW", bin("keyward"))
        .args(["-c", script]);
    c.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn init_asks_twice_and_refuses_a_mismatch() {
    let h = TestHome::new();
    h.write_config("[kdf]\nlog_n = 10\n");
    let out = expect(
        &h,
        r#"set timeout 10
spawn $env(KW) init
expect "New vault password: " { sleep 0.3; send "one\r" } timeout { exit 10 }
expect "Repeat it: " { sleep 0.3; send "two\r" } timeout { exit 11 }
expect eof {} timeout { exit 13 }
lassign [wait] pid spawnid os code
exit $code"#,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("the two passwords differ"));
    assert!(!h.vault_path().exists());

    let out = expect(
        &h,
        r#"set timeout 10
spawn $env(KW) init
expect "New vault password: " { sleep 0.3; send "same pw\r" } timeout { exit 10 }
expect "Repeat it: " { sleep 0.3; send "same pw\r" } timeout { exit 11 }
expect eof {} timeout { exit 13 }
lassign [wait] pid spawnid os code
exit $code"#,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let shown = text(&out.stdout);
    assert!(
        !shown.contains("same pw"),
        "the password was echoed: {shown}"
    );
    assert!(shown.contains("created vault"));
}

#[test]
fn locked_vault_prompts_on_the_terminal_and_fails_fast_without_one() {
    let h = TestHome::new();
    h.write_config("[kdf]\nlog_n = 10\n");
    let out = h.keyward(&["init", "--password-fd", "0"], "tty pw\n");
    assert!(out.status.success());
    std::fs::write(h.path().join("c"), "https://u:tok@example.org\n").unwrap();
    let out = h.keyward(&["import", "git", "c", "--password-fd", "0"], "tty pw\n");
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Locked, with a terminal: asks, then lists.
    let out = expect(
        &h,
        r#"set timeout 10
spawn $env(KW) list
expect "password for vault" { sleep 0.3; send "tty pw\r" } timeout { exit 10 }
expect "example.org" {} timeout { exit 12 }
expect eof {} timeout { exit 13 }
lassign [wait] pid spawnid os code
exit $code"#,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    // A wrong password typed there: exit 3.
    let out = expect(
        &h,
        r#"set timeout 10
spawn $env(KW) list
expect "password for vault" { sleep 0.3; send "nope\r" } timeout { exit 10 }
expect eof {} timeout { exit 13 }
lassign [wait] pid spawnid os code
exit $code"#,
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("wrong vault password"));

    // No terminal (the test's own process has none under `cargo test` in CI;
    // setsid detaches it for certain): fails at once, never hangs.
    let start = std::time::Instant::now();
    let out = h
        .command("setsid")
        .env_remove("GIT_TERMINAL_PROMPT")
        .arg(bin("keyward"))
        .arg("list")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).starts_with("keyward: vault is locked: run `keyward unlock`"));
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}
