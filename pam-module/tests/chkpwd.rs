//! Issue 14.10: verification for programs that run as the user. pamtester
//! run as a throwaway user (setpriv) under pam_wrapper loads
//! pam_keyward.so, which cannot read the database and asks the setuid helper
//! `keyward-chkpwd`. The helper uses only the system's paths, so the test
//! runs in a mount namespace of its own (`unshare -m`) with a temporary
//! `/etc/keyward` and `/run/keyward` bound over the real ones.
//!
//! Needs root (useradd, a setuid-root copy of the helper, mounts).

mod common;

use common::User;
use keyward_passdb::{self as passdb, Hash, KdfParams};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const WRAPPER: &str = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so";
const FAST: KdfParams = KdfParams {
    log_n: 6,
    r: 8,
    p: 1,
};

/// Directories made for the bind mounts, removed (if still empty) at the end.
struct MadeDirs(Vec<PathBuf>);

impl Drop for MadeDirs {
    fn drop(&mut self) {
        for d in self.0.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

struct Env {
    etc: tempfile::TempDir,
    run: tempfile::TempDir,
    svc: tempfile::TempDir,
    helper: PathBuf,
    _made: MadeDirs,
}

fn open_dir() -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("keyward-chkpwd-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

impl Env {
    fn new(stack: &str) -> Env {
        let mut made = Vec::new();
        for d in ["/etc/keyward", "/run/keyward"] {
            if !Path::new(d).exists() {
                std::fs::create_dir(d).unwrap();
                made.push(PathBuf::from(d));
            }
        }
        let (etc, run, svc) = (open_dir(), open_dir(), open_dir());
        let helper = keyward_tests::bin_for_others("keyward-chkpwd");
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o4755)).unwrap();
        let so = keyward_tests::bin_for_others("libpam_keyward.so");
        let text = stack
            .replace("{so}", &so.display().to_string())
            .replace("{helper}", &helper.display().to_string());
        std::fs::write(svc.path().join("kw"), text).unwrap();
        Env {
            etc,
            run,
            svc,
            helper,
            _made: MadeDirs(made),
        }
    }

    fn password(&self, user: &str, pw: &str) {
        passdb::update(&self.etc.path().join("shadow"), &[0], |db| {
            db.set(user, Hash::new(pw.as_bytes(), FAST)?)
        })
        .unwrap();
    }

    /// `argv` as `who`, in a mount namespace with the temporary system files.
    fn as_user(&self, who: &User, argv: &[&str], stdin: &str) -> Output {
        let mut cmd = Command::new("unshare");
        cmd.args(["-m", "--propagation", "private", "/bin/sh", "-c"])
            .arg("mount --bind \"$1\" /etc/keyward && mount --bind \"$2\" /run/keyward && shift 2 && exec \"$@\"")
            .arg("sh")
            .arg(self.etc.path())
            .arg(self.run.path())
            .args(who.argv(&[]))
            .arg(format!("LD_PRELOAD={WRAPPER}"))
            .arg("PAM_WRAPPER=1")
            .arg(format!("PAM_WRAPPER_SERVICE_DIR={}", self.svc.path().display()))
            .arg("PAM_WRAPPER_DEBUGLEVEL=2")
            .args(argv);
        keyward_tests::output_with_stdin(&mut cmd, stdin.as_bytes())
    }

    fn pamtester(&self, who: &User, name: &str, pw: &str) -> (bool, String) {
        let out = self.as_user(
            who,
            &["pamtester", "-v", "kw", name, "authenticate"],
            &format!("{pw}\n"),
        );
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), all)
    }
}

#[test]
fn a_non_root_client_checks_only_its_own_password_through_the_setuid_helper() {
    keyward_tests::require_root("useradd, a setuid-root helper, mount namespaces");
    for t in ["unshare", "setpriv", "pamtester", "useradd"] {
        assert!(
            keyward_tests::have(t),
            "{t} missing (see scripts/test PKGS)"
        );
    }
    assert!(Path::new(WRAPPER).exists(), "install libpam-wrapper");
    let e = Env::new("auth required {so} chkpwd={helper} deny=3 unlock_time=60 nodelay\n");
    let (a, b) = (User::new("kwca"), User::new("kwcb"));
    e.password(&a.name, "a-own-login-pw");
    e.password(&b.name, "b-own-login-pw");
    let shadow_before = std::fs::read(e.etc.path().join("shadow")).unwrap();

    let (ok, all) = e.pamtester(&a, &a.name, "a-own-login-pw");
    assert!(ok, "the user's own right password: {all}");
    assert!(all.contains("successfully authenticated"), "{all}");
    let (ok, all) = e.pamtester(&a, &a.name, "wrong-pw");
    assert!(!ok, "{all}");
    // Another user's right password, asked by a: refused.
    let (ok, all) = e.pamtester(&a, &b.name, "b-own-login-pw");
    assert!(!ok, "a checked b's password: {all}");
    // The helper run by hand for someone else: the same refusal (exit PAM_AUTH_ERR).
    let helper = e.helper.to_str().unwrap();
    let out = e.as_user(&a, &[helper, &b.name, "nonull"], "b-own-login-pw");
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    // The lockout counts in the helper: two more failures make three.
    for _ in 0..2 {
        assert!(!e.pamtester(&a, &a.name, "wrong-again").0);
    }
    let (ok, all) = e.pamtester(&a, &a.name, "a-own-login-pw");
    assert!(!ok, "a locked-out user got in: {all}");
    assert!(
        all.contains("The account is locked due to 3 failed logins."),
        "{all}"
    );
    // a's refused attempt at b's name counted nothing for b: b gets in.
    let (ok, all) = e.pamtester(&b, &b.name, "b-own-login-pw");
    assert!(ok, "{all}");
    let tally = std::fs::read_to_string(e.run.path().join("tally").join(&a.name)).unwrap();
    assert!(tally.starts_with("3 "), "{tally}");
    assert_eq!(
        std::fs::read(e.etc.path().join("shadow")).unwrap(),
        shadow_before
    );
    for pw in ["a-own-login-pw", "b-own-login-pw", "$scrypt$"] {
        assert!(!all.contains(pw), "{pw} in the output");
    }
}
