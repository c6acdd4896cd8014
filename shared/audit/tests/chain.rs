//! The audit chain against tampering (a flipped byte, a deleted middle
//! entry, a truncated tail, a torn last line, a dropped unsealed entry), and
//! 10,000 concurrent appends from 50 processes that lose no entry.

use keyward_audit::{append, read_entries, verify, Action, Keys, Paths, Target};
use keyward_secmem::SecretBytes;
use keyward_vault::{AuditSettings, Kind, VaultId, VaultKey};
use std::path::{Path, PathBuf};

fn keys() -> Keys<'static> {
    let key = VaultKey::from_secret(SecretBytes::from_slice(&[9u8; 32]).unwrap()).unwrap();
    Keys::owning(key, VaultId([1u8; 16])).unwrap()
}

fn other_keys() -> Keys<'static> {
    let key = VaultKey::from_secret(SecretBytes::from_slice(&[8u8; 32]).unwrap()).unwrap();
    Keys::owning(key, VaultId([1u8; 16])).unwrap()
}

fn vault_in(dir: &Path) -> PathBuf {
    dir.join("vault")
}

/// Ten entries; the 4th and 5th are unsealed (written without the key, as
/// failed unlocks are) and sealed by the 6th.
fn sample(dir: &Path, settings: &AuditSettings) -> PathBuf {
    let v = vault_in(dir);
    let k = keys();
    for i in 1..=10 {
        let sealed = !(4..=5).contains(&i);
        let (action, target) = if sealed {
            (
                Action::Get,
                Some(Target::new(Kind::Secret, "restic/backup-1")),
            )
        } else {
            (Action::UnlockFailed, None)
        };
        append(&v, settings, sealed.then_some(&k), action, target).unwrap();
    }
    v
}

fn lines(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|l| format!("{l}\n"))
        .collect()
}

fn problems(v: &Path, with_keys: bool) -> Vec<String> {
    let k = keys();
    verify(&Paths::for_vault(v), with_keys.then_some(&k))
        .unwrap()
        .problems
}

#[test]
fn an_intact_log_verifies_and_names_need_the_key() {
    let d = tempfile::tempdir().unwrap();
    let v = sample(d.path(), &AuditSettings::default());
    let p = Paths::for_vault(&v);
    let r = verify(&p, Some(&keys())).unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!((r.entries, r.first_seq, r.last_seq), (10, 1, 10));
    assert_eq!(r.unsealed_tail, 0);
    let text = std::fs::read_to_string(&p.log).unwrap();
    assert!(!text.contains("restic"), "names are encrypted in the file");
    let with = read_entries(&p, Some(&keys())).unwrap();
    assert_eq!(with[0].name.as_deref(), Some("restic/backup-1"));
    assert_eq!(with[0].body.kind.as_deref(), Some("secret"));
    assert!(!with[3].sealed && with[5].sealed);
    let without = read_entries(&p, None).unwrap();
    assert_eq!(without.len(), 10);
    assert!(without.iter().all(|e| e.name.is_none()));
    // Another vault's key: every MAC fails, names stay closed.
    assert!(!problems_with(&p, &other_keys()).is_empty());
    assert!(read_entries(&p, Some(&other_keys()))
        .unwrap()
        .iter()
        .all(|e| e.name.is_none()));
}

fn problems_with(p: &Paths, k: &Keys) -> Vec<String> {
    verify(p, Some(k)).unwrap().problems
}

#[test]
fn an_unsealed_tail_is_reported_until_the_next_sealed_entry() {
    let d = tempfile::tempdir().unwrap();
    let v = vault_in(d.path());
    let s = AuditSettings::default();
    append(&v, &s, Some(&keys()), Action::Unlock, None).unwrap();
    append(&v, &s, None, Action::UnlockFailed, None).unwrap();
    append(&v, &s, None, Action::Lock, None).unwrap();
    let r = verify(&Paths::for_vault(&v), Some(&keys())).unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.unsealed_tail, 2);
    append(&v, &s, Some(&keys()), Action::Unlock, None).unwrap();
    assert_eq!(
        verify(&Paths::for_vault(&v), Some(&keys()))
            .unwrap()
            .unsealed_tail,
        0
    );
}

#[test]
fn a_flipped_byte_is_reported() {
    let d = tempfile::tempdir().unwrap();
    let v = sample(d.path(), &AuditSettings::default());
    let log = Paths::for_vault(&v).log;
    let original = std::fs::read(&log).unwrap();
    // Every byte of entry 7 (sealed), one at a time, and of entry 4 (unsealed).
    let l = lines(&log);
    for entry in [6usize, 3] {
        let start: usize = l[..entry].iter().map(String::len).sum();
        let end = start + l[entry].len() - 1; // not the newline
        for at in start..end {
            let mut bad = original.clone();
            bad[at] ^= 0x01;
            std::fs::write(&log, &bad).unwrap();
            assert!(
                !problems(&v, true).is_empty(),
                "flipped byte {} of entry {} not reported",
                at - start,
                entry + 1
            );
        }
    }
    std::fs::write(&log, &original).unwrap();
    assert!(problems(&v, true).is_empty());
}

#[test]
fn a_deleted_middle_entry_is_reported_with_and_without_the_key() {
    for gone in [2usize, 3, 4] {
        // entry 3 (sealed), 4 and 5 (unsealed, sealed later)
        let d = tempfile::tempdir().unwrap();
        let v = sample(d.path(), &AuditSettings::default());
        let log = Paths::for_vault(&v).log;
        let mut l = lines(&log);
        l.remove(gone);
        std::fs::write(&log, l.concat()).unwrap();
        for with_keys in [true, false] {
            let p = problems(&v, with_keys);
            assert!(
                p.iter().any(|m| m.contains("deleted")),
                "entry {} deleted, keys {with_keys}: {p:?}",
                gone + 1
            );
        }
    }
}

