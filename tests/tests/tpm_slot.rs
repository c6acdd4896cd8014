//! The `tpm2` key slot end to end, against swtpm: `keyward enroll tpm2`
//! (without and with a PIN, bound to PCRs), `keyward lock`, `keyward unlock
//! --non-interactive` with no prompt, then `git credential fill` gets its
//! token through git-credential-keyward; the refusals a person sees (TPM
//! gone, another TPM, a changed PCR, a wrong PIN counted by the TPM) are one
//! line each. No secret of the slot is left in ordinary memory.
//!
//! One at a time (`#[serial]`): the hygiene test unseals in this process,
//! and libtss2's sockets (no `SOCK_CLOEXEC`) must not leak into the
//! children other tests spawn (see `keyward_tests::swtpm`).
#![forbid(unsafe_code)]

mod git_common;

use git_common::GitHome;
use keyward_tests::swtpm::Swtpm;
use keyward_tests::{bin, output_with_stdin, text};
use serial_test::serial;
use std::process::Output;

const CRED: &str = "protocol=https\nhost=git.example\nusername=ci\npassword=tpm-token-7f3e\n";
const ASK: &str = "protocol=https\nhost=git.example\n";

fn keyward(g: &GitHome, tcti: &str, args: &[&str], stdin: &str) -> Output {
    let mut c = g.command(bin("keyward"));
    c.args(args).env("KEYWARD_TPM2_TCTI", tcti);
    output_with_stdin(&mut c, stdin.as_bytes())
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The one line a failed command printed on stderr.
fn one_line(out: &Output) -> String {
    let e = text(&out.stderr);
    assert_eq!(e.lines().count(), 1, "not one line: {e:?}");
    e.trim_end().to_string()
}

/// `git credential fill` through git-credential-keyward, the helper
/// pointed at `tcti` (a locked vault with a tpm2 slot opens there).
fn fill_with(g: &GitHome, tcti: &str) -> Output {
    let mut c = g.git("keyward", &["credential", "fill"]);
    c.env("KEYWARD_TPM2_TCTI", tcti);
    output_with_stdin(&mut c, ASK.as_bytes())
}

/// `git credential fill` with no TPM: the vault must already be unlocked.
fn fill(g: &GitHome) -> String {
    ok(&fill_with(g, "device:/nonexistent/keyward-test-tpm"))
}

#[test]
#[serial]
fn a_tpm2_slot_unlocks_with_no_prompt_and_git_gets_its_token() {
    let g = GitHome::new();
    let t = Swtpm::start();
    let tcti = t.tcti();
    assert!(g
        .git_credential("keyward", "approve", CRED)
        .status
        .success());

    let out = ok(&keyward(&g, &tcti, &["enroll", "tpm2"], ""));
    assert!(
        out.contains("(slot 1): it unlocks with no typing on this machine"),
        "{out}"
    );
    let slots = ok(&keyward(&g, &tcti, &["slots"], ""));
    assert!(
        slots.contains("tpm2      key ")
            && slots.contains("(sealed by a TPM; no typing; PCRs none)"),
        "{slots}"
    );

    ok(&keyward(&g, &tcti, &["lock"], ""));
    // Locked, and no TPM where the helper looks: git's helper cannot
    // answer (no terminal to ask on).
    let locked = fill_with(&g, "device:/nonexistent/keyward-test-tpm");
    assert!(!locked.status.success());

    // No prompt: standard input is empty and there is no terminal.
    let out = ok(&keyward(&g, &tcti, &["unlock", "--non-interactive"], ""));
    assert!(
        out.contains("without typing (a host or tpm2 slot)"),
        "{out}"
    );
    assert!(fill(&g).contains("password=tpm-token-7f3e"));

    // Another machine's TPM: refused, in one line, exit 10.
    ok(&keyward(&g, &tcti, &["lock"], ""));
    let other = Swtpm::start();
    let out = keyward(&g, &other.tcti(), &["unlock", "--non-interactive"], "");
    assert_eq!(out.status.code(), Some(10));
    let line = one_line(&out);
    assert!(
        line.contains("tpm2 slot 1: the key was sealed by another TPM"),
        "{line}"
    );

    // The TPM gone: one line naming where keyward looked; doctor warns.
    drop(t);
    let out = keyward(&g, &tcti, &["unlock", "--non-interactive"], "");
    assert_eq!(out.status.code(), Some(10));
    let line = one_line(&out);
    assert!(
        line.contains(&format!(
            "tpm2 slot 1: no TPM reachable at {tcti} (127.0.0.1:"
        )),
        "{line}"
    );
    let doc = text(&keyward(&g, &tcti, &["doctor"], "").stdout);
    assert!(
        doc.contains(&format!(
            "WARN  TPM: the vault has a tpm2 slot, but no TPM is reachable at {tcti}"
        )),
        "{doc}"
    );
    // The password still opens it.
    ok(&keyward(
        &g,
        &tcti,
        &["unlock", "--password-fd", "0"],
        &format!("{}\n", git_common::VAULT_PASSWORD),
    ));
    assert!(fill(&g).contains("password=tpm-token-7f3e"));
}

#[test]
#[serial]
fn a_pin_slot_refuses_a_wrong_pin_and_the_tpm_counts_it() {
    let g = GitHome::new();
    let t = Swtpm::start();
    let tcti = t.tcti();
    assert!(g
        .git_credential("keyward", "approve", CRED)
        .status
        .success());
    let out = ok(&keyward(
        &g,
        &tcti,
        &["enroll", "tpm2", "--pin-fd", "0"],
        "8642\n",
    ));
    assert!(out.contains("it asks for its PIN"), "{out}");
    ok(&keyward(&g, &tcti, &["lock"], ""));

    // A PIN slot needs typing: --non-interactive does not use it.
    let out = keyward(&g, &tcti, &["unlock", "--non-interactive"], "");
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    assert_eq!(t.property("TPM2_PT_LOCKOUT_COUNTER"), 0);

    let out = keyward(&g, &tcti, &["unlock", "--pin-fd", "0"], "1111\n");
    assert_eq!(out.status.code(), Some(3));
    let line = one_line(&out);
    assert!(
        line.starts_with("keyward: wrong TPM PIN (1 of 3 failures before the TPM locks out"),
        "{line}"
    );
    assert_eq!(t.property("TPM2_PT_LOCKOUT_COUNTER"), 1);

    let out = ok(&keyward(&g, &tcti, &["unlock", "--pin-fd", "0"], "8642\n"));
    assert!(out.contains("with the TPM and its PIN"), "{out}");
    assert!(fill(&g).contains("password=tpm-token-7f3e"));
}

#[test]
#[serial]
fn a_pcr_bound_slot_stops_unlocking_when_the_pcr_changes() {
    let g = GitHome::new();
    let t = Swtpm::start();
    let tcti = t.tcti();
    assert!(g
        .git_credential("keyward", "approve", CRED)
        .status
        .success());
    let out = ok(&keyward(&g, &tcti, &["enroll", "tpm2", "--pcrs", "7"], ""));
    assert!(out.contains("while PCRs 7 are unchanged"), "{out}");
    ok(&keyward(&g, &tcti, &["lock"], ""));
    // git's helper itself opens a locked vault through the tpm2 slot.
    assert!(ok(&fill_with(&g, &tcti)).contains("password=tpm-token-7f3e"));
    ok(&keyward(&g, &tcti, &["lock"], ""));
    ok(&keyward(&g, &tcti, &["unlock", "--non-interactive"], ""));

    ok(&keyward(&g, &tcti, &["lock"], ""));
    t.tool(
        "tpm2_pcrextend",
        &[&format!("7:sha256={}", "ab".repeat(32))],
    );
    let out = keyward(&g, &tcti, &["unlock", "--non-interactive"], "");
    assert_eq!(out.status.code(), Some(10));
    let line = one_line(&out);
    assert!(
        line.contains("tpm2 slot 1: the TPM refuses: PCRs 7 changed"),
        "{line}"
    );

    let out = keyward(&g, &tcti, &["enroll", "tpm2", "--pcrs", "7,99"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("bad PCR list \"7,99\": expected numbers 0 to 23"),
        "{}",
        text(&out.stderr)
    );
}

/// At a terminal (a pty driven by `expect`): `keyward enroll tpm2 --pin`
/// asks for the PIN twice; `keyward unlock` asks for the PIN first, says a
/// wrong one in one line and goes on to the password; the right PIN opens.
#[test]
#[serial]
fn at_a_terminal_the_pin_is_asked_first_then_the_password() {
    assert!(
        keyward_tests::have("expect"),
        "expect is not installed (scripts/test installs it)"
    );
    let g = GitHome::new();
    let t = Swtpm::start();
    let run = |script: &str| {
        let mut c = g.command("expect");
        c.env_remove("GIT_TERMINAL_PROMPT")
            .env("KW", bin("keyward"))
            .env("KEYWARD_TPM2_TCTI", t.tcti())
            .env("PW", git_common::VAULT_PASSWORD)
            .args(["-c", script]);
        let out = c.output().unwrap();
        (out.status.code(), text(&out.stdout))
    };
    let (code, shown) = run(r#"set timeout 20
spawn $env(KW) enroll tpm2 --pin
expect "TPM PIN: " { sleep 0.3; send "97531\r" } timeout { exit 10 }
expect "Repeat it: " { sleep 0.3; send "97531\r" } timeout { exit 11 }
expect eof {} timeout { exit 13 }
lassign [wait] pid spawnid os code
exit $code"#);
    assert_eq!(code, Some(0), "{shown}");
    assert!(
        shown.contains("it asks for its PIN") && !shown.contains("97531"),
        "{shown}"
    );
    ok(&keyward(&g, &t.tcti(), &["lock"], ""));

    let (code, shown) = run(r#"set timeout 20
spawn $env(KW) unlock
expect "TPM PIN (empty: use the password): " { sleep 0.3; send "11111\r" } timeout { exit 10 }
expect "keyward: wrong TPM PIN (1 of " {} timeout { exit 11 }
expect "Vault password: " { sleep 0.3; send "$env(PW)\r" } timeout { exit 12 }
expect eof {} timeout { exit 13 }
lassign [wait] pid spawnid os code
exit $code"#);
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("unlocked "), "{shown}");
    assert_eq!(t.property("TPM2_PT_LOCKOUT_COUNTER"), 1);
    ok(&keyward(&g, &t.tcti(), &["lock"], ""));

    let (code, shown) = run(r#"set timeout 20
spawn $env(KW) unlock
expect "TPM PIN (empty: use the password): " { sleep 0.3; send "97531\r" } timeout { exit 10 }
expect eof {} timeout { exit 13 }
lassign [wait] pid spawnid os code
exit $code"#);
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("with the TPM and its PIN"), "{shown}");
}

/// Key hygiene through the tpm2 slots (as `key_hygiene.rs` does for the
/// password): `keyward unlock --non-interactive`, `keyward unlock --pin-fd`
/// and git's helper opening a locked vault are each stopped at `exit_group`
/// under gdb and dumped; neither the vault key, nor either slot's secret
/// (what the TPM unsealed, through tss-esapi's buffers), nor the PIN is in
/// the core. Root and gdb, like key_hygiene.rs.
#[test]
#[serial]
fn no_slot_secret_key_or_pin_in_ordinary_memory() {
    use keyward_secmem::{ExposeSecret, SecretBytes};
    use keyward_tests::core_scan::{core_at_exit, require_root_and_gdb, scratch, Needles};
    require_root_and_gdb();
    let g = GitHome::new();
    let t = Swtpm::start();
    let tcti = t.tcti();
    let pin = "pin-5b7e2c9d41f0";
    assert!(g
        .git_credential("keyward", "approve", CRED)
        .status
        .success());
    ok(&keyward(&g, &tcti, &["enroll", "tpm2"], ""));
    ok(&keyward(
        &g,
        &tcti,
        &["enroll", "tpm2", "--pin-fd", "0"],
        &format!("{pin}\n"),
    ));

    // What to look for: the vault key, and each slot's secret as this
    // process unseals it.
    let pw = SecretBytes::from_slice(git_common::VAULT_PASSWORD.as_bytes()).unwrap();
    let vault = g.home.vault_path();
    let v = keyward_vault::Vault::open_with_password(&vault, &pw).unwrap();
    let key: [u8; 32] = v.key().expose().try_into().unwrap();
    drop(v);
    let mut needles = Needles::new();
    needles
        .vault_key("vault key", &key)
        .password("TPM PIN", pin.as_bytes());
    let pin_secret = SecretBytes::from_slice(pin.as_bytes()).unwrap();
    let mut tpm =
        keyward_tpm::Tpm::open(&keyward_tpm::Tcti::parse(&tcti, "test").unwrap()).unwrap();
    let sealed = keyward_vault::SealedVault::read(&vault).unwrap();
    let mut n = 0;
    for slot in sealed
        .slots()
        .iter()
        .filter(|s| s.kind == keyward_vault::SlotKind::Tpm2)
    {
        let k = keyward_tpm::SealedKey::from_bytes(&slot.extra).unwrap();
        let secret = tpm
            .unseal(&k, k.needs_pin().then_some(&pin_secret))
            .unwrap();
        let s = secret.expose_secret();
        needles.add(&format!("tpm2 slot {} secret", slot.index), s);
        needles.add(
            &format!("tpm2 slot {} secret, first half", slot.index),
            &s[..16],
        );
        needles.add(
            &format!("tpm2 slot {} secret, second half", slot.index),
            &s[16..],
        );
        n += 1;
    }
    assert_eq!(n, 2);
    drop(tpm);

    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let scenarios: [(&str, &str, &[&str], String, &str); 3] = [
        (
            "unlock-no-typing",
            "keyward",
            &["unlock", "--non-interactive"],
            String::new(),
            "unlocked",
        ),
        (
            "unlock-pin",
            "keyward",
            &["unlock", "--pin-fd", "0"],
            format!("{pin}\n"),
            "with the TPM and its PIN",
        ),
        (
            "git-get-locked",
            "git-credential-keyward",
            &["get"],
            ASK.to_string() + "\n",
            "password=tpm-token-7f3e",
        ),
    ];
    for (name, prog, args, stdin, want) in scenarios {
        ok(&keyward(&g, &tcti, &["lock"], ""));
        let mut c = g.command(bin(prog));
        c.args(args).env("KEYWARD_TPM2_TCTI", &tcti);
        let (core, out) = core_at_exit(&c, stdin.as_bytes(), &scratch(dir.path(), name));
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains(want),
            "{name}: the run did not do its job (stdout {stdout:?}, stderr {:?})",
            text(&out.stderr)
        );
        let mut control = Needles::new();
        control.add("vault path", vault.display().to_string().as_bytes());
        assert!(
            !control.found_in(&core).is_empty(),
            "{name}: the scan finds nothing"
        );
        let hits = needles.found_in(&core);
        if !hits.is_empty() {
            failures.push(format!("{name}: {}", hits.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "secrets in ordinary memory:\n{}",
        failures.join("\n")
    );
}

/// The credential helpers and `keyward` (its quick calls: kubectl's plugin,
/// pnpm's token helper, …) do not link libtss2 (nor libcrypto, which
/// libtss2-esys loads): mapping and relocating them cost about 1.7 ms at
/// every start of a process (docs/benchmarks.md), four times a whole `get`.
/// They unseal a tpm2 slot through `keyward unseal-tpm2` (`keyward-cli`) in
/// a child only when the vault is locked (the tests above: git's helper
/// opens a locked vault through the slot); `keyward-cli` links it.
#[test]
fn the_helpers_do_not_load_libtss2() {
    for prog in [
        "keyward",
        "git-credential-keyward",
        "docker-credential-keyward",
        "cargo-credential-keyward",
        "terraform-credentials-keyward",
        "keyward-token-helper",
    ] {
        let out = std::process::Command::new("readelf")
            .arg("-d")
            .arg(bin(prog))
            .output()
            .expect("readelf (binutils) runs");
        let dynamic = text(&out.stdout);
        assert!(
            out.status.success() && dynamic.contains("libc.so"),
            "{prog}: readelf does not list its libraries: {dynamic}"
        );
        for lib in ["libtss2", "libcrypto"] {
            assert!(!dynamic.contains(lib), "{prog} links {lib}: {dynamic}");
        }
    }
    // Control: the scan sees libtss2 where it is linked.
    let out = std::process::Command::new("readelf")
        .arg("-d")
        .arg(bin("keyward-cli"))
        .output()
        .expect("readelf (binutils) runs");
    assert!(
        text(&out.stdout).contains("libtss2-esys"),
        "{}",
        text(&out.stdout)
    );
}
