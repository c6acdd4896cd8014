//! Tampering, truncation and unsafe file permissions are refused with the
//! right error, and the file is left exactly as it was.

use keyward_vault::{Error, KdfParams, Kind, NewEntry, Vault};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

mod common;
use common::pw;

const CHEAP: KdfParams = KdfParams {
    log_n: 4,
    r: 1,
    p: 1,
};

fn small_vault() -> (tempfile::TempDir, PathBuf, Vault) {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("kw/vault");
    let mut v = Vault::create(&path, &pw("pw"), CHEAP).unwrap();
    v.update(|t| {
        let mut e = NewEntry::new(
            Kind::Git,
            "https",
            "example.com",
            "repo.git",
            "alice",
            pw("tok"),
        );
        e.oauth_refresh_token = Some(pw("refresh"));
        t.upsert(e)?;
        t.upsert(NewEntry::new(
            Kind::Docker,
            "",
            "registry.example:5000",
            "",
            "bob",
            pw("d"),
        ))?;
        Ok(())
    })
    .unwrap();
    (d, path, v)
}

fn expect_corrupt(r: Result<Vault, Error>, path: &Path, what: &str) {
    match r {
        Err(e @ Error::Corrupt { .. }) => assert_eq!(
            e.to_string(),
            format!(
                "vault is corrupted or was tampered with: {}; `keyward recover` restores the last intact generation",
                path.display()
            )
        ),
        // The format version (bytes 8 and 9) cannot be authenticated
        // before it is known: a changed one reads as a newer keyward's.
        Err(Error::TooNew { .. }) if what.starts_with("byte 8 ") || what.starts_with("byte 9 ") => {}
        Err(e) => panic!("{what}: expected the tamper error, got: {e}"),
        Ok(_) => panic!("{what}: a tampered vault opened"),
    }
}

#[test]
fn every_flipped_byte_is_detected_and_nothing_is_written() {
    let (_d, path, mut v) = small_vault();
    let good = std::fs::read(&path).unwrap();
    assert!(good.len() > 300, "vault has records: {} bytes", good.len());
    for i in 0..good.len() {
        for mask in [0x01u8, 0x80] {
            let mut bad = good.clone();
            bad[i] ^= mask;
            std::fs::write(&path, &bad).unwrap();
            let what = format!("byte {i} ^ {mask:#04x}");
            expect_corrupt(Vault::open_with_password(&path, &pw("pw")), &path, &what);
            expect_corrupt(
                Vault::open_with_key(&path, v.key().try_clone().unwrap()),
                &path,
                &what,
            );
            // A writer that opened the vault before the damage refuses to write over it.
            let r =
                v.update(|t| t.upsert(NewEntry::new(Kind::Git, "https", "x", "", "y", pw("z"))));
            assert!(
                matches!(r, Err(Error::Corrupt { .. }))
                    || (i == 8 || i == 9) && matches!(r, Err(Error::TooNew { .. })),
                "{what}: update: {r:?}"
            );
            assert_eq!(std::fs::read(&path).unwrap(), bad, "{what}: file changed");
        }
    }
    std::fs::write(&path, &good).unwrap();
    Vault::open_with_password(&path, &pw("pw")).unwrap();
}

#[test]
fn truncated_or_extended_files_are_detected() {
    let (_d, path, v) = small_vault();
    let good = std::fs::read(&path).unwrap();
    for len in 0..good.len() {
        std::fs::write(&path, &good[..len]).unwrap();
        expect_corrupt(
            Vault::open_with_key(&path, v.key().try_clone().unwrap()),
            &path,
            &format!("truncated to {len}"),
        );
        if len % 16 == 0 {
            expect_corrupt(
                Vault::open_with_password(&path, &pw("pw")),
                &path,
                "truncated",
            );
        }
        assert_eq!(std::fs::read(&path).unwrap(), &good[..len]);
    }
    for extra in [&[0u8][..], b"x", &[0u8; 64]] {
        let mut long = good.clone();
        long.extend_from_slice(extra);
        std::fs::write(&path, &long).unwrap();
        expect_corrupt(
            Vault::open_with_password(&path, &pw("pw")),
            &path,
            "extended",
        );
    }
}

#[test]
fn records_cannot_be_moved_between_vaults() {
    // Same password, same layout: splice the secrets region of vault B into vault A.
    let (_d, a_path, a) = small_vault();
    let (_d2, b_path, _b) = small_vault();
    let a_bytes = std::fs::read(&a_path).unwrap();
    let b_bytes = std::fs::read(&b_path).unwrap();
    assert_eq!(a_bytes.len(), b_bytes.len());
    let mut mixed = a_bytes.clone();
    mixed[169..200].copy_from_slice(&b_bytes[169..200]);
    std::fs::write(&a_path, &mixed).unwrap();
    expect_corrupt(
        Vault::open_with_key(&a_path, a.key().try_clone().unwrap()),
        &a_path,
        "spliced",
    );
}

