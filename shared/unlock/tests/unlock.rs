//! The unlock policy against a throwaway vault and the real kernel keyring.

use keyward_secmem::{ExposeSecret, SecretBytes};
use keyward_unlock::{open_for_helper, open_for_helper_if_exists, HelperOpen};
use keyward_vault::{keyring, Config, Error, KdfParams, Kind, NewEntry, Vault};
use std::time::Duration;

#[test]
#[serial_test::serial(keyring)]
fn helper_uses_keyring_or_fails_fast_when_locked() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("keyward/vault");
    let secret = |s: &str| SecretBytes::from_slice(s.as_bytes()).unwrap();
    let cheap = KdfParams {
        log_n: 10,
        r: 8,
        p: 1,
    };
    let mut v = Vault::create(&path, &secret("pw"), cheap).unwrap();
    v.update(|t| {
        t.upsert(NewEntry::new(
            Kind::Git,
            "https",
            "a.example",
            "",
            "u",
            secret("tok"),
        ))
    })
    .unwrap();
    let opts = |vault| HelperOpen {
        vault: Some(vault),
        config: Some(Config::default()),
        no_prompt: true,
        cache_after_prompt: false,
    };
    let e = open_for_helper(opts(path.clone())).unwrap_err();
    assert!(matches!(e, Error::Locked { .. }));
    assert!(
        e.to_string()
            .starts_with("vault is locked: run `keyward unlock`"),
        "{e}"
    );
    keyring::store(&v.id(), v.key(), Duration::from_secs(30)).unwrap();
    let h = open_for_helper(opts(path.clone())).unwrap();
    assert_eq!(h.reveal(0).unwrap().password.expose_secret(), b"tok");
    keyring::revoke(&v.id()).unwrap();
    let none = open_for_helper_if_exists(opts(d.path().join("missing/vault"))).unwrap();
    assert!(none.is_none());
}
