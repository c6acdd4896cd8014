//! Login unlock (`unlock`) through the real libpam under pam_wrapper: a real
//! user made for the test (useradd, removed after), a real vault in their
//! home made by `keyward init`, pam_keyinit first in the session stack, and
//! the helpers run as that user inside the session pypamtest opened
//! (`tests/login.py` runs PAM transactions and commands in one process, so
//! the commands inherit the session keyring as a login shell would). Every
//! run checks that no password reaches the PAM log (pam_syslog output, shown
//! by `PAM_WRAPPER_DEBUGLEVEL`).
//!
//! Needs root (useradd, setuid, a root-owned password database); skips with
//! the reason otherwise.

mod common;

use common::{User, CRED_REQUEST};
use keyward_passdb::{self as passdb, Hash, KdfParams};
use serde_json::{json, Value};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// pam_wrapper copies service files into `/tmp/pam.X` directories with
/// one-character names; processes of this binary take turns.
static PAM_WRAPPER_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    PAM_WRAPPER_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

const WRAPPER: &str = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so";
const PAM_SUCCESS: i64 = 0;
const PAM_AUTH_ERR: i64 = 7;
const PAM_CHANGE_EXPIRED_AUTHTOK: i64 = 0x20;

const FAST: KdfParams = KdfParams {
    log_n: 6,
    r: 8,
    p: 1,
};

const TOKEN: &str = "tok-3f9a1c77e2";

/// Fails unless the test can run: root, pam_wrapper and the tools it drives.
fn require_root_and_tools() {
    keyward_tests::require_root("useradd, setuid, a root-owned password database");
    assert!(Path::new(WRAPPER).exists(), "install libpam-wrapper");
    for t in ["useradd", "userdel", "setpriv", "keyctl"] {
        assert!(
            keyward_tests::have(t),
            "{t} missing (see scripts/test PKGS)"
        );
    }
}

impl User {
    /// `git-credential-keyward get` for forge.example, in the caller's keyring context.
    fn get_argv(&self) -> Vec<String> {
        let helper = keyward_tests::bin_for_others("git-credential-keyward");
        self.argv(&[helper.to_str().unwrap(), "get"])
    }
}

struct Env {
    dir: tempfile::TempDir,
    /// The module and its helper, for the stack lines.
    so: String,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::Builder::new()
            .prefix("keyward-login-")
            .tempdir()
            .unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::create_dir(dir.path().join("svc")).unwrap();
        Env {
            dir,
            so: common::module(),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("shadow")
    }

    fn sessions(&self) -> PathBuf {
        self.dir.path().join("sessions")
    }

    fn login_password(&self, user: &str, password: &str) {
        passdb::update(&self.db(), &[0], |db| {
            db.set(user, Hash::new(password.as_bytes(), FAST)?)
        })
        .unwrap();
    }

    fn service(&self, name: &str, body: &str) {
        let text = body
            .replace("{so}", &self.so)
            .replace("{db}", &self.db().display().to_string())
            .replace("{sessions}", &self.sessions().display().to_string());
        std::fs::write(self.dir.path().join("svc").join(name), text).unwrap();
    }

    fn wrapped(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("LD_PRELOAD", WRAPPER)
            .env("PAM_WRAPPER", "1")
            .env("PAM_WRAPPER_SERVICE_DIR", self.dir.path().join("svc"))
            .env("PAM_WRAPPER_DEBUGLEVEL", "2")
            .env_remove("PAM_AUTHTOK");
        c
    }

    /// Runs `steps` in one process; returns the results and the PAM log.
    /// Asserts that none of `secrets` is in the log.
    fn steps(&self, steps: Value, secrets: &[&str]) -> (Vec<Value>, String) {
        let _serial = serial();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/login.py");
        let mut child = self
            .wrapped("/usr/bin/python3")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(json!({ "steps": steps }).to_string().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let v: Vec<Value> = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("login.py said {stdout:?} ({e}); log: {log}"));
        for s in secrets {
            assert!(!log.contains(s), "a password reached the log: {log}");
        }
        (v, log)
    }
}

fn pam(service: &str, user: &User, ops: &[(&str, i64, i64)], passwords: &[&str]) -> Value {
    json!({"pam": {"service": service, "user": user.name, "ops": ops, "passwords": passwords}})
}

/// A login whose authentication and session opening both succeed.
fn pam_login(service: &str, user: &User, password: &str) -> Value {
    pam(
        service,
        user,
        &[("auth", PAM_SUCCESS, 0), ("open_session", PAM_SUCCESS, 0)],
        &[password],
    )
}

fn run(argv: Vec<String>, stdin: &str) -> Value {
    json!({"run": argv, "stdin": stdin})
}

