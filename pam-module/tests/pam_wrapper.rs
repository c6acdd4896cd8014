//! pam_keyward.so loaded by the real libpam through pam_wrapper (service files
//! in a temp dir, no `/etc` changes), driven by pypamtest, pamtester and `su`.
//! Every run checks that no password reaches the log (pam_syslog output,
//! shown by `PAM_WRAPPER_DEBUGLEVEL`).
//!
//! The module trusts only root-owned databases, so these tests run as root
//! (as `scripts/test` does in CI).

use keyward_passdb::{self as passdb, Hash, KdfParams};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};

static PAM_WRAPPER_LOCK: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    PAM_WRAPPER_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

const PAM_SUCCESS: i64 = 0;
const PAM_AUTH_ERR: i64 = 7;
const PAM_AUTHINFO_UNAVAIL: i64 = 9;
const PAM_USER_UNKNOWN: i64 = 10;
const PAM_AUTHTOK_ERR: i64 = 20;
const PAM_CHANGE_EXPIRED_AUTHTOK: i64 = 0x20;

const WRAPPER: &str = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so";
const SET_ITEMS: &str = "/usr/lib/x86_64-linux-gnu/pam_wrapper/pam_set_items.so";

/// Cheap parameters for users in tests; unknown users still cost the
/// production dummy hash.
const FAST: KdfParams = KdfParams {
    log_n: 6,
    r: 8,
    p: 1,
};

struct Env {
    dir: tempfile::TempDir,
    so: PathBuf,
}

#[derive(Debug)]
struct Outcome {
    ok: bool,
    detail: String,
    errors: Vec<String>,
    log: String,
    state_changed: bool,
}

fn require_root_and_tools() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the PAM tests must run as root: pam_keyward trusts only root-owned databases \
         (scripts/test runs as root)"
    );
    assert!(
        Path::new(WRAPPER).exists(),
        "{WRAPPER} missing: install libpam-wrapper"
    );
    assert!(
        Path::new("/usr/lib/python3/dist-packages")
            .read_dir()
            .unwrap()
            .any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("pypamtest")),
        "pypamtest missing: install python3-pypamtest"
    );
}

