//! What the audit trail adds to a `get` and a `store`, counted, not timed:
//! the system calls of one `git-credential-keyward get`, one `store` and one
//! `keyward get NAME` (strace) with `audit = true` against `audit = false` in
//! the same build and the same vault. With the trail on, an entry is one
//! `write(2)` to the log (an `O_APPEND` descriptor), one `pwrite(2)` of the
//! head, one `flock(2)`, the log and the head opened once each, no sync of
//! any kind; and the whole entry (who asked, from `/proc`; the files' checks)
//! adds at most [`MAX_EXTRA_CALLS`] system calls. With it off, nothing
//! touches the trail's files.
//!
//! The time it costs (issue 20: at most 10 % more) is measured by
//! `scripts/bench-audit`, interleaved on and off over hundreds of rounds:
//! speed is a benchmark's business, not a test's that a loaded machine
//! could fail.
#![forbid(unsafe_code)]

use keyward_tests::{bin, have, output_with_stdin, text, TestHome};

/// The system calls one entry may add. Measured: 21 for each of the three
/// (who asked: `getppid`, `statx` of `/proc/PPID`, `/dev/tty`, `comm` opened,
/// read and closed, `readlink` of `exe`, `getpid`; the head opened, checked,
/// locked, read and rewritten; the log opened, checked and written; the
/// name's nonce; two closes); one more for the allocator's `brk`.
const MAX_EXTRA_CALLS: usize = 22;

const CRED: &str = "protocol=https\nhost=bench.example\nusername=u\npassword=p\n";
const GET: &str = "protocol=https\nhost=bench.example\n";

fn config(audit: bool) -> String {
    format!("audit = {audit}\n[kdf]\nlog_n = 10\nr = 8\np = 1\n")
}

/// One run of `program args` under `strace -f -y` (descriptors shown with
/// their paths): its system calls, one per line.
fn trace(h: &TestHome, program: &str, args: &[&str], input: &str) -> Vec<String> {
    let log = h.path().join("strace.log");
    let mut c = h.command("strace");
    c.args(["-f", "-y", "-qq", "-s", "0", "-o"])
        .arg(&log)
        .arg(bin(program))
        .args(args);
    let out = output_with_stdin(&mut c, input.as_bytes());
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        text(&out.stderr)
    );
    std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        // Not system calls; nor the `fcntl(F_GETFD)` a debug build's std
        // makes before every close (a check that release builds leave out).
        .filter(|l| !l.contains("+++ exited") && !l.contains("--- SIG") && !l.contains("F_GETFD"))
        .map(str::to_owned)
        .collect()
}

fn calls<'a>(t: &'a [String], name: &str) -> Vec<&'a String> {
    t.iter()
        .filter(|l| {
            l.split_once(' ')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with(&format!("{name}(")))
        })
        .collect()
}

/// On and off for one command; returns the extra system calls.
fn compare(h: &TestHome, what: &str, program: &str, args: &[&str], input: &str) -> usize {
    let log = h.path().join(".local/share/keyward/vault.audit");
    let entries = || std::fs::read_to_string(&log).map_or(0, |s| s.lines().count());
    h.write_config(&config(false));
    let before = entries();
    let off = trace(h, program, args, input);
    assert_eq!(entries(), before, "{what}: audit = false wrote an entry");
    assert!(
        !off.iter().any(|l| l.contains("vault.audit")),
        "{what}: audit = false touched the trail:\n{}",
        off.join("\n")
    );
    h.write_config(&config(true));
    let on = trace(h, program, args, input);
    assert_eq!(entries(), before + 1, "{what}: audit = true wrote no entry");

    let to = |name: &str, file: &str| {
        calls(&on, name)
            .into_iter()
            .filter(|l| l.contains(&format!("{file}>")))
            .count()
    };
    let all = on.join("\n");
    assert_eq!(
        to("write", "vault.audit"),
        1,
        "{what}: one write of the entry:\n{all}"
    );
    assert_eq!(
        to("pwrite64", "vault.audit.head"),
        1,
        "{what}: one head rewrite:\n{all}"
    );
    assert_eq!(
        to("flock", "vault.audit.head"),
        1,
        "{what}: one lock:\n{all}"
    );
    assert_eq!(
        calls(&on, "flock").len(),
        calls(&off, "flock").len() + 1,
        "{what}: the trail takes one lock:\n{all}"
    );
    for file in ["vault.audit\"", "vault.audit.head\""] {
        let opens = calls(&on, "openat")
            .into_iter()
            .filter(|l| l.contains(file))
            .count();
        assert_eq!(opens, 1, "{what}: {file} opened {opens} times:\n{all}");
    }
    for sync in ["fsync", "fdatasync", "sync_file_range", "syncfs", "msync"] {
        assert_eq!(
            calls(&on, sync).len(),
            calls(&off, sync).len(),
            "{what}: the trail added a {sync}:\n{all}"
        );
    }
    let extra = on.len().saturating_sub(off.len());
    println!(
        "{what}: {} system calls with the audit trail, {} without (+{extra})",
        on.len(),
        off.len()
    );
    assert!(
        extra <= MAX_EXTRA_CALLS,
        "{what}: the audit trail added {extra} system calls (at most {MAX_EXTRA_CALLS}):\n{all}"
    );
    extra
}

#[test]
fn an_entry_is_one_append_one_head_rewrite_and_a_bounded_number_of_calls() {
    assert!(
        have("strace"),
        "strace is not installed (scripts/test installs it: apt-get install strace)"
    );
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    let out = output_with_stdin(
        h.command(bin("git-credential-keyward")).arg("store"),
        CRED.as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(h
        .keyward(&["set", "restic/bench", "--secret-fd", "0"], "v\n")
        .status
        .success());
    compare(&h, "git get", "git-credential-keyward", &["get"], GET);
    compare(&h, "git store", "git-credential-keyward", &["store"], CRED);
    compare(&h, "named get", "keyward", &["get", "restic/bench"], "");
}
