//! Round trips through the public API, on throwaway vaults.

use keyward_secmem::ExposeSecret;
use keyward_vault::{keyring, read_vault_id, Error, Kind, NewEntry, Vault, VaultKey};

mod common;
use common::{git, pw, tmp, CHEAP};
use std::time::Duration;

#[test]
fn create_add_reveal_reopen() {
    let (_d, path) = tmp();
    let mut v = Vault::create(&path, &pw("correct horse"), CHEAP).unwrap();
    assert!(v.entries().is_empty());
    v.update(|t| {
        t.upsert(git("example.com", "alice", "tok-alice"))?;
        let mut e = git("example.com:8443", "bob", "tok-bob");
        e.password_expiry_utc = Some(1_900_000_000);
        e.oauth_refresh_token = Some(pw("refresh-bob"));
        e.authtype = Some("Bearer".into());
        e.credential = Some(pw("cred-bob"));
        t.upsert(e)?;
        t.upsert(NewEntry::new(
            Kind::Docker,
            "",
            "https://index.docker.io/v1/",
            "",
            "carol",
            pw("dock"),
        ))?;
        Ok(())
    })
    .unwrap();
    assert_eq!(v.entries().len(), 3);
    assert_eq!(v.generation(), 2);

    let v2 = Vault::open_with_password(&path, &pw("correct horse")).unwrap();
    assert_eq!(v2.id(), v.id());
    let e = &v2.entries()[1];
    assert_eq!(
        (
            e.kind,
            e.protocol.as_str(),
            e.host.as_str(),
            e.username.as_str()
        ),
        (Kind::Git, "https", "example.com:8443", "bob")
    );
    assert_eq!(e.password_expiry_utc, Some(1_900_000_000));
    assert_eq!(e.authtype.as_deref(), Some("Bearer"));
    let s = v2.reveal(1).unwrap();
    assert_eq!(s.password.expose_secret(), b"tok-bob");
    assert_eq!(
        s.oauth_refresh_token.unwrap().expose_secret(),
        b"refresh-bob"
    );
    assert_eq!(s.credential.unwrap().expose_secret(), b"cred-bob");
    let s0 = v2.reveal(0).unwrap();
    assert_eq!(s0.password.expose_secret(), b"tok-alice");
    assert!(s0.oauth_refresh_token.is_none());
    assert_eq!(v2.entries()[2].kind, Kind::Docker);
    assert_eq!(v2.reveal(2).unwrap().password.expose_secret(), b"dock");
    assert!(v2.reveal(3).is_err());
    // The borrowed views agree with the owned entries, index for index.
    assert_eq!(v2.len(), 3);
    let refs: Vec<_> = v2.entry_refs().collect();
    assert_eq!(refs.len(), 3);
    for (r, e) in refs.iter().zip(v2.entries()) {
        assert_eq!(
            (r.kind, r.protocol, r.host, r.path, r.username),
            (e.kind, &*e.protocol, &*e.host, &*e.path, &*e.username)
        );
        assert_eq!(
            (r.password_expiry_utc, r.authtype),
            (e.password_expiry_utc, e.authtype.as_deref())
        );
        assert_eq!((r.created, r.updated), (e.created, e.updated));
    }
    // So do the byte keys a lookup scans.
    let keys: Vec<_> = v2.entry_keys().collect();
    assert_eq!(keys.len(), 3);
    for (k, e) in keys.iter().zip(v2.entries()) {
        assert_eq!(
            (k.kind, k.protocol, k.host, k.path, k.username),
            (
                e.kind,
                e.protocol.as_bytes(),
                e.host.as_bytes(),
                e.path.as_bytes(),
                e.username.as_bytes()
            )
        );
        assert_eq!(k.has_authtype, e.authtype.is_some());
    }
    let one = v2.entry(1).unwrap();
    assert_eq!(one.host, "example.com:8443");
    assert!(v2.entry(3).is_none() && v2.entry_ref(3).is_none());

    // The key opens it without scrypt.
    let v3 = Vault::open_with_key(&path, v2.key().try_clone().unwrap()).unwrap();
    assert_eq!(v3.entries().len(), 3);
    assert_eq!(read_vault_id(&path).unwrap(), v.id());
}