impl Env {
    fn new() -> Env {
        require_root_and_tools();
        let dir = tempfile::Builder::new()
            .prefix("keyward-pam-")
            .tempdir()
            .unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::create_dir(dir.path().join("svc")).unwrap();
        Env {
            dir,
            so: keyward_tests::bin("libpam_keyward.so"),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("shadow")
    }

    fn tally(&self) -> PathBuf {
        self.dir.path().join("tally")
    }

    fn user(&self, name: &str, password: &[u8]) {
        passdb::update(&self.db(), &[0], |db| {
            db.set(name, Hash::new(password, FAST)?)
        })
        .unwrap();
    }

    /// Writes a service file; `{so}`, `{db}` and `{tally}` are filled in.
    fn service(&self, name: &str, body: &str) {
        let text = body
            .replace("{so}", &self.so.display().to_string())
            .replace("{db}", &self.db().display().to_string())
            .replace("{tally}", &self.tally().display().to_string())
            .replace("{set_items}", SET_ITEMS);
        std::fs::write(self.dir.path().join("svc").join(name), text).unwrap();
    }

    /// pam_wrapper copies the service files into `/tmp/pam.X` directories with
    /// one-character names; concurrent processes in this binary are serialised
    /// so they never race for them.
    fn wrapped(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("LD_PRELOAD", WRAPPER)
            .env("PAM_WRAPPER", "1")
            .env("PAM_WRAPPER_SERVICE_DIR", self.dir.path().join("svc"))
            .env("PAM_WRAPPER_DEBUGLEVEL", "2")
            .env_remove("PAM_AUTHTOK");
        c
    }

    /// One PAM transaction: `ops` are (operation, expected code, flags).
    fn pam(
        &self,
        service: &str,
        user: &str,
        ops: &[(&str, i64, i64)],
        passwords: &[&str],
        env: &[(&str, &str)],
    ) -> Outcome {
        self.pam_via(&[], service, user, ops, passwords, env)
    }

    /// [`Self::pam`], with python started through `prefix` (e.g. setpriv).
    fn pam_via(
        &self,
        prefix: &[&str],
        service: &str,
        user: &str,
        ops: &[(&str, i64, i64)],
        passwords: &[&str],
        env: &[(&str, &str)],
    ) -> Outcome {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pamtest.py");
        let mut cmd = match prefix.split_first() {
            None => self.wrapped("/usr/bin/python3"),
            Some((first, rest)) => {
                let mut c = self.wrapped(first);
                c.args(rest).arg("/usr/bin/python3");
                c
            }
        };
        cmd.arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let _serial = serial();
        let mut child = cmd.spawn().expect("run /usr/bin/python3");
        let req = serde_json::json!({
            "service": service, "user": user, "ops": ops, "passwords": passwords,
        });
        child
            .stdin
            .take()
            .unwrap()
            .write_all(req.to_string().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let log = String::from_utf8_lossy(&out.stderr).to_string();
        let v: serde_json::Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("pamtest.py said {stdout:?} ({e}); stderr: {log}"));
        let mut secrets: Vec<&str> = passwords.to_vec();
        secrets.extend(
            env.iter()
                .filter(|(k, _)| *k == "PAM_AUTHTOK")
                .map(|(_, v)| *v),
        );
        assert_no_secret(&log, &secrets);
        // With `debug`, the module reports its secure memory after each
        // entry point: nothing may be left.
        for line in log.lines().filter(|l| l.contains("live secrets")) {
            assert!(
                line.contains("secure memory: 0 live secrets, 0 bytes mapped"),
                "secret memory held after an entry returned: {line}"
            );
        }
        Outcome {
            ok: v["ok"].as_bool().unwrap(),
            detail: v["error"].as_str().unwrap_or("").to_owned(),
            errors: v["errors"]
                .as_array()
                .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default(),
            log,
            state_changed: v["state_before"] != v["state_after"],
        }
    }

    /// Authenticates once and asserts the code.
    fn auth(&self, service: &str, user: &str, password: &str, rv: i64) -> Outcome {
        let o = self.pam(service, user, &[("auth", rv, 0)], &[password], &[]);
        assert!(
            o.ok,
            "auth {user} expected {rv}: {} / log: {}",
            o.detail, o.log
        );
        assert!(
            !o.state_changed,
            "the module changed process-wide state: {o:?}"
        );
        o
    }
}

fn assert_no_secret(log: &str, secrets: &[&str]) {
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        assert!(!log.contains(s), "a password reached the log: {log}");
    }
    // Nor any stored hash material.
    assert!(!log.contains("$scrypt$"), "a hash reached the log: {log}");
}

const BASIC: &str = "auth required {so} db={db} nodelay debug\n\
                     account required {so} db={db} debug\n";

#[test]
fn right_wrong_and_unknown() {
    let e = Env::new();
    e.user("alice", b"correct horse");
    e.service("kw", BASIC);
    let ok = e.auth("kw", "alice", "correct horse", PAM_SUCCESS);
    assert!(
        ok.log
            .contains("pam_sm_authenticate returns PAM_SUCCESS; secure memory: 0 live secrets"),
        "{}",
        ok.log
    );
    let bad = e.auth("kw", "alice", "battery staple", PAM_AUTH_ERR);
    assert!(bad.log.contains("authentication failure;"), "{}", bad.log);
    assert!(bad.log.contains("user=alice"));
    // An unknown user gets the same code as a wrong password.
    let unk = e.auth("kw", "mallory", "correct horse", PAM_AUTH_ERR);
    assert!(
        unk.log.contains("  user=mallory") && unk.log.contains("check pass; user unknown"),
        "{}",
        unk.log
    );
    assert!(
        unk.log.contains("0 live secrets, 0 bytes mapped"),
        "{}",
        unk.log
    );
    // Unless the admin asks otherwise.
    e.service(
        "kw-unknown",
        "auth required {so} db={db} nodelay unknown_user=user_unknown\n",
    );
    e.auth("kw-unknown", "mallory", "x", PAM_USER_UNKNOWN);
    e.auth("kw-unknown", "alice", "correct horse", PAM_SUCCESS);
}

