//! The TPM 2.0 key slot's machinery (`keyward-tpm`) against real software
//! TPMs (swtpm on 127.0.0.1, state in a temporary directory), with
//! tpm2-tools to change PCRs and read the lockout counter.
//!
//! One at a time (`#[serial]`): libtss2 opens its sockets without
//! `SOCK_CLOEXEC`, so a swtpm or tpm2-tools child spawned by one test thread
//! would inherit another thread's open TPM connection and keep it open after
//! the test closed it, and swtpm serves one connection at a time.

use keyward_secmem::{ExposeSecret, SecretBytes};
use keyward_tests::swtpm::Swtpm;
use keyward_tpm::{Error, PcrList, SealedKey, Tcti, Tpm};
use serial_test::serial;

fn open(t: &Swtpm) -> Tpm {
    Tpm::open(&Tcti::parse(&t.tcti(), "test").unwrap()).unwrap()
}

fn key() -> SecretBytes {
    SecretBytes::random(32).unwrap()
}

fn pin(s: &str) -> SecretBytes {
    SecretBytes::from_slice(s.as_bytes()).unwrap()
}

#[test]
#[serial]
fn seal_unseal_round_trip_without_pin() {
    let t = Swtpm::start();
    let k = key();
    let mut tpm = open(&t);
    let sealed = tpm.seal(k.expose_secret(), PcrList::NONE, None).unwrap();
    assert!(!sealed.needs_pin());
    let bytes = sealed.to_bytes();
    assert!(
        !bytes.windows(32).any(|w| w == k.expose_secret()),
        "the key is in the blob in clear"
    );
    // The blob as the vault stores it, read back; unsealed by a new
    // connection, and again: transient objects and sessions are flushed (a
    // swtpm has no resource manager and only a few slots).
    let sealed = SealedKey::from_bytes(&bytes).unwrap();
    for _ in 0..6 {
        let mut tpm = open(&t);
        let got = tpm.unseal(&sealed, None).unwrap();
        assert!(got.is_guarded());
        assert_eq!(got.expose_secret(), k.expose_secret());
    }
    // A PIN given to a slot without one is not needed, and not harmful.
    let got = tpm.unseal(&sealed, Some(&pin("1234"))).unwrap();
    assert_eq!(got.expose_secret(), k.expose_secret());
}

#[test]
#[serial]
fn wrong_pin_is_refused_and_counts_toward_the_lockout() {
    let t = Swtpm::start();
    let k = key();
    let mut tpm = open(&t);
    let sealed = tpm
        .seal(k.expose_secret(), PcrList::NONE, Some(&pin("2468")))
        .unwrap();
    assert!(sealed.needs_pin());
    assert!(matches!(tpm.unseal(&sealed, None), Err(Error::PinRequired)));
    assert_eq!(t.property("TPM2_PT_LOCKOUT_COUNTER"), 0);

    let e = tpm.unseal(&sealed, Some(&pin("1357"))).unwrap_err();
    let Error::WrongPin { lockout } = &e else {
        panic!("expected a wrong PIN, got: {e}")
    };
    assert_eq!(lockout.counter, 1, "{e}");
    assert_eq!(lockout.max_tries, t.property("TPM2_PT_MAX_AUTH_FAIL"));
    // The TPM counted it, as tpm2-tools sees.
    assert_eq!(t.property("TPM2_PT_LOCKOUT_COUNTER"), 1);
    let line = e.to_string();
    assert!(!line.contains('\n'), "{line}");
    assert!(
        line.starts_with("wrong TPM PIN (1 of ")
            && line.contains("failures before the TPM locks out"),
        "{line}"
    );

    // The right PIN unseals.
    let got = tpm.unseal(&sealed, Some(&pin("2468"))).unwrap();
    assert_eq!(got.expose_secret(), k.expose_secret());

    // Until the TPM locks out: swtpm's default is 3 tries.
    let max = lockout.max_tries;
    for _ in 1..max {
        let _ = tpm.unseal(&sealed, Some(&pin("0000")));
    }
    let e = tpm.unseal(&sealed, Some(&pin("2468"))).unwrap_err();
    assert!(matches!(e, Error::LockedOut { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("locked out after too many wrong PINs"),
        "{e}"
    );
}

#[test]
#[serial]
fn a_key_sealed_on_one_tpm_does_not_unseal_on_another() {
    let here = Swtpm::start();
    let there = Swtpm::start();
    let k = key();
    let sealed = open(&here)
        .seal(k.expose_secret(), PcrList::NONE, None)
        .unwrap();
    let sealed = SealedKey::from_bytes(&sealed.to_bytes()).unwrap();
    let e = open(&there).unseal(&sealed, None).unwrap_err();
    assert!(matches!(e, Error::NotThisTpm), "{e}");
    assert_eq!(
        e.to_string(),
        "the key was sealed by another TPM (or this TPM was cleared since): unlock with another slot, then `keyward enroll tpm2` again"
    );
    // Still unseals where it was sealed.
    let got = open(&here).unseal(&sealed, None).unwrap();
    assert_eq!(got.expose_secret(), k.expose_secret());
}

#[test]
#[serial]
fn a_pcr_bound_key_stops_unsealing_when_a_bound_pcr_changes() {
    let t = Swtpm::start();
    let k = key();
    let pcrs: PcrList = "0+7".parse().unwrap();
    let mut tpm = open(&t);
    let sealed = tpm.seal(k.expose_secret(), pcrs, None).unwrap();
    let with_pin = tpm
        .seal(k.expose_secret(), pcrs, Some(&pin("97531")))
        .unwrap();
    assert_eq!(sealed.pcrs(), pcrs);
    // An unbound PCR may change.
    t.tool(
        "tpm2_pcrextend",
        &[&format!("8:sha256={}", "11".repeat(32))],
    );
    let got = tpm.unseal(&sealed, None).unwrap();
    assert_eq!(got.expose_secret(), k.expose_secret());
    let got = tpm.unseal(&with_pin, Some(&pin("97531"))).unwrap();
    assert_eq!(got.expose_secret(), k.expose_secret());

    t.tool(
        "tpm2_pcrextend",
        &[&format!("7:sha256={}", "22".repeat(32))],
    );
    let e = tpm.unseal(&sealed, None).unwrap_err();
    assert!(matches!(e, Error::PcrsChanged { .. }), "{e}");
    assert!(e.to_string().contains("PCRs 0+7 changed"), "{e}");
    let e = tpm.unseal(&with_pin, Some(&pin("97531"))).unwrap_err();
    assert!(matches!(e, Error::PcrsChanged { .. }), "{e}");
    // A changed PCR is not a PIN failure.
    assert_eq!(t.property("TPM2_PT_LOCKOUT_COUNTER"), 0);
}

#[test]
#[serial]
fn an_unreachable_tpm_gives_one_clear_line() {
    // A port nobody listens on (bound, then closed).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tcti = format!("swtpm:host=127.0.0.1,port={port}");
    let e = Tpm::open(&Tcti::parse(&tcti, "test").unwrap()).unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e}");
    let line = e.to_string();
    assert!(!line.contains('\n'), "{line}");
    assert!(
        line.starts_with(&format!("no TPM reachable at {tcti} (")),
        "{line}"
    );
    assert!(line.contains("KEYWARD_TPM2_TCTI"), "{line}");

    let e = Tpm::open(&Tcti::parse("device:/nonexistent/tpmrm0", "test").unwrap()).unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e}");
}

