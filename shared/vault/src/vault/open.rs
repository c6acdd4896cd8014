//! The open vault ([`Vault`]): metadata, revealing one secret, and updates
//! under the writers' lock.

use super::*;

/// An open, authenticated vault. The vault key stays in locked memory.
#[derive(Debug)]
pub struct Vault {
    pub(super) path: PathBuf,
    pub(super) key: VaultKey,
    pub(super) state: State,
    /// Whether generations are checked against and noted in the
    /// remembered highest ([`Vault::check_rollback`]).
    pub(super) watch: bool,
}

pub(super) fn reveal_blob(
    path: &Path,
    key: &VaultKey,
    id: &VaultId,
    record: &[u8; ID_LEN],
    blob: &[u8],
) -> Result<Secrets> {
    let plain =
        format::open_secret(&key.cipher()?, id, record, blob)?.ok_or_else(|| corrupt(path))?;
    decode_secrets(&plain).map_err(|_| corrupt(path))
}

pub(super) fn entry_blob<'a>(path: &Path, e: &'a Entry, data: &'a [u8]) -> Result<&'a [u8]> {
    match &e.blob {
        Blob::File { off, len } => data.get(*off..*off + *len).ok_or_else(|| corrupt(path)),
        Blob::New(v) => Ok(v),
    }
}

impl Vault {
    /// Creates a new vault (directory 0700, file 0600) under a fresh random key.
    pub fn create(path: &Path, password: &SecretBytes, kdf: KdfParams) -> Result<Vault> {
        kdf.check().map_err(Error::Invalid)?;
        fs::ensure_dir(path)?;
        let _lock = fs::lock(path)?;
        if fs::exists(path)? {
            return Err(Error::Exists {
                path: path.to_path_buf(),
            });
        }
        let key = VaultKey::random()?;
        let salt: [u8; SALT_LEN] = format::random_array()?;
        let kek = crate::kdf::derive_kek(password, &salt, kdf)?;
        let id = VaultId(format::random_array()?);
        let slot = crate::slot::PasswordWrap::wrap(&id, kdf, salt, &kek, &key)?;
        drop(kek);
        let data = encode(&Header::new(id, slot), &key, 1, &[], &[])?;
        fs::write_atomic(path, &data)?;
        let header = Header::decode(&data).map_err(|e| e.at(path))?;
        let state = parse(path, data, header, &key)?;
        Ok(Vault {
            path: path.to_path_buf(),
            key,
            state,
            watch: false,
        })
    }

    /// Opens with the vault password (runs scrypt).
    pub fn open_with_password(path: &Path, password: &SecretBytes) -> Result<Vault> {
        SealedVault::read(path)?.open_with_password(password)
    }

    /// Opens with a vault key (e.g. from the kernel keyring); no scrypt.
    pub fn open_with_key(path: &Path, key: VaultKey) -> Result<Vault> {
        SealedVault::read(path)?.open_with_key(key)
    }

    /// The vault's id.
    pub fn id(&self) -> VaultId {
        self.state.header.id
    }

    /// The vault's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The vault key (for caching it in the kernel keyring).
    pub fn key(&self) -> &VaultKey {
        &self.key
    }

    /// The scrypt parameters the password is wrapped with (`None`: no
    /// password slot).
    pub fn kdf(&self) -> Option<KdfParams> {
        self.state.header.kdf()
    }

    /// The key slots, without secrets.
    pub fn slots(&self) -> Vec<SlotInfo> {
        self.state.header.infos()
    }

    /// The format version of the file as last read (1 until the next write
    /// upgrades it).
    pub fn format_version(&self) -> u16 {
        self.state.header.version
    }

