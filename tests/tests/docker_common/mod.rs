//! Shared pieces of the docker helper's end-to-end tests: a local authenticated
//! registry, a throwaway home with an unlocked vault and the helper on PATH, and
//! a tiny OCI image.
#![allow(dead_code)] // each test binary uses a different part

use keyward_tests::{bin, have, target_dir, TestHome};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The vault password every docker test uses.
pub const VAULT_PASSWORD: &str = "correct horse battery staple";

/// Fails the test (never skips it) when a tool the test drives is missing.
pub fn require(program: &str, package: &str) {
    assert!(
        have(program),
        "`{program}` is not installed: `apt-get install {package}` (scripts/test does)"
    );
}

/// Runs `cmd` with `stdin`, bounded by `timeout` (coreutils) so a hang fails
/// the test instead of blocking it.
pub use keyward_tests::output_with_stdin as run;

/// A command prefixed with `timeout -s KILL SECS`.
pub fn bounded(secs: u32, program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = Command::new("timeout");
    c.arg("-s").arg("KILL").arg(secs.to_string()).arg(program);
    c
}

/// Text of an output stream, for assertions.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A throwaway home whose vault is created and unlocked, with the built
/// helpers first on PATH.
#[derive(Debug)]
pub struct VaultHome {
    pub home: TestHome,
}

impl VaultHome {
    /// A home with an unlocked vault (cheap KDF parameters, in its own config).
    pub fn unlocked() -> Self {
        let home = TestHome::new();
        let cfg = home.path().join(".config/keyward");
        std::fs::create_dir_all(&cfg).unwrap();
        // Tests do not need production scrypt cost.
        std::fs::write(cfg.join("config.toml"), "[kdf]\nlog_n = 10\nr = 8\np = 1\n").unwrap();
        let vh = VaultHome { home };
        for action in ["init", "unlock"] {
            let out = run(
                vh.command(bin("keyward"))
                    .arg(action)
                    .arg("--password-fd")
                    .arg("0"),
                format!("{VAULT_PASSWORD}\n").as_bytes(),
            );
            assert!(
                out.status.success(),
                "keyward {action} failed: {}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
        }
        vh
    }

    /// A command in this home with PATH = the built binaries, then the system.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = self.home.command(program);
        let mut paths = vec![target_dir()];
        paths.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        c.env("PATH", std::env::join_paths(paths).unwrap());
        c
    }

    /// Runs `docker-credential-keyward ACTION` with `stdin`.
    pub fn helper(&self, action: &str, stdin: &[u8]) -> Output {
        run(
            self.command("timeout")
                .args(["-s", "KILL", "30"])
                .arg(bin("docker-credential-keyward"))
                .arg(action),
            stdin,
        )
    }

    /// `list`, checked to succeed, as text.
    pub fn list(&self) -> String {
        let out = self.helper("list", b"");
        assert!(out.status.success(), "list failed: {}", text(&out.stdout));
        text(&out.stdout)
    }

    pub fn path(&self) -> &Path {
        self.home.path()
    }
}

/// A local `docker-registry` (distribution 2.x) on 127.0.0.1, plain HTTP,
/// requiring htpasswd basic auth. Killed on drop; it also dies with its
/// parent (`setpriv --pdeathsig`) and after five minutes in any case.
#[derive(Debug)]
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry that accepts `user`/`password`.
    pub fn start(user: &str, password: &str) -> Registry {
        require("docker-registry", "docker-registry");
        require("htpasswd", "apache2-utils");
        require("setpriv", "util-linux");
        let dir = tempfile::Builder::new()
            .prefix("keyward-registry-")
            .tempdir()
            .unwrap();
        let out = Command::new("htpasswd")
            .args(["-B", "-b", "-n", user, password])
            .output()
            .unwrap();
        assert!(out.status.success(), "htpasswd: {}", text(&out.stderr));
        std::fs::write(dir.path().join("htpasswd"), &out.stdout).unwrap();
        std::fs::create_dir(dir.path().join("storage")).unwrap();
        for _attempt in 0..5 {
            let port = free_port();
            let addr = format!("127.0.0.1:{port}");
            let config = format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n\
                 http:\n  addr: {addr}\n\
                 auth:\n  htpasswd:\n    realm: keyward-test\n    path: {htpasswd}\n",
                storage = dir.path().join("storage").display(),
                htpasswd = dir.path().join("htpasswd").display(),
            );
            let cfg = dir.path().join("config.yml");
            std::fs::write(&cfg, config).unwrap();
            let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
            let mut child = bounded(300, "setpriv")
                .args(["--pdeathsig", "KILL", "--", "docker-registry", "serve"])
                .arg(&cfg)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("start docker-registry");
            let deadline = Instant::now() + Duration::from_secs(15);
            let sock: SocketAddr = addr.parse().unwrap();
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // port taken in the meantime: try another
                }
                if TcpStream::connect_timeout(&sock, Duration::from_millis(200)).is_ok() {
                    return Registry { child, addr, dir };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "docker-registry did not start: {}",
            std::fs::read_to_string(dir.path().join("registry.log")).unwrap_or_default()
        );
    }

    /// The registry's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn sha256_hex(data: &[u8]) -> String {
    let out = run(&mut Command::new("sha256sum"), data);
    assert!(out.status.success());
    text(&out.stdout)[..64].to_owned()
}

/// A one-layer image in an OCI layout directory. Returns the directory and the
/// manifest and layer digests (`sha256:…`).
#[derive(Debug)]
pub struct OciImage {
    pub dir: PathBuf,
    pub manifest: String,
    pub manifest_digest: String,
    pub layer_digest: String,
}

/// Writes a tiny OCI image (one gzipped layer holding `/hello.txt`) under
/// `parent/oci`, tagged `tag`.
pub fn oci_image(parent: &Path, tag: &str) -> OciImage {
    let dir = parent.join("oci");
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |data: &[u8]| {
        let hex = sha256_hex(data);
        std::fs::write(blobs.join(&hex), data).unwrap();
        (format!("sha256:{hex}"), data.len())
    };
    let tar = tar_one_file("hello.txt", b"hello from keyward's docker helper test\n");
    let gz = run(Command::new("gzip").args(["-n", "-c"]), &tar);
    assert!(gz.status.success(), "gzip: {}", text(&gz.stderr));
    let (layer_digest, layer_size) = put(&gz.stdout);
    let diff_id = format!("sha256:{}", sha256_hex(&tar));
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{}},"rootfs":{{"type":"layers","diff_ids":["{diff_id}"]}}}}"#
    );
    let (config_digest, config_size) = put(config.as_bytes());
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{config_size}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{layer_digest}","size":{layer_size}}}]}}"#
    );
    let (manifest_digest, manifest_size) = put(manifest.as_bytes());
    std::fs::write(
        dir.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{manifest_digest}","size":{manifest_size},"annotations":{{"org.opencontainers.image.ref.name":"{tag}"}}}}]}}"#
        ),
    )
    .unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    OciImage {
        dir,
        manifest,
        manifest_digest,
        layer_digest,
    }
}

/// A ustar archive holding one regular file.
fn tar_one_file(name: &str, data: &[u8]) -> Vec<u8> {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    let octal = |field: &mut [u8], value: u64| {
        let s = format!("{:0width$o}\0", value, width = field.len() - 1);
        field.copy_from_slice(s.as_bytes());
    };
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], data.len() as u64);
    octal(&mut h[136..148], 1_700_000_000);
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out.extend_from_slice(&[0u8; 1024]);
    out
}