#[test]
fn upsert_replaces_same_identity_and_remove_retain() {
    let (_d, path) = tmp();
    let mut v = Vault::create(&path, &pw("pw"), CHEAP).unwrap();
    v.update(|t| {
        t.upsert(git("a.example", "u", "one"))?;
        t.upsert(git("b.example", "u", "two"))?;
        Ok(())
    })
    .unwrap();
    let created = v.entries()[0].created;
    v.update(|t| t.upsert(git("a.example", "u", "one-new")))
        .unwrap();
    assert_eq!(v.entries().len(), 2);
    assert_eq!(v.entries()[0].created, created);
    assert_eq!(v.reveal(0).unwrap().password.expose_secret(), b"one-new");
    // Another handle sees the change (update re-reads under the lock).
    let mut other = Vault::open_with_password(&path, &pw("pw")).unwrap();
    other.update(|t| t.remove(1)).unwrap();
    v.update(|t| Ok(t.retain(|e| e.host != "nothing"))).unwrap();
    assert_eq!(
        v.entries().len(),
        1,
        "update re-read the file written by `other`"
    );
    v.update(|t| Ok(t.retain(|e| e.host != "a.example")))
        .unwrap();
    assert!(Vault::open_with_password(&path, &pw("pw"))
        .unwrap()
        .entries()
        .is_empty());
}

