//! Host slots (issue 15): `keyward enroll host` asks the setuid helper
//! `keyward-chkpwd host-key`, which makes the root-only host key on first
//! use and hands the caller only the secret of its own (uid, vault) slot.
//! Then `keyward unlock --non-interactive` and the git helper open the
//! vault with no typing, as that user only: another user holding a copy of
//! the vault gets nothing from the same helper, and neither can read the
//! host key.
//!
//! The helper reads its host-key path only from the system configuration,
//! so the test runs each command in a mount namespace of its own (`unshare
//! -m`) with a temporary `/etc/keyward` (its `keyward.toml` names a host key
//! under a temporary directory) bound over the real one. Needs root.

mod common;

use common::{chown_r, SystemEnv, User, CRED_REQUEST};
use keyward_tests::text;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Output;

const PW: &str = "host-slot-login-pw";
const TOKEN: &str = "host-slot-token-5d2c";

/// One test at a time: each binds over /etc/keyward, which the first may
/// make.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The temporary system configuration, held with the serial lock.
struct Env {
    sys: SystemEnv,
    _serial: std::sync::MutexGuard<'static, ()>,
}

impl std::ops::Deref for Env {
    type Target = SystemEnv;
    fn deref(&self) -> &SystemEnv {
        &self.sys
    }
}

