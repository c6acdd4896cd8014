//! Key slots through the `keyward` binary: a recovery key enrolled, shown
//! once, opening the vault after the password is forgotten and setting a
//! new one; `keyward slots`; `keyward unenroll`; `keyward unlock
//! --non-interactive` with nothing that unlocks without typing.
#![forbid(unsafe_code)]

use keyward_tests::{text, TestHome};
use std::process::Output;

const PW: &str = "slot test password";

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: status {:?}, stderr: {}",
        out.status,
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The recovery key in `enroll recovery`'s output: the line of 8 dashed
/// groups of 8.
fn recovery_key_in(stdout: &str) -> String {
    let keys: Vec<_> = stdout
        .lines()
        .filter(|l| {
            let g: Vec<_> = l.split('-').collect();
            g.len() == 8
                && g.iter()
                    .all(|g| g.len() == 8 && g.bytes().all(|b| b.is_ascii_alphanumeric()))
        })
        .collect();
    assert_eq!(keys.len(), 1, "one key line in: {stdout}");
    keys[0].to_string()
}

#[test]
fn a_recovery_key_opens_a_vault_whose_password_was_forgotten() {
    let h = TestHome::new();
    h.init_unlocked_vault(PW);
    ok(
        &h.keyward(&["set", "ci/token", "--secret-fd", "0"], "s3cret-token\n"),
        "set",
    );
    let out = ok(&h.keyward(&["enroll", "recovery"], ""), "enroll recovery");
    let key = recovery_key_in(&out);
    assert!(out.contains("shown once"), "{out}");

    let slots = ok(&h.keyward(&["slots"], ""), "slots");
    let lines: Vec<_> = slots.lines().collect();
    assert_eq!(lines.len(), 2, "{slots}");
    assert!(
        lines[0].contains("password") && lines[0].contains("scrypt"),
        "{slots}"
    );
    assert!(lines[1].contains("recovery"), "{slots}");
    assert!(!slots.contains(&key[..8]), "no secret in the list");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&h.keyward(&["slots", "--json"], ""), "slots --json")).unwrap();
    assert_eq!(json[1]["kind"], "recovery");
    assert_eq!(json[1]["needs_typing"], true);

    // Locked; the recovery key (typed loosely: lower case, spaces) opens it.
    ok(&h.keyward(&["lock"], ""), "lock");
    let loose = key.to_lowercase().replace('-', " ");
    let out = ok(
        &h.keyward(&["unlock", "--recovery-key-fd", "0"], &format!("{loose}\n")),
        "unlock --recovery-key-fd",
    );
    assert!(out.contains("with the recovery key"), "{out}");
    assert_eq!(
        ok(&h.keyward(&["get", "ci/token"], ""), "get"),
        "s3cret-token\n"
    );

    // A typo is named by its group, exit 3, nothing unlocked.
    ok(&h.keyward(&["lock"], ""), "lock");
    let mut typo = key.clone().into_bytes();
    typo[20] = if typo[20] == b'Z' { b'Y' } else { b'Z' };
    let typo = String::from_utf8(typo).unwrap();
    let out = h.keyward(&["unlock", "--recovery-key-fd", "0"], &format!("{typo}\n"));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("recovery key"), "{err}");

    // Forgotten password: the recovery key sets a new one (key on the
    // first line of fd 0, the new password on the second).
    let out = ok(
        &h.keyward(
            &["passwd", "--recovery-key-fd", "0", "--password-fd", "0"],
            &format!("{key}\nbrand new password\n"),
        ),
        "passwd --recovery-key-fd",
    );
    assert!(out.contains("changed the password"), "{out}");
    ok(&h.keyward(&["lock"], ""), "lock");
    let out = h.keyward(&["unlock", "--password-fd", "0"], &format!("{PW}\n"));
    assert_eq!(out.status.code(), Some(3), "old password refused");
    ok(
        &h.keyward(&["unlock", "--password-fd", "0"], "brand new password\n"),
        "unlock with the new password",
    );
    // The recovery slot survived the new vault key.
    ok(&h.keyward(&["lock"], ""), "lock");
    ok(
        &h.keyward(&["unlock", "--recovery-key-fd", "0"], &format!("{key}\n")),
        "recovery key after passwd",
    );
    assert_eq!(
        ok(&h.keyward(&["get", "ci/token"], ""), "get"),
        "s3cret-token\n"
    );
    // The file is format 2 now.
    let b = std::fs::read(h.vault_path()).unwrap();
    assert_eq!(u16::from_le_bytes([b[8], b[9]]), 2);
}

#[test]
fn unenroll_keeps_the_last_slot_and_non_interactive_never_prompts() {
    let h = TestHome::new();
    h.init_unlocked_vault(PW);
    let out = h.keyward(&["unenroll", "password"], "");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("last slot"),
        "{}",
        text(&out.stderr)
    );
    let out = h.keyward(&["unenroll", "recovery"], "");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    ok(&h.keyward(&["enroll", "recovery"], ""), "enroll");
    let out = ok(&h.keyward(&["unenroll", "1"], ""), "unenroll 1");
    assert!(out.contains("removed slot 1 (recovery)"), "{out}");

    // Unlocked: --non-interactive has nothing to do.
    let out = ok(&h.keyward(&["unlock", "--non-interactive"], ""), "already");
    assert!(out.contains("already unlocked"), "{out}");
    // Locked, no slot that opens without typing: exit 10, one line, no prompt.
    ok(&h.keyward(&["lock"], ""), "lock");
    let out = h.keyward(&["unlock", "--non-interactive"], "");
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("keyward enroll host"), "{err}");
    let out = h.keyward(&["status"], "");
    assert!(
        text(&out.stdout).contains("locked"),
        "{}",
        text(&out.stdout)
    );
}