#[test]
fn failed_update_writes_nothing() {
    let (_d, path) = tmp();
    let mut v = Vault::create(&path, &pw("pw"), CHEAP).unwrap();
    v.update(|t| t.upsert(git("a.example", "u", "one")))
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let r: Result<(), Error> = v.update(|t| {
        t.upsert(git("b.example", "u", "two"))?;
        Err(Error::Invalid("stop".into()))
    });
    assert!(r.is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn wrong_password_and_passwd() {
    let (_d, path) = tmp();
    let mut v = Vault::create(&path, &pw("old"), CHEAP).unwrap();
    v.update(|t| t.upsert(git("a.example", "u", "s3cret")))
        .unwrap();
    let e = Vault::open_with_password(&path, &pw("nope")).unwrap_err();
    assert!(matches!(e, Error::WrongPassword { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!("wrong vault password for {}", path.display())
    );
    v.change_password(&pw("new"), CHEAP).unwrap();
    assert!(matches!(
        Vault::open_with_password(&path, &pw("old")).unwrap_err(),
        Error::WrongPassword { .. }
    ));
    let v2 = Vault::open_with_password(&path, &pw("new")).unwrap();
    assert_eq!(v2.reveal(0).unwrap().password.expose_secret(), b"s3cret");
    assert_eq!(v2.key().expose(), v.key().expose());
}

/// Review finding (issue 13): a backup taken before `passwd` and the old
/// password decrypted records stored after it (the key was only rewrapped).
/// Now the password change makes a new key and re-encrypts every record.
#[test]
fn an_old_backup_and_the_old_password_reveal_nothing_stored_after_passwd() {
    let (_d, path) = tmp();
    let mut v = Vault::create(&path, &pw("old"), CHEAP).unwrap();
    v.update(|t| t.upsert(git("before.example", "u", "secretA-before")))
        .unwrap();
    let backup = path.with_file_name("backup");
    std::fs::copy(&path, &backup).unwrap();
    v.change_password(&pw("new"), CHEAP).unwrap();
    v.update(|t| t.upsert(git("after.example", "u", "secretB-after-passwd")))
        .unwrap();
    // What the attacker has: the backup and the old password, hence the old key.
    let old = Vault::open_with_password(&backup, &pw("old")).unwrap();
    assert_ne!(
        old.key().expose(),
        v.key().expose(),
        "passwd must change the key"
    );
    let old_key = VaultKey::from_bytes(old.key().expose()).unwrap();
    assert!(Vault::open_with_key(&path, old_key).is_err());
    // The new vault: both records, under the new password only.
    let now = Vault::open_with_password(&path, &pw("new")).unwrap();
    let secrets: Vec<Vec<u8>> = (0..now.len())
        .map(|i| now.reveal(i).unwrap().password.expose_secret().to_vec())
        .collect();
    assert_eq!(
        secrets,
        vec![b"secretA-before".to_vec(), b"secretB-after-passwd".to_vec()]
    );
    // The file holds no byte of any record in the clear, nor the old wrap.
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes.windows(14).any(|w| w == b"secretA-before"));
}

#[test]
fn create_refuses_existing_and_missing_is_not_found() {
    let (_d, path) = tmp();
    assert!(matches!(
        Vault::open_with_password(&path, &pw("x")).unwrap_err(),
        Error::NotFound { .. }
    ));
    Vault::create(&path, &pw("x"), CHEAP).unwrap();
    assert!(matches!(
        Vault::create(&path, &pw("x"), CHEAP).unwrap_err(),
        Error::Exists { .. }
    ));
}

#[test]
#[serial_test::serial(keyring)]
fn keyring_store_load_revoke() {
    let (_d, path) = tmp();
    let v = Vault::create(&path, &pw("pw"), CHEAP).unwrap();
    let (_d2, path2) = tmp();
    let other = Vault::create(&path2, &pw("pw"), CHEAP).unwrap();
    assert!(keyring::load(&v.id()).unwrap().is_none());
    keyring::store(&v.id(), v.key(), Duration::from_secs(60)).unwrap();
    let k = keyring::load(&v.id()).unwrap().expect("cached");
    assert_eq!(k.expose(), v.key().expose());
    assert!(
        keyring::load(&other.id()).unwrap().is_none(),
        "two vaults never share a key"
    );
    let left = keyring::time_left(&v.id()).unwrap().unwrap();
    assert!(
        left <= Duration::from_secs(60) && left >= Duration::from_secs(55),
        "{left:?}"
    );
    Vault::open_with_key(&path, k).unwrap();
    // The key of one vault does not open another.
    let k = keyring::load(&v.id()).unwrap().unwrap();
    assert!(matches!(
        Vault::open_with_key(&path2, k).unwrap_err(),
        Error::Corrupt { .. }
    ));
    assert!(keyring::revoke(&v.id()).unwrap());
    assert!(keyring::load(&v.id()).unwrap().is_none());
    assert!(!keyring::revoke(&v.id()).unwrap());
}

#[test]
#[serial_test::serial(keyring)]
fn keyring_timeout_expires() {
    let (_d, path) = tmp();
    let v = Vault::create(&path, &pw("pw"), CHEAP).unwrap();
    keyring::store(&v.id(), v.key(), Duration::from_secs(1)).unwrap();
    assert!(keyring::load(&v.id()).unwrap().is_some());
    std::thread::sleep(Duration::from_millis(2100));
    assert!(
        keyring::load(&v.id()).unwrap().is_none(),
        "the kernel expired the key"
    );
}

/// A vault of several MiB (read into a huge-page mapping, not the heap):
/// every record reads back, a lookup from the end finds its match, an update
/// rewrites it, and a byte changed past the first 2 MiB is caught.
#[test]
fn a_vault_of_several_mib_reads_updates_and_detects_tampering() {
    let (_d, path) = tmp();
    // Few records (this runs unoptimised), each with a 1 KiB path.
    let n = 3_000;
    let long = "p".repeat(1024);
    let mut v = Vault::create(&path, &pw("correct horse"), CHEAP).unwrap();
    let sealed = (0..n)
        .map(|i| {
            v.seal(NewEntry::new(
                Kind::Git,
                "https",
                &format!("host{i}.example.com"),
                &long,
                &format!("user{i}"),
                pw(&format!("token-{i:08}-abcdefghijklmnop")),
            ))
        })
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    v.update(|t| t.put_all(sealed).map(|_| ())).unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    assert!(len > 3 << 20, "only {len} bytes");

    let key = v.key().try_clone().unwrap();
    let v2 = Vault::open_with_key(&path, key.try_clone().unwrap()).unwrap();
    assert_eq!(v2.len(), n);
    let want = format!("host{}.example.com", n / 2);
    let i = v2
        .entry_keys()
        .enumerate()
        .rev()
        .find(|(_, k)| k.host == want.as_bytes())
        .map(|(i, _)| i)
        .unwrap();
    assert_eq!(v2.entry(i).unwrap().username, format!("user{}", n / 2));
    assert_eq!(
        v2.reveal(i).unwrap().password.expose_secret(),
        format!("token-{:08}-abcdefghijklmnop", n / 2).as_bytes()
    );
    let last = v2.entry_refs().last().unwrap();
    assert_eq!(last.host, format!("host{}.example.com", n - 1));
    drop(v2);

    let mut v3 = Vault::open_with_key(&path, key.try_clone().unwrap()).unwrap();
    v3.update(|t| t.upsert(git("new.example", "n", "s3cret")).map(|_| ()))
        .unwrap();
    let v4 = Vault::open_with_key(&path, key.try_clone().unwrap()).unwrap();
    assert_eq!(v4.len(), n + 1);
    assert_eq!(v4.reveal(n).unwrap().password.expose_secret(), b"s3cret");
    drop((v3, v4));

    // One byte in the secrets region, one in the index past 2 MiB, one near its end.
    let good = std::fs::read(&path).unwrap();
    for at in [1 << 20, 5 << 19, good.len() - 100] {
        let mut bad = good.clone();
        bad[at] ^= 1;
        std::fs::write(&path, &bad).unwrap();
        assert!(
            matches!(
                Vault::open_with_key(&path, key.try_clone().unwrap()),
                Err(Error::Corrupt { .. })
            ),
            "byte {at} changed and not detected"
        );
    }
    std::fs::write(&path, &good).unwrap();
    assert_eq!(Vault::open_with_key(&path, key).unwrap().len(), n + 1);
}
