//! Shared by the root-only PAM end-to-end tests (`login_unlock.rs`,
//! `sshd_login.rs`): throwaway system users with a vault that follows their
//! login password.
// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The git credential every test user's vault holds, for `forge.example`.
pub const CRED_REQUEST: &str = "protocol=https\nhost=forge.example\n\n";

/// The module for a stack line: the built `libpam_keyward.so` and, for
/// `unlock`, the built login helper (a root-owned copy in a 0755 directory:
/// the module runs only a helper nobody but root can change).
pub fn module() -> String {
    format!(
        "{} login_helper={}",
        keyward_tests::bin("libpam_keyward.so").display(),
        keyward_tests::bin_for_others("keyward-login-helper").display()
    )
}

/// `chown -R uid:gid path`.
pub fn chown_r(path: &Path, uid: u32, gid: u32) {
    let st = Command::new("chown")
        .arg("-R")
        .arg(format!("{uid}:{gid}"))
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success(), "chown {}", path.display());
}

/// A throwaway system user with a home (mode 0700), removed with the home on drop.
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

impl User {
    /// `useradd -m` of a fresh name starting with `prefix`.
    pub fn new(prefix: &str) -> User {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "{prefix}{}x{}",
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
        user.clear_keys();
        user
    }

    /// Empties the user keyring of this uid. The kernel keeps a uid's user
    /// keyring after `userdel` (until its keys expire), so a uid handed out
    /// again would otherwise see keys an earlier test or run left there.
    pub fn clear_keys(&self) {
        let argv = self.argv(&["keyctl", "clear", "@u"]);
        let st = Command::new(&argv[0])
            .args(&argv[1..])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "keyctl clear @u as {}", self.name);
    }

    /// `argv` as this user (all ids dropped), with a clean environment.
    pub fn argv(&self, argv: &[&str]) -> Vec<String> {
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
            // `keyward init` below the KDF floor, for speed (config.rs).
            "KEYWARD_INSECURE_TEST_KDF=1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(argv.iter().map(|s| s.to_string()));
        v
    }

    /// `argv` as this user in a session keyring of its own linking the user
    /// keyring (what pam_keyinit gives a login), outside any PAM session;
    /// stdin from a pipe the user owns (keyward reopens /proc/self/fd/0).
    pub fn run(&self, argv: &[&str], stdin: &str) -> Output {
        let full = self.session_argv(argv);
        keyward_tests::output_with_stdin(Command::new(&full[0]).args(&full[1..]), stdin.as_bytes())
    }

    /// [`User::argv`] of `argv` in a session keyring of its own linking the
    /// user keyring, its stdin passed through a pipe the user owns.
    pub fn session_argv(&self, argv: &[&str]) -> Vec<String> {
        let mut inner = vec![
            "keyctl",
            "session",
            "-",
            "/bin/sh",
            "-c",
            "keyctl link @u @s >/dev/null && cat | \"$@\"",
            "sh",
        ];
        inner.extend_from_slice(argv);
        self.argv(&inner)
    }

    /// The vault path pam_keyward unlocks for this user.
    pub fn vault(&self) -> PathBuf {
        self.home.join(".local/share/keyward/vault")
    }

    /// A vault (cheap KDF) made by `keyward init --login` with `password`,
    /// holding one git credential for forge.example (user `dev`, password
    /// `token`), locked again.
    pub fn make_vault(&self, password: &str, token: &str) {
        let cfg = self.home.join(".config/keyward");
        std::fs::create_dir_all(&cfg).unwrap();
        std::fs::write(cfg.join("config.toml"), "[kdf]\nlog_n = 10\nr = 8\np = 1\n").unwrap();
        chown_r(&self.home.join(".config"), self.uid, self.gid);
        let kw = keyward_tests::bin_for_others("keyward");
        let kw = kw.to_str().unwrap();
        let helper = keyward_tests::bin_for_others("git-credential-keyward");
        let pw = format!("{password}\n");
        for (args, input) in [
            (
                vec![kw, "init", "--login", "--password-fd", "0"],
                pw.as_str(),
            ),
            (
                vec![kw, "unlock", "--password-fd", "0", "--timeout", "60"],
                &pw,
            ),
            (
                vec![helper.to_str().unwrap(), "store"],
                &format!("protocol=https\nhost=forge.example\nusername=dev\npassword={token}\n\n"),
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
}

impl Drop for User {
    fn drop(&mut self) {
        // Its processes have all exited; its keys would outlive it (see
        // `clear_keys`). No assertion here: a drop must not panic.
        let argv = self.argv(&["keyctl", "clear", "@u"]);
        let _ = Command::new(&argv[0])
            .args(&argv[1..])
            .stdout(Stdio::null())
            .status();
        let _ = Command::new("userdel")
            .args(["-r", "-f", &self.name])
            .stderr(Stdio::null())
            .status();
    }
}

/// A temporary `/etc/keyward` (its `keyward.toml` names a host key under a
/// temporary directory, and a TPM once [`SystemEnv::use_tpm`] is called)
/// and a setuid-root copy of `keyward-chkpwd`. Commands run in a mount
/// namespace of their own (`unshare -m`) with it bound over the real one:
/// the setuid helper and the login helper read their paths only from the
/// system configuration. Needs root.
pub struct SystemEnv {
    pub etc: tempfile::TempDir,
    pub lib: tempfile::TempDir,
    pub helper: PathBuf,
    made_etc: bool,
}

impl SystemEnv {
    pub fn new() -> SystemEnv {
        // The mount point: made if missing, removed again on drop.
        let made_etc = !Path::new("/etc/keyward").exists();
        if made_etc {
            std::fs::create_dir("/etc/keyward").unwrap();
        }
        let open = |prefix: &str| {
            let d = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
            std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            d
        };
        let (etc, lib) = (open("keyward-sys-etc-"), open("keyward-sys-lib-"));
        std::fs::write(
            etc.path().join("keyward.toml"),
            format!("host_key = \"{}/host.key\"\n", lib.path().display()),
        )
        .unwrap();
        let helper = keyward_tests::bin_for_others("keyward-chkpwd");
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o4755)).unwrap();
        SystemEnv {
            etc,
            lib,
            helper,
            made_etc,
        }
    }

    /// Where the host key is made.
    pub fn host_key(&self) -> PathBuf {
        self.lib.path().join("host.key")
    }

    /// Adds `tpm2_tcti` to the temporary system configuration: the only
    /// place the login helper takes its TPM from.
    pub fn use_tpm(&self, tcti: &str) {
        let conf = self.etc.path().join("keyward.toml");
        let mut s = std::fs::read_to_string(&conf).unwrap();
        s.push_str(&format!("tpm2_tcti = \"{tcti}\"\n"));
        std::fs::write(conf, s).unwrap();
    }

    /// `argv` in a mount namespace with the temporary /etc/keyward.
    pub fn command(&self, argv: &[&str]) -> Command {
        let mut c = Command::new("unshare");
        c.args(["-m", "--propagation", "private", "/bin/sh", "-c"])
            .arg("mount --bind \"$1\" /etc/keyward && shift && exec \"$@\"")
            .arg("sh")
            .arg(self.etc.path())
            .args(argv);
        c
    }

    /// `keyward ARGS` as `u` (see [`SystemEnv::as_user`]), the setuid
    /// helper named by KEYWARD_CHKPWD.
    pub fn keyward(&self, u: &User, args: &[&str], stdin: &str) -> Output {
        let kw = keyward_tests::bin_for_others("keyward");
        let chk = format!("KEYWARD_CHKPWD={}", self.helper.display());
        let mut inner = vec!["env", &chk, kw.to_str().unwrap()];
        inner.extend_from_slice(args);
        self.as_user(u, &inner, stdin)
    }

    /// `argv` as `u` in the namespace, in a session keyring linking the
    /// user keyring, `stdin` written to it.
    pub fn as_user(&self, u: &User, argv: &[&str], stdin: &str) -> Output {
        let full = u.session_argv(argv);
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        keyward_tests::output_with_stdin(&mut self.command(&full), stdin.as_bytes())
    }
}

impl Drop for SystemEnv {
    fn drop(&mut self) {
        if self.made_etc {
            let _ = std::fs::remove_dir("/etc/keyward");
        }
    }
}