fn assert_pam_ok(v: &Value, log: &str) {
    assert_eq!(v["ok"], true, "{v}\n log: {log}");
}

/// The stack of a login that authenticates with pam_keyward's own database.
const LOGIN: &str = "auth required {so} db={db} nodelay\n\
                     auth optional {so} unlock debug\n\
                     account required {so} db={db}\n\
                     session optional pam_keyinit.so force revoke\n\
                     session optional {so} unlock timeout=10m debug\n\
                     password required {so} db={db}\n\
                     password optional {so} unlock\n";

/// Issue 13.4: the system configuration's ceiling holds at login whatever
/// the user's vault header asks for: refused before scrypt, with a log line.
#[test]
fn login_unlock_refuses_a_vault_above_the_system_ceiling() {
    require_root_and_tools();
    let e = Env::new();
    let u = User::new("kwl");
    u.make_vault("same-as-login-pw", TOKEN); // log_n=10 r=8: 1 MiB of scrypt memory
    e.login_password(&u.name, "same-as-login-pw");
    // The module's `config=` (the system file), readable by the user's child.
    let etc = tempfile::Builder::new()
        .prefix("keyward-etc-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(etc.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let sys = etc.path().join("keyward.toml");
    e.service(
        "login",
        &LOGIN.replace(
            "unlock timeout=10m debug",
            &format!("unlock timeout=10m debug config={}", sys.display()),
        ),
    );
    for (ceiling, unlocks) in [(0, false), (1, true)] {
        std::fs::write(&sys, format!("[kdf_limits]\nmax_memory_mib = {ceiling}\n")).unwrap();
        std::fs::set_permissions(&sys, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (r, log) = e.steps(
            json!([
                pam_login("login", &u, "same-as-login-pw"),
                run(u.get_argv(), CRED_REQUEST),
            ]),
            &["same-as-login-pw", TOKEN],
        );
        assert_pam_ok(&r[0], &log);
        let refused = format!(
            "login unlock: user={}: refusing to derive the key of {} here: scrypt log_n=10 r=8 p=1 needs 1 MiB of memory, above the ceiling of 0 MiB ([kdf_limits] max_memory_mib)",
            u.name,
            u.vault().display()
        );
        if unlocks {
            assert_eq!(r[1]["rc"], 0, "{r:?}\n{log}");
            assert!(!log.contains("refusing to derive"), "{log}");
        } else {
            assert!(locked(&r[1]), "{r:?}");
            assert!(log.contains(&refused), "{log}");
        }
    }
}

#[test]
fn login_unlocks_the_vault_for_the_users_helpers() {
    require_root_and_tools();
    let e = Env::new();
    let u = User::new("kwl");
    u.make_vault("same-as-login-pw", TOKEN);
    e.login_password(&u.name, "same-as-login-pw");
    e.service("login", LOGIN);
    // Before: locked, the helper fails at once without a terminal.
    let (r, log) = e.steps(
        json!([
            run(u.get_argv(), CRED_REQUEST),
            pam_login("login", &u, "same-as-login-pw"),
            run(u.get_argv(), CRED_REQUEST),
            run(u.argv(&["cat", "/proc/keys"]), ""),
        ]),
        &["same-as-login-pw", TOKEN],
    );
    assert_ne!(r[0]["rc"], 0, "{r:?}");
    assert!(
        r[0]["stderr"].as_str().unwrap().contains("vault is locked"),
        "{r:?}"
    );
    assert_pam_ok(&r[1], &log);
    assert!(
        log.contains(&format!(
            "login unlock: user={}: unlocked {} for 10m 00s",
            u.name,
            u.vault().display()
        )),
        "{log}"
    );
    // The password was held (locked) from auth to session only.
    assert!(
        log.contains("pam_sm_authenticate returns PAM_IGNORE; secure memory: 1 live secrets"),
        "{log}"
    );
    assert!(
        log.contains(
            "pam_sm_open_session returns PAM_SUCCESS; secure memory: 0 live secrets, 0 bytes mapped"
        ),
        "{log}"
    );
    // After: the helper answers at once, without any prompt.
    assert_eq!(r[2]["rc"], 0, "{r:?}");
    assert_eq!(
        r[2]["stdout"].as_str().unwrap(),
        format!("username=dev\npassword={TOKEN}\n")
    );
    // The key: the user's, possessor-only, with a kernel timeout.
    let keys = r[3]["stdout"].as_str().unwrap();
    let line = keys
        .lines()
        .find(|l| l.contains("keyward:vault:"))
        .unwrap_or_else(|| panic!("no keyward key in /proc/keys: {keys}"));
    let f: Vec<&str> = line.split_whitespace().collect();
    // ID FLAGS USAGE TIMEOUT PERM UID GID TYPE DESCRIPTION
    assert_ne!(f[3], "perm", "the key must expire: {line}");
    assert!(
        f[3].ends_with('m') && f[3].trim_end_matches('m').parse::<u32>().unwrap() <= 10,
        "{line}"
    );
    assert_eq!(f[4], "3f000000", "possessor-only: {line}");
    assert_eq!(f[5], u.uid.to_string(), "owned by the user: {line}");
    assert_eq!(f[7], "user");
    // The audit trail: the login's unlock, sealed, by the PAM host (this
    // test's Python process), then the helper's get.
    let trail = audit(&u.vault(), &["same-as-login-pw", TOKEN]);
    let at = trail
        .iter()
        .position(|(e, _)| e["action"] == "unlock" && e["client"]["uid"] == 0);
    assert!(
        at.is_some_and(|i| trail[i + 1..].iter().any(|(e, _)| e["action"] == "get")),
        "{trail:?}"
    );
    let (unlock, sealed) = &trail[at.unwrap()];
    assert!(sealed, "{unlock}");
    assert!(
        unlock["client"]["program"]
            .as_str()
            .is_some_and(|p| p.starts_with("python")),
        "the PAM host is the client: {unlock}"
    );
    assert_eq!(unlock["client"]["uid"], 0, "{unlock}");
}

/// The vault's audit trail: each entry's JSON and whether it is sealed (a
/// MAC, not `-`). The file belongs to the user; root reads it here.
fn audit(vault: &Path, secrets: &[&str]) -> Vec<(Value, bool)> {
    let mut p = vault.as_os_str().to_owned();
    p.push(".audit");
    let text = std::fs::read_to_string(&p).unwrap_or_default();
    for s in secrets {
        assert!(!text.contains(s), "a secret in the audit trail: {text}");
    }
    text.lines()
        .map(|l| {
            let (json, mac) = l.split_once('\t').expect("JSON TAB MAC");
            (serde_json::from_str(json).unwrap(), mac != "-")
        })
        .collect()
}

/// The entries of `action` the PAM host made (root's process: the test's
/// own commands run as the user).
fn entries<'a>(trail: &'a [(Value, bool)], action: &str) -> Vec<&'a (Value, bool)> {
    trail
        .iter()
        .filter(|(e, _)| e["action"] == action && e["client"]["uid"] == 0)
        .collect()
}

