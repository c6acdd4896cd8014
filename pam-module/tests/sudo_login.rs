//! `sudo` (the real setuid binary, Debian's sudo) through pam_keyward.so:
//! run by a throwaway user (setpriv) in a mount namespace of its own
//! (`unshare -m`) where `/etc/pam.d/sudo` and `/etc/sudoers` are temporary
//! files bound over the real ones (pam_wrapper cannot reach a setuid
//! program: the loader ignores LD_PRELOAD there). The user's right password
//! lets `sudo -S` run a command; two wrong ones lock the user out
//! (`deny=2`), and then even the right password is refused. sudo (1.9.13 in
//! Debian 12) calls `pam_authenticate` with `PAM_SILENT` (even pam_echo's
//! text is withheld), so the module, as pam_faillock, does not show the lock
//! message there; `su` shows it (`login_unlock.rs`), as does pamtester
//! (`tests/tests/pam_cli.rs`).
//!
//! Needs root (useradd, mounts) and sudo.

mod common;

use common::User;
use keyward_passdb::{self as passdb, Hash, KdfParams};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

const FAST: KdfParams = KdfParams {
    log_n: 6,
    r: 8,
    p: 1,
};

/// `sudo -S -k … true` as `u`, with `stdin`, in a namespace where the
/// temporary stack and sudoers in `dir` are the system's.
fn sudo(dir: &Path, u: &User, stdin: &str) -> Output {
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "--propagation", "private", "/bin/sh", "-c"])
        .arg(
            "mount --bind \"$1/pam-sudo\" /etc/pam.d/sudo && \
             mount --bind \"$1/sudoers\" /etc/sudoers && shift && exec \"$@\"",
        )
        .arg("sh")
        .arg(dir)
        .args(u.argv(&["sudo", "-S", "-k", "-p", "PW:", "true"]));
    keyward_tests::output_with_stdin(&mut cmd, stdin.as_bytes())
}

#[test]
fn sudo_accepts_the_password_then_tells_a_locked_out_user() {
    keyward_tests::require_root("useradd, mount namespaces, sudo's own files");
    for t in ["sudo", "unshare", "setpriv", "useradd"] {
        assert!(
            keyward_tests::have(t),
            "{t} missing (see scripts/test PKGS)"
        );
    }
    for f in ["/etc/pam.d/sudo", "/etc/sudoers"] {
        assert!(Path::new(f).exists(), "{f} missing: install sudo");
    }
    let dir = tempfile::Builder::new()
        .prefix("keyward-sudo-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let u = User::new("kws");
    let db = dir.path().join("shadow");
    passdb::update(&db, &[0], |d| {
        d.set(&u.name, Hash::new(b"sudo-login-pw", FAST)?)
    })
    .unwrap();
    let tally = dir.path().join("tally");
    let so = keyward_tests::bin_for_others("libpam_keyward.so");
    std::fs::write(
        dir.path().join("pam-sudo"),
        format!(
            "auth     required {so} db={db} deny=2 unlock_time=600 tally_dir={tally} nodelay\n\
             account  required {so} db={db}\n\
             session  required pam_permit.so\n",
            so = so.display(),
            db = db.display(),
            tally = tally.display()
        ),
    )
    .unwrap();
    let sudoers = dir.path().join("sudoers");
    std::fs::write(
        &sudoers,
        format!(
            "Defaults passwd_tries=1\nDefaults !lecture\nDefaults !syslog\nroot ALL=(ALL) ALL\n{} ALL=(ALL) ALL\n",
            u.name
        ),
    )
    .unwrap();
    std::fs::set_permissions(&sudoers, std::fs::Permissions::from_mode(0o440)).unwrap();
    let text = |o: &Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };

    let out = sudo(dir.path(), &u, "sudo-login-pw\n");
    assert!(out.status.success(), "the right password: {}", text(&out));
    for _ in 0..2 {
        let out = sudo(dir.path(), &u, "not-the-pw\n");
        assert!(!out.status.success(), "a wrong password: {}", text(&out));
        assert!(
            text(&out).contains("incorrect password attempt"),
            "{}",
            text(&out)
        );
    }
    let out = sudo(dir.path(), &u, "sudo-login-pw\n");
    let all = text(&out);
    assert!(
        !out.status.success(),
        "a locked-out user got through sudo: {all}"
    );
    assert!(all.contains("incorrect password attempt"), "{all}");
    // PAM_SILENT from sudo: nothing from the module on the terminal.
    assert!(!all.contains("The account is locked"), "{all}");
    assert!(!all.contains("sudo-login-pw"), "{all}");
    let count = std::fs::read_to_string(tally.join(&u.name)).unwrap();
    assert!(
        count.starts_with("2 "),
        "the locked-out attempt verified nothing: {count}"
    );
}
