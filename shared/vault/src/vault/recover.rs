//! Recovery from a damaged vault: every update keeps the previous generation
//! beside the vault (`VAULT.prev`, see [`crate::fs::previous_path`]);
//! [`restore_previous`] puts it back when the vault no longer authenticates,
//! and says which records that loses (by identity, never a secret).

use super::*;
use keyward_secmem::ExposeSecretMut;

/// What one file of a vault (the vault or its previous generation) holds,
/// checked under the vault key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileState {
    /// No such file.
    Missing,
    /// It could not be read (permissions, I/O): why.
    Unreadable(String),
    /// It does not authenticate under the vault key, or its header is damaged.
    Damaged,
    /// It belongs to another vault (another vault id).
    OtherVault,
    /// It authenticates.
    Intact {
        /// Its write counter.
        generation: u64,
        /// How many records it holds.
        records: usize,
    },
}

/// A record's identity (never its secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordName {
    /// git, docker, ...
    pub kind: Kind,
    /// Protocol (git).
    pub protocol: String,
    /// Host, registry or name.
    pub host: String,
    /// Path (git with `credential.useHttpPath`).
    pub path: String,
    /// User name.
    pub username: String,
}

/// How a recovery treats a record of the damaged file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// The restored generation does not have it: it is gone.
    Missing,
    /// The restored generation holds an older value of it.
    Older,
}

/// What [`restore_previous`] did.
#[derive(Debug)]
#[non_exhaustive]
pub enum Recovery {
    /// The vault authenticates: nothing was changed.
    Intact {
        /// Its generation.
        generation: u64,
        /// A higher generation remembered for it (it is an older copy put
        /// back: `--accept-older` is the way on).
        seen: Option<u64>,
    },
    /// The previous generation was put back.
    Restored {
        /// Generation of the copy that was restored.
        from_generation: u64,
        /// Generation the vault has now (above every one seen, so the
        /// rollback check accepts it).
        generation: u64,
        /// Records it holds.
        records: usize,
        /// Records of the damaged file that are lost or older now, as far
        /// as its index can still be read without authentication (names
        /// only; nothing of the damaged file is trusted or kept in the vault).
        lost: Vec<(RecordName, Loss)>,
        /// Records the damaged file no longer held that are back.
        back: Vec<RecordName>,
        /// The damaged file's index could not be read at all: whatever its
        /// last write changed is lost, and cannot be named.
        unknown: bool,
        /// Where the damaged file was kept, if there was one.
        damaged: Option<PathBuf>,
    },
}

impl RecordName {
    fn of(v: &EntryRef<'_>) -> RecordName {
        RecordName {
            kind: v.kind,
            protocol: v.protocol.into(),
            host: v.host.into(),
            path: v.path.into(),
            username: v.username.into(),
        }
    }
}

/// Reads and authenticates `file` (the vault or a copy of it) under `key`.
fn open_file(file: &Path, key: &VaultKey) -> Result<State> {
    let data = fs::read_vault(file)?;
    let header = Header::decode(&data).map_err(|e| e.at(file))?;
    parse(file, data, header, key)
}

/// The state of `file` (the vault, or [`crate::fs::previous_path`] of it)
/// under the key of vault `id`.
pub fn inspect(file: &Path, id: &VaultId, key: &VaultKey) -> FileState {
    let data = match fs::read_vault(file) {
        Ok(d) => d,
        Err(Error::NotFound { .. }) => return FileState::Missing,
        Err(e) => return FileState::Unreadable(e.to_string()),
    };
    let Ok(header) = Header::decode(&data) else {
        return FileState::Damaged;
    };
    if header.id != *id {
        return FileState::OtherVault;
    }
    match parse(file, data, header, key) {
        Ok(s) => FileState::Intact {
            generation: s.generation,
            records: s.offsets.len(),
        },
        Err(_) => FileState::Damaged,
    }
}

/// The vault id in the header of `file`, if the header is intact.
pub fn header_id(file: &Path) -> Option<VaultId> {
    let data = fs::read_vault_upto(file, format::MAX_HEADER_LEN as u64).ok()?;
    Header::decode(&data).ok().map(|h| h.id)
}

/// The vault id and key from `password`, through the vault's header, else
/// (when that is damaged) its previous generation's.
pub fn key_from_password(path: &Path, password: &SecretBytes) -> Result<(VaultId, VaultKey)> {
    let mut last = corrupt(path);
    for file in [path.to_path_buf(), fs::previous_path(path)] {
        let header = match fs::read_vault_upto(&file, format::MAX_HEADER_LEN as u64)
            .and_then(|d| Header::decode(&d).map_err(|e| e.at(&file)))
        {
            Ok(h) => h,
            Err(e) => {
                last = e;
                continue;
            }
        };
        match header.unwrap_password(&file, password)? {
            Some(k) => return Ok((header.id, k)),
            None => last = Error::WrongPassword { path: file },
        }
    }
    Err(last)
}

