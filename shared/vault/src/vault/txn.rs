//! The records of a vault while [`Vault::update`] holds its lock ([`Txn`]).

use super::*;

/// The records of a vault while [`Vault::update`] holds its lock.
#[derive(Debug)]
pub struct Txn<'a> {
    pub(super) path: PathBuf,
    pub(super) id: VaultId,
    pub(super) key: &'a VaultKey,
    pub(super) data: &'a [u8],
    pub(super) entries: Vec<Entry>,
    pub(super) dirty: bool,
}

impl Txn<'_> {
    /// Records as they are now in this transaction.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Decrypts one record's secrets.
    pub fn reveal(&self, index: usize) -> Result<Secrets> {
        let e = self
            .entries
            .get(index)
            .ok_or_else(|| Error::Invalid(format!("no record number {index}")))?;
        let blob = entry_blob(&self.path, e, self.data)?;
        reveal_blob(&self.path, self.key, &self.id, &e.record, blob)
    }

    /// Adds a record, replacing one with the same kind, protocol, host, path
    /// and username (keeping its creation time). Returns its index.
    pub fn upsert(&mut self, n: NewEntry) -> Result<usize> {
        let entry = seal_entry(self.key, &self.id, n)?;
        let existing = self.entries.iter().position(|e| e.same_key(&entry));
        Ok(self.place(entry, existing))
    }

    fn place(&mut self, mut entry: Entry, existing: Option<usize>) -> usize {
        self.dirty = true;
        match existing {
            Some(i) => {
                entry.created = self.entries[i].created;
                self.entries[i] = entry;
                i
            }
            None => {
                self.entries.push(entry);
                self.entries.len() - 1
            }
        }
    }

    /// Adds records sealed beforehand ([`Vault::seal`], outside the lock), in
    /// one pass: each replaces a record with its identity (keeping that
    /// record's creation time; the replacement moves to the end), the rest
    /// are appended in order. Linear in the number of records.
    pub fn put_all(&mut self, sealed: Vec<Sealed>) -> Result<PutCounts> {
        use std::collections::HashMap;
        let mut created: HashMap<IdentityKey, u64> =
            sealed.iter().map(|s| (s.0.identity_key(), 0)).collect();
        let before = self.entries.len();
        self.entries
            .retain(|e| match created.get_mut(&e.identity_key()) {
                Some(c) => {
                    *c = e.created;
                    false
                }
                None => true,
            });
        let replaced = before - self.entries.len();
        for s in sealed {
            let mut e = s.0;
            if let Some(&c) = created.get(&e.identity_key()) {
                if c != 0 {
                    e.created = c;
                }
            }
            self.entries.push(e);
        }
        self.dirty = true;
        let total = created.len();
        Ok(PutCounts {
            added: total.saturating_sub(replaced),
            replaced,
        })
    }

    /// Removes one record.
    pub fn remove(&mut self, index: usize) -> Result<()> {
        if index >= self.entries.len() {
            return Err(Error::Invalid(format!("no record number {index}")));
        }
        self.entries.remove(index);
        self.dirty = true;
        Ok(())
    }

    /// Keeps only the records for which `keep` is true; returns how many were removed.
    pub fn retain(&mut self, mut keep: impl FnMut(&Entry) -> bool) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| keep(e));
        let removed = before - self.entries.len();
        if removed > 0 {
            self.dirty = true;
        }
        removed
    }
}

/// A record sealed under the vault key without the writers' lock
/// ([`Vault::seal`]), to be added by [`Txn::put_all`].
#[derive(Debug)]
pub struct Sealed(Entry);

/// What [`Txn::put_all`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutCounts {
    /// Records that were not in the vault before.
    pub added: usize,
    /// Records that replaced one with the same identity.
    pub replaced: usize,
}

/// A record's identity as a hashable key (kind, protocol, host, path, username).
pub(super) type IdentityKey = (u8, String, String, String, String);

/// Checks the fields, encodes the secrets in locked memory and seals them
/// under `key` with a fresh record id.
pub(super) fn seal_entry(key: &VaultKey, id: &VaultId, mut n: NewEntry) -> Result<Entry> {
    for (name, v) in [
        ("protocol", &n.protocol),
        ("host", &n.host),
        ("path", &n.path),
        ("username", &n.username),
    ] {
        check_field(name, v)?;
    }
    if let Some(a) = &n.authtype {
        check_field("authtype", a)?;
    }
    let record: [u8; ID_LEN] = format::random_array()?;
    let mut plain = SecretBytes::with_capacity(
        16 + n.password.len()
            + n.oauth_refresh_token.as_ref().map_or(0, |s| s.len())
            + n.credential.as_ref().map_or(0, |s| s.len()),
    )?;
    format::put_secret_field(&mut plain, n.password.expose_secret())?;
    for opt in [&n.oauth_refresh_token, &n.credential] {
        match opt {
            None => plain.push(0)?,
            Some(s) => {
                plain.push(1)?;
                format::put_secret_field(&mut plain, s.expose_secret())?;
            }
        }
    }
    let blob = format::seal_secret(&key.cipher()?, id, &record, plain)?;
    let t = now();
    Ok(Entry {
        kind: n.kind,
        protocol: std::mem::take(&mut n.protocol),
        host: std::mem::take(&mut n.host),
        path: std::mem::take(&mut n.path),
        username: std::mem::take(&mut n.username),
        password_expiry_utc: n.password_expiry_utc,
        authtype: n.authtype.take(),
        created: t,
        updated: t,
        record,
        blob: Blob::New(blob),
    })
}

impl Vault {
    /// Seals `n` under the vault key without taking the writers' lock (an
    /// import seals thousands of records before [`Vault::update`] and
    /// [`Txn::put_all`] add them, so the lock is held only for the write).
    pub fn seal(&self, n: NewEntry) -> Result<Sealed> {
        seal_entry(&self.key, &self.state.header.id, n).map(Sealed)
    }
}
