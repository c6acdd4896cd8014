//! Key slots (format version 2): enrolling, opening through a slot,
//! rewrapping every slot on a password change, removing slots, upgrading a
//! version-1 vault and refusing a newer one.

use keyward_secmem::{ExposeSecret, SecretBytes};
use keyward_vault::slot::public_key;
use keyward_vault::{Error, SealedVault, SlotKind, Vault};
use std::path::Path;

mod common;
use common::{fixture, git, pw, tmp, CHEAP};

fn token(path: &Path, v: &Vault) -> Vec<u8> {
    let _ = path;
    v.reveal(0).unwrap().password.expose_secret().to_vec()
}

fn version_on_disk(path: &Path) -> u16 {
    let b = std::fs::read(path).unwrap();
    u16::from_le_bytes([b[8], b[9]])
}

#[test]
fn a_recovery_slot_opens_and_survives_a_password_change() {
    let (_d, path) = tmp();
    let mut v = Vault::create(&path, &pw("old"), CHEAP).unwrap();
    v.update(|t| t.upsert(git("example.com", "alice", "tok")))
        .unwrap();
    let recovery = SecretBytes::random(32).unwrap();
    let public = public_key(SlotKind::Recovery, &recovery).unwrap();
    assert_eq!(v.enroll(SlotKind::Recovery, &public, b"").unwrap(), 1);
    let kinds: Vec<_> = v.slots().iter().map(|s| s.kind).collect();
    assert_eq!(kinds, [SlotKind::Password, SlotKind::Recovery]);
    assert_eq!(v.slots()[1].public, Some(public));

    let r = SealedVault::read(&path)
        .unwrap()
        .open_with_slot(SlotKind::Recovery, &recovery)
        .unwrap();
    assert_eq!(token(&path, &r), b"tok");
    let wrong = SecretBytes::random(32).unwrap();
    let e = SealedVault::read(&path)
        .unwrap()
        .open_with_slot(SlotKind::Recovery, &wrong)
        .unwrap_err();
    assert!(matches!(e, Error::NoSlotOpens { .. }), "{e}");
    assert_eq!(e.to_string().lines().count(), 1);
    let e = SealedVault::read(&path)
        .unwrap()
        .open_with_slot(SlotKind::Host, &recovery)
        .unwrap_err();
    assert!(e.to_string().contains("no host slot"), "{e}");

    // A password change makes a new vault key: the recovery slot is
    // rewrapped to it from its public key, without the recovery key.
    let old_key = v.key().try_clone().unwrap();
    v.change_password(&pw("new"), CHEAP).unwrap();
    assert_ne!(v.key().expose(), old_key.expose());
    assert_eq!(v.slots().len(), 2);
    let r = SealedVault::read(&path)
        .unwrap()
        .open_with_slot(SlotKind::Recovery, &recovery)
        .unwrap();
    assert_eq!(r.key().expose(), v.key().expose());
    assert_eq!(token(&path, &r), b"tok");
    assert!(matches!(
        Vault::open_with_password(&path, &pw("old")).unwrap_err(),
        Error::WrongPassword { .. }
    ));
    Vault::open_with_password(&path, &pw("new")).unwrap();

    // Forgotten password: the recovery slot opens, a new password is set.
    let mut r = SealedVault::read(&path)
        .unwrap()
        .open_with_slot(SlotKind::Recovery, &recovery)
        .unwrap();
    r.change_password(&pw("newer"), CHEAP).unwrap();
    assert_eq!(
        token(
            &path,
            &Vault::open_with_password(&path, &pw("newer")).unwrap()
        ),
        b"tok"
    );
}

#[test]
fn unenroll_removes_a_slot_but_never_the_last() {
    let (_d, path) = tmp();
    let mut v = Vault::create(&path, &pw("pw"), CHEAP).unwrap();
    let e = v.unenroll(0).unwrap_err();
    assert!(e.to_string().contains("last slot"), "{e}");
    let secret = SecretBytes::random(32).unwrap();
    let public = public_key(SlotKind::Recovery, &secret).unwrap();
    v.enroll(SlotKind::Recovery, &public, b"").unwrap();
    // Without its password slot, the vault opens through the recovery key only.
    assert_eq!(v.unenroll(0).unwrap().kind, SlotKind::Password);
    let e = Vault::open_with_password(&path, &pw("pw")).unwrap_err();
    assert!(matches!(e, Error::NoSlotOpens { .. }), "{e}");
    assert!(e.to_string().contains("recovery key"), "{e}");
    let mut r = SealedVault::read(&path)
        .unwrap()
        .open_with_slot(SlotKind::Recovery, &secret)
        .unwrap();
    assert!(r.unenroll(0).is_err(), "the last slot stays");
    // Setting a password adds a password slot back in front.
    r.change_password(&pw("again"), CHEAP).unwrap();
    let kinds: Vec<_> = r.slots().iter().map(|s| s.kind).collect();
    assert_eq!(kinds, [SlotKind::Password, SlotKind::Recovery]);
    Vault::open_with_password(&path, &pw("again")).unwrap();
}

