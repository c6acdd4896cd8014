//! The records of a vault while [`Vault::update`] holds its lock ([`Txn`]).

use super::*;

/// One record of a transaction: unchanged from the file read under the lock
/// (its index in that read), or new (sealed in this transaction). A
/// transaction over 100,000 records holds 100,000 small slots, not 100,000
/// owned records.
#[derive(Debug)]
pub(super) enum Slot {
    Base(u32),
    New(Box<Entry>),
}

/// The records of a vault while [`Vault::update`] holds its lock.
#[derive(Debug)]
pub struct Txn<'a> {
    pub(super) path: PathBuf,
    pub(super) id: VaultId,
    pub(super) key: &'a VaultKey,
    /// The file as read under the lock.
    pub(super) base: &'a State,
    pub(super) slots: Vec<Slot>,
    /// [`Txn::entries`], built on first use and dropped on every change.
    pub(super) cache: std::cell::OnceCell<Vec<Entry>>,
    pub(super) dirty: bool,
}

impl<'a> Txn<'a> {
    pub(super) fn new(path: &Path, key: &'a VaultKey, base: &'a State) -> Txn<'a> {
        Txn {
            path: path.to_path_buf(),
            id: base.header.id,
            key,
            base,
            slots: (0..base.offsets.len() as u32).map(Slot::Base).collect(),
            cache: std::cell::OnceCell::new(),
            dirty: false,
        }
    }

    fn entry_of(&self, s: &Slot) -> Entry {
        match s {
            Slot::Base(j) => self
                .base
                .raw(*j as usize)
                .map(|r| self.base.to_entry(r))
                .unwrap_or_else(|| self.base.to_entry(EMPTY_RAW)),
            Slot::New(e) => e.duplicate(),
        }
    }

    /// Records as they are now in this transaction (every record built as
    /// an owned value on first use; [`Txn::entry_ref`] and [`Txn::position`]
    /// do not).
    pub fn entries(&self) -> &[Entry] {
        self.cache
            .get_or_init(|| self.slots.iter().map(|s| self.entry_of(s)).collect())
    }

    /// Number of records now.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// A view of record `index`.
    pub fn entry_ref(&self, index: usize) -> Option<EntryRef<'_>> {
        match self.slots.get(index)? {
            Slot::Base(j) => self.base.view(*j as usize),
            Slot::New(e) => Some(e.view()),
        }
    }

    /// The first record for which `f` is true.
    pub fn position(&self, mut f: impl FnMut(&EntryRef<'_>) -> bool) -> Option<usize> {
        (0..self.slots.len()).find(|&i| self.entry_ref(i).is_some_and(|v| f(&v)))
    }

    fn changed(&mut self) {
        self.dirty = true;
        self.cache.take();
    }

    fn record_and_blob(&self, index: usize) -> Result<([u8; ID_LEN], &[u8])> {
        let bad = || Error::Invalid(format!("no record number {index}"));
        match self.slots.get(index).ok_or_else(bad)? {
            Slot::Base(j) => {
                let raw = self.base.raw(*j as usize).ok_or_else(bad)?;
                let start = self.base.header.secrets_start() + raw.off;
                let blob = self
                    .base
                    .buf
                    .bytes
                    .get(start..start + raw.len)
                    .ok_or_else(|| corrupt(&self.path))?;
                Ok((raw.record, blob))
            }
            Slot::New(e) => Ok((e.record, entry_blob(&self.path, e, &self.base.buf.bytes)?)),
        }
    }

    /// Decrypts one record's secrets.
    pub fn reveal(&self, index: usize) -> Result<Secrets> {
        let (record, blob) = self.record_and_blob(index)?;
        reveal_blob(&self.path, self.key, &self.id, &record, blob)
    }

    /// Adds a record, replacing one with the same kind, protocol, host, path
    /// and username (keeping its creation time). Returns its index.
    pub fn upsert(&mut self, n: NewEntry) -> Result<usize> {
        let entry = seal_entry(self.key, &self.id, n)?;
        let existing = self.position(|v| v.same_identity(&entry.view()));
        Ok(self.place(entry, existing))
    }

    fn place(&mut self, mut entry: Entry, existing: Option<usize>) -> usize {
        let created = existing.and_then(|i| self.entry_ref(i)).map(|v| v.created);
        self.changed();
        match (existing, created) {
            (Some(i), Some(c)) => {
                entry.created = c;
                self.slots[i] = Slot::New(Box::new(entry));
                i
            }
            _ => {
                self.slots.push(Slot::New(Box::new(entry)));
                self.slots.len() - 1
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
        let before = self.slots.len();
        let mut slots = std::mem::take(&mut self.slots);
        slots.retain(|s| {
            let key = match s {
                Slot::Base(j) => match self.base.view(*j as usize) {
                    Some(v) => v.identity_key(),
                    None => return true,
                },
                Slot::New(e) => e.identity_key(),
            };
            let created_at = match s {
                Slot::Base(j) => self.base.view(*j as usize).map_or(0, |v| v.created),
                Slot::New(e) => e.created,
            };
            match created.get_mut(&key) {
                Some(c) => {
                    *c = created_at;
                    false
                }
                None => true,
            }
        });
        self.slots = slots;
        let replaced = before - self.slots.len();
        for s in sealed {
            let mut e = s.0;
            if let Some(&c) = created.get(&e.identity_key()) {
                if c != 0 {
                    e.created = c;
                }
            }
            self.slots.push(Slot::New(Box::new(e)));
        }
        self.changed();
        let total = created.len();
        Ok(PutCounts {
            added: total.saturating_sub(replaced),
            replaced,
        })
    }

    /// Removes one record.
    pub fn remove(&mut self, index: usize) -> Result<()> {
        if index >= self.slots.len() {
            return Err(Error::Invalid(format!("no record number {index}")));
        }
        self.slots.remove(index);
        self.changed();
        Ok(())
    }

    /// Keeps only the records for which `keep` is true; returns how many were removed.
    pub fn retain(&mut self, mut keep: impl FnMut(&Entry) -> bool) -> usize {
        let before = self.slots.len();
        let mut slots = std::mem::take(&mut self.slots);
        slots.retain(|s| match s {
            Slot::New(e) => keep(e),
            Slot::Base(_) => keep(&self.entry_of(s)),
        });
        self.slots = slots;
        let removed = before - self.slots.len();
        if removed > 0 {
            self.changed();
        }
        removed
    }

    /// Keeps only the records for which `keep` is true, looking at views of
    /// the index (no record is built); returns how many were removed.
    pub fn retain_refs(&mut self, mut keep: impl FnMut(&EntryRef<'_>) -> bool) -> usize {
        let before = self.slots.len();
        let mut slots = std::mem::take(&mut self.slots);
        slots.retain(|s| match s {
            Slot::New(e) => keep(&e.view()),
            Slot::Base(j) => self.base.view(*j as usize).is_none_or(|v| keep(&v)),
        });
        self.slots = slots;
        let removed = before - self.slots.len();
        if removed > 0 {
            self.changed();
        }
        removed
    }

    /// The records as [`encode_records`] takes them.
    pub(super) fn recs(&self) -> impl Iterator<Item = Result<Rec<'_>>> + '_ {
        (0..self.slots.len()).map(move |i| {
            let (record, blob) = self.record_and_blob(i)?;
            let view = self.entry_ref(i).ok_or_else(|| corrupt(&self.path))?;
            Ok(Rec { view, record, blob })
        })
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
