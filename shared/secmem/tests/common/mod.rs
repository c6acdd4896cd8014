//! Running scenarios in child processes: each scenario is an `#[ignore]`d test of
//! the same binary, run with `--exact --ignored` and `KEYWARD_CHILD=1`.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// The two locking backends a scenario runs under.
pub const BACKENDS: [&str; 2] = ["memfd_secret", "mlock"];

/// Whether this process is a scenario child.
pub fn in_child() -> bool {
    std::env::var_os("KEYWARD_CHILD").is_some()
}

/// Runs the `#[ignore]`d test `name` of this binary in a child process.
pub fn run_child(name: &str, backend: &str, env: &[(&str, &str)], cwd: Option<&Path>) -> Output {
    let mut cmd = Command::new(std::env::current_exe().expect("test binary path"));
    cmd.args([
        name,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("KEYWARD_CHILD", "1")
    .env("KEYWARD_SECMEM_BACKEND", backend)
    .env("RUST_BACKTRACE", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().expect("run test child");
    let pid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(120)) {
        Ok(out) => out.expect("wait for test child"),
        Err(_) => {
            // SAFETY: signalling our own child, which is still unreaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let out = rx.recv().expect("child output").expect("wait");
            panic!("scenario {name} hung for 120 s; {}", describe(&out));
        }
    }
}

/// Signal that ended the child, if any.
pub fn signal_of(out: &Output) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    out.status.signal()
}

/// Child's stdout and stderr as text, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// True when a child ran under `backend` (it prints `backend=NAME`); prints a
/// note and returns false when the kernel chose another one.
pub fn ran_under(out: &Output, backend: &str) -> bool {
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains(&format!("backend={backend}")) {
        true
    } else {
        eprintln!(
            "note: {backend} is not available on this kernel; scenario ran under another backend"
        );
        false
    }
}

/// The `/proc/self/smaps` entry (header line + fields) whose range holds `addr`.
pub fn smaps_entry(addr: usize) -> Option<(usize, usize, String)> {
    let text = std::fs::read_to_string("/proc/self/smaps").expect("read smaps");
    let mut cur: Option<(usize, usize, String)> = None;
    for line in text.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some((a, b)) = first.split_once('-') {
            if let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16)) {
                if let Some(found) = cur.take() {
                    if found.0 <= addr && addr < found.1 {
                        return Some(found);
                    }
                }
                cur = Some((a, b, format!("{line}\n")));
                continue;
            }
        }
        if let Some(c) = cur.as_mut() {
            c.2.push_str(line);
            c.2.push('\n');
        }
    }
    cur.filter(|c| c.0 <= addr && addr < c.1)
}

/// The `VmFlags` of an smaps entry.
pub fn vm_flags(entry: &str) -> Vec<String> {
    entry
        .lines()
        .find_map(|l| l.strip_prefix("VmFlags:"))
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// A field such as `Locked:` of an smaps entry, in kB.
pub fn smaps_kb(entry: &str, field: &str) -> u64 {
    entry
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX)
}

/// Finds `needle` in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    hay.iter()
        .enumerate()
        .filter(|&(_, &b)| b == first)
        .any(|(i, _)| hay[i..].starts_with(needle))
}