#[test]
fn account_and_setcred() {
    let e = Env::new();
    e.user("alice", b"pw-alice");
    e.service(
        "kw",
        "auth required {so} db={db} nodelay\naccount required {so} db={db}\n",
    );
    let o = e.pam(
        "kw",
        "alice",
        &[
            ("auth", PAM_SUCCESS, 0),
            ("setcred", PAM_SUCCESS, 2),
            ("account", PAM_SUCCESS, 0),
        ],
        &["pw-alice"],
        &[],
    );
    assert!(o.ok, "{o:?}");
    let o = e.pam("kw", "bob", &[("account", PAM_USER_UNKNOWN, 0)], &[], &[]);
    assert!(o.ok, "{o:?}");
}

#[test]
fn empty_password_needs_nullok() {
    let e = Env::new();
    e.user("blank", b"");
    e.service("kw", BASIC);
    let o = e.auth("kw", "blank", "", PAM_AUTH_ERR);
    assert!(o.log.contains("empty password (no nullok)"), "{}", o.log);
    e.service("kw-nullok", "auth required {so} db={db} nodelay nullok\n");
    e.auth("kw-nullok", "blank", "", PAM_SUCCESS);
    e.auth("kw-nullok", "blank", "notempty", PAM_AUTH_ERR);
}

#[test]
fn over_long_password_fails_and_the_cap_is_inclusive() {
    let e = Env::new();
    let at_cap = "p".repeat(passdb::MAX_PASSWORD_LEN);
    e.user("long", at_cap.as_bytes());
    e.service("kw", BASIC);
    e.auth("kw", "long", &at_cap, PAM_SUCCESS);
    let over = format!("{at_cap}p");
    let o = e.auth("kw", "long", &over, PAM_AUTH_ERR);
    assert!(
        o.log.contains("password longer than 4096 bytes"),
        "{}",
        o.log
    );
    let o = e.auth("kw", "long", &"q".repeat(100_000), PAM_AUTH_ERR);
    assert!(
        o.log.contains("password longer than 4096 bytes"),
        "{}",
        o.log
    );
}

#[test]
fn use_first_pass_takes_the_stacked_password_and_never_prompts() {
    let e = Env::new();
    e.user("alice", b"stacked-secret");
    e.service(
        "kw",
        "auth required {set_items}\nauth required {so} db={db} nodelay use_first_pass debug\n",
    );
    // The conversation would answer with the right password: it must not be asked.
    let o = e.pam(
        "kw",
        "alice",
        &[("auth", PAM_SUCCESS, 0)],
        &["wrong-from-prompt"],
        &[("PAM_AUTHTOK", "stacked-secret")],
    );
    assert!(o.ok, "{o:?}");
    let o = e.pam(
        "kw",
        "alice",
        &[("auth", PAM_AUTH_ERR, 0)],
        &["stacked-secret"],
        &[("PAM_AUTHTOK", "not-the-secret")],
    );
    assert!(o.ok, "{o:?}");
    // No stacked password: use_first_pass fails rather than prompting.
    let o = e.pam(
        "kw",
        "alice",
        &[("auth", PAM_AUTH_ERR, 0)],
        &["stacked-secret"],
        &[],
    );
    assert!(o.ok, "{o:?}");
}

#[test]
fn try_first_pass_uses_the_stacked_password_or_prompts() {
    let e = Env::new();
    e.user("alice", b"prompted-secret");
    e.service(
        "kw",
        "auth optional {set_items}\nauth required {so} db={db} nodelay try_first_pass\n",
    );
    let o = e.pam(
        "kw",
        "alice",
        &[("auth", PAM_SUCCESS, 0)],
        &["prompted-secret"],
        &[],
    );
    assert!(o.ok, "falls back to the prompt: {o:?}");
    let o = e.pam(
        "kw",
        "alice",
        &[("auth", PAM_SUCCESS, 0)],
        &["wrong"],
        &[("PAM_AUTHTOK", "prompted-secret")],
    );
    assert!(o.ok, "uses the stacked one: {o:?}");
}

