//! Login unlock over SSH with a real OpenSSH server (Debian's
//! openssh-server, 9.2p1 on Debian 12 when this was written): `sshd -D -e`
//! on 127.0.0.1 at a free port, with its own `sshd_config` and host key in a
//! temp dir (never `/etc/ssh`), `UsePAM yes`, and the PAM stack given through
//! pam_wrapper (never `/etc/pam.d`). A throwaway user (useradd, removed after)
//! with a vault made by `keyward init --login` logs in with `ssh` driven by
//! expect on a pty, and runs `git credential fill` in that session:
//!
//! - password authentication: pam_authenticate runs in sshd's privileged
//!   monitor, the same process and PAM handle that opens the session, so the
//!   stash reaches the session: the credential comes with no prompt;
//! - keyboard-interactive: OpenSSH runs pam_authenticate in a forked child
//!   (auth-pam.c's `pthread_create` replacement, Debian builds without
//!   threads), whose `pam_set_data` dies with it: the session finds no stash,
//!   says so in one log line, returns PAM_IGNORE, the login works and the
//!   helper asks for the vault password once;
//! - public key: no password at all: the same.
//!
//! How pam_wrapper reaches PAM in sshd: sshd re-executes itself for every
//! connection (`execv`, which keeps the environment), so `LD_PRELOAD` and
//! `PAM_WRAPPER*` given to the listening sshd reach the per-connection sshd
//! that runs PAM; nothing else was needed (no `-r`). The user's session does
//! not inherit them (sshd builds the session environment from scratch: the
//! test checks). One gap, from OpenSSH, not from keyward: the
//! keyboard-interactive PAM child empties its environment (`environ[0] =
//! NULL` in `sshpam_thread`), so pam_wrapper, which reads
//! `PAM_WRAPPER_DEBUGLEVEL` on every call, prints nothing from that child;
//! the auth-phase log of that one process is not captured (its session-phase
//! log is).
//!
//! Every run asserts that no password reaches sshd's output (`LogLevel
//! DEBUG3`, with pam_syslog output shown by `PAM_WRAPPER_DEBUGLEVEL`) nor the
//! client's transcript.
//!
//! Needs root (useradd, sshd, a root-owned password database) and
//! openssh-server; skips with the reason otherwise.

mod common;

use common::{chown_r, SystemEnv, User};
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WRAPPER: &str = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so";
const SSHD: &str = "/usr/sbin/sshd";
const TOKEN: &str = "tok-5sshd81c0a";

/// The sshd processes of this binary's tests take turns: pam_wrapper copies
/// service files into `/tmp/pam.X` directories with one-character names, and
/// the machine has few cores.
static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Fails unless the test can run: root, sshd, pam_wrapper and the tools it drives.
fn require_root_and_tools() {
    keyward_tests::require_root("useradd, sshd, a root-owned password database");
    assert!(
        Path::new(SSHD).exists(),
        "{SSHD} missing: install openssh-server (scripts/test PKGS)"
    );
    assert!(Path::new(WRAPPER).exists(), "install libpam-wrapper");
    for t in [
        "useradd",
        "userdel",
        "setpriv",
        "keyctl",
        "expect",
        "ssh",
        "ssh-keygen",
        "git",
    ] {
        assert!(
            keyward_tests::have(t),
            "{t} missing (see scripts/test PKGS)"
        );
    }
}

/// A throwaway user whose vault follows `password` and holds one git
/// credential, with git configured to use the helper.
fn ssh_user(password: &str) -> User {
    let user = User::new("kws");
    let helper = keyward_tests::bin_for_others("git-credential-keyward");
    std::fs::write(
        user.home.join(".gitconfig"),
        format!("[credential]\n\thelper = {}\n", helper.display()),
    )
    .unwrap();
    chown_r(&user.home.join(".gitconfig"), user.uid, user.gid);
    user.make_vault(password, TOKEN);
    user
}

impl User {
    /// Lets `key.pub` log in (`~/.ssh/authorized_keys`, modes sshd's
    /// StrictModes accepts).
    fn authorize(&self, key: &Path) {
        let dir = self.home.join(".ssh");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let pubkey = std::fs::read(key.with_extension("pub")).unwrap();
        std::fs::write(dir.join("authorized_keys"), pubkey).unwrap();
        chown_r(&dir, self.uid, self.gid);
    }
}

/// A listening sshd.
struct Launched {
    port: u16,
    child: Child,
}