fn locked(r: &Value) -> bool {
    r["rc"] != 0
        && r["stderr"]
            .as_str()
            .unwrap_or("")
            .contains("vault is locked")
}

fn unlock_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("login unlock:"))
        .collect()
}

#[test]
fn wrong_or_different_password_leaves_the_vault_locked() {
    require_root_and_tools();
    let e = Env::new();
    let u = User::new("kwl");
    u.make_vault("vault-only-pw", TOKEN);
    e.login_password(&u.name, "the-login-pw");
    e.service("login", LOGIN);
    let (r, log) = e.steps(
        json!([
            // A wrong login password: no session, no key.
            pam(
                "login",
                &u,
                &[("auth", PAM_AUTH_ERR, 0)],
                &["vault-only-pw"]
            ),
            run(u.get_argv(), CRED_REQUEST),
            // The right login password, but the vault has another: the login
            // goes on, the vault stays locked.
            pam_login("login", &u, "the-login-pw"),
            run(u.get_argv(), CRED_REQUEST),
        ]),
        &["vault-only-pw", "the-login-pw", TOKEN],
    );
    assert_pam_ok(&r[0], &log);
    assert!(locked(&r[1]), "{r:?}");
    assert_pam_ok(&r[2], &log);
    assert!(locked(&r[3]), "{r:?}");
    let lines = unlock_lines(&log);
    assert_eq!(lines.len(), 1, "{log}");
    assert!(
        lines[0].ends_with(&format!(
            "login unlock: user={}: the password of {} is not the login password; vault left as it was",
            u.name,
            u.vault().display()
        )),
        "{log}"
    );
    // The login whose password does not open the vault is a failed unlock
    // in the audit trail (unsealed: nobody had the key); the failed
    // authentication never reached the vault.
    let trail = audit(&u.vault(), &["vault-only-pw", "the-login-pw", TOKEN]);
    let failed = entries(&trail, "unlock-failed");
    assert_eq!(failed.len(), 1, "{trail:?}");
    assert!(!failed[0].1, "{trail:?}");
    assert!(entries(&trail, "unlock").is_empty(), "{trail:?}");
}

/// A session stack whose result tells PAM_IGNORE from anything else:
/// ignore skips pam_deny; any other code goes on to it.
const IGNORE_PROBE: &str = "auth required {so} db={db} nodelay\n\
                            {stash}\
                            session [ignore=1 default=ok] {so} unlock\n\
                            session requisite pam_deny.so\n\
                            session required pam_permit.so\n";