#[test]
fn chauthtok_changes_the_password() {
    let e = Env::new();
    e.user("alice", b"old-password");
    e.service(
        "kw",
        "auth required {so} db={db} nodelay\npassword required {so} db={db} debug\n",
    );
    // As root: no old password asked; new one twice.
    let o = e.pam(
        "kw",
        "alice",
        &[("chauthtok", PAM_SUCCESS, 0)],
        &["new-password", "new-password"],
        &[],
    );
    assert!(o.ok, "{o:?}");
    assert!(
        o.log.contains("password changed for user=alice"),
        "{}",
        o.log
    );
    e.auth("kw", "alice", "old-password", PAM_AUTH_ERR);
    e.auth("kw", "alice", "new-password", PAM_SUCCESS);
    // The cost parameters of the user's hash are kept.
    let db = passdb::load(&e.db(), &[0]).unwrap();
    assert_eq!(db.find("alice").unwrap().params(), Some(FAST));
    // Mistyped confirmation changes nothing.
    let o = e.pam(
        "kw",
        "alice",
        &[("chauthtok", PAM_AUTHTOK_ERR, 0)],
        &["third-password", "typo-password"],
        &[],
    );
    assert!(o.ok, "{o:?}");
    assert!(o.errors.iter().any(|m| m.contains("do not match")), "{o:?}");
    e.auth("kw", "alice", "new-password", PAM_SUCCESS);
    // With PAM_CHANGE_EXPIRED_AUTHTOK even root is asked for the old one.
    let o = e.pam(
        "kw",
        "alice",
        &[("chauthtok", PAM_AUTH_ERR, PAM_CHANGE_EXPIRED_AUTHTOK)],
        &["wrong-old", "x1-password", "x1-password"],
        &[],
    );
    assert!(o.ok, "{o:?}");
    let o = e.pam(
        "kw",
        "alice",
        &[("chauthtok", PAM_SUCCESS, PAM_CHANGE_EXPIRED_AUTHTOK)],
        &["new-password", "fourth-password", "fourth-password"],
        &[],
    );
    assert!(o.ok, "{o:?}");
    e.auth("kw", "alice", "fourth-password", PAM_SUCCESS);
    e.auth("kw", "alice", "new-password", PAM_AUTH_ERR);
}

#[test]
fn lockout_after_n_failures_and_reset_after_success() {
    let e = Env::new();
    e.user("alice", b"right-password");
    e.service(
        "kw",
        "auth required {so} db={db} nodelay deny=3 unlock_time=2 tally_dir={tally}\n",
    );
    // Two failures, then a success resets the count…
    e.auth("kw", "alice", "wrong-1", PAM_AUTH_ERR);
    e.auth("kw", "alice", "wrong-2", PAM_AUTH_ERR);
    e.auth("kw", "alice", "right-password", PAM_SUCCESS);
    assert!(!e.tally().join("alice").exists());
    e.auth("kw", "alice", "wrong-1", PAM_AUTH_ERR);
    e.auth("kw", "alice", "wrong-2", PAM_AUTH_ERR);
    e.auth("kw", "alice", "right-password", PAM_SUCCESS);
    // …three in a row lock the account: the right password fails like a wrong one.
    for i in 0..3 {
        e.auth("kw", "alice", &format!("wrong-{i}"), PAM_AUTH_ERR);
    }
    let o = e.auth("kw", "alice", "right-password", PAM_AUTH_ERR);
    assert!(o.log.contains("account locked after"), "{}", o.log);
    let tally = std::fs::metadata(e.tally()).unwrap();
    assert_eq!(tally.permissions().mode() & 0o777, 0o700);
    // The lock lasts unlock_time seconds after the last failure.
    std::thread::sleep(std::time::Duration::from_millis(3100));
    e.auth("kw", "alice", "right-password", PAM_SUCCESS);
}

