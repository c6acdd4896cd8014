//! When RLIMIT_MEMLOCK runs out in a process without CAP_IPC_LOCK: `best-effort`
//! keeps working and says so once, `required` returns a typed error that says
//! how to raise the limit; and 150,000 32-byte secrets fit in 8 MiB.

mod common;

use common::*;
use keyward_secmem::{set_policy, status, Error, ExposeSecret, SecretBytes};

/// Lowers RLIMIT_MEMLOCK, then (as root) becomes `nobody`, which drops every
/// capability including CAP_IPC_LOCK.
fn become_unprivileged(limit: u64) {
    use nix::sys::resource::{setrlimit, Resource};
    setrlimit(Resource::RLIMIT_MEMLOCK, limit, limit).unwrap();
    if nix::unistd::geteuid().is_root() {
        // SAFETY: plain system calls on this single-threaded child's credentials.
        let rc = unsafe { libc::setgroups(0, std::ptr::null()) };
        assert_eq!(rc, 0);
        // SAFETY: as above.
        assert_eq!(unsafe { libc::setgid(65534) }, 0);
        // SAFETY: as above.
        assert_eq!(unsafe { libc::setuid(65534) }, 0);
    }
    let st = std::fs::read_to_string("/proc/self/status").unwrap();
    let cap = st
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .unwrap()
        .trim();
    assert_eq!(
        u64::from_str_radix(cap, 16).unwrap() & (1 << 14),
        0,
        "CAP_IPC_LOCK kept"
    );
}

fn vm_lck_bytes() -> usize {
    let st = std::fs::read_to_string("/proc/self/status").unwrap();
    st.lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap()
        * 1024
}

#[test]
#[ignore = "child scenario"]
fn child_memlock() {
    if !in_child() {
        return;
    }
    println!();
    let env = |k: &str| std::env::var(k).unwrap();
    become_unprivileged(env("KW_LIMIT").parse().unwrap());
    set_policy(env("KW_POLICY").parse().unwrap());
    if std::env::var_os("KW_SINK").is_some() {
        // A sink that itself uses secure memory must not deadlock the allocator.
        fn sink(msg: &str) {
            let s = SecretBytes::from_slice(b"x").unwrap();
            println!("sink({}): {msg}", s.len());
        }
        keyward_secmem::set_warning_sink(sink);
    }
    let count: usize = env("KW_COUNT").parse().unwrap();
    let mut held = Vec::with_capacity(count);
    for i in 0..count {
        match SecretBytes::from_slice(&(i as u64).to_le_bytes().repeat(4)) {
            Ok(s) => held.push(s),
            Err(e) => {
                println!("error: {e}");
                if let Error::MemlockExhausted { limit, .. } = e {
                    println!("typed MemlockExhausted limit={limit}");
                }
                break;
            }
        }
    }
    for (i, s) in held.iter().enumerate() {
        assert_eq!(s.expose_secret(), &(i as u64).to_le_bytes().repeat(4)[..]);
    }
    let st = status();
    println!("allocated {}", held.len());
    println!("backend={}", st.locking_backend);
    println!("current={}", st.backend);
    println!("lock_failed={}", st.lock_failed);
    println!("live={}", st.live_secrets);
    println!("locked={} vmlck={}", st.locked_bytes, vm_lck_bytes());
    assert_eq!(st.live_secrets, held.len());
    assert_eq!(
        st.locked_bytes,
        vm_lck_bytes(),
        "status disagrees with the kernel"
    );
    if !held.is_empty() {
        println!("locked_per_secret={}", st.locked_bytes / held.len());
    }
}

fn field<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in:\n{text}"))
}

fn run(backend: &str, policy: &str, limit: u64, count: usize) -> (String, String) {
    run_env(backend, policy, limit, count, &[])
}

