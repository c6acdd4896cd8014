//! The pnpm token helper file `keyward setup pnpm` writes, run as pnpm runs
//! it (an absolute path, no arguments, through `sh -c`), and the calls
//! `keyward` parses without clap, whose answers and errors must be clap's.

use keyward_tests::{bin, ok_stdout as ok, output_with_stdin, text, TestHome};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

const TOKEN: &str = "npm_tok3n";

/// `keyward setup pnpm` in `h` with `keyward` run from `exe`; the helper's path.
fn setup(h: &TestHome, exe: &Path) -> PathBuf {
    let mut c = h.command(exe);
    c.args([
        "setup",
        "pnpm",
        "https://npm.example.com/",
        "--secret-fd",
        "0",
    ]);
    ok(&output_with_stdin(&mut c, format!("{TOKEN}\n").as_bytes()));
    let npmrc = std::fs::read_to_string(h.path().join(".npmrc")).unwrap();
    let helper = npmrc
        .lines()
        .find_map(|l| l.strip_prefix("//npm.example.com/:tokenHelper="))
        .unwrap_or_else(|| panic!("no tokenHelper line: {npmrc}"));
    PathBuf::from(helper)
}

/// The helper run as pnpm runs it: `sh -c PATH`.
fn run_helper(h: &TestHome, helper: &Path) -> Output {
    let mut c = h.command("sh");
    c.arg("-c").arg(helper);
    output_with_stdin(&mut c, b"")
}

#[test]
fn the_helper_runs_keyward_from_its_hash_bang_line() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    let helper = setup(&h, &bin("keyward"));
    let body = std::fs::read_to_string(&helper).unwrap();
    let first = body.lines().next().unwrap();
    assert_eq!(
        first,
        format!("#!{} npm-token-helper", bin("keyward").display()),
        "{body}"
    );
    assert!(body.contains("\nregistry=//npm.example.com/\n"), "{body}");
    assert!(!body.contains(TOKEN), "{body}");
    assert_eq!(ok(&run_helper(&h, &helper)), format!("Bearer {TOKEN}\n"));
    // The same answer from `keyward npm-token URL`.
    assert_eq!(
        ok(&h.keyward(&["npm-token", "https://npm.example.com/"], "")),
        format!("Bearer {TOKEN}\n")
    );

    // Another user's write access makes it untrusted: exit 6, the fix named.
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o722)).unwrap();
    let out = run_helper(&h, &helper);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("go-w"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o700)).unwrap();

    // A file that names no registry: one line saying how to write it again.
    let other = h.path().join("not-a-helper");
    std::fs::write(
        &other,
        format!("#!{} npm-token-helper\n", bin("keyward").display()),
    )
    .unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = run_helper(&h, &other);
    assert_ne!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(
        err.contains("names no registry") && err.contains("keyward setup pnpm"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    // Locked: the vault's exit code and message, nothing on stdout.
    ok(&h.keyward(&["lock"], ""));
    let out = run_helper(&h, &helper);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
}

#[test]
fn a_keyward_path_with_a_space_gets_a_shell_script() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    let dir = h.path().join("bin dir");
    std::fs::create_dir(&dir).unwrap();
    let exe = dir.join("keyward");
    std::fs::copy(bin("keyward"), &exe).unwrap();
    // `keyward setup` runs in keyward-cli, which `keyward` finds beside it.
    std::fs::copy(bin("keyward-cli"), dir.join("keyward-cli")).unwrap();
    let helper = setup(&h, &exe);
    let body = std::fs::read_to_string(&helper).unwrap();
    assert!(body.starts_with("#!/bin/sh\n"), "{body}");
    assert!(body.contains("npm-token '//npm.example.com/'"), "{body}");
    assert_eq!(ok(&run_helper(&h, &helper)), format!("Bearer {TOKEN}\n"));
}

/// `keyward VERB ARG` is parsed without clap; anything else goes to clap,
/// and both give the same answers.
#[test]
fn quick_and_clap_parsing_agree() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    ok(&h.keyward(&["set", "restic/x", "--secret-fd", "0"], "v\n"));
    // Quick path; the same through clap (the global --vault option).
    let vault = h.vault_path();
    let vault = vault.to_str().unwrap();
    assert_eq!(ok(&h.keyward(&["get", "restic/x"], "")), "v\n");
    assert_eq!(
        ok(&h.keyward(&["--vault", vault, "get", "restic/x"], "")),
        "v\n"
    );
    // A missing record: exit 7 either way, the same line.
    let quick = h.keyward(&["get", "restic/none"], "");
    let clap = h.keyward(&["--vault", vault, "get", "restic/none"], "");
    assert_eq!(quick.status.code(), Some(7));
    assert_eq!(quick.stderr, clap.stderr);
    // Options and values starting with `-` are clap's: usage errors (2).
    for args in [
        &["get", "--bogus"][..],
        &["kube-credential", "-x"],
        &["npm-token"],
        &["npm-token", "a", "b"],
    ] {
        let out = h.keyward(args, "");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert!(ok(&h.keyward(&["get", "--help"], "")).contains("Usage"));
    // `aws PROFILE` and `kube-credential NAME` without a record: the
    // command's own error, not a usage error.
    assert_eq!(h.keyward(&["aws", "none"], "").status.code(), Some(7));
    let out = h.keyward(&["kube-credential", "none"], "");
    assert!(
        text(&out.stderr).contains("keyward import kube"),
        "{}",
        text(&out.stderr)
    );
}