/// The records a damaged file's index names, read without authentication
/// (AES-GCM's keystream for the index nonce, XORed with the ciphertext):
/// only to name what a recovery loses. `None` when nothing parses.
fn peek(data: &[u8], key: &VaultKey) -> Option<Vec<(RecordName, [u8; ID_LEN])>> {
    // The layout only: a flipped byte in the header fails its checksum but
    // leaves the index where it was.
    let header_len = Header::len_unchecked(data)?;
    let secrets_start = header_len + 8;
    let len = data.get(header_len..secrets_start)?;
    let secrets_len = usize::try_from(u64::from_le_bytes(len.try_into().ok()?)).ok()?;
    let index_start = secrets_start.checked_add(secrets_len)?;
    let nonce: [u8; format::NONCE_LEN] = data
        .get(index_start..index_start + format::NONCE_LEN)?
        .try_into()
        .ok()?;
    let ct = data.get(index_start + format::NONCE_LEN..data.len().checked_sub(format::TAG_LEN)?)?;
    // In locked memory, as every decrypted index is.
    let mut plain = keyward_secmem::SecretBytes::zeroed(ct.len()).ok()?;
    key.cipher()
        .ok()?
        .encrypt(&nonce, b"", plain.expose_secret_mut())?;
    for (p, c) in plain.expose_secret_mut().iter_mut().zip(ct) {
        *p ^= c;
    }
    let plain = plain.expose_secret();
    let mut r = Reader::new(plain);
    r.u64().ok()?;
    let count = r.u32().ok()? as usize;
    let mut out = Vec::new();
    for _ in 0..count.min(plain.len() / 50 + 1) {
        let Ok(raw) = decode_record(&mut r) else {
            break;
        };
        out.push((RecordName::of(&raw.view), raw.record));
    }
    (!out.is_empty() || count == 0).then_some(out)
}

/// Under the writers' lock: if the vault authenticates under `key`, does
/// nothing ([`Recovery::Intact`]); otherwise keeps the damaged file as
/// [`crate::fs::damaged_path`] and writes the previous generation back as
/// a new generation above every one seen (so the rollback check accepts
/// it). [`Error::NoIntactGeneration`] when the previous generation does not
/// authenticate either.
pub fn restore_previous(path: &Path, key: &VaultKey) -> Result<Recovery> {
    let _lock = fs::lock(path)?;
    let current = match fs::read_vault(path) {
        Ok(d) => Some(d),
        Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let prev_path = fs::previous_path(path);
    let prev = open_file(&prev_path, key).map_err(|e| match e {
        Error::NotFound { .. } | Error::Corrupt { .. } => Error::NoIntactGeneration {
            path: path.to_path_buf(),
        },
        e => e,
    })?;
    let id = prev.header.id;
    let mut peeked = None;
    let mut damaged = None;
    if let Some(data) = current {
        if let Ok(header) = Header::decode(&data) {
            if header.id != id {
                return Err(Error::Invalid(format!(
                    "{} belongs to another vault than {}: move one of them away",
                    path.display(),
                    prev_path.display()
                )));
            }
        }
        peeked = peek(&data, key);
        let header = Header::decode(&data).ok();
        if let Some(Ok(s)) = header.map(|h| parse(path, data, h, key)) {
            return Ok(Recovery::Intact {
                generation: s.generation,
                seen: crate::watermark::highest_seen(&id).filter(|&g| g > s.generation),
            });
        }
        fs::link_aside(path, &fs::damaged_path(path))?;
        damaged = Some(fs::damaged_path(path));
    }
    let seen = crate::watermark::highest_seen(&id).unwrap_or(0);
    let generation = prev.generation.max(seen) + 1;
    let mut prev = prev;
    let entries = prev.take_entries();
    let data = encode(&prev.header, key, generation, &entries, &prev.buf.bytes)?;
    let mut lost = Vec::new();
    let mut back = Vec::new();
    if let Some(damaged) = &peeked {
        for (name, record) in damaged {
            if entries.iter().any(|e| e.record == *record) {
                continue;
            }
            let older = entries.iter().any(|e| {
                (e.kind, &e.protocol, &e.host, &e.path, &e.username)
                    == (
                        name.kind,
                        &name.protocol,
                        &name.host,
                        &name.path,
                        &name.username,
                    )
            });
            lost.push((
                name.clone(),
                if older { Loss::Older } else { Loss::Missing },
            ));
        }
        for e in &entries {
            let named = damaged.iter().any(|(n, r)| {
                *r == e.record
                    || (e.kind, &e.protocol, &e.host, &e.path, &e.username)
                        == (n.kind, &n.protocol, &n.host, &n.path, &n.username)
            });
            if !named {
                back.push(RecordName {
                    kind: e.kind,
                    protocol: e.protocol.clone(),
                    host: e.host.clone(),
                    path: e.path.clone(),
                    username: e.username.clone(),
                });
            }
        }
    }
    let records = entries.len();
    drop(entries);
    fs::write_atomic(path, &data)?;
    crate::watermark::note(&id, generation);
    Ok(Recovery::Restored {
        from_generation: prev.generation,
        generation,
        records,
        lost,
        back,
        unknown: peeked.is_none(),
        damaged,
    })
}

/// `keyward recover --accept-older`: the vault (which must authenticate)
/// becomes the highest generation remembered for it. Returns the
/// generation it had remembered before, if higher.
pub fn accept_older(path: &Path, key: &VaultKey) -> Result<(u64, Option<u64>)> {
    let state = open_file(path, key)?;
    let id = state.header.id;
    let seen = crate::watermark::highest_seen(&id).filter(|&s| s > state.generation);
    crate::watermark::accept(&id, state.generation)?;
    Ok((state.generation, seen))
}
