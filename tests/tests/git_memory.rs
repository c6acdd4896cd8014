//! The secret goes from the vault to stdout without a copy in ordinary memory.
//!
//! The helper answers `get` for a credential whose password fills more than a
//! pipe (64 KiB), so its `write` blocks with the answer half sent. While it is
//! blocked, this test reads the helper's memory through `/proc/PID/mem` and
//! searches every ordinary writable mapping (the malloc heap, anonymous
//! mappings without `MADV_DONTDUMP`) for the password. keyward's locked
//! buffers are dump-excluded (`dd` in smaps' VmFlags) and are where the
//! password must be found (the positive control). Thread stacks are not
//! searched for the password (the kernel's pipe code may hold a piece of it);
//! every region, the stack included, is searched for the vault key, its
//! halves and its first AES round keys, which must be nowhere at that moment
//! (the ciphers live in locked memory; the stack is scrubbed after AES calls).
#![forbid(unsafe_code)]

mod git_common;

use git_common::{text, GitHome, VAULT_PASSWORD};
use keyward_secmem::SecretBytes;
use keyward_tests::core_scan::Needles;
use std::io::{Read, Seek, SeekFrom, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// 65,525 random hex bytes: with `password=` and the newline, the longest line
/// the protocol allows.
fn random_password() -> Vec<u8> {
    let mut raw = vec![0u8; 65_525 / 2 + 1];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut raw)
        .unwrap();
    let mut hex: Vec<u8> = raw
        .iter()
        .flat_map(|b| format!("{b:02x}").into_bytes())
        .collect();
    hex.truncate(65_525);
    hex
}

struct Region {
    start: u64,
    end: u64,
    name: String,
    dont_dump: bool,
}

fn regions(pid: u32) -> Vec<Region> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).expect("smaps");
    let mut out: Vec<Region> = Vec::new();
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some((a, b)) = first.split_once('-') {
            if let (Ok(start), Ok(end)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let perms = fields.get(1).copied().unwrap_or("");
                let name = fields.get(5).copied().unwrap_or("").to_string();
                // Read-only mappings get an empty range (dropped below) so
                // that the VmFlags lines that follow attach to the right entry.
                let writable = perms.starts_with("rw");
                out.push(Region {
                    start,
                    end: if writable { end } else { start },
                    name,
                    dont_dump: false,
                });
                continue;
            }
        }
        if let Some(flags) = line.strip_prefix("VmFlags:") {
            if let Some(r) = out.last_mut() {
                r.dont_dump |= flags.split_whitespace().any(|f| f == "dd");
            }
        }
    }
    out.retain(|r| r.end > r.start);
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn password_reaches_stdout_without_an_ordinary_memory_copy() {
    let h = GitHome::new();
    let password = random_password();
    let host = format!(
        "memory-{}.example",
        String::from_utf8_lossy(&random_password()[..40])
    );
    let mut store = format!("protocol=https\nhost={host}\nusername=bob\npassword=").into_bytes();
    store.extend_from_slice(&password);
    store.push(b'\n');
    let mut c = h.command(keyward_tests::bin("git-credential-keyward"));
    c.arg("store");
    let out = git_common::run_with_input(c, &store);
    assert!(out.status.success(), "{}", text(&out.stderr));
    drop(store);

    let mut child = h
        .command(keyward_tests::bin("git-credential-keyward"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("protocol=https\nhost={host}\n").as_bytes())
        .unwrap();
    let pid = child.id();

    // Wait until the helper is blocked writing its answer into the full pipe:
    // wchan names the kernel function it sleeps in; where the kernel hides
    // it, /proc/PID/syscall shows write(2) (number 1 on x86_64) on fd 1.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let wchan = std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
        let syscall = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
        let in_write = cfg!(target_arch = "x86_64") && syscall.starts_with("1 0x1 ");
        if wchan.contains("pipe_write") || in_write {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the helper never blocked writing to the pipe (wchan {wchan:?}, syscall {syscall:?})"
        );
        std::thread::sleep(Duration::from_millis(5));
    }

    let mut mem = match std::fs::File::open(format!("/proc/{pid}/mem")) {
        Ok(f) => f,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            assert!(
                e.kind() != std::io::ErrorKind::PermissionDenied,
                "needs root or CAP_SYS_PTRACE to read another process's memory \
                 (run scripts/test as root): {e}"
            );
            panic!("open /proc/{pid}/mem: {e}");
        }
    };
    let needle = &password[1000..1064];
    let mut leaks = Vec::new();
    let mut host_seen = false;
    let mut key_leaks = Vec::new();
    let key = {
        let pw = SecretBytes::from_slice(VAULT_PASSWORD.as_bytes()).unwrap();
        let v = keyward_vault::Vault::open_with_password(&h.home.vault_path(), &pw).unwrap();
        let k: [u8; 32] = v.key().expose().try_into().unwrap();
        k
    };
    let mut key_needles = Needles::new();
    key_needles.vault_key("vault key", &key);
    for r in regions(pid) {
        if r.name == "[vvar]" || r.name == "[vsyscall]" {
            continue;
        }
        let mut buf = vec![0u8; (r.end - r.start) as usize];
        if mem.seek(SeekFrom::Start(r.start)).is_err() || mem.read_exact(&mut buf).is_err() {
            continue;
        }
        if !r.dont_dump {
            for hit in key_needles.found_in_bytes(r.start, &buf) {
                key_leaks.push(format!("{hit} ({})", r.name));
            }
        }
        if r.name == "[stack]" {
            continue;
        }
        if !r.dont_dump && contains(&buf, needle) {
            leaks.push(format!("{:x}-{:x} {}", r.start, r.end, r.name));
        }
        host_seen |= !r.dont_dump && contains(&buf, host.as_bytes());
    }
    drop(mem);

    let mut answer = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut answer)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    let mut want = b"username=bob\npassword=".to_vec();
    want.extend_from_slice(&password);
    want.push(b'\n');
    assert!(answer == want, "the helper's answer is wrong");

    assert!(
        host_seen,
        "positive control failed: the request's host name was not found in the helper's heap"
    );
    assert!(
        leaks.is_empty(),
        "the password is in ordinary memory of the helper: {leaks:?}"
    );
    assert!(
        key_leaks.is_empty(),
        "the vault key is in ordinary memory of the helper while it writes: {key_leaks:?}"
    );
}
