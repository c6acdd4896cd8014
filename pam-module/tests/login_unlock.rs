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

use keyward_vault::passdb::{self, Hash, KdfParams};
use serde_json::{json, Value};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const WRAPPER: &str = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so";
const PAM_SUCCESS: i64 = 0;
const PAM_AUTH_ERR: i64 = 7;
const PAM_CHANGE_EXPIRED_AUTHTOK: i64 = 0x20;

const FAST: KdfParams = KdfParams {
    log_n: 6,
    r: 8,
    p: 1,
};

const CRED_REQUEST: &str = "protocol=https\nhost=forge.example\n\n";
const TOKEN: &str = "tok-3f9a1c77e2";

fn skip_unless_root() -> bool {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIP: login unlock tests need root (useradd, setuid, a root-owned database)");
        return true;
    }
    assert!(Path::new(WRAPPER).exists(), "install libpam-wrapper");
    for t in ["useradd", "userdel", "setpriv", "keyctl"] {
        assert!(keyward_tests::have(t), "{t} missing (see scripts/test PKGS)");
    }
    false
}

/// A throwaway system user with a home, removed (with the home) on drop.
struct User {
    name: String,
    uid: u32,
    gid: u32,
    home: PathBuf,
}

impl User {
    fn new() -> User {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "kwl{}x{}",
            std::process::id() % 100_000,
            N.fetch_add(1, Ordering::SeqCst)
        );
        let st = Command::new("useradd")
            .args(["-m", "-s", "/bin/sh", &name])
            .status()
            .unwrap();
        assert!(st.success(), "useradd {name}");
        let u = nix::unistd::User::from_name(&name).unwrap().unwrap();
        let user = User {
            name,
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
            home: u.dir,
        };
        std::fs::set_permissions(&user.home, std::fs::Permissions::from_mode(0o700)).unwrap();
        user
    }

    /// `argv` as this user (all ids dropped), with a clean environment.
    fn argv(&self, argv: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = [
            "setpriv",
            "--reuid",
            &self.uid.to_string(),
            "--regid",
            &self.gid.to_string(),
            "--init-groups",
            "env",
            "-i",
            &format!("HOME={}", self.home.display()),
            "PATH=/usr/local/bin:/usr/bin:/bin",
            "LANG=C.UTF-8",
            "GIT_TERMINAL_PROMPT=0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(argv.iter().map(|s| s.to_string()));
        v
    }

    /// `argv` as this user in a session keyring of its own linking the user
    /// keyring (what pam_keyinit gives a login), outside any PAM session.
    fn run(&self, argv: &[&str], stdin: &str) -> std::process::Output {
        let mut inner = vec![
            "keyctl",
            "session",
            "-",
            "/bin/sh",
            "-c",
            // A pipe the user owns: keyward opens /proc/self/fd/0 again.
            "keyctl link @u @s >/dev/null && cat | \"$@\"",
            "sh",
        ];
        inner.extend_from_slice(argv);
        let full = self.argv(&inner);
        let mut child = Command::new(&full[0])
            .args(&full[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn vault(&self) -> PathBuf {
        self.home.join(".local/share/keyward/vault")
    }

    /// A vault (cheap KDF) with one git credential, locked again.
    fn make_vault(&self, password: &str) {
        let cfg = self.home.join(".config/keyward");
        std::fs::create_dir_all(&cfg).unwrap();
        std::fs::write(cfg.join("config.toml"), "[kdf]\nlog_n = 10\nr = 8\np = 1\n").unwrap();
        let st = Command::new("chown")
            .args(["-R", &format!("{}:{}", self.uid, self.gid)])
            .arg(self.home.join(".config"))
            .status()
            .unwrap();
        assert!(st.success());
        let kw = keyward_tests::bin("keyward");
        let kw = kw.to_str().unwrap();
        let helper = keyward_tests::bin("git-credential-keyward");
        let pw = format!("{password}\n");
        for (args, input) in [
            (vec![kw, "init", "--password-fd", "0"], pw.as_str()),
            (vec![kw, "unlock", "--password-fd", "0", "--timeout", "60"], &pw),
            (
                vec![helper.to_str().unwrap(), "store"],
                &format!("protocol=https\nhost=forge.example\nusername=dev\npassword={TOKEN}\n\n"),
            ),
            (vec![kw, "lock"], ""),
        ] {
            let out = self.run(&args, input);
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// `git-credential-keyward get` for forge.example, in the caller's keyring context.
    fn get_argv(&self) -> Vec<String> {
        let helper = keyward_tests::bin("git-credential-keyward");
        self.argv(&[helper.to_str().unwrap(), "get"])
    }
}

impl Drop for User {
    fn drop(&mut self) {
        // Its keys go with it (the kernel drops a user's keyrings with the
        // last reference); its processes have all exited.
        let _ = Command::new("userdel")
            .args(["-r", "-f", &self.name])
            .stderr(Stdio::null())
            .status();
    }
}

struct Env {
    dir: tempfile::TempDir,
    so: PathBuf,
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
            so: keyward_tests::bin("libpam_keyward.so"),
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
            .replace("{so}", &self.so.display().to_string())
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

fn run(argv: Vec<String>, stdin: &str) -> Value {
    json!({"run": argv, "stdin": stdin})
}

fn assert_pam_ok(v: &Value, log: &str) {
    assert_eq!(v["ok"], true, "{v} / log: {log}");
}

/// The stack of a login that authenticates with pam_keyward's own database.
const LOGIN: &str = "auth required {so} db={db} nodelay\n\
                     auth optional {so} unlock\n\
                     account required {so} db={db}\n\
                     session optional pam_keyinit.so force revoke\n\
                     session optional {so} unlock timeout=10m\n\
                     password required {so} db={db}\n\
                     password optional {so} unlock\n";

#[test]
fn login_unlocks_the_vault_for_the_users_helpers() {
    if skip_unless_root() {
        return;
    }
    let e = Env::new();
    let u = User::new();
    u.make_vault("same-as-login-pw");
    e.login_password(&u.name, "same-as-login-pw");
    e.service("login", LOGIN);
    // Before: locked, the helper fails at once without a terminal.
    let (r, log) = e.steps(
        json!([
            run(u.get_argv(), CRED_REQUEST),
            pam("login", &u, &[("auth", PAM_SUCCESS, 0), ("open_session", PAM_SUCCESS, 0)], &["same-as-login-pw"]),
            run(u.get_argv(), CRED_REQUEST),
            run(u.argv(&["cat", "/proc/keys"]), ""),
        ]),
        &["same-as-login-pw", TOKEN],
    );
    assert_ne!(r[0]["rc"], 0, "{r:?}");
    assert!(r[0]["stderr"].as_str().unwrap().contains("vault is locked"), "{r:?}");
    assert_pam_ok(&r[1], &log);
    assert!(
        log.contains(&format!(
            "login unlock: user={}: unlocked {} for 10m 00s",
            u.name,
            u.vault().display()
        )),
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
    assert!(f[3].ends_with('m') && f[3].trim_end_matches('m').parse::<u32>().unwrap() <= 10, "{line}");
    assert_eq!(f[4], "3f000000", "possessor-only: {line}");
    assert_eq!(f[5], u.uid.to_string(), "owned by the user: {line}");
    assert_eq!(f[7], "user");
}

