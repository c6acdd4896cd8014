//! End to end: `keyward pam passwd` writes the database, the real libpam
//! (through pam_wrapper) loads pam_keyward.so, and pamtester logs in with it.
//! Runs as root, as scripts/test does: the module trusts only root-owned files.

use keyward_tests::{bin, have, TestHome};
use std::io::Write;
use std::process::{Command, Stdio};

const WRAPPER: &str = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so";

fn pamtester(h: &TestHome, svc: &std::path::Path, user: &str, password: &str) -> (bool, String) {
    let mut child = Command::new("pamtester")
        .args(["-v", "kw", user, "authenticate", "acct_mgmt"])
        .env("LD_PRELOAD", WRAPPER)
        .env("PAM_WRAPPER", "1")
        .env("PAM_WRAPPER_SERVICE_DIR", svc)
        .env("PAM_WRAPPER_DEBUGLEVEL", "2")
        .current_dir(h.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pamtester");
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(password), "password in output: {all}");
    (out.status.success(), all)
}

#[test]
fn keyward_pam_passwd_then_login_with_pamtester() {
    assert!(
        std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap() == 0,
        "must run as root: pam_keyward trusts only root-owned databases (scripts/test runs as root)"
    );
    assert!(have("pamtester"), "pamtester missing: install it");
    assert!(
        std::path::Path::new(WRAPPER).exists(),
        "install libpam-wrapper"
    );
    let h = TestHome::new();
    h.write_config("[kdf]\nlog_n = 12\n");
    let db = h.path().join("shadow");
    let out = h.keyward(
        &[
            "pam",
            "passwd",
            "carol",
            "--db",
            db.to_str().unwrap(),
            "--password-fd",
            "0",
        ],
        "carol's-login-pw\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svc = h.path().join("svc");
    std::fs::create_dir(&svc).unwrap();
    let so = bin("libpam_keyward.so");
    std::fs::write(
        svc.join("kw"),
        format!(
            "auth required {so} db={db} nodelay\naccount required {so} db={db}\n",
            so = so.display(),
            db = db.display()
        ),
    )
    .unwrap();
    let (ok, all) = pamtester(&h, &svc, "carol", "carol's-login-pw");
    assert!(ok, "{all}");
    assert!(all.contains("successfully authenticated"), "{all}");
    let (ok, all) = pamtester(&h, &svc, "carol", "not-carols-pw");
    assert!(!ok, "{all}");
    // Removed users can no longer log in, and `account` no longer knows them.
    let out = h.keyward(&["pam", "rm", "carol", "--db", db.to_str().unwrap()], "");
    assert!(out.status.success());
    let (ok, all) = pamtester(&h, &svc, "carol", "carol's-login-pw");
    assert!(!ok, "{all}");
}

/// Issue 14.11: `keyward pam lock|unlock|status|age|faillock` against the
/// real libpam (pamtester under pam_wrapper, `authenticate acct_mgmt`): a
/// locked password never logs in, aging answers as pam_unix does with its
/// messages, and a locked-out user is told so until `faillock --reset`.
#[test]
fn account_lock_aging_and_faillock_through_pamtester() {
    keyward_tests::require_root("pam_keyward trusts only root-owned databases");
    assert!(have("pamtester"), "pamtester missing: install it");
    let h = TestHome::new();
    h.write_config("[kdf]\nlog_n = 10\n");
    let db = h.path().join("shadow");
    let tally = h.path().join("tally");
    let dbs = db.to_str().unwrap();
    let kw = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        if args[1] == "faillock" {
            all.extend(["--dir", tally.to_str().unwrap()]);
        } else {
            all.extend(["--db", dbs]);
        }
        let out = h.keyward(&all, "");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let out = h.keyward(
        &["pam", "passwd", "dave", "--db", dbs, "--password-fd", "0"],
        "dave-login-pw\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svc = h.path().join("svc");
    std::fs::create_dir(&svc).unwrap();
    let so = bin("libpam_keyward.so");
    std::fs::write(
        svc.join("kw"),
        format!(
            "auth required {so} db={db} nodelay deny=2 unlock_time=600 tally_dir={tally}\n\
             account required {so} db={db}\n",
            so = so.display(),
            db = db.display(),
            tally = tally.display()
        ),
    )
    .unwrap();
    let login = |pw: &str| pamtester(&h, &svc, "dave", pw);

    // lock / unlock / status
    assert_eq!(
        kw(&["pam", "status", "dave"]),
        (true, "dave P never -1 -1 -1 -1\n".into())
    );
    assert!(kw(&["pam", "lock", "dave"]).0);
    assert_eq!(
        kw(&["pam", "status", "dave"]).1,
        "dave L never -1 -1 -1 -1\n"
    );
    let (ok, all) = login("dave-login-pw");
    assert!(!ok, "a locked password logged in: {all}");
    assert!(kw(&["pam", "unlock", "dave"]).0);
    let (ok, all) = login("dave-login-pw");
    assert!(ok, "{all}");

    // aging: forced change, aged password with a warning, expired account
    assert!(kw(&["pam", "age", "dave", "-d", "0"]).0);
    let (ok, all) = login("dave-login-pw");
    assert!(!ok, "{all}");
    assert!(
        all.contains(
            "You are required to change your password immediately (administrator enforced)."
        ),
        "{all}"
    );
    let today = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 86_400;
    let last = (today - 88).to_string();
    assert!(kw(&["pam", "age", "dave", "-d", &last, "-M", "90", "-W", "7"]).0);
    let (ok, all) = login("dave-login-pw");
    assert!(ok, "{all}");
    assert!(
        all.contains("Warning: your password will expire in 2 days."),
        "{all}"
    );
    assert!(kw(&["pam", "age", "dave", "-M", "-1", "-E", "2000-01-01"]).0);
    let (ok, all) = login("dave-login-pw");
    assert!(!ok, "{all}");
    assert!(
        all.contains("Your account has expired; please contact your system administrator."),
        "{all}"
    );
    let (_, report) = kw(&["pam", "age", "dave"]);
    assert!(
        report.contains("Account expires                                     : 2000-01-01"),
        "{report}"
    );
    assert!(kw(&["pam", "age", "dave", "-E", "-1"]).0);
    let (ok, all) = login("dave-login-pw");
    assert!(ok, "{all}");

    // faillock: two failures lock; the user is told; --reset lets them in
    for _ in 0..2 {
        assert!(!login("not-daves-pw").0);
    }
    let (ok, all) = login("dave-login-pw");
    assert!(!ok, "{all}");
    assert!(
        all.contains("The account is locked due to 2 failed logins."),
        "{all}"
    );
    assert!(all.contains("(10 minutes left to unlock)"), "{all}");
    let (_, shown) = kw(&["pam", "faillock", "dave"]);
    assert!(
        shown.starts_with("dave: 2 failed login(s) in a row, the last at "),
        "{shown}"
    );
    assert!(kw(&["pam", "faillock", "dave", "--reset"]).0);
    assert_eq!(
        kw(&["pam", "faillock", "dave"]).1,
        "dave: no failed logins\n"
    );
    let (ok, all) = login("dave-login-pw");
    assert!(ok, "{all}");
}

/// Issue 14.12: `keyward pam import-shadow` takes users with their
/// /etc/shadow hashes; pam_keyward.so verifies them through libcrypt and the
/// first successful login rehashes them to scrypt at the system's `[kdf]`.
/// A real user made with useradd and given a yescrypt password by
/// `chpasswd -c YESCRYPT`, imported from the real /etc/shadow; and a shadow
/// file of our own with sha512crypt (openssl passwd -6), a locked one, a
/// system account and an md5crypt hash keyward does not take.
#[test]
fn import_shadow_then_login_and_rehash() {
    keyward_tests::require_root("useradd, chpasswd, /etc/shadow, a root-owned database");
    for t in ["pamtester", "useradd", "userdel", "chpasswd", "openssl"] {
        assert!(have(t), "{t} missing (see scripts/test PKGS)");
    }
    let h = TestHome::new();
    let db = h.path().join("shadow");
    let dbs = db.to_str().unwrap();
    let name = format!("kwimp{}", std::process::id() % 100_000);
    struct Gone(String);
    impl Drop for Gone {
        fn drop(&mut self) {
            let _ = Command::new("userdel").arg(&self.0).status();
        }
    }
    let st = Command::new("useradd")
        .args(["-M", "-s", "/usr/sbin/nologin", &name])
        .status()
        .unwrap();
    assert!(st.success(), "useradd");
    let _gone = Gone(name.clone());
    let out = keyward_tests::output_with_stdin(
        Command::new("chpasswd").args(["-c", "YESCRYPT"]),
        format!("{name}:yes-login-pw\n").as_bytes(),
    );
    assert!(
        out.status.success(),
        "chpasswd: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = h.keyward(&["pam", "import-shadow", &name, "--db", dbs], "");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!("imported {name} (yescrypt)")),
        "{said}"
    );
    let line = |user: &str| {
        std::fs::read_to_string(&db)
            .unwrap()
            .lines()
            .find(|l| l.starts_with(&format!("{user}:")))
            .map(str::to_owned)
            .unwrap_or_default()
    };
    assert!(
        line(&name).starts_with(&format!("{name}:$y$")),
        "{}",
        line(&name)
    );

    // The system's [kdf] for rehashing, through config=.
    let config = h.path().join("keyward.toml");
    std::fs::write(&config, "[kdf]\nlog_n = 10\n").unwrap();
    let svc = h.path().join("svc");
    std::fs::create_dir(&svc).unwrap();
    std::fs::write(
        svc.join("kw"),
        format!(
            "auth required {so} db={db} nodelay config={config}\naccount required {so} db={db}\n",
            so = bin("libpam_keyward.so").display(),
            db = db.display(),
            config = config.display()
        ),
    )
    .unwrap();
    let (ok, all) = pamtester(&h, &svc, &name, "not-the-pw");
    assert!(!ok, "{all}");
    assert!(line(&name).contains(":$y$"), "a failure must not rehash");
    let (ok, all) = pamtester(&h, &svc, &name, "yes-login-pw");
    assert!(ok, "the imported yescrypt user did not log in: {all}");
    assert!(
        all.contains(&format!(
            "rehashed the password of user={name} from yescrypt to scrypt with log_n=10 r=8"
        )),
        "{all}"
    );
    assert!(
        line(&name).starts_with(&format!("{name}:$scrypt$ln=10,")),
        "{}",
        line(&name)
    );
    let (ok, all) = pamtester(&h, &svc, &name, "yes-login-pw");
    assert!(ok, "after the rehash: {all}");
    assert!(!all.contains("rehashed"), "{all}");

    // A shadow file of our own: sha512crypt, locked, system account, md5crypt.
    let sha = Command::new("openssl")
        .args(["passwd", "-6", "-salt", "kwsalt01", "sha-login-pw"])
        .output()
        .unwrap();
    let sha = String::from_utf8(sha.stdout).unwrap().trim().to_owned();
    assert!(sha.starts_with("$6$kwsalt01$"), "{sha}");
    let shadow = h.path().join("etc-shadow");
    std::fs::write(
        &shadow,
        format!(
            "daemon:*:19000:0:99999:7:::\n\
             shauser:{sha}:19000:0:99999:7:::\n\
             lockeduser:!{sha}:19000::::::\n\
             md5user:$1$abc$OGyl6dDvZCDiGmIVbeuCq/:19000::::::\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&shadow, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    let sh = shadow.to_str().unwrap();
    let out = h.keyward(&["pam", "import-shadow", "--shadow", sh, "--db", dbs], "");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert!(said.contains("imported shauser (sha512crypt)"), "{said}");
    assert!(
        said.contains("imported lockeduser (sha512crypt, locked)"),
        "{said}"
    );
    assert!(
        !said.contains("daemon") && !said.contains("md5user"),
        "{said}"
    );
    assert!(said.contains("2 user(s) imported"), "{said}");
    assert!(
        line("lockeduser").contains(":!$6$"),
        "{}",
        line("lockeduser")
    );
    // Named: what cannot be imported is an error; what is there stays unless --replace.
    let out = h.keyward(
        &[
            "pam",
            "import-shadow",
            "md5user",
            "shauser",
            "--shadow",
            sh,
            "--db",
            dbs,
        ],
        "",
    );
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains(
            "skipped md5user: not an scrypt, yescrypt, sha512crypt, sha256crypt or bcrypt hash"
        ),
        "{said}"
    );
    assert!(
        said.contains("skipped shauser: already in the database (--replace overwrites it)"),
        "{said}"
    );
    assert!(
        !said.contains("$6$") && !said.contains("$1$"),
        "a hash in the output: {said}"
    );
    let (ok, all) = pamtester(&h, &svc, "shauser", "sha-login-pw");
    assert!(ok, "sha512crypt user: {all}");
    assert!(
        line("shauser").contains(":$scrypt$ln=10,"),
        "{}",
        line("shauser")
    );
    assert!(
        line("shauser").ends_with(":19000:0:99999:7::"),
        "aging kept: {}",
        line("shauser")
    );
    let (ok, all) = pamtester(&h, &svc, "lockeduser", "sha-login-pw");
    assert!(!ok, "a locked imported user logged in: {all}");
}

/// pamtester `OPS…` under pam_wrapper with `input` on its standard input;
/// (success, stdout and stderr).
fn pamtester_ops(
    h: &TestHome,
    svc: &std::path::Path,
    user: &str,
    ops: &[&str],
    input: &str,
) -> (bool, String) {
    let mut cmd = Command::new("pamtester");
    cmd.args(["-v", "kw", user])
        .args(ops)
        .env("LD_PRELOAD", WRAPPER)
        .env("PAM_WRAPPER", "1")
        .env("PAM_WRAPPER_SERVICE_DIR", svc)
        .env("PAM_WRAPPER_DEBUGLEVEL", "2")
        .current_dir(h.path());
    let out = keyward_tests::output_with_stdin(&mut cmd, input.as_bytes());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), all)
}

/// Issue 14.13: pam_pwquality (Debian libpam-pwquality) stacked before
/// `pam_keyward.so use_authtok remember=2`: pwquality asks for the new
/// password twice and judges it, keyward takes it from PAM_AUTHTOK, refuses
/// the current password and the last two replaced ones with pam_unix's
/// messages, and stores the rest.
#[test]
fn pwquality_stacks_before_keyward_and_remember_refuses_old_passwords() {
    keyward_tests::require_root("pam_keyward trusts only root-owned databases");
    assert!(have("pamtester"), "pamtester missing: install it");
    let pwq = "/usr/lib/x86_64-linux-gnu/security/pam_pwquality.so";
    assert!(
        std::path::Path::new(pwq).exists(),
        "install libpam-pwquality (scripts/test PKGS)"
    );
    let h = TestHome::new();
    h.write_config("[kdf]\nlog_n = 10\n");
    let db = h.path().join("shadow");
    let dbs = db.to_str().unwrap();
    let out = h.keyward(
        &["pam", "passwd", "erin", "--db", dbs, "--password-fd", "0"],
        "First-Login-Passphrase-1\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svc = h.path().join("svc");
    std::fs::create_dir(&svc).unwrap();
    let so = bin("libpam_keyward.so");
    std::fs::write(
        svc.join("kw"),
        format!(
            "auth     required  {so} db={db} nodelay\n\
             password requisite pam_pwquality.so retry=1 minlen=12 dictcheck=0 enforce_for_root\n\
             password required  {so} db={db} use_authtok remember=2 nodelay\n",
            so = so.display(),
            db = db.display()
        ),
    )
    .unwrap();
    let hash = || std::fs::read_to_string(&db).unwrap();
    // Root changes erin's password (no old password asked); each change is
    // typed twice for pam_pwquality.
    let change =
        |pw: &str| pamtester_ops(&h, &svc, "erin", &["chauthtok"], &format!("{pw}\n{pw}\n"));
    let before = hash();
    let (ok, all) = change("short");
    assert!(!ok, "pwquality let a short password through: {all}");
    assert!(all.contains("BAD PASSWORD"), "{all}");
    assert_eq!(hash(), before, "nothing stored");
    let (ok, all) = change("Second-Login-Passphrase-2");
    assert!(ok, "{all}");
    assert!(all.contains("password changed for user=erin"), "{all}");
    assert_ne!(hash(), before);
    let history = std::fs::read_to_string(h.path().join("shadow.history")).unwrap();
    assert!(history.starts_with("erin:$scrypt$"), "{history}");
    assert!(!history.contains("Passphrase"), "a password in the history");
    let (ok, all) = change("Second-Login-Passphrase-2");
    assert!(!ok, "{all}");
    assert!(all.contains("Password unchanged"), "{all}");
    let (ok, all) = change("First-Login-Passphrase-1");
    assert!(!ok, "{all}");
    assert!(
        all.contains("Password has been already used. Choose another."),
        "{all}"
    );
    let (ok, all) = change("Third-Login-Passphrase-3");
    assert!(ok, "{all}");
    let (ok, all) = change("Fourth-Login-Passphrase-4");
    assert!(ok, "{all}");
    // remember=2: the first one has left the window, the second has not.
    let (ok, all) = change("Second-Login-Passphrase-2");
    assert!(!ok, "{all}");
    assert!(all.contains("Password has been already used"), "{all}");
    let (ok, all) = change("First-Login-Passphrase-1");
    assert!(ok, "{all}");
    let (ok, all) = pamtester_ops(
        &h,
        &svc,
        "erin",
        &["authenticate"],
        "First-Login-Passphrase-1\n",
    );
    assert!(ok, "{all}");
    for pw in [
        "Second-Login",
        "Third-Login",
        "Fourth-Login",
        "First-Login",
        "short",
    ] {
        assert!(!all.contains(pw), "a password in the output");
    }
}
