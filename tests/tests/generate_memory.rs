//! `keyward generate NAME --print` and `keyward get NAME` under gdb, stopped
//! at `exit_group` and dumped with `gcore` (locked memory is left out of the
//! core): the secret they printed must be nowhere in the dump. A positive
//! control (the record's name, which sits in ordinary memory) must be found
//! by the same scan, so an empty or unreadable core cannot pass.
#![forbid(unsafe_code)]

use keyward_tests::core_scan::{core_at_exit, require_root_and_gdb, scratch, Needles};
use keyward_tests::{bin, TestHome};

/// Runs `keyward ARGS` under gdb; returns what it printed, after checking
/// that `secret` (or, when `None`, what it printed) is not in its core and
/// that `control` is.
fn scan(
    h: &TestHome,
    dir: &std::path::Path,
    args: &[&str],
    secret: Option<&str>,
    control: &str,
) -> String {
    let d = scratch(dir, &args.join("_").replace('/', "-"));
    let mut cmd = h.command(bin("keyward"));
    cmd.args(args);
    let (core, out) = core_at_exit(&cmd, b"", &d);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let printed = stdout.trim_end_matches('\n').to_string();
    assert!(
        printed.len() >= 20,
        "keyward {args:?} printed no secret: {stdout:?} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(core.len() > 100_000, "implausibly small core");
    let secret = secret.unwrap_or(&printed);
    let mut needles = Needles::new();
    needles.add("the generated secret", secret.as_bytes());
    let found = needles.found_in(&core);
    assert!(
        found.is_empty(),
        "keyward {args:?}: the secret is in readable memory: {found:?}"
    );
    let mut c = Needles::new();
    c.add("control: the record name", control.as_bytes());
    assert!(
        !c.found_in(&core).is_empty(),
        "keyward {args:?}: the scan did not find the control"
    );
    printed
}

#[test]
fn generated_secrets_stay_in_locked_memory() {
    require_root_and_gdb();
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    let dir = tempfile::tempdir().unwrap();
    for (name, extra) in [
        ("control-name/alnum-secret", &["--length", "40"][..]),
        (
            "control-name/words-secret",
            &["--words", "--length", "8"][..],
        ),
        (
            "control-name/ascii-secret",
            &["--charset", "ascii", "--length", "32"][..],
        ),
    ] {
        let mut args = vec!["generate", name, "--print"];
        args.extend_from_slice(extra);
        let value = scan(&h, dir.path(), &args, None, name);
        let got = scan(&h, dir.path(), &["get", name], Some(&value), name);
        assert_eq!(got, value, "get returns what generate printed");
    }
}
