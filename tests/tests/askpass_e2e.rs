//! `keyward askpass` as `SSH_ASKPASS` (with `SSH_ASKPASS_REQUIRE=force`):
//! `ssh-keygen -y` and `ssh-add` (to an ssh-agent the test starts) open a
//! passphrase-protected key whose passphrase is only in the vault, by name
//! or found from ssh-add's prompt; a wrong passphrase fails at once instead
//! of looping on ssh-add's retry prompt.
#![forbid(unsafe_code)]

use keyward_tests::{bin, have, output_with_stdin, text, TestHome};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const PW: &str = "correct horse battery staple";
const PASSPHRASE: &str = "ssh-key-s3cret-passphrase";

fn both(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

fn script(path: &Path, body: &str) -> PathBuf {
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_path_buf()
}

struct Ssh {
    h: TestHome,
    key: PathBuf,
    /// `keyward askpass ssh/kwkey "$@"`
    by_name: PathBuf,
    /// `keyward askpass "$@"`
    by_prompt: PathBuf,
}

impl Ssh {
    fn new() -> Ssh {
        for p in ["ssh-keygen", "ssh-add", "ssh-agent"] {
            assert!(
                have(p),
                "{p} is not installed (scripts/test installs openssh-client)"
            );
        }
        let h = TestHome::new();
        h.init_unlocked_vault(PW);
        let key = h.path().join("kwkey");
        let out = Command::new("ssh-keygen")
            .args([
                "-q", "-t", "ed25519", "-C", "kw-test", "-N", PASSPHRASE, "-f",
            ])
            .arg(&key)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", both(&out));
        let out = h.keyward(
            &["set", "ssh/kwkey", "--secret-fd", "0"],
            &format!("{PASSPHRASE}\n"),
        );
        assert!(out.status.success(), "{}", both(&out));
        let kw = bin("keyward");
        let by_name = script(
            &h.path().join("askpass-by-name"),
            &format!(
                "#!/bin/sh\nexec {} askpass ssh/kwkey \"$@\"\n",
                kw.display()
            ),
        );
        let by_prompt = script(
            &h.path().join("askpass-by-prompt"),
            &format!("#!/bin/sh\nexec {} askpass \"$@\"\n", kw.display()),
        );
        Ssh {
            h,
            key,
            by_name,
            by_prompt,
        }
    }

    /// `program ARGS` with SSH_ASKPASS forced, no terminal, bounded.
    fn run(&self, askpass: &Path, program: &str, args: &[&str], agent: Option<&Path>) -> Output {
        let mut c = self.h.command("timeout");
        c.args(["-s", "KILL", "60", program])
            .args(args)
            .env("SSH_ASKPASS", askpass)
            .env("SSH_ASKPASS_REQUIRE", "force")
            .env("DISPLAY", ":0");
        if let Some(sock) = agent {
            c.env("SSH_AUTH_SOCK", sock);
        }
        output_with_stdin(&mut c, b"")
    }

    fn public_key(&self) -> String {
        let pubkey = std::fs::read_to_string(self.key.with_extension("pub")).unwrap();
        pubkey
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[test]
fn ssh_keygen_reads_the_key_with_the_named_secret() {
    let s = Ssh::new();
    let key = s.key.to_str().unwrap();
    let out = s.run(&s.by_name, "ssh-keygen", &["-y", "-f", key], None);
    assert!(out.status.success(), "{}", both(&out));
    assert!(
        text(&out.stdout).starts_with(&format!("{} ", s.public_key())),
        "{}",
        both(&out)
    );

    // ssh-keygen's prompt names no key: matching cannot tell, and says so.
    let out = s.run(&s.by_prompt, "ssh-keygen", &["-y", "-f", key], None);
    assert!(!out.status.success(), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("run `keyward askpass NAME`"),
        "{}",
        both(&out)
    );

    // A wrong passphrase in the vault: refused by ssh-keygen.
    let out = s.h.keyward(
        &["set", "ssh/kwkey", "--secret-fd", "0"],
        "not-the-passphrase\n",
    );
    assert!(out.status.success());
    let out = s.run(&s.by_name, "ssh-keygen", &["-y", "-f", key], None);
    assert!(!out.status.success(), "{}", both(&out));
    assert!(!text(&out.stdout).contains("ssh-ed25519"));
}

/// `ssh-agent -D -a SOCK`, killed on drop.
struct Agent {
    child: std::process::Child,
    sock: PathBuf,
}

impl Agent {
    fn start(dir: &Path) -> Agent {
        let sock = dir.join("agent.sock");
        let child = Command::new("timeout")
            .args(["-s", "KILL", "120", "ssh-agent", "-D", "-a"])
            .arg(&sock)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !sock.exists() {
            assert!(Instant::now() < deadline, "ssh-agent did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Agent { child, sock }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn ssh_add_loads_the_key_by_name_and_by_prompt() {
    let s = Ssh::new();
    let agent = Agent::start(s.h.path());
    let key = s.key.to_str().unwrap();
    let fingerprint = {
        let out = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(s.key.with_extension("pub"))
            .output()
            .unwrap();
        text(&out.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_owned()
    };
    let listed = |s: &Ssh| {
        text(
            &s.run(&s.by_name, "ssh-add", &["-l"], Some(&agent.sock))
                .stdout,
        )
    };

    for askpass in [&s.by_prompt, &s.by_name] {
        let out = s.run(askpass, "ssh-add", &[key], Some(&agent.sock));
        assert!(
            out.status.success(),
            "{}: {}",
            askpass.display(),
            both(&out)
        );
        assert!(listed(&s).contains(&fingerprint));
        let out = s.run(askpass, "ssh-add", &["-D"], Some(&agent.sock));
        assert!(out.status.success(), "{}", both(&out));
        assert!(!listed(&s).contains(&fingerprint));
    }

    // A wrong passphrase: ssh-add's retry prompt is refused, so it stops at once.
    let out = s.h.keyward(
        &["set", "ssh/kwkey", "--secret-fd", "0"],
        "not-the-passphrase\n",
    );
    assert!(out.status.success());
    let start = Instant::now();
    let out = s.run(&s.by_prompt, "ssh-add", &[key], Some(&agent.sock));
    assert!(!out.status.success(), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("the stored passphrase was refused"),
        "{}",
        both(&out)
    );
    assert!(start.elapsed() < Duration::from_secs(30));
    assert!(!listed(&s).contains(&fingerprint));

    // No such secret: named in the error, nothing loaded.
    let out = s.h.keyward(&["rm", "ssh/kwkey"], "");
    assert!(out.status.success(), "{}", both(&out));
    let out = s.run(&s.by_prompt, "ssh-add", &[key], Some(&agent.sock));
    assert!(!out.status.success(), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("no secret named ssh/kwkey"),
        "{}",
        both(&out)
    );
    assert!(!text(&out.stderr).contains(PASSPHRASE));
}

#[test]
fn confirmations_get_no_answer() {
    let s = Ssh::new();
    let out = output_with_stdin(
        s.h.command(&s.by_name)
            .arg("Allow use of key kwkey?")
            .env("SSH_ASKPASS_PROMPT", "confirm"),
        b"",
    );
    assert!(!out.status.success(), "{}", both(&out));
    assert!(out.stdout.is_empty());
    // The named secret, by itself (as a password command would use it).
    let out = output_with_stdin(s.h.command(&s.by_name).arg("Enter passphrase: "), b"");
    assert_eq!(
        text(&out.stdout),
        format!("{PASSPHRASE}\n"),
        "{}",
        both(&out)
    );
}