/// A real sshd on 127.0.0.1, its configuration, host key, PAM service file
/// and password database in a root-only temp dir; killed on drop.
struct Sshd {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
}

impl Sshd {
    /// Starts sshd letting `user` in with the login password `password`.
    fn start(user: &User, password: &str) -> Sshd {
        Self::start_with(user, password, None)
    }

    /// [`Sshd::start`], in `host`'s mount namespace and with its helper as
    /// the module's `chkpwd=` when given.
    fn start_with(user: &User, password: &str, host: Option<&SystemEnv>) -> Sshd {
        let dir = tempfile::Builder::new()
            .prefix("keyward-sshd-")
            .tempdir()
            .unwrap();
        let d = dir.path();
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700)).unwrap();
        // The preauth child chroots here; the package's init script makes it.
        if !Path::new("/run/sshd").exists() {
            std::fs::create_dir("/run/sshd").unwrap();
            std::fs::set_permissions("/run/sshd", std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        // The login password, in pam_keyward's own database, set by the CLI.
        let db = d.join("shadow");
        let mut kw = Command::new(keyward_tests::bin_for_others("keyward"))
            .args(["pam", "passwd", "--password-fd", "0", "--db"])
            .arg(&db)
            .arg(&user.name)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        kw.stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        assert!(kw.wait().unwrap().success(), "keyward pam passwd");
        let so = common::module();
        let db = db.display();
        std::fs::create_dir(d.join("svc")).unwrap();
        std::fs::write(
            d.join("svc/sshd"),
            format!(
                "auth     required {so} db={db} nodelay\n\
                 auth     optional {so} unlock debug\n\
                 account  required {so} db={db}\n\
                 session  optional pam_keyinit.so force revoke\n\
                 session  optional {so} unlock timeout=10m debug{chk}\n\
                 password required pam_deny.so\n",
                chk = host.map_or(String::new(), |h| format!(" chkpwd={}", h.helper.display()))
            ),
        )
        .unwrap();
        let key = d.join("host_ed25519");
        let st = Command::new("ssh-keygen")
            .args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "keyward-test-host",
                "-f",
            ])
            .arg(&key)
            .status()
            .unwrap();
        assert!(st.success(), "ssh-keygen");
        std::fs::write(
            d.join("ssh_config"),
            "Host *\n\
             \tUserKnownHostsFile /dev/null\n\
             \tGlobalKnownHostsFile /dev/null\n\
             \tStrictHostKeyChecking no\n\
             \tIdentityAgent none\n\
             \tControlPath none\n\
             \tLogLevel ERROR\n",
        )
        .unwrap();
        for _attempt in 0..5 {
            if let Some(s) = Self::launch(&dir, &key, user, host) {
                return Sshd {
                    dir,
                    port: s.port,
                    child: s.child,
                };
            }
        }
        panic!("sshd found no free port in 5 tries");
    }

    /// Starts sshd on a port that was free a moment ago; `None` when another
    /// process bound it first.
    fn launch(
        dir: &tempfile::TempDir,
        key: &Path,
        user: &User,
        host: Option<&SystemEnv>,
    ) -> Option<Launched> {
        let d = dir.path();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = d.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "ListenAddress 127.0.0.1:{port}\n\
                 HostKey {key}\n\
                 PidFile none\n\
                 UsePAM yes\n\
                 PasswordAuthentication yes\n\
                 KbdInteractiveAuthentication yes\n\
                 PubkeyAuthentication yes\n\
                 AuthorizedKeysFile .ssh/authorized_keys\n\
                 AllowUsers {user}\n\
                 PermitRootLogin no\n\
                 UseDNS no\n\
                 PrintMotd no\n\
                 PrintLastLog no\n\
                 LogLevel DEBUG3\n",
                key = key.display(),
                user = user.name
            ),
        )
        .unwrap();
        let st = Command::new(SSHD)
            .arg("-t")
            .arg("-f")
            .arg(&config)
            .status()
            .unwrap();
        assert!(st.success(), "sshd -t: the test's sshd_config is refused");
        let log_path = d.join("sshd.log");
        let log = File::create(&log_path).unwrap();
        let mut cmd = match host {
            Some(h) => h.command(&[SSHD]),
            None => Command::new(SSHD),
        };
        let mut child = cmd
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .env("LD_PRELOAD", WRAPPER)
            .env("PAM_WRAPPER", "1")
            .env("PAM_WRAPPER_SERVICE_DIR", d.join("svc"))
            .env("PAM_WRAPPER_DEBUGLEVEL", "2")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let ready = format!("Server listening on 127.0.0.1 port {port}.");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            if log.contains(&ready) {
                return Some(Launched { port, child });
            }
            if let Some(st) = child.try_wait().unwrap() {
                if log.contains("Address already in use") {
                    return None;
                }
                panic!("sshd exited ({st}) before listening: {log}");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("sshd is not listening after 30 s: {log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A fresh key pair in the test's directory that may log in as `user`;
    /// returns the private key's path.
    fn user_key(&self, user: &User) -> String {
        let key = self.dir.path().join("user_ed25519");
        let st = Command::new("ssh-keygen")
            .args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "keyward-test-user",
                "-f",
            ])
            .arg(&key)
            .status()
            .unwrap();
        assert!(st.success(), "ssh-keygen");
        user.authorize(&key);
        key.display().to_string()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// The pids of the per-connection sshd processes (`Forked child N.`).
    fn connections(&self) -> Vec<i32> {
        self.log()
            .lines()
            .filter_map(|l| l.strip_prefix("debug1: Forked child "))
            .filter_map(|r| r.trim_end_matches('.').parse().ok())
            .collect()
    }

    /// Waits until every connection's sshd has finished (PAM session closed,
    /// log complete).
    fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        for pid in self.connections() {
            while running(pid) {
                assert!(
                    Instant::now() < deadline,
                    "sshd connection {pid} still running after 30 s: {}",
                    self.log()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// `ssh` to this server as `user`, driven by expect on a pty: types
    /// `login_pw` at the login prompt (if any) and `vault_pw` at a vault
    /// prompt (if one comes; with no `vault_pw`, a vault prompt fails the
    /// login at once), runs `command` on a remote pty (`-tt`).
    fn ssh(
        &self,
        user: &User,
        opts: &[&str],
        login_pw: &str,
        vault_pw: &str,
        command: &str,
    ) -> Login {
        let script = self.dir.path().join("ssh.exp");
        std::fs::write(
            &script,
            "set timeout 60\n\
             set login_pw $env(LOGIN_PW)\n\
             set vault_pw $env(VAULT_PW)\n\
             unset env(LOGIN_PW) env(VAULT_PW)\n\
             spawn {*}$argv\n\
             if {$login_pw ne \"\"} {\n\
               expect {\n\
                 \"assword:\" { send -- \"$login_pw\\r\" }\n\
                 timeout { puts \"\\nEXPECT: no login prompt\"; exit 10 }\n\
                 eof { puts \"\\nEXPECT: eof before the login prompt\"; exit 11 }\n\
               }\n\
             }\n\
             expect {\n\
               \"password for vault\" {\n\
                 puts \"\\nEXPECT: VAULT-PROMPT\"\n\
                 if {$vault_pw eq \"\"} { exit 14 }\n\
                 send -- \"$vault_pw\\r\"\n\
                 exp_continue\n\
               }\n\
               \"DONE-RC=\" {}\n\
               timeout { puts \"\\nEXPECT: timeout\"; exit 12 }\n\
               eof { puts \"\\nEXPECT: eof before DONE-RC\"; exit 13 }\n\
             }\n\
             expect eof\n\
             catch wait result\n\
             exit [lindex $result 3]\n",
        )
        .unwrap();
        let port = self.port.to_string();
        let config = self.dir.path().join("ssh_config");
        let dest = format!("{}@127.0.0.1", user.name);
        let mut c = Command::new("expect");
        c.arg(&script)
            .args(["ssh", "-tt", "-F"])
            .arg(&config)
            .args(["-p", &port])
            .args(opts)
            .args([&dest, command])
            .env("LOGIN_PW", login_pw)
            .env("VAULT_PW", vault_pw)
            .stdin(Stdio::null());
        let out = c.output().unwrap();
        self.settle();
        Login {
            ok: out.status.success(),
            transcript: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
        // pam_wrapper's copies of our service file (`/tmp/pam.X`), which a
        // per-connection sshd that ends with `_exit` leaves behind; only
        // those naming this test's directory.
        let ours = self.dir.path().display().to_string();
        if let Ok(entries) = std::fs::read_dir("/tmp") {
            for e in entries.flatten() {
                let p = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                if name.len() == 5
                    && name.starts_with("pam.")
                    && std::fs::read_to_string(p.join("sshd")).is_ok_and(|s| s.contains(&ours))
                {
                    let _ = std::fs::remove_dir_all(&p);
                }
            }
        }
    }
}

/// Whether `pid` is alive (a zombie is not).
fn running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

struct Login {
    ok: bool,
    transcript: String,
}

/// Runs in the user's ssh session: git asks its configured helper for the
/// forge's credential; a vault prompt would appear on the session's pty.
const FILL: &str = "printf 'protocol=https\\nhost=forge.example\\n\\n' | git credential fill; \
                    echo FILL-RC=$?; \
                    echo WRAPPER-ENV=$(env | grep -c -E '^(LD_PRELOAD|PAM_WRAPPER)'); \
                    echo DONE-RC=0";

fn password_opts() -> Vec<&'static str> {
    vec![
        "-o",
        "PreferredAuthentications=password",
        "-o",
        "PubkeyAuthentication=no",
    ]
}

fn kbd_opts() -> Vec<&'static str> {
    vec![
        "-o",
        "PreferredAuthentications=keyboard-interactive",
        "-o",
        "PubkeyAuthentication=no",
    ]
}

fn key_opts(key: &str) -> Vec<&str> {
    vec![
        "-o",
        "PreferredAuthentications=publickey",
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-i",
        key,
    ]
}

fn unlock_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("login unlock:"))
        .collect()
}