impl Env {
    fn new() -> Env {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        Env {
            sys: SystemEnv::new(),
            _serial: serial,
        }
    }
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[test]
fn a_host_slot_unlocks_with_no_typing_for_its_user_only() {
    keyward_tests::require_root("useradd, a setuid-root helper, mount namespaces");
    for t in ["unshare", "setpriv", "useradd", "keyctl", "git"] {
        assert!(
            keyward_tests::have(t),
            "{t} missing (see scripts/test PKGS)"
        );
    }
    let e = Env::new();
    let (a, b) = (User::new("kwha"), User::new("kwhb"));
    a.make_vault(PW, TOKEN);
    assert!(!e.host_key().exists());

    // Enrolling makes the host key (root, 0600) and a host slot.
    let out = ok(
        &e.keyward(
            &a,
            &["enroll", "host", "--password-fd", "0"],
            &format!("{PW}\n"),
        ),
        "enroll host",
    );
    assert!(out.contains("enrolled this machine's host key"), "{out}");
    let meta = std::fs::metadata(e.host_key()).unwrap();
    assert_eq!(
        (meta.uid(), meta.mode() & 0o777, meta.len()),
        (0, 0o600, 32)
    );
    let slots = ok(&e.keyward(&a, &["slots"], ""), "slots");
    assert!(slots.contains("host"), "{slots}");
    // Enrolling again changes nothing.
    let out = ok(
        &e.keyward(
            &a,
            &["enroll", "host", "--password-fd", "0"],
            &format!("{PW}\n"),
        ),
        "enroll host again",
    );
    assert!(out.contains("already has"), "{out}");
    // The user cannot read the host key.
    let out = e.as_user(&a, &["cat", e.host_key().to_str().unwrap()], "");
    assert!(!out.status.success());

    // Locked; unlock with no typing; git gets its token with no prompt.
    ok(&e.keyward(&a, &["lock"], ""), "lock");
    let out = ok(
        &e.keyward(&a, &["unlock", "--non-interactive"], ""),
        "unlock --non-interactive",
    );
    assert!(out.contains("without typing"), "{out}");
    ok(&e.keyward(&a, &["lock"], ""), "lock");
    let helper = keyward_tests::bin_for_others("git-credential-keyward");
    let chk = format!("KEYWARD_CHKPWD={}", e.helper.display());
    let got = ok(
        &e.as_user(
            &a,
            &["env", &chk, helper.to_str().unwrap(), "get"],
            CRED_REQUEST,
        ),
        "git credential get while locked",
    );
    assert!(got.contains(&format!("password={TOKEN}")), "{got}");

    // The cron line of docs/slots.md: `keyward exec` opens the locked vault
    // through the host slot for one command and caches nothing.
    ok(
        &e.keyward(
            &a,
            &["set", "ci/token", "--secret-fd", "0"],
            "cron-token-81\n",
        ),
        "set",
    );
    ok(&e.keyward(&a, &["lock"], ""), "lock");
    let out = ok(
        &e.keyward(
            &a,
            &[
                "exec",
                "--env",
                "T=ci/token",
                "--",
                "sh",
                "-c",
                "echo \"got $T\"",
            ],
            "",
        ),
        "exec while locked",
    );
    assert_eq!(out, "got cron-token-81\n");
    let st = ok(&e.keyward(&a, &["status"], ""), "status");
    assert!(st.contains("locked") && !st.contains("unlocked"), "{st}");

    // User b with a copy of a's vault: the helper gives b b's own slot
    // secret, which opens nothing.
    let b_dir = b.vault().parent().unwrap().to_path_buf();
    std::fs::create_dir_all(&b_dir).unwrap();
    std::fs::copy(a.vault(), b.vault()).unwrap();
    chown_r(&b.home, b.uid, b.gid);
    std::fs::set_permissions(&b_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = e.keyward(&b, &["unlock", "--non-interactive"], "");
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    // (keyctl's "Joined session keyring" line aside)
    let err = text(&out.stderr);
    let said: Vec<_> = err.lines().filter(|l| l.starts_with("keyward:")).collect();
    assert_eq!(said.len(), 1, "{err}");
    assert!(
        err.contains("not this machine's or not this user's"),
        "{err}"
    );
    // Asking the helper by hand for a's vault id gives b the secret derived
    // for b's uid, never a's.
    let bytes = std::fs::read(a.vault()).unwrap();
    let id = keyward_vault::VaultId(bytes[12..28].try_into().unwrap());
    let out = e.as_user(
        &b,
        &[e.helper.to_str().unwrap(), "host-key", &id.to_hex()],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let hk = keyward_vault::host::read_host_key(&e.host_key(), false).unwrap();
    use keyward_secmem::ExposeSecret;
    let for_b = keyward_vault::host::slot_secret(&hk, b.uid, &id).unwrap();
    let for_a = keyward_vault::host::slot_secret(&hk, a.uid, &id).unwrap();
    assert_eq!(out.stdout, for_b.expose_secret());
    assert_ne!(out.stdout, for_a.expose_secret());
    let out = e.as_user(&b, &[e.helper.to_str().unwrap(), "host-key", "zz"], "");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("32 hex digits"),
        "{}",
        text(&out.stderr)
    );

    // Another machine (a new host key): the slot no longer opens; the
    // password still does.
    std::fs::remove_file(e.host_key()).unwrap();
    ok(&e.keyward(&a, &["lock"], ""), "lock");
    let out = e.keyward(&a, &["unlock", "--non-interactive"], "");
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    ok(
        &e.keyward(&a, &["unlock", "--password-fd", "0"], &format!("{PW}\n")),
        "unlock with the password",
    );
}

#[test]
fn root_enrolls_a_host_slot_for_its_own_vault() {
    keyward_tests::require_root("a setuid-root helper, mount namespaces");
    let e = Env::new();
    let h = keyward_tests::TestHome::new();
    h.init_unlocked_vault(PW);
    let run = |args: &[&str]| {
        let kw = keyward_tests::bin("keyward");
        let mut argv = vec![kw.to_str().unwrap()];
        argv.extend_from_slice(args);
        let mut cmd = e.command(&argv);
        // TestHome's environment, and the helper.
        let env = h.command("true");
        for (k, v) in env.get_envs() {
            if let Some(v) = v {
                cmd.env(k, v);
            }
        }
        cmd.env("KEYWARD_CHKPWD", &e.helper);
        keyward_tests::output_with_stdin(&mut cmd, b"")
    };
    ok(&run(&["enroll", "host"]), "enroll host as root");
    ok(&run(&["lock"]), "lock");
    let out = ok(&run(&["unlock", "--non-interactive"]), "unlock");
    assert!(out.contains("without typing"), "{out}");
    let doctor = run(&["doctor"]);
    let said = text(&doctor.stdout);
    assert!(
        said.contains("a host or tpm2 slot opens the vault"),
        "{said}"
    );
}

const WRAPPER: &str = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so";

/// `pamtester SERVICE USER open_session close_session` as root under
/// pam_wrapper, with the temporary /etc/keyward: a session nobody typed a
/// password for (cron's, su from root, an SSH key's).
fn session_without_password(e: &Env, svc: &Path, u: &User) -> Output {
    let mut cmd = e.command(&["pamtester", "-v", "cron", &u.name, "open_session"]);
    cmd.env("LD_PRELOAD", WRAPPER)
        .env("PAM_WRAPPER", "1")
        .env("PAM_WRAPPER_SERVICE_DIR", svc)
        .env("PAM_WRAPPER_DEBUGLEVEL", "2");
    keyward_tests::output_with_stdin(&mut cmd, b"")
}

#[test]
fn a_cron_like_session_unlocks_through_the_host_slot_in_the_helper() {
    keyward_tests::require_root("useradd, a setuid-root helper, mount namespaces");
    assert!(Path::new(WRAPPER).exists(), "install libpam-wrapper");
    assert!(keyward_tests::have("pamtester"), "pamtester missing");
    let e = Env::new();
    let u = User::new("kwhc");
    u.make_vault(PW, TOKEN);
    let svc = tempfile::tempdir().unwrap();
    std::fs::write(
        svc.path().join("cron"),
        format!(
            "session optional {} unlock chkpwd={}\n",
            common::module(),
            e.helper.display()
        ),
    )
    .unwrap();
    // Without a host slot: left locked, one log line that says why.
    let out = session_without_password(&e, svc.path(), &u);
    let log = text(&out.stderr);
    assert!(
        log.contains("no password from this login")
            && log.contains("no slot that opens without typing"),
        "{log}"
    );
    let got = git_get(&u);
    assert!(
        !text(&got.stdout).contains(TOKEN),
        "unlocked without a slot"
    );

    ok(
        &e.keyward(
            &u,
            &["enroll", "host", "--password-fd", "0"],
            &format!("{PW}\n"),
        ),
        "enroll host",
    );
    ok(&e.keyward(&u, &["lock"], ""), "lock");
    session_unlocks(&e, svc.path(), &u);
}

/// The same cron-like session with a vault that has a tpm2 slot (swtpm,
/// named by `tpm2_tcti` in the temporary /etc/keyward/keyward.toml) and
/// no host slot: the login helper unseals it, as the user, and git's
/// helper then answers from the keyring with no TPM of its own.
#[test]
fn a_cron_like_session_unlocks_through_a_tpm2_slot() {
    keyward_tests::require_root("useradd, mount namespaces");
    assert!(Path::new(WRAPPER).exists(), "install libpam-wrapper");
    assert!(keyward_tests::have("pamtester"), "pamtester missing");
    let e = Env::new();
    let tpm = keyward_tests::swtpm::Swtpm::start();
    e.use_tpm(&tpm.tcti());
    let u = User::new("kwht");
    u.make_vault(PW, TOKEN);
    let svc = tempfile::tempdir().unwrap();
    std::fs::write(
        svc.path().join("cron"),
        format!("session optional {} unlock\n", common::module()),
    )
    .unwrap();
    // `keyward enroll tpm2` as the user reaches the TPM through the same
    // system configuration.
    let out = ok(
        &e.keyward(
            &u,
            &["enroll", "tpm2", "--password-fd", "0"],
            &format!("{PW}\n"),
        ),
        "enroll tpm2",
    );
    assert!(out.contains("enrolled this machine's TPM"), "{out}");
    let slots = ok(&e.keyward(&u, &["slots"], ""), "slots");
    assert!(slots.contains("tpm2") && !slots.contains("host"), "{slots}");
    ok(&e.keyward(&u, &["lock"], ""), "lock");
    assert!(!text(&git_get(&u).stdout).contains(TOKEN), "not locked");

    session_unlocks(&e, svc.path(), &u);

    // The TPM gone: the session opens, the vault stays locked, and the log
    // says which slot failed and why.
    drop(tpm);
    ok(&e.keyward(&u, &["lock"], ""), "lock");
    let out = session_without_password(&e, svc.path(), &u);
    let log = text(&out.stderr);
    assert!(
        log.contains("tpm2 slot") && log.contains("no TPM reachable"),
        "{log}"
    );
    assert!(!text(&git_get(&u).stdout).contains(TOKEN), "unlocked");
}

/// A session with no password opens `u`'s vault through a slot in the
/// login helper: the key is in the user's keyring, so git's helper answers
/// with no prompt and no host-key helper or TPM of its own (KEYWARD_CHKPWD
/// unset, the real /etc/keyward).
fn session_unlocks(e: &Env, svc: &Path, u: &User) {
    let out = session_without_password(e, svc, u);
    let log = text(&out.stderr);
    assert!(
        log.contains(&format!("login unlock: user={}: unlocked", u.name))
            && log.contains("needs no typing"),
        "{log}"
    );
    let got = git_get(u);
    assert!(
        text(&got.stdout).contains(&format!("password={TOKEN}")),
        "{}{}",
        text(&got.stdout),
        text(&got.stderr)
    );
    assert!(!log.contains(TOKEN));
}

/// `git-credential-keyward get` as `u` (a copy every user can run).
fn git_get(u: &User) -> Output {
    let helper = keyward_tests::bin_for_others("git-credential-keyward");
    u.run(&[helper.to_str().unwrap(), "get"], CRED_REQUEST)
}
