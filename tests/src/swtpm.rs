//! A throwaway software TPM (swtpm) for the TPM tests: its state in a
//! temporary directory, listening on 127.0.0.1, killed on drop. Nothing
//! touches a real TPM.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `swtpm socket --tpm2`.
///
/// swtpm serves one connection at a time, and libtss2 opens its sockets
/// without `SOCK_CLOEXEC`: a child spawned while a TPM connection of this
/// process is open inherits it and keeps swtpm waiting on it. Tests that use
/// a `Swtpm` and keyward-tpm in one process run one at a time (`#[serial]`).
#[derive(Debug)]
pub struct Swtpm {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

/// Two consecutive free TCP ports on 127.0.0.1 (swtpm's TCTI talks to the
/// server on `port` and to the control channel on `port + 1`).
fn port_pair() -> Option<u16> {
    let a = TcpListener::bind("127.0.0.1:0").ok()?;
    let p = a.local_addr().ok()?.port();
    let _b = TcpListener::bind(("127.0.0.1", p.checked_add(1)?)).ok()?;
    Some(p)
}

impl Swtpm {
    /// Starts a fresh TPM (manufactured on first start, `startup-clear`
    /// done), waiting until it accepts connections. Panics with the reason
    /// when swtpm is missing or will not start.
    pub fn start() -> Swtpm {
        assert!(
            crate::have("swtpm"),
            "swtpm is not installed (Debian: swtpm swtpm-tools; scripts/test installs them)"
        );
        let dir = tempfile::Builder::new()
            .prefix("keyward-swtpm")
            .tempdir()
            .expect("temp dir");
        let mut last = String::new();
        // Another process may take a port between our probe and swtpm's
        // bind: try a few pairs.
        for _ in 0..10 {
            let Some(port) = port_pair() else { continue };
            let mut child = Command::new("swtpm")
                .arg("socket")
                .arg("--tpm2")
                .arg("--server")
                .arg(format!("type=tcp,port={port},bindaddr=127.0.0.1"))
                .arg("--ctrl")
                .arg(format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1))
                .arg("--tpmstate")
                .arg(format!("dir={}", dir.path().display()))
                .arg("--flags")
                .arg("not-need-init,startup-clear")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn swtpm");
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    let out = child.wait_with_output().expect("swtpm output");
                    last = crate::text(&out.stderr);
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok()
                    && TcpStream::connect(("127.0.0.1", port + 1)).is_ok()
                {
                    return Swtpm { child, port, dir };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("swtpm did not listen on 127.0.0.1:{port} within 20 s");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("swtpm would not start: {last}");
    }

    /// The libtss2 TCTI string that reaches it (`KEYWARD_TPM2_TCTI`, `tpm2_tcti`, tpm2-tools' `-T`).
    pub fn tcti(&self) -> String {
        format!("swtpm:host=127.0.0.1,port={}", self.port)
    }

    /// The directory holding its state.
    pub fn state_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs a tpm2-tools program (`tpm2_pcrextend`, `tpm2_getcap`, …) against
    /// this TPM and returns its stdout; panics with its stderr on failure.
    pub fn tool(&self, program: &str, args: &[&str]) -> String {
        let out = Command::new(program)
            .args(args)
            .env("TPM2TOOLS_TCTI", self.tcti())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program} (Debian: tpm2-tools): {e}"));
        crate::ok_stdout(&out)
    }

    /// A numeric property from `tpm2_getcap properties-variable`
    /// (`TPM2_PT_LOCKOUT_COUNTER`, …).
    pub fn property(&self, name: &str) -> u32 {
        let out = self.tool("tpm2_getcap", &["properties-variable"]);
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("{name} not in tpm2_getcap's output:\n{out}"));
        let v = line.split(':').nth(1).unwrap_or("").trim();
        let v = v.trim_start_matches("0x");
        u32::from_str_radix(v, 16).unwrap_or_else(|e| panic!("{line}: {e}"))
    }
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