/// What every login asserts: it worked, the session ran without pam_wrapper
/// in its environment, and no password is in sshd's log or on the terminal
/// (nor the token in sshd's log).
fn check_common(s: &Sshd, login: &Login, passwords: &[&str]) -> String {
    let log = s.log();
    let t = &login.transcript;
    assert!(login.ok, "ssh failed: {t}\nsshd: {log}");
    assert!(t.contains("WRAPPER-ENV=0"), "{t}");
    // The log capture works: pam_keyward's own lines are in it.
    assert!(log.contains("pam_sm_open_session returns"), "{log}");
    for p in passwords {
        assert!(!log.contains(p), "a password reached sshd's log: {log}");
        assert!(!t.contains(p), "a password reached the terminal: {t}");
    }
    assert!(
        !log.contains(TOKEN),
        "the credential reached sshd's log: {log}"
    );
    log
}

fn no_stash_line(user: &User) -> String {
    format!(
        "login unlock: user={}: no password from this login",
        user.name
    )
}

#[test]
fn ssh_password_login_unlocks_the_vault() {
    require_root_and_tools();
    let _serial = serial();
    let u = ssh_user("ssh-pw-login");
    let s = Sshd::start(&u, "ssh-pw-login");
    let login = s.ssh(&u, &password_opts(), "ssh-pw-login", "", FILL);
    let log = check_common(&s, &login, &["ssh-pw-login"]);
    let t = &login.transcript;
    assert!(
        log.contains(&format!("Accepted password for {} from 127.0.0.1", u.name)),
        "{log}"
    );
    // The credential, with no vault prompt on the session's terminal.
    assert!(!t.contains("VAULT-PROMPT"), "{t}");
    assert!(!t.contains("password for vault"), "{t}");
    assert!(
        t.contains(&format!("username=dev\r\npassword={TOKEN}")),
        "{t}"
    );
    assert!(t.contains("FILL-RC=0"), "{t}");
    let lines = unlock_lines(&log);
    assert_eq!(lines.len(), 1, "{log}");
    assert!(
        lines[0].ends_with(&format!(
            "login unlock: user={}: unlocked {} for 10m 00s",
            u.name,
            u.vault().display()
        )),
        "{log}"
    );
    // A later key login of the same user (a second terminal) finds the key:
    // its pam_keyinit session keyring links the same user keyring.
    let key = s.user_key(&u);
    let second = s.ssh(&u, &key_opts(&key), "", "", FILL);
    let log = check_common(&s, &second, &["ssh-pw-login"]);
    let t2 = &second.transcript;
    assert!(!t2.contains("VAULT-PROMPT"), "{t2}");
    assert!(
        t2.contains(&format!("username=dev\r\npassword={TOKEN}")),
        "{t2}"
    );
    let lines = unlock_lines(&log);
    assert_eq!(lines.len(), 2, "{log}");
    assert!(lines[1].contains(&no_stash_line(&u)), "{log}");
    // Held from auth to session only, in the one process that ran both.
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
}