fn run_env(
    backend: &str,
    policy: &str,
    limit: u64,
    count: usize,
    extra: &[(&str, &str)],
) -> (String, String) {
    let limit = limit.to_string();
    let count = count.to_string();
    let mut env = vec![
        ("KW_LIMIT", limit.as_str()),
        ("KW_POLICY", policy),
        ("KW_COUNT", count.as_str()),
    ];
    env.extend_from_slice(extra);
    let out = run_child("child_memlock", backend, &env, None);
    assert!(
        out.status.success(),
        "{backend}/{policy}: {}",
        describe(&out)
    );
    ran_under(&out, backend);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn best_effort_keeps_working_unlocked_and_warns_once() {
    for b in BACKENDS {
        let (out, err) = run(b, "best-effort", 64 * 1024, 20_000);
        assert_eq!(field(&out, "allocated "), "20000", "{out}");
        assert_eq!(field(&out, "lock_failed="), "true");
        assert_eq!(field(&out, "current="), "unlocked");
        assert_eq!(
            err.matches("cannot lock memory").count(),
            1,
            "warning not exactly once:\n{err}"
        );
        assert!(err.contains("swap"), "{err}");
        let locked: usize = field(&out, "locked=")
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(locked <= 64 * 1024, "{out}");
    }
}

#[test]
fn required_returns_memlock_exhausted_with_the_fix() {
    for b in BACKENDS {
        let (out, err) = run(b, "required", 64 * 1024, 20_000);
        assert_eq!(
            field(&out, "typed MemlockExhausted limit="),
            "65536",
            "{out}"
        );
        let msg = field(&out, "error: ");
        assert!(
            msg.contains("ulimit -l") && msg.contains("RLIMIT_MEMLOCK"),
            "{msg}"
        );
        let n: usize = field(&out, "allocated ").parse().unwrap();
        assert!(n > 0 && n < 20_000, "{out}");
        assert_eq!(field(&out, "lock_failed="), "false");
        // Chunks shrink to fit what is left of the limit: allocation stops only
        // when not even the smallest chunk (one page) fits.
        let locked: usize = field(&out, "locked=")
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            locked + 4096 > 64 * 1024,
            "{b}: stopped at {locked} locked bytes of 65536 although a page still fit\n{out}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn a_hundred_and_fifty_thousand_secrets_fit_in_8_mib_without_cap_ipc_lock() {
    for b in BACKENDS {
        let (out, _) = run(b, "required", 8 << 20, 150_000);
        assert_eq!(field(&out, "allocated "), "150000", "{out}");
        let per: usize = field(&out, "locked_per_secret=").parse().unwrap();
        assert!(per <= 64, "{b}: {per} locked bytes per 32-byte secret");
        println!("{b}: {per} locked bytes per 32-byte secret");
    }
}

#[test]
fn warning_sink_may_use_secure_memory_itself() {
    let (out, err) = run_env(
        "mlock",
        "best-effort",
        64 * 1024,
        5_000,
        &[("KW_SINK", "1")],
    );
    assert_eq!(field(&out, "allocated "), "5000", "{out}");
    assert_eq!(
        out.matches("sink(1): keyward: warning: cannot lock memory")
            .count(),
        1,
        "{out}"
    );
    assert!(
        !err.contains("cannot lock memory"),
        "went to stderr despite the sink: {err}"
    );
}

#[test]
#[ignore = "child scenario"]
fn child_growth() {
    if !in_child() {
        return;
    }
    print_backend_line();
    let burst: Vec<SecretBytes> = (0..20_000)
        .map(|_| SecretBytes::random(32).unwrap())
        .collect();
    println!("burst_mapped={}", status().mapped_bytes);
    drop(burst);
    keyward_secmem::release_unused();
    let one = SecretBytes::random(32).unwrap();
    println!("after_mapped={}", status().mapped_bytes);
    drop(one);
}

fn print_backend_line() {
    println!("backend={}", status().locking_backend);
}

/// After a burst is freed, the next secret gets a small chunk again: chunk
/// growth follows the chunks alive now, not every chunk ever made.
#[test]
fn chunk_growth_follows_live_use() {
    for b in BACKENDS {
        let out = run_child("child_growth", b, &[], None);
        assert!(out.status.success(), "{b}: {}", describe(&out));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let burst: usize = field(&text, "burst_mapped=").parse().unwrap();
        let after: usize = field(&text, "after_mapped=").parse().unwrap();
        assert!(burst >= 900_000, "{b}: {text}");
        assert_eq!(after, 4096, "{b}: one 32-byte secret after a burst: {text}");
    }
}