    /// Adds a key-pair slot of `kind` wrapping the vault key to `public`
    /// (from [`crate::slot::public_key`] of the slot's secret), with the
    /// kind's public data `extra`; one atomic write. Returns its index.
    pub fn enroll(&mut self, kind: SlotKind, public: &[u8; 32], extra: &[u8]) -> Result<usize> {
        if kind == SlotKind::Password {
            return Err(Error::Invalid(
                "a password slot is set with `keyward passwd`".into(),
            ));
        }
        self.update_header(|h, key| {
            if h.slots.len() >= format::MAX_SLOTS {
                return Err(Error::Invalid(format!(
                    "the vault has {} slots, the most it can hold: remove one with `keyward unenroll`",
                    h.slots.len()
                )));
            }
            let slot = crate::slot::PairWrap::wrap(&h.id, kind.tag(), public, extra, key)?;
            h.slots.push(slot);
            Ok(h.slots.len() - 1)
        })
    }

    /// Removes slot `index`; refuses to remove the last one.
    pub fn unenroll(&mut self, index: usize) -> Result<SlotInfo> {
        self.update_header(|h, _| {
            if index >= h.slots.len() {
                return Err(Error::Invalid(format!(
                    "no slot {index}: `keyward slots` lists them"
                )));
            }
            if h.slots.len() == 1 {
                return Err(Error::Invalid(
                    "refusing to remove the last slot: nothing could open the vault; enroll another first".into(),
                ));
            }
            let info = crate::slot::info(index, &h.slots[index]);
            h.slots.remove(index);
            Ok(info)
        })
    }

    /// Under the writers' lock: re-reads the file, lets `f` change the
    /// header (the records stay as they are, still sealed), and writes it
    /// as the next generation.
    fn update_header<R>(
        &mut self,
        f: impl FnOnce(&mut Header, &VaultKey) -> Result<R>,
    ) -> Result<R> {
        let _lock = fs::lock(&self.path)?;
        let mut fresh = self.reread()?;
        let mut header = fresh.header.clone();
        let r = f(&mut header, &self.key)?;
        let entries = fresh.take_entries();
        let data = encode(
            &header,
            &self.key,
            fresh.generation + 1,
            &entries,
            &fresh.buf.bytes,
        )?;
        fs::write_atomic_keeping_previous(&self.path, &data)?;
        drop(entries);
        drop(fresh);
        let header = Header::decode(&data).map_err(|e| e.at(&self.path))?;
        self.state = parse(&self.path, data, header, &self.key)?;
        self.noted();
        Ok(r)
    }

    /// Write counter: 1 at creation, +1 per committed update.
    pub fn generation(&self) -> u64 {
        self.state.generation
    }

    /// Record metadata as owned values; secrets stay sealed. Built on first
    /// use; for a lookup among many records prefer [`Vault::entry_refs`].
    pub fn entries(&self) -> &[Entry] {
        self.state.entries.get_or_init(|| self.state.materialize())
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.state.offsets.len()
    }

    /// Whether the vault holds no records.
    pub fn is_empty(&self) -> bool {
        self.state.offsets.is_empty()
    }

    /// Borrowed views of every record's metadata, in the same order (and with
    /// the same indices) as [`Vault::entries`], without allocating per record.
    pub fn entry_refs(
        &self,
    ) -> impl DoubleEndedIterator<Item = EntryRef<'_>> + ExactSizeIterator + '_ {
        // Every record was validated at open, so `view` never fails here; an
        // empty view stands in rather than a panic.
        (0..self.len()).map(|i| self.state.view(i).unwrap_or(EMPTY_REF))
    }

    /// The identifying fields of every record as bytes, in the same order (and
    /// with the same indices) as [`Vault::entries`]: the cheapest scan for a
    /// lookup (no allocation, no repeated UTF-8 checks); take the match's
    /// [`Vault::entry_ref`] or [`Vault::entry`] afterwards.
    pub fn entry_keys(
        &self,
    ) -> impl DoubleEndedIterator<Item = EntryKey<'_>> + ExactSizeIterator + '_ {
        (0..self.len()).map(|i| self.state.key(i).unwrap_or(EMPTY_KEY))
    }

