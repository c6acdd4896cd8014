//! `keyward pam passwd|rm|list` on a throwaway database (`--db`).

use keyward_passdb as passdb;
use keyward_tests::TestHome;
use std::os::unix::fs::PermissionsExt;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn setup() -> (TestHome, String) {
    let h = TestHome::new();
    h.write_config("[kdf]\nlog_n = 10\n");
    let etc = h.path().join("etc-keyward");
    std::fs::create_dir(&etc).unwrap();
    let db = etc.join("shadow").display().to_string();
    (h, db)
}

#[test]
fn passwd_list_rm() {
    let (h, db) = setup();
    let out = h.keyward(
        &["pam", "passwd", "alice", "--db", &db, "--password-fd", "0"],
        "pw-of-alice\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("set the PAM password of alice in {db}\n")
    );
    let out = h.keyward(
        &["pam", "passwd", "bob", "--db", &db, "--password-fd", "0"],
        "pw-of-bob\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = h.keyward(
        &["pam", "passwd", "alice", "--db", &db, "--password-fd", "0"],
        "second-pw\n",
    );
    assert_eq!(
        text(&out.stdout),
        format!("changed the PAM password of alice in {db}\n")
    );

    let md = std::fs::metadata(&db).unwrap();
    assert_eq!(md.permissions().mode() & 0o777, 0o600);
    let file = std::fs::read_to_string(&db).unwrap();
    assert!(!file.contains("pw-of-") && !file.contains("second-pw"));
    let lines: Vec<&str> = file.lines().collect();
    assert_eq!(lines.len(), 2, "{file}");
    assert!(
        lines[0].starts_with("alice:$scrypt$ln=10,r=8,p=1$"),
        "{file}"
    );
    // The stored hash verifies the last password, with the configured cost.
    let pdb = passdb::load(
        std::path::Path::new(&db),
        &[0, nix::unistd::geteuid().as_raw()],
    )
    .unwrap();
    let hash = pdb.find("alice").unwrap();
    assert!(hash.verify(b"second-pw").unwrap());
    assert!(!hash.verify(b"pw-of-alice").unwrap());

    let out = h.keyward(&["pam", "list", "--db", &db], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "alice\nbob\n");

    let out = h.keyward(&["pam", "rm", "alice", "--db", &db], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("removed alice from {db}\n"));
    let out = h.keyward(&["pam", "rm", "alice", "--db", &db], "");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("keyward: no user alice in {db}: nothing was changed\n")
    );
    let out = h.keyward(&["pam", "list", "--db", &db], "");
    assert_eq!(text(&out.stdout), "bob\n");
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let (h, db) = setup();
    let out = h.keyward(
        &["pam", "passwd", "a:b", "--db", &db, "--password-fd", "0"],
        "pw\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("keyward: invalid user name"),
        "{}",
        text(&out.stderr)
    );
    let out = h.keyward(
        &["pam", "passwd", "alice", "--db", &db, "--password-fd", "0"],
        "\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("empty password: refusing it"),
        "{}",
        text(&out.stderr)
    );
    assert!(!std::path::Path::new(&db).exists());
    let long = format!("{}\n", "x".repeat(passdb::MAX_PASSWORD_LEN + 1));
    let out = h.keyward(
        &["pam", "passwd", "alice", "--db", &db, "--password-fd", "0"],
        &long,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("longer than 4096 bytes"),
        "{}",
        text(&out.stderr)
    );
    // A NUL byte: no PAM client can pass it, so the user could never log in.
    let out = h.keyward(
        &["pam", "passwd", "alice", "--db", &db, "--password-fd", "0"],
        "ab\0cd\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("contains a NUL byte"),
        "{}",
        text(&out.stderr)
    );
    assert!(!std::path::Path::new(&db).exists());
    let out = h.keyward(
        &[
            "pam",
            "passwd",
            "alice",
            "--db",
            &db,
            "--password-fd",
            "0",
            "--allow-empty",
        ],
        "\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Loose permissions: refused with the fix, exit 6, file untouched.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = std::fs::read(&db).unwrap();
    let out = h.keyward(
        &["pam", "passwd", "bob", "--db", &db, "--password-fd", "0"],
        "pw-bob\n",
    );
    assert_eq!(out.status.code(), Some(6));
    assert!(
        text(&out.stderr).contains("chmod 600"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read(&db).unwrap(), before);
    let out = h.keyward(&["pam", "list", "--db", &db], "");
    assert_eq!(out.status.code(), Some(6));

    // A line that does not parse is reported by number, kept, and skipped.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut f = std::fs::read_to_string(&db).unwrap();
    f.push_str("garbage-SENTINEL\n");
    std::fs::write(&db, &f).unwrap();
    let out = h.keyward(&["pam", "list", "--db", &db], "");
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "alice\n");
    assert_eq!(
        text(&out.stderr),
        format!("keyward: warning: {db}:2: line skipped: no `:` separator\n")
    );
    let out = h.keyward(
        &["pam", "passwd", "bob", "--db", &db, "--password-fd", "0"],
        "pw-bob\n",
    );
    assert!(out.status.success());
    assert!(std::fs::read_to_string(&db)
        .unwrap()
        .contains("\ngarbage-SENTINEL\nbob:$scrypt$"));
}

#[test]
fn the_system_database_needs_root_to_write() {
    let (h, db) = setup();
    let out = h.keyward(&["pam", "list", "--db", &db], "");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "keyward: no password database at {db}: add a user with `keyward pam passwd USER`\n"
        )
    );
    assert!(
        nix::unistd::geteuid().is_root(),
        "run as root (scripts/test does) to check what a non-root user sees"
    );
    let out = std::process::Command::new("setpriv")
        .args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "env",
            "-i",
            "HOME=/nonexistent",
        ])
        .arg(keyward_tests::bin_for_others("keyward"))
        .args(["pam", "passwd", "alice", "--password-fd", "0"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("setpriv (util-linux)");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "keyward: writing /etc/keyward/shadow needs root: run `sudo keyward pam ...`, or use --db PATH\n"
    );
}

#[test]
fn passwd_prompts_twice_on_the_terminal() {
    let (h, db) = setup();
    assert!(keyward_tests::have("expect"), "expect missing: install it");
    let kw = keyward_tests::bin("keyward");
    let script = h.path().join("passwd.exp");
    let run = |first: &str, second: &str| {
        std::fs::write(
            &script,
            format!(
                "set timeout 30\n\
                 spawn {kw} pam passwd alice --db {db}\n\
                 expect \"New PAM password for alice: \"\n\
                 send \"{first}\\r\"\n\
                 expect \"Repeat it: \"\n\
                 send \"{second}\\r\"\n\
                 expect eof\n\
                 catch wait result\n\
                 exit [lindex $result 3]\n",
                kw = kw.display()
            ),
        )
        .unwrap();
        h.command("expect").arg(&script).output().unwrap()
    };
    let out = run("tty-secret-1", "tty-secret-2");
    let all = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("the two passwords differ: nothing was changed"),
        "{all}"
    );
    assert!(!std::path::Path::new(&db).exists());
    let out = run("tty-secret-1", "tty-secret-1");
    let all = text(&out.stdout);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains(&format!("set the PAM password of alice in {db}")),
        "{all}"
    );
    // Echo was off: the password never appeared on the terminal.
    assert!(!all.contains("tty-secret"), "{all}");
    let pdb = passdb::load(
        std::path::Path::new(&db),
        &[0, nix::unistd::geteuid().as_raw()],
    )
    .unwrap();
    assert!(pdb.find("alice").unwrap().verify(b"tty-secret-1").unwrap());
}
