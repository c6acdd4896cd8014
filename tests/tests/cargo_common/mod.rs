//! Shared pieces of the cargo provider's tests: a throwaway home with an
//! unlocked vault, an isolated CARGO_HOME that uses `cargo-credential-keyward`,
//! the real cargo, and a local sparse registry requiring a token
//! (`registry.py`, on 127.0.0.1).
#![allow(dead_code)] // each test binary uses a different part

use keyward_tests::{bin, output_with_stdin, target_dir, text, TestHome};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The vault password of these tests.
pub const VAULT_PASSWORD: &str = "correct horse battery staple";

/// The cargo that runs these tests (`$CARGO`, set by `cargo test`), with its
/// own rustc beside it: the throwaway HOME has no rustup configuration.
pub fn cargo_bin() -> (PathBuf, PathBuf) {
    let cargo = PathBuf::from(
        std::env::var_os("CARGO").expect("CARGO is not set: run the tests with `cargo test`"),
    );
    let rustc = cargo.with_file_name("rustc");
    (cargo, rustc)
}

/// A home with an unlocked vault and `$HOME/.cargo` as CARGO_HOME, its
/// config.toml naming the provider and (once [`CargoHome::use_registry`]
/// ran) the registry `local`.
#[derive(Debug)]
pub struct CargoHome {
    pub home: TestHome,
}

impl CargoHome {
    pub fn unlocked() -> Self {
        let home = TestHome::new();
        home.init_unlocked_vault(VAULT_PASSWORD);
        std::fs::create_dir_all(home.path().join(".cargo")).unwrap();
        CargoHome { home }
    }

    pub fn cargo_home(&self) -> PathBuf {
        self.home.path().join(".cargo")
    }

    /// Writes CARGO_HOME/config.toml: the provider (by name, found on PATH)
    /// for every registry, and `local` at `index`.
    pub fn use_registry(&self, index: &str) {
        std::fs::write(
            self.cargo_home().join("config.toml"),
            format!(
                "[registry]\nglobal-credential-providers = [\"cargo-credential-keyward\"]\n\n\
                 [registries.local]\nindex = \"{index}\"\n"
            ),
        )
        .unwrap();
    }

    /// A command in this home: PATH = the built binaries, then the system's;
    /// CARGO_HOME isolated; the real cargo and rustc (and rustup's settings,
    /// when the toolchain comes from rustup).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = self.home.command(program);
        let mut paths = vec![target_dir()];
        paths.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let (_, rustc) = cargo_bin();
        c.env("PATH", std::env::join_paths(paths).unwrap())
            .env("CARGO_HOME", self.cargo_home())
            .env("CARGO_TARGET_DIR", self.home.path().join("target"))
            .env("RUSTC", rustc)
            .env("CARGO_TERM_COLOR", "never");
        for var in ["RUSTUP_HOME", "RUSTUP_TOOLCHAIN"] {
            if let Some(v) = std::env::var_os(var) {
                c.env(var, v);
            }
        }
        c
    }

    /// `cargo ARGS` in `dir` with `stdin`, bounded to two minutes.
    pub fn cargo(&self, dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
        let (cargo, _) = cargo_bin();
        let mut c = self.command("timeout");
        c.args(["-s", "KILL", "120"])
            .arg(cargo)
            .args(args)
            .current_dir(dir);
        output_with_stdin(&mut c, stdin)
    }

    /// `keyward ARGS` in this home.
    pub fn keyward(&self, args: &[&str], stdin: &[u8]) -> Output {
        output_with_stdin(self.command(bin("keyward")).args(args), stdin)
    }

    /// `cargo-credential-keyward --cargo-plugin` with `stdin`.
    pub fn provider(&self, stdin: &[u8]) -> Output {
        let mut c = self.command("timeout");
        c.args(["-s", "KILL", "30"])
            .arg(bin("cargo-credential-keyward"))
            .arg("--cargo-plugin");
        output_with_stdin(&mut c, stdin)
    }

    /// A binary crate `usekw` depending on `kwdemo` from `local`; its directory.
    pub fn project(&self) -> PathBuf {
        let dir = self.home.path().join("usekw");
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"usekw\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nkwdemo = { version = \"0.1.0\", registry = \"local\" }\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("src/main.rs"),
            "fn main() {\n    println!(\"{}\", kwdemo::greeting());\n}\n",
        )
        .unwrap();
        dir
    }

    /// Forgets what cargo downloaded (index cache, crate, lock file, build), so
    /// the next build asks the registry again.
    pub fn forget_downloads(&self, project: &Path) {
        for p in [
            self.cargo_home().join("registry"),
            self.home.path().join("target"),
        ] {
            let _ = std::fs::remove_dir_all(p);
        }
        let _ = std::fs::remove_file(project.join("Cargo.lock"));
    }
}

/// `registry.py` on 127.0.0.1: killed on drop, dies with its parent
/// (`setpriv --pdeathsig`) and after five minutes in any case.
#[derive(Debug)]
pub struct Registry {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl Registry {
    /// Starts the registry accepting `token`.
    pub fn start(token: &str) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("keyward-cargo-registry-")
            .tempdir()
            .unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cargo_common/registry.py");
        let r = Registry {
            child: Command::new("timeout")
                .args(["-s", "KILL", "300", "setpriv", "--pdeathsig", "KILL", "--"])
                .arg("/usr/bin/python3")
                .arg(script)
                .args(["token", "port", "requests.log"])
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.path().join("stderr.log")).unwrap())
                .spawn()
                .expect("start /usr/bin/python3 registry.py"),
            port: 0,
            dir,
        };
        r.set_token(token);
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut r = r;
        while Instant::now() < deadline {
            if let Ok(p) = std::fs::read_to_string(r.dir.path().join("port")) {
                r.port = p.trim().parse().unwrap();
                return r;
            }
            if let Ok(Some(status)) = r.child.try_wait() {
                panic!(
                    "registry.py exited ({status}): {}",
                    std::fs::read_to_string(r.dir.path().join("stderr.log")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("registry.py did not start");
    }

    /// The token the server accepts from now on.
    pub fn set_token(&self, token: &str) {
        std::fs::write(self.dir.path().join("token"), token).unwrap();
    }

    /// `sparse+http://127.0.0.1:PORT/index/`.
    pub fn index(&self) -> String {
        format!("sparse+http://127.0.0.1:{}/index/", self.port)
    }

    /// The requests so far, one `STATUS PATH` each.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("requests.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Forgets the requests so far.
    pub fn clear_requests(&self) {
        let _ = std::fs::remove_file(self.dir.path().join("requests.log"));
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Both output streams, for failure messages.
pub fn both(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}
