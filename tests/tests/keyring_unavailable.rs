//! Where the kernel keyring cannot be used (a container whose seccomp profile
//! blocks keyctl, as Docker's default does): `keyward unlock` says so in one
//! line, the helpers fail at once when nobody can type a password, ask on the
//! terminal when someone can, and `keyward doctor` warns with the fix.
//! `tests/no_keyring.py` runs each command under such a seccomp filter.

use keyward_tests::{bin, have, output_with_stdin, TestHome};
use std::path::PathBuf;
use std::process::{Command, Output};

const PW: &str = "container vault pw";
const REQ: &str = "protocol=https\nhost=git.example\n\n";

fn wrapper() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("no_keyring.py")
}

/// `python3-seccomp` is a test dependency (scripts/test installs it).
fn seccomp_available() -> bool {
    Command::new("/usr/bin/python3")
        .args(["-c", "import seccomp"])
        .status()
        .is_ok_and(|s| s.success())
}

/// A home whose vault holds one git credential, locked again afterwards.
fn home_with_credential() -> TestHome {
    assert!(
        seccomp_available(),
        "python3-seccomp is not installed (scripts/test installs it)"
    );
    let h = TestHome::new();
    h.init_unlocked_vault(PW);
    let out = run(
        &h,
        false,
        bin("git-credential-keyward"),
        &["store"],
        "protocol=https\nhost=git.example\nusername=ci\npassword=tok-in-container\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(h.keyward(&["lock"], "").status.success());
    h
}

/// Runs PROGRAM ARGS in `h` (in a new session, so with no terminal), under
/// the no-keyring filter when `blocked`.
fn run(h: &TestHome, blocked: bool, program: PathBuf, args: &[&str], stdin: &str) -> Output {
    let mut c = h.command("setsid");
    c.arg("-w");
    if blocked {
        c.arg("/usr/bin/python3").arg(wrapper());
    }
    output_with_stdin(c.arg(program).args(args), stdin.as_bytes())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn unlock_says_why_in_one_line_and_exits_1() {
    let h = home_with_credential();
    let out = run(
        &h,
        true,
        bin("keyward"),
        &["unlock", "--password-fd", "0"],
        &format!("{PW}\n"),
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("keyctl is not allowed here"), "{err}");
    assert!(
        err.contains("the helpers will ask for the password on the terminal instead"),
        "{err}"
    );
    assert!(!err.contains(PW), "{err}");
}

#[test]
fn helper_without_terminal_fails_at_once_as_locked() {
    let h = home_with_credential();
    let out = run(&h, true, bin("git-credential-keyward"), &["get"], REQ);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(
        err.contains("vault is locked: run `keyward unlock`"),
        "{err}"
    );
    // the same request answers once the keyring works again
    assert!(h
        .keyward(&["unlock", "--password-fd", "0"], &format!("{PW}\n"))
        .status
        .success());
    let out = run(&h, false, bin("git-credential-keyward"), &["get"], REQ);
    assert!(text(&out.stdout).contains("password=tok-in-container\n"));
}

#[test]
fn helper_with_terminal_asks_for_the_password() {
    assert!(
        have("expect"),
        "expect is not installed (scripts/test installs it)"
    );
    let h = home_with_credential();
    let req = h.path().join("request");
    std::fs::write(&req, REQ).unwrap();
    let script = r#"
log_user 1
spawn sh -c "exec /usr/bin/python3 $env(WRAP) $env(HELPER) get < $env(REQ)"
expect "password for vault" { send "$env(PW)\r" } timeout { exit 10 }
expect "password=tok-in-container" {} timeout { exit 11 }
expect eof {} timeout { exit 12 }
lassign [wait] pid spawnid os code
exit $code
"#;
    let out = h
        .command("expect")
        .env_remove("GIT_TERMINAL_PROMPT")
        .env("WRAP", wrapper())
        .env("HELPER", bin("git-credential-keyward"))
        .env("REQ", &req)
        .env("PW", PW)
        .args(["-c", script])
        .output()
        .unwrap();
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{shown}{}", text(&out.stderr));
    assert!(shown.contains("username=ci"), "{shown}");
    // echo was off: the typed password never appears on the terminal
    assert!(!shown.contains(PW), "{shown}");
}

#[test]
fn doctor_warns_with_the_fix() {
    let h = home_with_credential();
    let out = run(&h, true, bin("keyward"), &["doctor"], "");
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(
        all.contains(
            "WARN  kernel keyring: the user keyring is not available: keyctl is not allowed here"
        ),
        "{all}"
    );
    assert!(all.contains("fix: allow keyctl/add_key"), "{all}");
    assert_ne!(out.status.code(), Some(0), "{all}");
}