#[test]
fn a_slot_of_an_unknown_kind_is_kept_and_rewrapped() {
    // A kind this keyward does not know (a future `fido2`): kept verbatim
    // through record updates, its data kept and its wrap renewed on rekey.
    let (_d, path) = tmp();
    let mut v = Vault::create(&path, &pw("pw"), CHEAP).unwrap();
    let secret = SecretBytes::random(32).unwrap();
    let kind = SlotKind::Other(77);
    let public = public_key(kind, &secret).unwrap();
    v.enroll(kind, &public, b"credential id and salt").unwrap();
    let before = std::fs::read(&path).unwrap();
    v.update(|t| t.upsert(git("example.com", "bob", "t2")))
        .unwrap();
    let after = std::fs::read(&path).unwrap();
    let slot_bytes = |b: &[u8]| {
        let at = b
            .windows(public.len())
            .position(|w| w == public)
            .expect("slot public key in the header");
        b[at..at + 124 + 22].to_vec()
    };
    assert_eq!(slot_bytes(&before), slot_bytes(&after), "kept verbatim");
    assert_eq!(v.slots()[1].extra, b"credential id and salt");
    v.change_password(&pw("pw2"), CHEAP).unwrap();
    assert_eq!(v.slots()[1].extra, b"credential id and salt");
    let r = SealedVault::read(&path)
        .unwrap()
        .open_with_slot(kind, &secret)
        .unwrap();
    assert_eq!(r.key().expose(), v.key().expose());
}

#[test]
fn slots_copied_from_another_vault_do_not_open_it() {
    // Each wrap is bound to its vault's id (associated data): slots moved
    // into another vault's header open nothing there.
    let (_d, path) = tmp();
    let (_d2, other) = tmp();
    let mut v = Vault::create(&path, &pw("pw"), CHEAP).unwrap();
    let secret = SecretBytes::random(32).unwrap();
    let public = public_key(SlotKind::Recovery, &secret).unwrap();
    v.enroll(SlotKind::Recovery, &public, b"").unwrap();
    let mut w = Vault::create(&other, &pw("pw"), CHEAP).unwrap();
    w.enroll(SlotKind::Recovery, &public, b"").unwrap();
    // Swap in the other vault's slot bytes (same length) and fix the
    // checksum: the header parses.
    let a = std::fs::read(&path).unwrap();
    let b = std::fs::read(&other).unwrap();
    let slots_len = u32::from_le_bytes(a[28..32].try_into().unwrap()) as usize;
    let mut forged = a.clone();
    forged[32..32 + slots_len].copy_from_slice(&b[32..32 + slots_len]);
    forged[12..28].copy_from_slice(&a[12..28]);
    use sha2::Digest;
    let check = sha2::Sha256::digest(&forged[..32 + slots_len]);
    forged[32 + slots_len..64 + slots_len].copy_from_slice(&check);
    std::fs::write(&path, &forged).unwrap();
    let e = SealedVault::read(&path)
        .unwrap()
        .open_with_slot(SlotKind::Recovery, &secret)
        .unwrap_err();
    // The wrap is bound to the other vault's id: it does not unwrap here.
    assert!(matches!(e, Error::NoSlotOpens { .. }), "{e}");
    let e = Vault::open_with_password(&path, &pw("pw")).unwrap_err();
    assert!(matches!(e, Error::WrongPassword { .. }), "{e}");
}

#[test]
fn a_version_1_vault_is_upgraded_on_its_next_write_and_still_opens() {
    let (_d, path) = fixture("v1-aes-gcm-0.10.vault");
    assert_eq!(version_on_disk(&path), 1);
    let mut v = Vault::open_with_password(&path, &pw("fixture password")).unwrap();
    assert_eq!(v.format_version(), 1);
    let kinds: Vec<_> = v.slots().iter().map(|s| s.kind).collect();
    assert_eq!(kinds, [SlotKind::Password]);
    // Reading does not write.
    assert_eq!(version_on_disk(&path), 1);
    v.update(|t| t.upsert(git("example.com", "dave", "new-token")))
        .unwrap();
    assert_eq!(version_on_disk(&path), 2);
    assert_eq!(v.format_version(), 2);
    let v = Vault::open_with_password(&path, &pw("fixture password")).unwrap();
    assert_eq!(v.id().to_hex(), "9d140dd8eb3019e664d4d070d66d6d90");
    assert_eq!(v.entries().len(), 3);
    assert_eq!(
        v.reveal(0).unwrap().password.expose_secret(),
        b"ghp_fixture_token"
    );
    assert!(matches!(
        Vault::open_with_password(&path, &pw("fixture passwore")).unwrap_err(),
        Error::WrongPassword { .. }
    ));
}

#[test]
fn a_vault_from_a_newer_keyward_is_refused_in_one_line() {
    let (_d, path) = tmp();
    drop(Vault::create(&path, &pw("pw"), CHEAP).unwrap());
    let mut b = std::fs::read(&path).unwrap();
    b[8..10].copy_from_slice(&3u16.to_le_bytes());
    std::fs::write(&path, &b).unwrap();
    for e in [
        Vault::open_with_password(&path, &pw("pw")).unwrap_err(),
        keyward_vault::read_vault_id(&path).unwrap_err(),
    ] {
        assert!(matches!(e, Error::TooNew { found: 3, .. }), "{e}");
        assert_eq!(
            e.to_string(),
            format!(
                "{} was written by a newer keyward (vault format 3; this keyward reads up to 2): upgrade keyward to open it",
                path.display()
            )
        );
    }
}