/// What pam_deny returns from a session.
const PAM_SESSION_ERR: i64 = 14;

#[test]
fn no_stash_is_ignored_with_one_log_line() {
    require_root_and_tools();
    let e = Env::new();
    let u = User::new("kwl");
    u.make_vault("pw-for-both", TOKEN);
    e.login_password(&u.name, "pw-for-both");
    e.service("nostash", &IGNORE_PROBE.replace("{stash}", ""));
    e.service(
        "stash",
        &IGNORE_PROBE.replace("{stash}", "auth optional {so} unlock\n"),
    );
    let (r, log) = e.steps(
        json!([
            // A session with no authentication in this PAM context (SSH
            // keys, auto-login, a separate context): PAM_IGNORE.
            pam("nostash", &u, &[("open_session", PAM_SUCCESS, 0)], &[]),
            // A password login whose stack has no `auth … unlock`: the same.
            pam_login("nostash", &u, "pw-for-both"),
            run(u.get_argv(), CRED_REQUEST),
            // The probe tells success apart: with the stash, the module
            // unlocks and returns PAM_SUCCESS, which reaches pam_deny.
            pam(
                "stash",
                &u,
                &[
                    ("auth", PAM_SUCCESS, 0),
                    ("open_session", PAM_SESSION_ERR, 0)
                ],
                &["pw-for-both"]
            ),
            run(u.get_argv(), CRED_REQUEST),
        ]),
        &["pw-for-both", TOKEN],
    );
    for i in [0, 1, 3] {
        assert_pam_ok(&r[i], &log);
    }
    assert!(locked(&r[2]), "{r:?}");
    assert_eq!(r[4]["rc"], 0, "{r:?}");
    let lines = unlock_lines(&log);
    let no_stash = format!("login unlock: user={}: no password from this login", u.name);
    assert_eq!(lines.len(), 3, "{log}");
    assert!(lines[0].contains(&no_stash), "{log}");
    assert!(lines[1].contains(&no_stash), "{log}");
    assert!(lines[2].contains("unlocked"), "{log}");
}

#[test]
fn password_change_rewraps_the_vault() {
    require_root_and_tools();
    let e = Env::new();
    let u = User::new("kwl");
    u.make_vault("first-login-pw", TOKEN);
    e.login_password(&u.name, "first-login-pw");
    e.service("login", LOGIN);
    let kw = keyward_tests::bin_for_others("keyward");
    let kw = kw.to_str().unwrap();
    let (r, log) = e.steps(
        json!([
            // The user changes the password (old one asked, as for an
            // expired password even when root runs it).
            pam(
                "login",
                &u,
                &[("chauthtok", PAM_SUCCESS, PAM_CHANGE_EXPIRED_AUTHTOK)],
                &["first-login-pw", "second-login-pw", "second-login-pw"]
            ),
            // Root sets a password (`passwd USER`): no old password, the
            // vault is left alone and the user is told.
            pam(
                "login",
                &u,
                &[("chauthtok", PAM_SUCCESS, 0)],
                &["third-login-pw", "third-login-pw"]
            ),
        ]),
        &["first-login-pw", "second-login-pw", "third-login-pw"],
    );
    assert_pam_ok(&r[0], &log);
    assert!(
        r[0]["info"]
            .to_string()
            .contains("your vault now opens with the new password"),
        "{r:?}"
    );
    assert!(
        log.contains(&format!(
            "login unlock: user={}: rekeyed {} under the new login password",
            u.name,
            u.vault().display()
        )),
        "{log}"
    );
    assert_pam_ok(&r[1], &log);
    assert!(
        r[1]["info"]
            .to_string()
            .contains("still opens with the old password; change it with `keyward passwd`"),
        "{r:?}"
    );
    // The new password opens the vault, the old one does not, the records are intact.
    let out = u.run(&[kw, "unlock", "--password-fd", "0"], "first-login-pw\n");
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong vault password"));
    let out = u.run(
        &[kw, "list", "--json", "--password-fd", "0"],
        "second-login-pw\n",
    );
    assert!(out.status.success(), "{out:?}");
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["host"], "forge.example");
    // The password change is a rekey in the audit trail (a new vault key:
    // the entry is the first sealed with it), and the chain verifies with
    // the new password; the old password tried above is a failed unlock.
    let trail = audit(
        &u.vault(),
        &["first-login-pw", "second-login-pw", "third-login-pw", TOKEN],
    );
    let rekey = entries(&trail, "rekey");
    assert_eq!(rekey.len(), 1, "{trail:?}");
    assert!(rekey[0].1, "{trail:?}");
    assert!(
        trail.iter().any(|(e, _)| e["action"] == "unlock-failed"),
        "{trail:?}"
    );
    let out = u.run(
        &[
            "/bin/sh",
            "-c",
            "\"$0\" unlock --password-fd 0 --timeout 1m >/dev/null && \"$0\" log --verify",
            kw,
        ],
        "second-login-pw\n",
    );
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("chain intact, MACs verified"),
        "{out:?}"
    );
    // And logging in with the second password unlocks it for the helper.
    e.login_password(&u.name, "second-login-pw");
    let (r, log) = e.steps(
        json!([
            pam_login("login", &u, "second-login-pw"),
            run(u.get_argv(), CRED_REQUEST),
        ]),
        &["second-login-pw", TOKEN],
    );
    assert_pam_ok(&r[0], &log);
    assert_eq!(
        r[1]["stdout"].as_str().unwrap(),
        format!("username=dev\npassword={TOKEN}\n"),
        "{r:?}"
    );
}

