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
    pub fn upsert(&mut self, mut n: NewEntry) -> Result<usize> {
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
        let blob = format::seal_secret(&self.key.cipher()?, &self.id, &record, plain)?;
        let t = now();
        let existing = self.entries.iter().position(|e| e.same_identity(&n));
        let created = existing.map_or(t, |i| self.entries[i].created);
        let entry = Entry {
            kind: n.kind,
            protocol: std::mem::take(&mut n.protocol),
            host: std::mem::take(&mut n.host),
            path: std::mem::take(&mut n.path),
            username: std::mem::take(&mut n.username),
            password_expiry_utc: n.password_expiry_utc,
            authtype: n.authtype.take(),
            created,
            updated: t,
            record,
            blob: Blob::New(blob),
        };
        self.dirty = true;
        Ok(match existing {
            Some(i) => {
                self.entries[i] = entry;
                i
            }
            None => {
                self.entries.push(entry);
                self.entries.len() - 1
            }
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
