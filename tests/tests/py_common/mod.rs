//! What the Python keyring and AWS tests share: the virtual environment
//! `scripts/python-tools` fills with the PyPI clients and servers (pip, twine,
//! uv, keyring, pypiserver, the AWS CLI, moto), and servers started on
//! 127.0.0.1 for one test and stopped when it ends.
#![allow(dead_code, reason = "each test file uses a part")]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The virtual environment: `$KEYWARD_TEST_VENV`, else /opt/keyward-test/venv.
pub fn venv() -> PathBuf {
    std::env::var_os("KEYWARD_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/keyward-test/venv"))
}

/// A program of the virtual environment; fails the test (never skips it)
/// when it is missing.
pub fn tool(name: &str) -> PathBuf {
    let p = venv().join("bin").join(name);
    assert!(
        p.is_file(),
        "{} is missing: run scripts/python-tools (scripts/test does)",
        p.display()
    );
    p
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A server process listening on 127.0.0.1, killed when dropped.
pub struct Server {
    child: Child,
    /// Its port.
    pub port: u16,
    log: PathBuf,
    dir: tempfile::TempDir,
}

impl Server {
    /// Starts `make(port, dir)` (a command for a server on that port, with a
    /// scratch directory) and waits until the port accepts connections,
    /// retrying on another port if the first was taken meanwhile.
    pub fn start(what: &str, make: impl Fn(u16, &Path) -> Command) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("keyward-server-")
            .tempdir()
            .unwrap();
        let log = dir.path().join("server.log");
        for _ in 0..3 {
            let port = free_port();
            let out = std::fs::File::create(&log).unwrap();
            let mut child = make(port, dir.path())
                .stdin(Stdio::null())
                .stdout(out.try_clone().unwrap())
                .stderr(out)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Server {
                        child,
                        port,
                        log,
                        dir,
                    };
                }
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "{what} did not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// The scratch directory the server was started with.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