#[test]
fn ssh_keyboard_interactive_login_works_but_leaves_the_vault_locked() {
    require_root_and_tools();
    let _serial = serial();
    let u = ssh_user("ssh-kbd-login");
    let s = Sshd::start(&u, "ssh-kbd-login");
    // With both methods on the server, a client left to its defaults
    // (keyboard-interactive before password) lands on keyboard-interactive.
    let first = s.ssh(
        &u,
        &["-o", "PubkeyAuthentication=no"],
        "ssh-kbd-login",
        "",
        "echo WRAPPER-ENV=$(env | grep -c -E '^(LD_PRELOAD|PAM_WRAPPER)'); echo DONE-RC=0",
    );
    let log = check_common(&s, &first, &["ssh-kbd-login"]);
    assert!(
        log.contains(&format!(
            "Accepted keyboard-interactive/pam for {} from 127.0.0.1",
            u.name
        )),
        "{log}"
    );
    let login = s.ssh(&u, &kbd_opts(), "ssh-kbd-login", "ssh-kbd-login", FILL);
    let log = check_common(&s, &login, &["ssh-kbd-login"]);
    let t = &login.transcript;
    assert_eq!(
        log.matches(&format!(
            "Accepted keyboard-interactive/pam for {} from 127.0.0.1",
            u.name
        ))
        .count(),
        2,
        "{log}"
    );
    // pam_authenticate ran in OpenSSH's forked PAM child: the session found
    // no stash: one line, PAM_IGNORE, and the login went on.
    let lines = unlock_lines(&log);
    assert_eq!(lines.len(), 2, "one line per login: {log}");
    for l in &lines {
        assert!(l.contains(&no_stash_line(&u)), "{log}");
    }
    assert!(
        log.contains("pam_sm_open_session returns PAM_IGNORE"),
        "{log}"
    );
    assert!(
        !log.contains("pam_sm_open_session returns PAM_SUCCESS"),
        "{log}"
    );
    // So the helper asks for the vault password once, on the session's
    // terminal, and then answers.
    assert_eq!(t.matches("VAULT-PROMPT").count(), 1, "{t}");
    assert!(
        t.contains(&format!("username=dev\r\npassword={TOKEN}")),
        "{t}"
    );
    assert!(t.contains("FILL-RC=0"), "{t}");
}

