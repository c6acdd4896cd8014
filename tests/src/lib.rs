//! Shared helpers for keyward's end-to-end tests: where the built binaries are,
//! and throwaway homes that never touch the user's real files.
#![forbid(unsafe_code)]

pub mod core_scan;
pub mod swtpm;
pub mod transcript;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The cargo target profile directory (`target/debug`) these tests were built into.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/debug/deps/<test-binary>
    let deps = exe.parent().expect("deps dir");
    deps.parent().expect("profile dir").to_path_buf()
}

/// Path of a workspace binary (`keyward`, `git-credential-keyward`, …) or of
/// `libpam_keyward.so`. Panics with a hint when it has not been built.
pub fn bin(name: &str) -> PathBuf {
    let p = target_dir().join(name);
    assert!(
        p.exists(),
        "{} is not built: run `cargo build --workspace` first (scripts/test does)",
        p.display()
    );
    p
}

/// [`bin`]`(name)` copied to a directory every user can enter (under the
/// system's temp directory, one per build tree and uid, mode 0755), for
/// programs the tests run as throwaway users: a checkout in a directory
/// others cannot enter (root's home, any 0700 home) keeps them out of
/// `target/`. The copy is replaced atomically on each call.
pub fn bin_for_others(name: &str) -> PathBuf {
    use std::hash::{Hash, Hasher};
    use std::os::unix::fs::PermissionsExt;
    let src = bin(name);
    let me = keyward_trustfs::fs_uid();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    target_dir().hash(&mut h);
    let dir = std::env::temp_dir().join(format!("keyward-test-bin-{me}-{:016x}", h.finish()));
    // Created 0755 if missing; refused if someone else owns it or may write to it.
    keyward_trustfs::Trust::system(&[me], 0o022)
        .ensure_dir(&dir)
        .unwrap_or_else(|e| panic!("{e}"));
    static COPIES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COPIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{n}", std::process::id()));
    // A hard link where the two lie on one file system: a copy is open for
    // writing while it is made, and a child another test thread forks in that
    // moment holds the descriptor until its exec, so running the copy fails
    // with ETXTBSY ("Text file busy"; seen in password_fd under the full
    // suite). A link never has a writer. A copy only across file systems.
    if std::fs::hard_link(&src, &tmp).is_err() {
        std::fs::copy(&src, &tmp).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
    }
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dst = dir.join(name);
    std::fs::rename(&tmp, &dst).unwrap();
    // `keyward` becomes the keyward-cli beside it for all but its quick calls.
    if name == "keyward" {
        bin_for_others("keyward-cli");
    }
    dst
}

/// Fails the test unless it runs as root, naming what needs root: tests that
/// need root run (scripts/test runs as root) or fail, never pass after a SKIP.
pub fn require_root(why: &str) {
    assert!(
        keyward_trustfs::fs_uid() == 0,
        "needs root ({why}): run scripts/test as root"
    );
}

/// Runs `cmd` with `stdin` on its standard input and collects its output.
/// The input is written from a thread, so a child that exits early or fills
/// its output pipe before reading cannot deadlock the test.
pub fn output_with_stdin(cmd: &mut Command, stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // A child that exits early closes the pipe; that is not our failure.
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("stdin writer");
    out
}

/// Output bytes as text (lossy).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The stdout of a command that must have succeeded (else a panic showing
/// its exit code and both outputs).
pub fn ok_stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Whether an external program is on PATH.
pub fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}

/// A throwaway HOME with XDG directories and a vault path inside it.
#[derive(Debug)]
pub struct TestHome {
    dir: tempfile::TempDir,
}

impl TestHome {
    /// Creates the directory tree (mode 0700 as `tempfile` makes it).
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("keyward-test-home-")
            .tempdir()
            .expect("tempdir");
        for sub in [".config", ".local/share", ".local/state", ".cache"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        TestHome { dir }
    }

    /// The HOME directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The vault file path used by [`Self::command`].
    pub fn vault_path(&self) -> PathBuf {
        self.dir.path().join(".local/share/keyward/vault")
    }

    /// A command whose environment points only into this home: HOME, XDG
    /// directories, `KEYWARD_VAULT`, no inherited git/docker configuration,
    /// no terminal prompting, no real TPM (`KEYWARD_TPM2_TCTI`).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        let home = self.dir.path();
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("KEYWARD_VAULT", self.vault_path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("DOCKER_CONFIG", home.join(".docker"))
            .env("LANG", "C.UTF-8")
            // The test-only escape below the KDF floor (config.rs
            // `kdf_for_new_password`): the tests' `[kdf] log_n = 10` keeps
            // them fast. Tests of the floor remove it.
            .env("KEYWARD_INSECURE_TEST_KDF", "1")
            // Never the machine's own TPM: TPM tests point this at a swtpm.
            .env("KEYWARD_TPM2_TCTI", "device:/nonexistent/keyward-test-tpm")
            .current_dir(home);
        c
    }
}

impl Default for TestHome {
    fn default() -> Self {
        Self::new()
    }
}

impl TestHome {
    /// Writes `$XDG_CONFIG_HOME/keyward/config.toml`.
    pub fn write_config(&self, toml: &str) {
        let dir = self.dir.path().join(".config/keyward");
        std::fs::create_dir_all(&dir).expect("mkdir config");
        std::fs::write(dir.join("config.toml"), toml).expect("write config");
    }

    /// Runs `keyward ARGS` in this home with `stdin` as its standard input
    /// (so `--password-fd 0` reads it).
    pub fn keyward(&self, args: &[&str], stdin: &str) -> Output {
        output_with_stdin(self.command(bin("keyward")).args(args), stdin.as_bytes())
    }

    /// A vault with cheap test KDF parameters (`[kdf] log_n = 10`), created
    /// and unlocked (key in the kernel keyring for 10 minutes) with `password`.
    pub fn init_unlocked_vault(&self, password: &str) {
        self.write_config("[kdf]\nlog_n = 10\nr = 8\np = 1\n");
        for cmd in [
            &["init", "--password-fd", "0"][..],
            &["unlock", "--password-fd", "0", "--timeout", "10m"],
        ] {
            let out = self.keyward(cmd, &format!("{password}\n"));
            assert!(
                out.status.success(),
                "keyward {cmd:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

impl Drop for TestHome {
    /// Forgets this home's unlocked vault key (if any) so that test runs do
    /// not pile up keys in the user keyring (a non-root user may hold 200).
    fn drop(&mut self) {
        let kw = target_dir().join("keyward");
        if kw.exists() && self.vault_path().exists() {
            let _ = self
                .command(kw)
                .arg("lock")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}