/// `keyward doctor`'s TPM line: a reachable swtpm, then none, each one line
/// of keyward's with nothing from libtss2 on stderr.
#[test]
#[serial]
fn doctor_says_whether_a_tpm_is_reachable() {
    use keyward_tests::{bin, text, TestHome};
    let h = TestHome::new();
    let t = Swtpm::start();
    let doctor = |tcti: &str| {
        let out = h
            .command(bin("keyward"))
            .arg("doctor")
            .env("KEYWARD_TPM2_TCTI", tcti)
            .output()
            .unwrap();
        let stdout = text(&out.stdout);
        let line = stdout
            .lines()
            .find(|l| l.contains(" TPM: "))
            .unwrap_or_else(|| panic!("no TPM line in:\n{stdout}"))
            .to_string();
        let stderr = text(&out.stderr);
        assert!(
            !stderr.contains("WARNING:") && !stderr.contains("ERROR:"),
            "libtss2 printed: {stderr}"
        );
        line
    };
    let line = doctor(&t.tcti());
    assert!(
        line.starts_with(&format!(
            "ok    TPM: TPM 2.0 (IBM) reachable at {}: ",
            t.tcti()
        )),
        "{line}"
    );
    assert!(line.contains("0 of 3 failures"), "{line}");
    let tcti = t.tcti();
    drop(t);
    let line = doctor(&tcti);
    assert!(
        line.starts_with(&format!("ok    TPM: none reachable at {tcti} (127.0.0.1:")),
        "{line}"
    );
    assert!(line.contains("Connection refused"), "{line}");
    let line = doctor("cmd:/bin/sh");
    assert!(
        line.starts_with("WARN  TPM: bad TPM address \"cmd:/bin/sh\""),
        "{line}"
    );
}

/// A TPM whose owner hierarchy has a password (set with tpm2_changeauth):
/// keyward cannot make its storage key, and says so in one line.
#[test]
#[serial]
fn an_owner_password_is_said_in_one_line() {
    let t = Swtpm::start();
    t.tool("tpm2_changeauth", &["-c", "owner", "owner-secret"]);
    let e = open(&t)
        .seal(key().expose_secret(), PcrList::NONE, None)
        .unwrap_err();
    let line = e.to_string();
    assert_eq!(
        line,
        "TPM CreatePrimary failed: the TPM's owner hierarchy has a password; keyward needs it empty (`tpm2_changeauth -c owner -p OLD`), or use another slot"
    );
}

/// `seal_at`/`unseal_at` (what keyward's slot code calls: a session on a
/// thread of its own) round-trip, and say errors as `Tpm`'s methods do.
#[test]
#[serial]
fn seal_at_and_unseal_at_round_trip_on_their_own_thread() {
    let t = Swtpm::start();
    let tcti = Tcti::parse(&t.tcti(), "test").unwrap();
    let k = key();
    let sealed =
        keyward_tpm::seal_at(&tcti, k.expose_secret(), PcrList::NONE, Some(&pin("1234"))).unwrap();
    let got = keyward_tpm::unseal_at(&tcti, &sealed, Some(&pin("1234"))).unwrap();
    assert_eq!(got.expose_secret(), k.expose_secret());
    let e = keyward_tpm::unseal_at(&tcti, &sealed, Some(&pin("4321"))).unwrap_err();
    assert!(matches!(e, Error::WrongPin { .. }), "{e}");
}