#[test]
fn a_truncated_tail_is_reported() {
    let d = tempfile::tempdir().unwrap();
    let v = sample(d.path(), &AuditSettings::default());
    let log = Paths::for_vault(&v).log;
    let original = std::fs::read(&log).unwrap();
    let l = lines(&log);
    // Whole entries removed from the end.
    for keep in [9usize, 5, 1, 0] {
        std::fs::write(&log, l[..keep].concat()).unwrap();
        for with_keys in [true, false] {
            let p = problems(&v, with_keys);
            assert!(
                p.iter().any(|m| m.contains("truncated")),
                "kept {keep}: {p:?}"
            );
        }
    }
    // Cut inside the last entry.
    std::fs::write(&log, &original[..original.len() - 20]).unwrap();
    assert!(problems(&v, false).iter().any(|m| m.contains("cut off")));
}

#[test]
fn appends_after_a_truncation_stay_broken() {
    let d = tempfile::tempdir().unwrap();
    let v = sample(d.path(), &AuditSettings::default());
    let log = Paths::for_vault(&v).log;
    let l = lines(&log);
    std::fs::write(&log, l[..7].concat()).unwrap();
    append(
        &v,
        &AuditSettings::default(),
        Some(&keys()),
        Action::Get,
        None,
    )
    .unwrap();
    let p = problems(&v, true);
    assert!(p.iter().any(|m| m.contains("deleted")), "{p:?}");
}

#[test]
fn rotation_keeps_the_chain_across_files() {
    let d = tempfile::tempdir().unwrap();
    let s = AuditSettings {
        max_size: 4096,
        keep: 3,
        ..AuditSettings::default()
    };
    let v = vault_in(d.path());
    for _ in 0..60 {
        append(
            &v,
            &s,
            Some(&keys()),
            Action::Get,
            Some(Target::new(Kind::Git, "h")),
        )
        .unwrap();
    }
    let p = Paths::for_vault(&v);
    assert!(p.rotated(3).exists() && !p.rotated(4).exists());
    for f in [p.log.clone(), p.rotated(1)] {
        assert!(std::fs::metadata(&f).unwrap().len() <= 4096);
    }
    let r = verify(&p, Some(&keys())).unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.last_seq, 60);
    assert!(r.first_seq > 1, "the oldest files were dropped");
    // Deleting a whole middle file breaks the chain.
    std::fs::remove_file(p.rotated(2)).unwrap();
    assert!(!problems(&v, true).is_empty());
}

#[test]
fn files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let v = sample(d.path(), &AuditSettings::default());
    let p = Paths::for_vault(&v);
    for f in [&p.log, &p.head] {
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
    std::fs::set_permissions(&p.log, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = append(&v, &AuditSettings::default(), None, Action::Lock, None).unwrap_err();
    assert!(e.to_string().contains("chmod 600"), "{e}");
}

const CHILD_ENV: &str = "KEYWARD_AUDIT_TEST_CHILD_VAULT";
const PROCS: usize = 50;
const PER_PROC: usize = 200;

/// The body of each child process of `ten_thousand_concurrent_uses_lose_no_entry`.
#[test]
fn child_appender() {
    let Some(v) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let s = AuditSettings {
        max_size: 256 << 10,
        keep: 100,
        ..AuditSettings::default()
    };
    let k = keys();
    for i in 0..PER_PROC {
        let sealed = i % 10 != 0;
        append(
            Path::new(&v),
            &s,
            sealed.then_some(&k),
            Action::Get,
            Some(Target::new(Kind::Git, "example.com")),
        )
        .unwrap();
    }
}

#[test]
fn ten_thousand_concurrent_uses_lose_no_entry() {
    let d = tempfile::tempdir().unwrap();
    let v = vault_in(d.path());
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..PROCS)
        .map(|_| {
            std::process::Command::new(&exe)
                .args(["--exact", "child_appender", "--test-threads", "1"])
                .env(CHILD_ENV, &v)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let pids: Vec<u32> = children.iter().map(|c| c.id()).collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let p = Paths::for_vault(&v);
    let r = verify(&p, Some(&keys())).unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!((r.entries, r.first_seq, r.last_seq), (10_000, 1, 10_000));
    let entries = read_entries(&p, None).unwrap();
    for pid in pids {
        let n = entries.iter().filter(|e| e.body.client.by == pid).count();
        assert_eq!(n, PER_PROC, "entries of child {pid}");
    }
    assert!(p.rotated(1).exists(), "rotation ran under concurrency");
}

#[test]
fn a_rekey_entry_moves_the_mac_checks_to_the_new_key() {
    let d = tempfile::tempdir().unwrap();
    let v = vault_in(d.path());
    let s = AuditSettings::default();
    let (old, new) = (keys(), other_keys());
    for _ in 0..3 {
        append(&v, &s, Some(&old), Action::Get, None).unwrap();
    }
    let p = Paths::for_vault(&v);
    // Without a rekey entry, the new key finds the old MACs wrong.
    append(&v, &s, Some(&new), Action::Get, None).unwrap();
    assert!(!problems_with(&p, &new).is_empty());
    append(&v, &s, Some(&new), Action::Rekey, None).unwrap();
    append(&v, &s, Some(&new), Action::Get, None).unwrap();
    let r = verify(&p, Some(&new)).unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    // Entries before the rekey are still checked by structure.
    let mut l = lines(&p.log);
    l.remove(1);
    std::fs::write(&p.log, l.concat()).unwrap();
    assert!(problems_with(&p, &new)
        .iter()
        .any(|m| m.contains("deleted")));
}
