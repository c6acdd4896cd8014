//! The unlock policy against a throwaway vault and the real kernel keyring.

use keyward_secmem::{ExposeSecret, SecretBytes};
use keyward_unlock::{open_for_helper, HelperOpen};
use keyward_vault::{keyring, Error, KdfParams, Kind, NewEntry, Vault};
use std::path::PathBuf;
use std::time::Duration;

const CHEAP: KdfParams = KdfParams {
    log_n: 10,
    r: 8,
    p: 1,
};

fn pw(s: &str) -> SecretBytes {
    SecretBytes::from_slice(s.as_bytes()).unwrap()
}

fn tmp() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("keyward/vault");
    (d, p)
}

fn git(host: &str, user: &str, secret: &str) -> NewEntry {
    NewEntry::new(Kind::Git, "https", host, "", user, pw(secret))
}

#[test]
#[serial_test::serial(keyring)]
fn helper_uses_keyring_or_fails_fast_when_locked() {
    let (_d, path) = tmp();
    let mut v = Vault::create(&path, &pw("pw"), CHEAP).unwrap();
    v.update(|t| t.upsert(git("a.example", "u", "tok")))
        .unwrap();
    let opts = || HelperOpen {
        vault: Some(path.clone()),
        config: Some(keyward_vault::Config::default()),
        no_prompt: true,
        cache_after_prompt: false,
    };
    let e = open_for_helper(opts()).unwrap_err();
    assert!(matches!(e, Error::Locked { .. }));
    assert!(
        e.to_string()
            .starts_with("vault is locked: run `keyward unlock`"),
        "{e}"
    );
    keyring::store(&v.id(), v.key(), Duration::from_secs(30)).unwrap();
    let h = open_for_helper(opts()).unwrap();
    assert_eq!(h.reveal(0).unwrap().password.expose_secret(), b"tok");
    keyring::revoke(&v.id()).unwrap();
    let (_d3, missing) = tmp();
    let none = keyward_unlock::open_for_helper_if_exists(HelperOpen {
        vault: Some(missing),
        ..opts()
    })
    .unwrap();
    assert!(none.is_none());
}
