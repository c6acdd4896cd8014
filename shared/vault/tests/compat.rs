//! Format compatibility: vault files written by earlier builds stay readable.
//!
//! `testdata/v1-aes-gcm-0.10.vault` was written by keyward built on aes-gcm
//! 0.10 (`keyward init` with `[kdf] log_n = 10`, then two `git-credential-keyward
//! store` calls). Reading it with the current build proves a crypto-crate
//! upgrade did not change the file format. Password: `fixture password`.

use keyward_secmem::{ExposeSecret, SecretBytes};
use keyward_vault::{Error, Kind, Vault};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

fn fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name);
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("keyward");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let p = dir.join("vault");
    std::fs::copy(&src, &p).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    (d, p)
}

fn pw(s: &str) -> SecretBytes {
    SecretBytes::from_slice(s.as_bytes()).unwrap()
}

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
