//! Something other than a regular file where the vault belongs (a FIFO, as a
//! mistake or a prank): every client refuses it at once with the fix-it
//! message and its usual exit code, instead of blocking in open(2) until a
//! writer comes (git would hang, and a login through pam_keyward with it).
//! Each command runs under `timeout` so that a regression fails (exit 124)
//! instead of hanging the suite.

use keyward_tests::{bin, output_with_stdin, TestHome};
use std::os::unix::fs::PermissionsExt;
use std::process::Output;

/// A home whose vault path is a FIFO. The FIFO goes before the home (field
/// order), so the home's own clean-up (`keyward lock`) never meets it.
struct FifoHome {
    fifo: std::path::PathBuf,
    home: TestHome,
}

impl Drop for FifoHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.fifo);
    }
}

fn fifo_home() -> FifoHome {
    let home = TestHome::new();
    let vault = home.vault_path();
    let dir = vault.parent().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let st = std::process::Command::new("mkfifo")
        .args(["-m", "600"])
        .arg(&vault)
        .status()
        .unwrap();
    assert!(st.success());
    FifoHome { fifo: vault, home }
}

fn run(h: &FifoHome, program: &str, args: &[&str], stdin: &str) -> Output {
    let mut c = h.home.command("timeout");
    c.args(["-s", "KILL", "60"]).arg(bin(program)).args(args);
    output_with_stdin(&mut c, stdin.as_bytes())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn keyward_refuses_a_fifo_with_exit_6() {
    let h = fifo_home();
    for args in [
        &["status"][..],
        &["list"],
        &["unlock", "--password-fd", "0"],
    ] {
        let out = run(&h, "keyward", args, "some password\n");
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(6), "keyward {args:?}: {err}");
        assert!(err.contains("it is not a regular file"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn git_helper_refuses_a_fifo_and_prints_nothing() {
    let h = fifo_home();
    let out = run(
        &h,
        "git-credential-keyward",
        &["get"],
        "protocol=https\nhost=example.com\n\n",
    );
    let err = text(&out.stderr);
    // An error exit of its own: not success, not `timeout`'s 124/137.
    assert!(
        matches!(out.status.code(), Some(c) if c != 0 && c < 124),
        "{:?}: {err}",
        out.status
    );
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(err.contains("it is not a regular file"), "{err}");
}

#[test]
fn docker_helper_refuses_a_fifo_on_stdout_with_exit_1() {
    let h = fifo_home();
    let out = run(
        &h,
        "docker-credential-keyward",
        &["get"],
        "registry.example",
    );
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{shown}{}", text(&out.stderr));
    assert!(shown.contains("it is not a regular file"), "{shown}");
}