#[test]
fn insecure_database_is_refused() {
    let e = Env::new();
    e.user("alice", b"pw-alice");
    e.service("kw", BASIC);
    std::fs::set_permissions(e.db(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = e.auth("kw", "alice", "pw-alice", PAM_AUTHINFO_UNAVAIL);
    assert!(
        o.log.contains("refusing insecure password database"),
        "{}",
        o.log
    );
    std::fs::set_permissions(e.db(), std::fs::Permissions::from_mode(0o620)).unwrap();
    e.auth("kw", "alice", "pw-alice", PAM_AUTHINFO_UNAVAIL);
    std::fs::set_permissions(e.db(), std::fs::Permissions::from_mode(0o600)).unwrap();
    e.auth("kw", "alice", "pw-alice", PAM_SUCCESS);
    // Not owned by root.
    std::os::unix::fs::chown(e.db(), Some(65534), None).unwrap();
    let o = e.auth("kw", "alice", "pw-alice", PAM_AUTHINFO_UNAVAIL);
    assert!(o.log.contains("owned by uid 65534"), "{}", o.log);
    std::os::unix::fs::chown(e.db(), Some(0), None).unwrap();
    // A symlink to a good database is refused too.
    let link = e.dir.path().join("link");
    std::os::unix::fs::symlink(e.db(), &link).unwrap();
    e.service(
        "kw-link",
        &format!("auth required {{so}} db={} nodelay\n", link.display()),
    );
    let o = e.auth("kw-link", "alice", "pw-alice", PAM_AUTHINFO_UNAVAIL);
    assert!(o.log.contains("symbolic link"), "{}", o.log);
    // A missing database is unavailable, not an unknown user.
    e.service(
        "kw-none",
        "auth required {so} db=/nonexistent/shadow nodelay\n",
    );
    e.auth("kw-none", "alice", "pw-alice", PAM_AUTHINFO_UNAVAIL);
}

#[test]
fn unparsable_line_is_skipped_and_logged_without_its_content() {
    let e = Env::new();
    e.user("alice", b"pw-alice");
    let mut text = std::fs::read_to_string(e.db()).unwrap();
    text = format!("# comment\nbroken-line-SENTINEL\nbob:$scrypt$ln=6,r=8,p=1$bad\n{text}");
    std::fs::write(e.db(), text).unwrap();
    e.service("kw", BASIC);
    let o = e.auth("kw", "alice", "pw-alice", PAM_SUCCESS);
    assert!(
        o.log.contains(":2: line skipped: no `:` separator"),
        "{}",
        o.log
    );
    assert!(o.log.contains(":3: line skipped"), "{}", o.log);
    assert!(!o.log.contains("SENTINEL"), "{}", o.log);
    e.auth("kw", "bob", "anything", PAM_AUTH_ERR);
}

#[test]
fn unknown_arguments_are_logged_and_ignored() {
    let e = Env::new();
    e.user("alice", b"pw-alice");
    e.service("kw", "auth required {so} db={db} nodelay frobnicate\n");
    let o = e.auth("kw", "alice", "pw-alice", PAM_SUCCESS);
    assert!(
        o.log.contains("ignoring unknown option \"frobnicate\""),
        "{}",
        o.log
    );
}

#[test]
fn pamtester_authenticates_through_the_conversation() {
    let e = Env::new();
    assert!(
        keyward_tests::have("pamtester"),
        "pamtester missing: install it"
    );
    e.user("alice", b"pamtester-secret");
    e.service("kw", BASIC);
    for (pw, ok) in [("pamtester-secret", true), ("wrong-secret", false)] {
        let _serial = serial();
        let mut c = e.wrapped("pamtester");
        let mut child = c
            .args(["-v", "kw", "alice", "authenticate", "acct_mgmt"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{pw}").unwrap();
        let out = child.wait_with_output().unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.success(), ok, "{all}");
        assert_no_secret(&all, &[pw]);
        if ok {
            assert!(all.contains("successfully authenticated"), "{all}");
        } else {
            assert!(all.contains("Authentication failure"), "{all}");
        }
    }
}

/// Review finding: a user name that is not UTF-8 got PAM_SYSTEM_ERR at once
/// instead of what an unknown user gets (PAM_AUTH_ERR after the scrypt work).
#[test]
fn a_user_name_that_is_not_utf8_is_an_unknown_user() {
    use std::os::unix::ffi::OsStrExt;
    let e = Env::new();
    assert!(
        keyward_tests::have("pamtester"),
        "pamtester missing: install it"
    );
    e.user("alice", b"pw-alice");
    e.service("kw", BASIC);
    let run = |user: &std::ffi::OsStr| {
        let _serial = serial();
        let mut child = e
            .wrapped("pamtester")
            .arg("-v")
            .arg("kw")
            .arg(user)
            .arg("authenticate")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "pw-alice").unwrap();
        let out = child.wait_with_output().unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let bad = run(std::ffi::OsStr::from_bytes(b"al\xffice"));
    let unknown = run(std::ffi::OsStr::new("mallory"));
    assert!(bad.contains("Authentication failure"), "{bad}");
    assert!(unknown.contains("Authentication failure"), "{unknown}");
    assert!(bad.contains("user unknown"), "{bad}");
}

#[test]
fn su_end_to_end_through_expect() {
    let e = Env::new();
    assert!(keyward_tests::have("expect"), "expect missing: install it");
    assert!(keyward_tests::have("su"), "su missing");
    e.user("nobody", b"su-secret-pw");
    // `su -l` uses the su-l service and clears the environment, so the shell
    // it starts does not load pam_wrapper.
    let stack = "auth required {so} db={db} nodelay\n\
                 account required {so} db={db}\n\
                 session required pam_permit.so\n\
                 password required pam_deny.so\n";
    e.service("su-l", stack);
    let script = e.dir.path().join("su.exp");
    for (pw, want) in [("su-secret-pw", true), ("wrong-su-pw", false)] {
        std::fs::write(
            &script,
            format!(
                "set timeout 30\n\
                 spawn su -l -s /bin/sh -c \"echo SU-OK-\\$(id -un)\" nobody\n\
                 expect \"assword:\"\n\
                 send \"{pw}\\r\"\n\
                 expect eof\n\
                 catch wait result\n\
                 exit [lindex $result 3]\n"
            ),
        )
        .unwrap();
        let _serial = serial();
        let out = e
            .wrapped("expect")
            .arg(&script)
            .env("PAM_WRAPPER_DEBUGLEVEL", "2")
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.success(), want, "{all}");
        assert_eq!(all.contains("SU-OK-nobody"), want, "{all}");
        if !want {
            assert!(all.contains("Authentication failure"), "{all}");
        }
        // The pty echoes nothing back (echo off); the log has no password.
        assert_no_secret(&all, &[pw]);
    }
}

#[test]
fn module_links_libpam_dynamically() {
    let so = keyward_tests::bin("libpam_keyward.so");
    let out = Command::new("readelf")
        .arg("-d")
        .arg(&so)
        .output()
        .expect("readelf (binutils)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Shared library: [libpam.so.0]"), "{text}");
    let syms = Command::new("readelf")
        .args(["--dyn-syms", "-W"])
        .arg(&so)
        .output()
        .unwrap();
    let syms = String::from_utf8_lossy(&syms.stdout);
    for f in [
        "pam_sm_authenticate",
        "pam_sm_setcred",
        "pam_sm_acct_mgmt",
        "pam_sm_chauthtok",
    ] {
        assert!(
            syms.lines()
                .any(|l| l.contains("FUNC") && l.contains("GLOBAL") && l.ends_with(f)),
            "{f} not exported"
        );
    }
    // libpam's own functions are imported, not linked in from libpam.a.
    assert!(
        syms.lines()
            .any(|l| l.contains(" UND ") && l.contains(" pam_get_authtok@LIBPAM_EXTENSION")),
        "pam_get_authtok should come from libpam.so.0"
    );
}

#[test]
fn host_process_state_is_unchanged() {
    let e = Env::new();
    e.user("alice", b"pw-alice");
    e.service(
        "kw",
        "auth required {so} db={db} nodelay deny=3 tally_dir={tally}\n\
         account required {so} db={db}\npassword required {so} db={db}\n",
    );
    // Dumpable flag, every rlimit and the signal dispositions, before and after.
    let o = e.pam(
        "kw",
        "alice",
        &[
            ("auth", PAM_AUTH_ERR, 0),
            ("auth", PAM_SUCCESS, 0),
            ("account", PAM_SUCCESS, 0),
            ("chauthtok", PAM_SUCCESS, 0),
        ],
        &["wrong-pw", "pw-alice", "new-pw-alice", "new-pw-alice"],
        &[],
    );
    assert!(o.ok, "{o:?}");
    assert!(!o.state_changed, "{o:?}");
}

#[test]
fn login_works_when_memory_cannot_be_locked() {
    let e = Env::new();
    assert!(
        keyward_tests::have("setpriv") && keyward_tests::have("prlimit"),
        "util-linux tools missing"
    );
    e.user("alice", b"pw-alice");
    e.service("kw", BASIC);
    // No CAP_IPC_LOCK and RLIMIT_MEMLOCK=0: mlock fails with EPERM.
    let prefix = [
        "setpriv",
        "--bounding-set",
        "-ipc_lock",
        "prlimit",
        "--memlock=0:0",
    ];
    let o = e.pam_via(
        &prefix,
        "kw",
        "alice",
        &[("auth", PAM_SUCCESS, 0)],
        &["pw-alice"],
        &[],
    );
    assert!(o.ok, "{o:?}");
    assert_eq!(
        o.log.matches("cannot lock memory").count(),
        1,
        "one warning through pam_syslog: {}",
        o.log
    );
    assert!(o.log.contains("backend unlocked"), "{}", o.log);
    let o = e.pam_via(
        &prefix,
        "kw",
        "alice",
        &[("auth", PAM_AUTH_ERR, 0)],
        &["wrong-pw"],
        &[],
    );
    assert!(o.ok, "{o:?}");
}

/// The PAM host's environment belongs to the user who started it (`su`,
/// `sudo`): `KEYWARD_SECMEM_BACKEND` never chooses how the module keeps a
/// password, setuid or not.
#[test]
fn the_module_ignores_the_backend_override() {
    let e = Env::new();
    e.user("alice", b"pw-alice");
    e.service("kw", BASIC);
    let o = e.pam(
        "kw",
        "alice",
        &[("auth", PAM_SUCCESS, 0)],
        &["pw-alice"],
        &[("KEYWARD_SECMEM_BACKEND", "mlock")],
    );
    assert!(o.ok, "{o:?}");
    assert!(
        o.log.contains("backend memfd_secret"),
        "the module followed the user's KEYWARD_SECMEM_BACKEND: {}",
        o.log
    );
}

/// The failure line is pam_unix's, field for field (`logname= uid= euid= tty=
/// ruser= rhost=  user=`), so fail2ban's stock pam-generic filter, pointed at
/// the module (`filter = pam-generic[__pam_auth=pam_keyward]` in a jail),
/// bans the address: checked with `fail2ban-regex` (Debian fail2ban) on the
/// line the module logged, with the prefix pam_syslog gives it in syslog.
#[test]
fn failures_are_logged_as_pam_unix_does_and_fail2ban_matches_them() {
    let e = Env::new();
    assert!(
        keyward_tests::have("fail2ban-regex"),
        "fail2ban-regex missing: install fail2ban"
    );
    e.user("alice", b"pw-alice");
    e.service(
        "sshd",
        "auth required {set_items}\nauth required {so} db={db} nodelay\n",
    );
    let env = [("PAM_RHOST", "192.0.2.7"), ("PAM_TTY", "ssh")];
    let mut lines = Vec::new();
    for user in ["alice", "mallory"] {
        let o = e.pam("sshd", user, &[("auth", PAM_AUTH_ERR, 0)], &["wrong"], &env);
        assert!(o.ok, "{o:?}");
        let msg = o
            .log
            .lines()
            .find_map(|l| {
                l.split_once("): ")
                    .map(|(_, m)| m)
                    .filter(|m| m.starts_with("authentication failure;"))
            })
            .unwrap_or_else(|| panic!("no failure line: {}", o.log))
            .to_string();
        let uid = nix::unistd::getuid().as_raw();
        let euid = nix::unistd::geteuid().as_raw();
        assert_eq!(
            msg,
            format!("authentication failure; logname= uid={uid} euid={euid} tty=ssh ruser= rhost=192.0.2.7  user={user}"),
        );
        lines.push(format!(
            "Dec  1 03:20:01 host sshd[1234]: pam_keyward(sshd:auth): {msg}\n"
        ));
    }
    let log = e.dir.path().join("auth.log");
    std::fs::write(&log, lines.concat()).unwrap();
    let out = Command::new("fail2ban-regex")
        .arg(&log)
        .arg("pam-generic[__pam_auth=\"pam_keyward\"]")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("Lines: 2 lines, 0 ignored, 2 matched, 0 missed"),
        "{text}"
    );
}
