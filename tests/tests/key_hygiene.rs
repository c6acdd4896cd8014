//! Proof of the key-hygiene promise: no key or password outside locked memory.
//!
//! Each program runs under gdb (Debian package gdb), as root, in a throwaway
//! home, and is stopped when it calls `exit_group`; `gcore` then writes every
//! mapping the kernel shows (locked secret memory is `MADV_DONTDUMP` or
//! `memfd_secret` and is left out), and the test looks through all of it —
//! heap, stack, data — for the vault key, each 16-byte half of it, its first
//! AES round keys, and the password (also as HMAC ipad/opad key blocks).
//! Review finding: the key sat 3 times in `[stack]` of the git helper, its
//! round keys about 25 times, and `keyward unlock` left the password's HMAC
//! key block on the stack.
#![forbid(unsafe_code)]

use keyward_secmem::SecretBytes;
use keyward_tests::core_scan::{core_at_exit, require_root_and_gdb, scratch, Needles};
use keyward_tests::{bin, TestHome};
use std::process::Command;

/// Long enough to mean something when found; random so nothing else matches.
fn random_text(n: usize) -> String {
    let mut b = vec![0u8; n];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").unwrap(), &mut b).unwrap();
    b.iter()
        .map(|x| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[usize::from(*x) % 36]))
        .collect()
}

fn vault_key(h: &TestHome, password: &str) -> [u8; 32] {
    let pw = SecretBytes::from_slice(password.as_bytes()).unwrap();
    let v = keyward_vault::Vault::open_with_password(&h.vault_path(), &pw).unwrap();
    v.key().expose().try_into().unwrap()
}

struct Scenario<'a> {
    name: &'a str,
    cmd: Command,
    stdin: Vec<u8>,
    /// What the program must print for the run to count.
    expect_stdout: Option<String>,
}

fn check(h: &TestHome, needles: &Needles, scenarios: Vec<Scenario<'_>>) {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for s in scenarios {
        let d = scratch(dir.path(), s.name);
        let (core, out) = core_at_exit(&s.cmd, &s.stdin, &d);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if let Some(want) = &s.expect_stdout {
            assert!(
                stdout.contains(want.as_str()),
                "{}: the run did not do its job (stdout {stdout:?}, stderr {stderr:?})",
                s.name
            );
        }
        assert!(
            core.len() > 100_000,
            "{}: the core is implausibly small ({} bytes)",
            s.name,
            core.len()
        );
        // Positive control: the vault's path (not secret, in ordinary memory
        // of every one of these programs) is found by the same scan.
        let mut control = Needles::new();
        control.add(
            "vault path",
            h.vault_path().display().to_string().as_bytes(),
        );
        assert!(
            !control.found_in(&core).is_empty(),
            "{}: the scan finds nothing at all",
            s.name
        );
        let hits = needles.found_in(&core);
        if !hits.is_empty() {
            failures.push(format!("{}: {}", s.name, hits.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "secrets in ordinary memory:\n{}",
        failures.join("\n")
    );
}

#[test]
fn no_key_or_password_in_the_memory_of_helpers_and_cli() {
    require_root_and_gdb();
    let h = TestHome::new();
    let password = random_text(24);
    let new_password = random_text(24);
    h.init_unlocked_vault(&password);
    let key = vault_key(&h, &password);
    let token = random_text(40);
    let store = format!("protocol=https\nhost=hygiene.example\nusername=bob\npassword={token}\n\n");
    let out = keyward_tests::output_with_stdin(
        h.command(bin("git-credential-keyward")).arg("store"),
        store.as_bytes(),
    );
    assert!(out.status.success());

    let mut needles = Needles::new();
    needles
        .vault_key("vault key", &key)
        .password("vault password", password.as_bytes())
        .password("new vault password", new_password.as_bytes());
    // scrypt's block B after ROMix (r = 8, p = 1: 1 KiB), kept by the scrypt
    // crate in a heap buffer it frees unwiped: with it and one HMAC per
    // guess, password guesses can be checked without scrypt's cost.
    let b = keyward_tests::core_scan::vault_scrypt_block(&h.vault_path(), password.as_bytes());
    needles.add("scrypt's block B of the password, start", &b[16..48]);
    needles.add("scrypt's block B of the password, middle", &b[512..544]);

    let cmd = |prog: &str, args: &[&str]| {
        let mut c = h.command(bin(prog));
        c.args(args);
        c
    };
    let scenarios = vec![
        Scenario {
            name: "git-get",
            cmd: cmd("git-credential-keyward", &["get"]),
            stdin: b"protocol=https\nhost=hygiene.example\n\n".to_vec(),
            expect_stdout: Some(format!("password={token}")),
        },
        Scenario {
            name: "git-store",
            cmd: cmd("git-credential-keyward", &["store"]),
            stdin: store.replace("hygiene", "other").into_bytes(),
            expect_stdout: None,
        },
        Scenario {
            name: "docker-store",
            cmd: cmd("docker-credential-keyward", &["store"]),
            stdin: format!(
                "{{\"ServerURL\":\"https://reg.hygiene.example\",\"Username\":\"bob\",\"Secret\":\"{token}\"}}"
            )
            .into_bytes(),
            expect_stdout: None,
        },
        Scenario {
            name: "docker-get",
            cmd: cmd("docker-credential-keyward", &["get"]),
            stdin: b"https://reg.hygiene.example".to_vec(),
            expect_stdout: Some(token.clone()),
        },
        Scenario {
            name: "keyward-unlock",
            cmd: cmd("keyward", &["unlock", "--password-fd", "0"]),
            stdin: format!("{password}\n").into_bytes(),
            expect_stdout: Some("unlocked".into()),
        },
        Scenario {
            name: "keyward-passwd",
            cmd: cmd("keyward", &["passwd", "--password-fd", "0"]),
            stdin: format!("{password}\n{new_password}\n").into_bytes(),
            expect_stdout: None,
        },
    ];
    check(&h, &needles, scenarios);
    // The last scenario changed the password: it really ran.
    let pw = SecretBytes::from_slice(new_password.as_bytes()).unwrap();
    assert!(keyward_vault::Vault::open_with_password(&h.vault_path(), &pw).is_ok());
}