#[test]
fn unsafe_vault_paths_are_refused() {
    require_root_and_tools();
    let e = Env::new();
    let u = User::new("kwl");
    u.make_vault("pw-unsafe", TOKEN);
    e.login_password(&u.name, "pw-unsafe");
    e.service("login", LOGIN);
    let login = |what: &str| {
        let (r, log) = e.steps(
            json!([
                pam_login("login", &u, "pw-unsafe"),
                run(u.get_argv(), CRED_REQUEST),
            ]),
            &["pw-unsafe", TOKEN],
        );
        assert_pam_ok(&r[0], &log);
        let lines = unlock_lines(&log);
        assert_eq!(lines.len(), 1, "{what}: {log}");
        assert!(lines[0].contains("refusing"), "{what}: {log}");
        assert!(!lines[0].contains("unlocked"), "{what}: {log}");
        lines[0].to_owned()
    };
    let chown = |p: &Path| std::os::unix::fs::lchown(p, Some(u.uid), Some(u.gid)).unwrap();
    let vault = u.vault();
    let dir = vault.parent().unwrap().to_path_buf();
    // 1. The vault file is a symlink (to the user's own real vault).
    let real = u.home.join("real-vault");
    std::fs::rename(&vault, &real).unwrap();
    std::os::unix::fs::symlink(&real, &vault).unwrap();
    chown(&vault);
    assert!(login("file symlink").contains("symlink"));
    std::fs::remove_file(&vault).unwrap();
    // 2. A symlink to a root-only file: never opened as root, refused as the user.
    std::os::unix::fs::symlink("/etc/shadow", &vault).unwrap();
    chown(&vault);
    assert!(login("symlink to /etc/shadow").contains("symlink"));
    std::fs::remove_file(&vault).unwrap();
    std::fs::rename(&real, &vault).unwrap();
    // 3. The vault's directory is a symlink.
    let real_dir = u.home.join("real-dir");
    std::fs::rename(&dir, &real_dir).unwrap();
    std::os::unix::fs::symlink(&real_dir, &dir).unwrap();
    chown(&dir);
    assert!(login("directory symlink").contains("symlink"));
    std::fs::remove_file(&dir).unwrap();
    std::fs::rename(&real_dir, &dir).unwrap();
    // 4. Loose permissions.
    std::fs::set_permissions(&vault, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(login("mode 644").contains("group/world accessible"));
    std::fs::set_permissions(&vault, std::fs::Permissions::from_mode(0o600)).unwrap();
    // 5. A FIFO in the vault's place: refused at once, not waited on (an
    // open(2) without O_NONBLOCK would block until the child's timeout).
    let real = u.home.join("real-vault");
    std::fs::rename(&vault, &real).unwrap();
    let st = Command::new("mkfifo")
        .args(["-m", "600"])
        .arg(&vault)
        .status()
        .unwrap();
    assert!(st.success());
    chown(&vault);
    assert!(login("fifo").contains("not a regular file"));
    std::fs::remove_file(&vault).unwrap();
    std::fs::rename(&real, &vault).unwrap();
    // Repaired: the same login unlocks it.
    let (r, log) = e.steps(
        json!([
            pam_login("login", &u, "pw-unsafe"),
            run(u.get_argv(), CRED_REQUEST),
        ]),
        &["pw-unsafe", TOKEN],
    );
    assert_pam_ok(&r[0], &log);
    assert_eq!(r[1]["rc"], 0, "{r:?} {log}");
}

#[test]
fn lock_on_close_locks_when_the_last_session_ends() {
    require_root_and_tools();
    let e = Env::new();
    let u = User::new("kwl");
    u.make_vault("pw-sessions", TOKEN);
    e.login_password(&u.name, "pw-sessions");
    e.service(
        "login",
        "auth required {so} db={db} nodelay\n\
         auth optional {so} unlock\n\
         session optional pam_keyinit.so force revoke\n\
         session optional {so} unlock lock_on_close session_dir={sessions}\n",
    );
    let open = || {
        pam(
            "login",
            &u,
            &[("auth", PAM_SUCCESS, 0), ("open_session", PAM_SUCCESS, 0)],
            &["pw-sessions"],
        )
    };
    let close = || pam("login", &u, &[("close_session", PAM_SUCCESS, 0)], &[]);
    let (r, log) = e.steps(
        json!([
            open(),
            open(),
            close(),
            run(u.get_argv(), CRED_REQUEST),
            close(),
            run(u.get_argv(), CRED_REQUEST),
        ]),
        &["pw-sessions", TOKEN],
    );
    for i in [0, 1, 2, 4] {
        assert_pam_ok(&r[i], &log);
    }
    assert_eq!(r[3]["rc"], 0, "one session still open: {r:?}");
    assert!(locked(&r[5]), "the last session closed: {r:?}");
    assert!(
        log.contains(&format!(
            "login unlock: user={}: last session closed: locked {}",
            u.name,
            u.vault().display()
        )),
        "{log}"
    );
    let count = std::fs::read_to_string(e.sessions().join(u.uid.to_string())).unwrap();
    assert_eq!(count.trim(), "0");
    // Two unlocks, then one lock when the last session closed, sealed
    // (written before the key went).
    let trail = audit(&u.vault(), &["pw-sessions", TOKEN]);
    assert_eq!(entries(&trail, "unlock").len(), 2, "{trail:?}");
    let lock = entries(&trail, "lock");
    assert_eq!(lock.len(), 1, "{trail:?}");
    assert!(lock[0].1, "{trail:?}");
}

/// A real login program: `su -l` driven through expect on a pty, under
/// pam_wrapper, then `git credential fill` in the user's login shell.
#[test]
fn su_login_then_git_credential_fill_without_a_prompt() {
    require_root_and_tools();
    assert!(keyward_tests::have("expect"), "expect missing: install it");
    assert!(keyward_tests::have("su"), "su missing");
    assert!(keyward_tests::have("git"), "git missing");
    let e = Env::new();
    let u = User::new("kwl");
    u.make_vault("su-login-pw", TOKEN);
    e.login_password(&u.name, "su-login-pw");
    let helper = keyward_tests::bin_for_others("git-credential-keyward");
    std::fs::write(
        u.home.join(".gitconfig"),
        format!("[credential]\n\thelper = {}\n", helper.display()),
    )
    .unwrap();
    nix::unistd::chown(
        &u.home.join(".gitconfig"),
        Some(nix::unistd::Uid::from_raw(u.uid)),
        Some(nix::unistd::Gid::from_raw(u.gid)),
    )
    .unwrap();
    // `su -l` uses the su-l service and clears the environment, so the login
    // shell does not load pam_wrapper.
    e.service(
        "su-l",
        "auth required {so} db={db} nodelay\n\
         auth optional {so} unlock\n\
         account required {so} db={db}\n\
         session optional pam_keyinit.so force revoke\n\
         session optional {so} unlock\n\
         password required pam_deny.so\n",
    );
    let script = e.dir.path().join("su.exp");
    let shell = "printf 'protocol=https\\nhost=forge.example\\n\\n' | GIT_TERMINAL_PROMPT=0 git credential fill; echo FILL-RC=\\$?";
    std::fs::write(
        &script,
        format!(
            "set timeout 30\n\
             spawn su -l -s /bin/sh -c \"{shell}\" {user}\n\
             expect \"assword:\"\n\
             send \"su-login-pw\\r\"\n\
             expect eof\n\
             catch wait result\n\
             exit [lindex $result 3]\n",
            user = u.name
        ),
    )
    .unwrap();
    let _serial = serial();
    let out = e.wrapped("expect").arg(&script).output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    assert!(all.contains("FILL-RC=0"), "{all}");
    assert!(
        all.contains(&format!("username=dev\r\npassword={TOKEN}")),
        "{all}"
    );
    assert!(!all.contains("password for vault"), "no prompt: {all}");
    assert!(
        all.contains(&format!("login unlock: user={}: unlocked", u.name)),
        "{all}"
    );
    // The pty echoed nothing back (echo off); the log has no password.
    assert!(!all.contains("su-login-pw"), "{all}");
}

/// Key hygiene in the PAM host: a login (pamtester under pam_wrapper, the
/// password typed into the conversation) that verifies the password, stashes
/// it and unlocks the user's vault, stopped by gdb at `exit_group`: no copy
/// of the vault key (nor its halves or first AES round keys) and no copy of
/// the password (nor its HMAC key blocks) anywhere in the host's dumpable
/// memory. Review finding: KDF and AES calls left them on the stack.
#[test]
fn a_login_leaves_no_key_or_password_in_the_host() {
    require_root_and_tools();
    assert!(
        keyward_tests::have("gdb"),
        "gdb missing: install the Debian package gdb"
    );
    assert!(keyward_tests::have("pamtester"), "pamtester missing");
    let e = Env::new();
    let u = User::new("kwh");
    let password = "hygiene-login-password-7c41e9";
    u.make_vault(password, TOKEN);
    e.login_password(&u.name, password);
    e.service("login", LOGIN);
    let key: [u8; 32] = {
        let pw = keyward_secmem::SecretBytes::from_slice(password.as_bytes()).unwrap();
        // A copy root owns: the vault library trusts only its caller's files.
        let copy = e.dir.path().join("vault-copy");
        std::fs::copy(u.vault(), &copy).unwrap();
        let v = keyward_vault::Vault::open_with_password(&copy, &pw).unwrap();
        v.key().expose().try_into().unwrap()
    };
    let mut needles = keyward_tests::core_scan::Needles::new();
    needles
        .vault_key("vault key", &key)
        .password("login password", password.as_bytes());
    // scrypt's block B for the vault (the host derives the vault's KEK).
    let b = keyward_tests::core_scan::vault_scrypt_block(&u.vault(), password.as_bytes());
    needles.add("scrypt's block B of the password, middle", &b[512..544]);

    // Stopped when pamtester, its session open, calls pam_close_session: the
    // frames the login ran in lie just below its stack pointer, not yet
    // overwritten by the exit path.
    let mut cmd = e.wrapped("/usr/bin/pamtester");
    cmd.args([
        "-v",
        "login",
        &u.name,
        "authenticate",
        "open_session",
        "close_session",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let (core, out) = {
        let _serial = serial();
        keyward_tests::core_scan::core_at(
            &cmd,
            format!("{password}\n").as_bytes(),
            dir.path(),
            &["break pam_close_session"],
        )
    };
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains(&format!("login unlock: user={}: unlocked", u.name)),
        "the login did not unlock the vault: {log}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let hits = needles.found_in(&core);
    assert!(
        hits.is_empty(),
        "secrets in the PAM host's memory: {hits:?}"
    );
    // Positive control: what is not secret (the service file's path, read by
    // libpam into its heap) is found by the same scan.
    let mut control = keyward_tests::core_scan::Needles::new();
    control.add("db path", e.db().display().to_string().as_bytes());
    assert!(
        !control.found_in(&core).is_empty(),
        "the scan finds nothing at all"
    );
}

/// Issue 14.7: in the PAM host, nothing of the module's runs between fork
/// and exec. A login (pamtester under pam_wrapper, traced with `strace -f`)
/// unlocks the vault; every process the host creates makes only the system
/// calls of libc's `posix_spawn` child (signal resets, descriptor moves)
/// before its `execve`, the helper is executed with an empty environment,
/// and the helper itself closes inherited descriptors and drops to the user
/// before it opens anything in the user's home.
#[test]
fn the_host_runs_no_code_between_fork_and_exec() {
    require_root_and_tools();
    assert!(
        keyward_tests::have("strace"),
        "strace missing (see scripts/test PKGS)"
    );
    assert!(keyward_tests::have("pamtester"), "pamtester missing");
    let e = Env::new();
    let u = User::new("kwf");
    let password = "fork-exec-login-pw";
    u.make_vault(password, TOKEN);
    e.login_password(&u.name, password);
    e.service("login", LOGIN);
    let trace = e.dir.path().join("strace.out");
    let mut cmd = e.wrapped("strace");
    cmd.args(["-f", "-qq", "-s", "256", "-o"])
        .arg(&trace)
        .args(["/usr/bin/pamtester", "-v", "login", &u.name])
        .args(["authenticate", "open_session", "close_session"]);
    let out = {
        let _serial = serial();
        keyward_tests::output_with_stdin(&mut cmd, format!("{password}\n").as_bytes())
    };
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains(&format!("login unlock: user={}: unlocked", u.name)),
        "the login did not unlock the vault: {log}"
    );
    let text = std::fs::read_to_string(&trace).unwrap();
    // pid -> its system calls, in order ("<... resumed>" lines continue one).
    let mut calls: std::collections::BTreeMap<u32, Vec<(String, String)>> = Default::default();
    let mut children = Vec::new();
    for line in text.lines() {
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        let rest = rest.trim_start();
        if rest.starts_with("<...") || rest.starts_with("+++") || rest.starts_with("---") {
            continue;
        }
        let Some((name, _)) = rest.split_once('(') else {
            continue;
        };
        if ["clone", "clone3", "fork", "vfork"].contains(&name) {
            if let Some(child) = rest.rsplit("= ").next().and_then(|r| r.trim().parse().ok()) {
                children.push(child);
            }
        }
        calls
            .entry(pid)
            .or_default()
            .push((name.to_owned(), rest.to_owned()));
    }
    // resumed clone lines carry the child's pid too
    for line in text.lines().filter(|l| l.contains("<... clone")) {
        if let Some(child) = line.rsplit("= ").next().and_then(|r| r.trim().parse().ok()) {
            children.push(child);
        }
    }
    children.sort_unstable();
    children.dedup();
    assert!(
        !children.is_empty(),
        "no child process in the trace:\n{text}"
    );
    const SPAWN_CHILD: &[&str] = &[
        "rt_sigprocmask",
        "rt_sigaction",
        "dup2",
        "dup3",
        "close",
        "fcntl",
        "set_robust_list",
    ];
    let mut helpers = 0;
    for child in &children {
        let Some(c) = calls.get(child) else { continue };
        let exec = c
            .iter()
            .position(|(n, _)| n == "execve")
            .unwrap_or_else(|| panic!("process {child} never executed a program: {c:?}"));
        for (name, line) in &c[..exec] {
            assert!(
                SPAWN_CHILD.contains(&name.as_str()),
                "process {child} ran {line} between fork and exec"
            );
        }
        let (_, exec_line) = &c[exec];
        if !exec_line.contains("keyward-login-helper") {
            continue;
        }
        helpers += 1;
        assert!(
            exec_line.contains("/* 0 vars */"),
            "environment passed: {exec_line}"
        );
        assert!(!exec_line.contains(password));
        let after = &c[exec..];
        let at = |what: &str| after.iter().position(|(_, l)| l.starts_with(what));
        let close = at("close_range(3,").unwrap_or_else(|| panic!("no close_range: {after:?}"));
        let setuid = at("setresuid(").unwrap_or_else(|| panic!("no setresuid: {after:?}"));
        let home = after
            .iter()
            .position(|(n, l)| n.starts_with("open") && l.contains(u.home.to_str().unwrap()))
            .unwrap_or_else(|| panic!("the helper opened nothing in the home: {after:?}"));
        assert!(close < setuid && setuid < home, "{after:?}");
    }
    // One for the session's unlock (close_session does nothing without lock_on_close).
    assert_eq!(helpers, 1, "{text}");
}

/// Issue 14.11 with a real login program: `su` (util-linux, on a pty through
/// expect, under pam_wrapper) against `deny=2`: after two wrong passwords
/// the right one is refused and su shows pam_faillock's lock message, which
/// the module gives when the caller does not ask for `PAM_SILENT`.
#[test]
fn su_tells_a_locked_out_user_so() {
    require_root_and_tools();
    assert!(keyward_tests::have("expect"), "expect missing: install it");
    assert!(keyward_tests::have("su"), "su missing");
    let e = Env::new();
    let u = User::new("kwk");
    e.login_password(&u.name, "su-lock-pw");
    let tally = e.dir.path().join("tally");
    e.service(
        "su",
        &format!(
            "auth required {{so}} db={{db}} nodelay deny=2 unlock_time=600 tally_dir={}\n\
             account required {{so}} db={{db}}\n\
             session required pam_permit.so\n\
             password required pam_deny.so\n",
            tally.display()
        ),
    );
    let script = e.dir.path().join("su-lock.exp");
    let one = |pw: &str| {
        format!(
            "spawn su -s /bin/sh -c \"printf SU%sIN -\" {user}\n\
             expect \"assword:\"\n\
             send \"{pw}\\r\"\n\
             expect eof\n\
             catch wait result\n\
             puts \"SU-RC=[lindex $result 3]\"\n",
            user = u.name
        )
    };
    std::fs::write(
        &script,
        format!(
            "set timeout 30\n{}{}{}",
            one("wrong-one"),
            one("wrong-two"),
            one("su-lock-pw")
        ),
    )
    .unwrap();
    let _serial = serial();
    let out = e.wrapped("expect").arg(&script).output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    assert!(!all.contains("SU-IN"), "su let a locked-out user in: {all}");
    assert_eq!(all.matches("SU-RC=1").count(), 3, "{all}");
    assert!(
        all.contains("The account is locked due to 2 failed logins."),
        "{all}"
    );
    assert!(all.contains("(10 minutes left to unlock)"), "{all}");
    assert!(!all.contains("su-lock-pw"), "{all}");
}