#[test]
fn ssh_public_key_login_works_and_leaves_the_vault_locked() {
    require_root_and_tools();
    let _serial = serial();
    let u = ssh_user("ssh-key-user-pw");
    let s = Sshd::start(&u, "ssh-key-user-pw");
    let key = s.user_key(&u);
    let login = s.ssh(&u, &key_opts(&key), "", "ssh-key-user-pw", FILL);
    let log = check_common(&s, &login, &["ssh-key-user-pw"]);
    let t = &login.transcript;
    assert!(
        log.contains(&format!("Accepted publickey for {} from 127.0.0.1", u.name)),
        "{log}"
    );
    // No password, so no PAM authentication at all.
    assert!(!log.contains("pam_sm_authenticate"), "{log}");
    let lines = unlock_lines(&log);
    assert_eq!(lines.len(), 1, "{log}");
    assert!(lines[0].contains(&no_stash_line(&u)), "{log}");
    assert!(
        log.contains("pam_sm_open_session returns PAM_IGNORE"),
        "{log}"
    );
    assert_eq!(t.matches("VAULT-PROMPT").count(), 1, "{t}");
    assert!(
        t.contains(&format!("username=dev\r\npassword={TOKEN}")),
        "{t}"
    );
    assert!(t.contains("FILL-RC=0"), "{t}");
}

