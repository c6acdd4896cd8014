//! Format compatibility: vault files written by earlier builds stay readable.
//!
//! `testdata/v1-aes-gcm-0.10.vault` was written by keyward built on aes-gcm
//! 0.10 (`keyward init` with `[kdf] log_n = 10`, then two `git-credential-keyward
//! store` calls). Reading it with the current build proves a crypto-crate
//! upgrade did not change the file format. Password: `fixture password`.

use keyward_secmem::ExposeSecret;
use keyward_vault::{Error, Kind, Vault};

mod common;
use common::{fixture, pw};

#[test]
fn reads_a_vault_written_by_the_aes_gcm_0_10_build() {
    let (_d, path) = fixture("v1-aes-gcm-0.10.vault");
    let v = Vault::open_with_password(&path, &pw("fixture password")).unwrap();
    assert_eq!(v.id().to_hex(), "9d140dd8eb3019e664d4d070d66d6d90");
    assert_eq!(v.kdf().unwrap().log_n, 10);
    let e = v.entries();
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].kind, Kind::Git);
    assert_eq!(
        (
            e[0].protocol.as_str(),
            e[0].host.as_str(),
            e[0].path.as_str()
        ),
        ("https", "example.com:8443", "org/repo.git")
    );
    assert_eq!(e[0].username, "alice");
    assert_eq!(e[0].password_expiry_utc, Some(4_102_444_800));
    assert_eq!((e[1].username.as_str(), e[1].path.as_str()), ("carol", ""));
    let s = v.reveal(0).unwrap();
    assert_eq!(s.password.expose_secret(), b"ghp_fixture_token");
    assert_eq!(
        s.oauth_refresh_token.as_ref().unwrap().expose_secret(),
        b"refresh-fixture"
    );
    assert_eq!(
        v.reveal(1).unwrap().password.expose_secret(),
        b"second-token"
    );
}

#[test]
fn the_fixture_still_refuses_a_wrong_password() {
    let (_d, path) = fixture("v1-aes-gcm-0.10.vault");
    let err = Vault::open_with_password(&path, &pw("fixture passwore")).unwrap_err();
    assert!(matches!(err, Error::WrongPassword { .. }), "{err}");
}
