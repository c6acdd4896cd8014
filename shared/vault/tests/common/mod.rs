//! What the vault's integration tests share: cheap KDF parameters, throwaway
//! vault paths, passwords in locked memory, git entries, and copies of the
//! fixtures in `testdata/`.
// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use keyward_secmem::SecretBytes;
use keyward_vault::{KdfParams, Kind, NewEntry};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// Below the production floor, for speed.
pub const CHEAP: KdfParams = KdfParams {
    log_n: 10,
    r: 8,
    p: 1,
};

/// `s` in locked memory.
pub fn pw(s: &str) -> SecretBytes {
    SecretBytes::from_slice(s.as_bytes()).unwrap()
}

/// A vault path (not yet made) in a new temporary directory.
pub fn tmp() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("keyward/vault");
    (d, p)
}

/// A git credential for `https://host` with `user` and `secret`.
pub fn git(host: &str, user: &str, secret: &str) -> NewEntry {
    NewEntry::new(Kind::Git, "https", host, "", user, pw(secret))
}

/// A copy of `testdata/NAME` as a vault (0600 in a 0700 directory).
pub fn fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
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