/// A wrong password over ssh (password authentication, one prompt): sshd
/// refuses it, and the module's failure line in sshd's log is pam_unix's,
/// field for field (`tty=ssh`, `rhost=` the client, two spaces, `user=`), at
/// LOG_NOTICE: the line `pam_wrapper.rs` runs fail2ban's pam-generic filter on.
#[test]
fn ssh_wrong_password_is_refused_and_logged_as_pam_unix_does() {
    require_root_and_tools();
    let _serial = serial();
    let u = ssh_user("ssh-right-pw");
    let s = Sshd::start(&u, "ssh-right-pw");
    let mut opts = password_opts();
    opts.extend(["-o", "NumberOfPasswordPrompts=1"]);
    let login = s.ssh(&u, &opts, "ssh-wrong-pw", "", FILL);
    let log = s.log();
    let t = &login.transcript;
    assert!(!login.ok, "a wrong password logged in: {t}\n{log}");
    assert!(t.contains("Permission denied"), "{t}");
    assert!(
        log.contains(&format!("Failed password for {} from 127.0.0.1", u.name)),
        "{log}"
    );
    let line = log
        .lines()
        .find(|l| l.contains("authentication failure; logname="))
        .unwrap_or_else(|| panic!("no failure line: {log}"));
    // pam_wrapper shows pam_syslog's priority: LOG_NOTICE, as pam_unix's.
    let msg = line
        .split_once("SYSLOG(5): ")
        .map(|(_, m)| m)
        .unwrap_or_else(|| panic!("not at LOG_NOTICE: {line}"));
    assert_eq!(
        msg,
        format!(
            "authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=127.0.0.1  user={}",
            u.name
        )
    );
    assert!(!log.contains("session opened"), "{log}");
    for p in ["ssh-wrong-pw", "ssh-right-pw"] {
        assert!(!log.contains(p), "a password reached sshd's log: {log}");
        assert!(!t.contains(p), "a password reached the terminal: {t}");
    }
}

/// Issue 15: `keyward enroll KIND` as `u` in `sys`'s namespace, then a
/// public-key login (no password: PAM authenticates nothing) through an
/// sshd in the same namespace: the module's login helper, not sshd, opens
/// the vault through the slot, and `git credential fill` in the session
/// gets its token with no prompt.
fn key_login_unlocks_through(kind: &str, u: &User, pw: &str, sys: &SystemEnv) {
    let out = sys.keyward(
        u,
        &["enroll", kind, "--password-fd", "0"],
        &format!("{pw}\n"),
    );
    assert!(
        out.status.success(),
        "enroll {kind}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let slots = String::from_utf8_lossy(&sys.keyward(u, &["slots"], "").stdout).into_owned();
    assert_eq!(slots.matches(" no typing").count(), 1, "{slots}");
    assert!(slots.contains(kind), "{slots}");
    assert!(sys.keyward(u, &["lock"], "").status.success());
    let s = Sshd::start_with(u, pw, Some(sys));
    let key = s.user_key(u);
    let login = s.ssh(u, &key_opts(&key), "", "", FILL);
    let log = check_common(&s, &login, &[pw]);
    let t = &login.transcript;
    assert!(
        log.contains(&format!("Accepted publickey for {} from 127.0.0.1", u.name)),
        "{log}"
    );
    assert!(!log.contains("pam_sm_authenticate"), "{log}");
    let lines = unlock_lines(&log);
    assert_eq!(lines.len(), 1, "{log}");
    assert!(
        lines[0].contains(&format!("login unlock: user={}: unlocked", u.name))
            && lines[0].contains("needs no typing"),
        "{log}"
    );
    assert!(
        log.contains("pam_sm_open_session returns PAM_SUCCESS"),
        "{log}"
    );
    assert_eq!(t.matches("VAULT-PROMPT").count(), 0, "{t}");
    assert!(
        t.contains(&format!("username=dev\r\npassword={TOKEN}")),
        "{t}"
    );
    assert!(t.contains("FILL-RC=0"), "{t}");
}

/// A host slot: the login helper asks the setuid `keyward-chkpwd host-key`
/// for the user's slot secret.
#[test]
fn ssh_public_key_login_unlocks_a_vault_with_a_host_slot() {
    require_root_and_tools();
    let _serial = serial();
    let u = ssh_user("ssh-host-slot-pw");
    key_login_unlocks_through("host", &u, "ssh-host-slot-pw", &SystemEnv::new());
}

/// A tpm2 slot (swtpm on 127.0.0.1, named by `tpm2_tcti` in the temporary
/// system configuration), no host slot: the login helper unseals it.
#[test]
fn ssh_public_key_login_unlocks_a_vault_with_a_tpm2_slot() {
    require_root_and_tools();
    let _serial = serial();
    let u = ssh_user("ssh-tpm-slot-pw");
    let sys = SystemEnv::new();
    let tpm = keyward_tests::swtpm::Swtpm::start();
    sys.use_tpm(&tpm.tcti());
    key_login_unlocks_through("tpm2", &u, "ssh-tpm-slot-pw", &sys);
}
