//! What the git end-to-end tests share: a throwaway home with an unlocked
//! vault and `git-credential-keyward` on PATH, a smart-HTTP server behind Basic
//! auth on 127.0.0.1, and GIT_ASKPASS scripts that record every prompt.
#![allow(dead_code)]

use keyward_tests::{bin, have, target_dir, TestHome};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const VAULT_PASSWORD: &str = "git e2e vault password";

/// Fails (never skips) when a tool the test drives is missing.
pub fn require(tool: &str) {
    assert!(
        have(tool),
        "{tool} is not installed: scripts/test installs it (Debian package list in PKGS)"
    );
}

/// Runs `cmd` with `input` on stdin and returns its output.
pub fn run_with_input(mut cmd: Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().unwrap();
    out
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A throwaway home with an unlocked vault (cheap scrypt: it guards nothing).
#[derive(Debug)]
pub struct GitHome {
    pub home: TestHome,
}

impl GitHome {
    pub fn new() -> GitHome {
        require("git");
        let home = TestHome::new();
        let conf = home.path().join(".config/keyward");
        std::fs::create_dir_all(&conf).unwrap();
        std::fs::write(conf.join("config.toml"), "[kdf]\nlog_n = 10\n").unwrap();
        let h = GitHome { home };
        for args in [
            &["init", "--password-fd", "0"][..],
            &["unlock", "--password-fd", "0"],
        ] {
            let mut c = h.home.command(bin("keyward"));
            c.args(args);
            let out = run_with_input(c, format!("{VAULT_PASSWORD}\n").as_bytes());
            assert!(
                out.status.success(),
                "keyward {args:?}: {}",
                text(&out.stderr)
            );
        }
        h
    }

    pub fn path(&self) -> &Path {
        self.home.path()
    }

    /// PATH with the built binaries first, so `credential.helper=keyward` finds
    /// `git-credential-keyward`.
    pub fn path_with_bins() -> std::ffi::OsString {
        let mut dirs = vec![target_dir()];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(dirs).unwrap()
    }

    /// A command in this home with the built binaries on PATH.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = self.home.command(program);
        c.env("PATH", Self::path_with_bins());
        c
    }

    /// `git -c credential.helper= -c credential.helper=HELPER ARGS...`.
    pub fn git(&self, helper: &str, args: &[&str]) -> Command {
        let mut c = self.command("git");
        c.args(["-c", "credential.helper=", "-c"])
            .arg(format!("credential.helper={helper}"))
            .args(args);
        c
    }

    /// `git credential ACTION` through `helper`, with `input` on stdin.
    pub fn git_credential(&self, helper: &str, action: &str, input: &str) -> Output {
        run_with_input(self.git(helper, &["credential", action]), input.as_bytes())
    }

    /// Runs the helper binary directly.
    pub fn helper(&self, action: &str, input: &str) -> Output {
        let mut c = self.command(bin("git-credential-keyward"));
        c.arg(action);
        run_with_input(c, input.as_bytes())
    }

    /// What `get` returns for `input` (asserting it succeeded silently).
    pub fn get(&self, input: &str) -> String {
        let out = self.helper("get", input);
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "get failed: {:?} {}",
            out.status,
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// An executable GIT_ASKPASS script: logs each prompt, answers `user` to
    /// "Username" prompts and the contents of its password file to "Password".
    pub fn askpass(&self, name: &str, user: &str, password: &str) -> Askpass {
        let dir = self.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("askpass");
        let log = dir.join("prompts");
        let pwfile = dir.join("password");
        std::fs::write(&pwfile, password).unwrap();
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\ncase \"$1\" in\n  Username*) echo '{user}' ;;\n  *) cat '{}'; echo ;;\nesac\n",
                log.display(),
                pwfile.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
        Askpass { script, log }
    }
}

impl Drop for GitHome {
    fn drop(&mut self) {
        // Drop the cached key from the user keyring now rather than at its timeout.
        let _ = self
            .home
            .command(bin("keyward"))
            .arg("lock")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[derive(Debug)]
pub struct Askpass {
    pub script: PathBuf,
    log: PathBuf,
}

impl Askpass {
    /// Every prompt git asked so far, in order.
    pub fn prompts(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .map(|s| s.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

/// `tests/git_http_server.py`: `git http-backend` behind Basic auth on a random
/// port of 127.0.0.1, exiting by itself after two minutes at most.
#[derive(Debug)]
pub struct GitServer {
    child: Child,
    pub port: u16,
    root: PathBuf,
    auth: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl GitServer {
    /// Serves one bare repository `repo.git` with one commit on `main`.
    pub fn start(user: &str, password: &str) -> GitServer {
        require("git");
        assert!(
            Path::new("/usr/bin/python3").exists(),
            "/usr/bin/python3 is missing: install python3"
        );
        let dir = tempfile::Builder::new()
            .prefix("keyward-git-server-")
            .tempdir()
            .unwrap();
        let root = dir.path().join("root");
        let bare = root.join("repo.git");
        let seed = dir.path().join("seed");
        let git = |args: &[&str], cwd: &Path| {
            let out = Command::new("git")
                .args(args)
                .current_dir(cwd)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("HOME", dir.path())
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
        };
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&seed).unwrap();
        git(
            &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()],
            dir.path(),
        );
        git(&["init", "-q", "-b", "main"], &seed);
        std::fs::write(seed.join("README"), "hello\n").unwrap();
        git(&["add", "README"], &seed);
        git(&["commit", "-q", "-m", "first"], &seed);
        git(&["push", "-q", bare.to_str().unwrap(), "main"], &seed);
        let auth = dir.path().join("auth");
        std::fs::write(&auth, format!("{user}:{password}\n")).unwrap();
        let log = dir.path().join("requests.log");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("git_http_server.py");
        let mut child = Command::new("/usr/bin/python3")
            .arg(&script)
            .arg(&root)
            .arg(&auth)
            .arg("120")
            .arg(&log)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start git_http_server.py");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let port = first.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("git_http_server.py did not print a port: {first:?}")
        });
        GitServer {
            child,
            port,
            root,
            auth,
            log,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/repo.git", self.port)
    }

    pub fn set_password(&self, user: &str, password: &str) {
        std::fs::write(&self.auth, format!("{user}:{password}\n")).unwrap();
    }

    /// `METHOD PATH STATUS USER` per request served so far.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .map(|s| s.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// Commits on the server's `main`, newest first.
    pub fn log(&self) -> Vec<String> {
        let out = Command::new("git")
            .args(["log", "--format=%s", "main"])
            .current_dir(self.root.join("repo.git"))
            .output()
            .unwrap();
        text(&out.stdout).lines().map(str::to_owned).collect()
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The version of the `git` on PATH, as (major, minor).
pub fn git_version() -> (u32, u32) {
    let out = Command::new("git")
        .arg("--version")
        .output()
        .expect("git --version");
    let v = text(&out.stdout);
    let mut nums = v
        .split_whitespace()
        .nth(2)
        .unwrap_or("")
        .split('.')
        .map(|n| n.parse().unwrap_or(0));
    (nums.next().unwrap_or(0), nums.next().unwrap_or(0))
}

/// Fails with a clear message when git is older than the protocol these
/// tests pin (git-credential(1) as of git 2.47).
pub fn require_git_2_47() {
    require("git");
    let v = git_version();
    assert!(
        v >= (2, 47),
        "git {}.{} is on PATH; these tests compare against git 2.47's credential \
         semantics (erase matching the password, password_expiry_utc, \
         oauth_refresh_token): put git 2.47 or later first on PATH",
        v.0,
        v.1
    );
}
