//! The decrypted index of one read of the file: the buffer, the record
//! offsets, and the entries made from them on demand.

use super::*;

/// The file as read, with the index decrypted in place: header ‖ sealed
/// secrets region ‖ index plaintext. The index plaintext is wiped on drop.
pub(super) struct FileBuf {
    pub(super) bytes: BulkBuf,
    pub(super) index: std::ops::Range<usize>,
}

impl Drop for FileBuf {
    fn drop(&mut self) {
        self.bytes.wipe(self.index.clone());
    }
}

/// What one read of the file yields. Records are validated at open but only
/// turned into [`Entry`] values (allocations) when [`Vault::entries`] is
/// first called; lookups go through [`EntryRef`] views of the index.
pub(super) struct State {
    pub(super) header: Header,
    pub(super) buf: FileBuf,
    pub(super) generation: u64,
    /// Where each record starts in `buf.bytes`.
    pub(super) offsets: Vec<u32>,
    pub(super) entries: std::sync::OnceLock<Vec<Entry>>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("id", &self.header.id)
            .field("generation", &self.generation)
            .field("records", &self.offsets.len())
            .finish()
    }
}

impl State {
    /// No records (a stand-in while the next read is parsed).
    pub(super) fn empty(header: Header, generation: u64) -> State {
        State {
            header,
            buf: FileBuf {
                bytes: BulkBuf::default(),
                index: 0..0,
            },
            generation,
            offsets: Vec::new(),
            entries: std::sync::OnceLock::new(),
        }
    }

    pub(super) fn raw(&self, i: usize) -> Option<Raw<'_>> {
        let start = *self.offsets.get(i)? as usize;
        let mut r = Reader::new(&self.buf.bytes[start..self.buf.index.end]);
        // Validated when the file was opened.
        decode_record(&mut r).ok()
    }

    pub(super) fn view(&self, i: usize) -> Option<EntryRef<'_>> {
        self.raw(i).map(|r| r.view)
    }

    pub(super) fn key(&self, i: usize) -> Option<EntryKey<'_>> {
        let start = *self.offsets.get(i)? as usize;
        let mut r = Reader::new(&self.buf.bytes[start..self.buf.index.end]);
        // Validated (UTF-8 included) when the file was opened.
        decode_bytes(&mut r).ok().map(|b| b.key)
    }

    pub(super) fn materialize(&self) -> Vec<Entry> {
        (0..self.offsets.len())
            .filter_map(|i| self.raw(i))
            .map(|r| self.to_entry(r))
            .collect()
    }

    pub(super) fn to_entry(&self, r: Raw<'_>) -> Entry {
        Entry {
            kind: r.view.kind,
            protocol: r.view.protocol.to_string(),
            host: r.view.host.to_string(),
            path: r.view.path.to_string(),
            username: r.view.username.to_string(),
            password_expiry_utc: r.view.password_expiry_utc,
            authtype: r.view.authtype.map(str::to_string),
            created: r.view.created,
            updated: r.view.updated,
            record: r.record,
            blob: Blob::File {
                off: self.header.secrets_start() + r.off,
                len: r.len,
            },
        }
    }

    /// The records as owned values (for a transaction), reusing a materialized list.
    pub(super) fn take_entries(&mut self) -> Vec<Entry> {
        match self.entries.take() {
            Some(v) => v,
            None => self.materialize(),
        }
    }
}

/// Authenticates a whole file under `key`, decrypts the index in place and
/// validates every record (without allocating per record).
pub(super) fn parse(
    path: &Path,
    data: impl Into<BulkBuf>,
    header: Header,
    key: &VaultKey,
) -> Result<State> {
    let data = data.into();
    let bad = |_: Malformed| corrupt(path);
    let mut r = Reader::new(data.get(header.len..).ok_or_else(|| corrupt(path))?);
    let secrets_len = usize::try_from(r.u64().map_err(bad)?).map_err(|_| corrupt(path))?;
    let index_start = header
        .secrets_start()
        .checked_add(secrets_len)
        .filter(|&e| e <= data.len())
        .ok_or_else(|| corrupt(path))?;
    if u32::try_from(data.len()).is_err() {
        return Err(corrupt(path));
    }
    let mut buf = FileBuf {
        bytes: data,
        index: 0..0,
    };
    let plain =
        format::open_index_in_place(&key.cipher()?, &mut buf.bytes, index_start).map_err(bad)?;
    buf.index = plain.clone();
    let (generation, offsets) = index_offsets(&buf.bytes, plain, secrets_len).map_err(bad)?;
    Ok(State {
        header,
        buf,
        generation,
        offsets,
        entries: std::sync::OnceLock::new(),
    })
}

pub(super) fn index_offsets(
    bytes: &[u8],
    plain: std::ops::Range<usize>,
    secrets_len: usize,
) -> Result<(u64, Vec<u32>), Malformed> {
    let base = plain.start;
    let index = &bytes[plain];
    let mut r = Reader::new(index);
    let generation = r.u64()?;
    let count = r.u32()? as usize;
    // Each record takes at least 50 bytes: refuse absurd counts before allocating.
    if count > index.len() / 50 + 1 {
        return Err(Malformed);
    }
    let mut offsets = Vec::with_capacity(count);
    for _ in 0..count {
        offsets.push(u32::try_from(base + r.pos()).map_err(|_| Malformed)?);
        let raw = decode_bytes(&mut r)?;
        let k = &raw.key;
        // All ASCII, length prefixes included (the common case): every field
        // is UTF-8; otherwise each field is checked on its own.
        let text = index.get(raw.text.clone()).is_some_and(<[u8]>::is_ascii)
            || [k.protocol, k.host, k.path, k.username]
                .iter()
                .all(|f| is_utf8(f));
        if !text || !raw.authtype.is_none_or(is_utf8) {
            return Err(Malformed);
        }
        if raw.off.checked_add(raw.len).is_none_or(|e| e > secrets_len) {
            return Err(Malformed);
        }
    }
    if !r.done() {
        return Err(Malformed);
    }
    Ok((generation, offsets))
}