#[test]
fn wrong_password_is_distinct_from_tampering() {
    let (_d, path, _v) = small_vault();
    let e = Vault::open_with_password(&path, &pw("PW")).unwrap_err();
    assert!(matches!(e, Error::WrongPassword { .. }), "{e}");
}

fn refused(r: Result<Vault, Error>, offender: &Path, fix: &str) {
    match r {
        Err(e @ Error::Permissions { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with(&format!("refusing {}: ", offender.display())),
                "{msg}"
            );
            assert!(msg.contains(fix), "{msg} should say {fix}");
        }
        Err(e) => panic!("expected a permissions error, got {e}"),
        Ok(_) => panic!("opened despite the unsafe path {}", offender.display()),
    }
}

#[test]
fn loose_modes_symlinks_and_foreign_owners_are_refused() {
    let (d, path, _v) = small_vault();
    let dir = path.parent().unwrap().to_path_buf();
    let open = |p: &Path| Vault::open_with_password(p, &pw("pw"));

    for mode in [0o640, 0o604, 0o660] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        refused(open(&path), &path, &format!("chmod 600 {}", path.display()));
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    for mode in [0o750, 0o705, 0o777] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
        refused(open(&path), &dir, &format!("chmod 700 {}", dir.display()));
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    open(&path).unwrap();

    // The vault file as a symlink (to a perfectly good vault).
    let link = dir.join("link");
    std::os::unix::fs::symlink(&path, &link).unwrap();
    refused(open(&link), &link, "symlink");
    // The directory as a symlink.
    let dir_link = d.path().join("kwlink");
    std::os::unix::fs::symlink(&dir, &dir_link).unwrap();
    refused(open(&dir_link.join("vault")), &dir_link, "symlink");
    // A writer refuses a symlinked vault too.
    let r = Vault::create(&link, &pw("pw"), CHEAP).map(|_| ());
    assert!(matches!(r, Err(Error::Exists { .. })), "{r:?}");
}

/// Fails unless root: tests that need root run (scripts/test runs as root),
/// never pass after printing that they did not.
fn require_root(why: &str) {
    assert!(
        nix::unistd::geteuid().is_root(),
        "needs root ({why}): run scripts/test as root"
    );
}

#[test]
fn foreign_owners_are_refused() {
    require_root("chown to another uid");
    let (_d, path, _v) = small_vault();
    let dir = path.parent().unwrap().to_path_buf();
    let open = |p: &Path| Vault::open_with_password(p, &pw("pw"));
    std::os::unix::fs::chown(&path, Some(65534), None).unwrap();
    refused(open(&path), &path, "owned by uid 65534");
    std::os::unix::fs::chown(&path, Some(0), None).unwrap();
    std::os::unix::fs::chown(&dir, Some(65534), None).unwrap();
    refused(open(&path), &dir, "owned by uid 65534");
    std::os::unix::fs::chown(&dir, Some(0), None).unwrap();
    open(&path).unwrap();
}

/// A root process acting for a user with `setfsuid` (as the PAM module does)
/// may open that user's vault; the owner check follows the filesystem uid.
#[test]
fn owner_check_follows_the_filesystem_uid() {
    require_root("setfsuid to another user");
    let (d, path, _v) = small_vault();
    let dir = path.parent().unwrap().to_path_buf();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    for p in [&dir, &path, &dir.join("vault.lock")] {
        std::os::unix::fs::chown(p, Some(65534), Some(65534)).unwrap();
    }
    // As root (fsuid 0) the user's vault is someone else's.
    refused(
        Vault::open_with_password(&path, &pw("pw")),
        &dir,
        "owned by uid 65534",
    );
    let p2 = path.clone();
    let r = std::thread::spawn(move || {
        nix::unistd::setfsuid(nix::unistd::Uid::from_raw(65534));
        let mut v = Vault::open_with_password(&p2, &pw("pw")).map_err(|e| e.to_string())?;
        v.update(|t| {
            t.upsert(NewEntry::new(
                Kind::Git,
                "https",
                "as-user",
                "",
                "u",
                pw("s"),
            ))
        })
        .map_err(|e| e.to_string())?;
        Ok::<usize, String>(v.entries().len())
    })
    .join()
    .unwrap();
    assert_eq!(r, Ok(3));
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().uid(),
        65534,
        "written as the user"
    );
}