    /// Record `index` as an owned value (one record materialized, not all).
    pub fn entry(&self, index: usize) -> Option<Entry> {
        if let Some(all) = self.state.entries.get() {
            return all.get(index).map(Entry::duplicate);
        }
        self.state.raw(index).map(|r| self.state.to_entry(r))
    }

    /// A view of record `index`.
    pub fn entry_ref(&self, index: usize) -> Option<EntryRef<'_>> {
        self.state.view(index)
    }

    /// Decrypts one record's secret fields into locked memory.
    pub fn reveal(&self, index: usize) -> Result<Secrets> {
        let raw = self
            .state
            .raw(index)
            .ok_or_else(|| Error::Invalid(format!("no record number {index}")))?;
        let start = self.state.header.secrets_start() + raw.off;
        let blob = self
            .state
            .buf
            .bytes
            .get(start..start + raw.len)
            .ok_or_else(|| corrupt(&self.path))?;
        reveal_blob(
            &self.path,
            &self.key,
            &self.state.header.id,
            &raw.record,
            blob,
        )
    }

    /// Under an exclusive lock: re-reads the file, lets `f` change the records,
    /// and (if anything changed) writes temp + fsync + rename + fsync dir. On
    /// any error nothing is written and the vault on disk is unchanged.
    pub fn update<R>(&mut self, f: impl FnOnce(&mut Txn) -> Result<R>) -> Result<R> {
        let _lock = fs::lock(&self.path)?;
        // The file as it is now replaces the one read at open: the old read
        // goes first (one copy of the file in memory, not two). The stand-in
        // keeps what `reread` checks (the id and the generation).
        let (header, seen) = (self.state.header.clone(), self.state.generation);
        self.state = State::empty(header.clone(), seen);
        match self.reread() {
            Ok(fresh) => self.state = fresh,
            Err(e) => {
                // Best effort: the handle gets the file back, unchecked.
                if let Ok(data) = fs::read_vault(&self.path) {
                    if let Ok(st) = parse(&self.path, data, header, &self.key) {
                        if st.generation >= seen {
                            self.state = st;
                        }
                    }
                }
                return Err(e);
            }
        }
        let mut txn = Txn::new(&self.path, &self.key, &self.state);
        let r = f(&mut txn)?;
        if !txn.dirty {
            return Ok(r);
        }
        let generation = self.state.generation + 1;
        let data = encode_records(&self.state.header, &self.key, generation, || txn.recs())?;
        drop(txn);
        fs::write_atomic_keeping_previous(&self.path, &data)?;
        let header = Header::decode(&data).map_err(|e| e.at(&self.path))?;
        // Drop the old read before the new file is parsed.
        self.state = State::empty(header.clone(), generation);
        self.state = parse(&self.path, data, header, &self.key)?;
        self.noted();
        Ok(r)
    }

    pub(super) fn reread(&self) -> Result<State> {
        let data = fs::read_vault(&self.path)?;
        let header = Header::decode(&data).map_err(|e| e.at(&self.path))?;
        if header.id != self.state.header.id {
            return Err(Error::Invalid(format!(
                "{} was replaced by another vault while open; run the command again",
                self.path.display()
            )));
        }
        let fresh = parse(&self.path, data, header, &self.key)?;
        if self.watch && fresh.generation < self.state.generation {
            return Err(Error::Rollback {
                path: self.path.clone(),
                found: fresh.generation,
                seen: self.state.generation,
            });
        }
        Ok(fresh)
    }

    /// Refuses a vault older than the highest generation remembered for its
    /// id (the user's state directory and keyring: [`crate::watermark`])
    /// with [`Error::Rollback`]; otherwise remembers this generation, and,
    /// from now on, every generation this handle writes. The CLI and every
    /// helper open through it (`keyward-unlock`).
    pub fn check_rollback(&mut self) -> Result<()> {
        let seen = crate::watermark::check(&self.id(), self.generation());
        self.rollback_checked(seen)
    }

    /// [`Vault::check_rollback`] for a vault opened with the cached key, with
    /// the generation its keyring entry noted, read with the key
    /// ([`crate::keyring::load_with_generation`]): one read of the keyring
    /// instead of two.
    pub fn check_rollback_with(&mut self, keyring_generation: Option<u64>) -> Result<()> {
        let seen = crate::watermark::check_with(&self.id(), self.generation(), keyring_generation);
        self.rollback_checked(seen)
    }

    fn rollback_checked(&mut self, seen: std::result::Result<(), u64>) -> Result<()> {
        if let Err(seen) = seen {
            // A writer may have committed (and noted) a newer generation
            // since this file was read: writers note only after the rename,
            // so a second read shows it unless the file really went back.
            let fresh = self.reread()?;
            if fresh.generation < seen {
                return Err(Error::Rollback {
                    path: self.path.clone(),
                    found: fresh.generation,
                    seen,
                });
            }
            self.state = fresh;
        }
        self.watch = true;
        Ok(())
    }

    fn noted(&self) {
        if self.watch {
            crate::watermark::note(&self.id(), self.generation());
        }
    }

    /// Changes the password: a new random vault key wraps under the new
    /// password and KDF parameters, and every record is re-encrypted under it,
    /// in one atomic write, so an old copy of the vault and the old password
    /// reveal nothing stored afterwards. The old key stops opening the vault
    /// (callers replace a cached one: [`crate::keyring::replace`]).
    pub fn change_password(&mut self, new: &SecretBytes, kdf: KdfParams) -> Result<()> {
        kdf.check().map_err(Error::Invalid)?;
        let salt: [u8; SALT_LEN] = format::random_array()?;
        let kek = crate::kdf::derive_kek(new, &salt, kdf)?;
        self.rewrap_with(salt, kdf, &kek)
    }

    /// Under the writers' lock, atomically: a new random vault key, every
    /// record's secrets re-encrypted under it, the key wrapped under `kek`
    /// (derived from the password with `salt` and `kdf`) in the password
    /// slot, and into every other slot from its public key.
    pub(crate) fn rewrap_with(
        &mut self,
        salt: [u8; SALT_LEN],
        kdf: KdfParams,
        kek: &SecretBytes,
    ) -> Result<()> {
        kdf.check().map_err(Error::Invalid)?;
        let _lock = fs::lock(&self.path)?;
        let mut fresh = self.reread()?;
        let mut entries = fresh.take_entries();
        let id = fresh.header.id;
        let new_key = VaultKey::random()?;
        {
            let (old, new) = (self.key.cipher()?, new_key.cipher()?);
            for e in entries.iter_mut() {
                let blob = entry_blob(&self.path, e, &fresh.buf.bytes)?;
                let plain = format::open_secret(&old, &id, &e.record, blob)?
                    .ok_or_else(|| corrupt(&self.path))?;
                e.blob = Blob::New(format::seal_secret(&new, &id, &e.record, plain)?);
            }
        }
        let header = fresh.header.rewrapped(&new_key, Some((kdf, salt, kek)))?;
        let data = encode(
            &header,
            &new_key,
            fresh.generation + 1,
            &entries,
            &fresh.buf.bytes,
        )?;
        fs::write_atomic(&self.path, &data)?;
        // The previous generation is wrapped under the old password and key,
        // which this change retires: a copy of the new one takes its place.
        // Best effort (the change is made): where the copy cannot be
        // written, the old generation goes rather than stay behind.
        let prev = fs::previous_path(&self.path);
        if fs::write_atomic(&prev, &data).is_err() {
            let _ = std::fs::remove_file(&prev);
        }
        drop(entries);
        drop(fresh);
        let header = Header::decode(&data).map_err(|e| e.at(&self.path))?;
        self.state = parse(&self.path, data, header, &new_key)?;
        self.key = new_key;
        self.noted();
        Ok(())
    }
}
