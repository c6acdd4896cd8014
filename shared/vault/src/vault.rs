//! The open vault: authenticated metadata in memory, secrets sealed until
//! [`Vault::reveal`], and transactional updates under a file lock.

use crate::config::KdfParams;
use crate::error::{Error, Result};
use crate::format::{self, Header, Malformed, Reader, VaultId, VaultKey, ID_LEN, SALT_LEN};
use crate::fs;
use keyward_secmem::{ExposeSecret, SecretBytes};
use std::path::{Path, PathBuf};
use zeroize::{Zeroize, Zeroizing};

/// Longest metadata field (host, path, username, protocol, authtype).
pub const MAX_FIELD_LEN: usize = 4096;

/// What a record is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A git credential (`git credential` protocol).
    Git,
    /// A docker registry credential (`docker-credential-*` protocol).
    Docker,
    /// A named secret (`keyward set|get|generate NAME`): see `named`.
    Secret,
}

impl Kind {
    fn to_byte(self) -> u8 {
        match self {
            Kind::Git => 1,
            Kind::Docker => 2,
            Kind::Secret => 3,
        }
    }
    fn from_byte(b: u8) -> Option<Kind> {
        match b {
            1 => Some(Kind::Git),
            2 => Some(Kind::Docker),
            3 => Some(Kind::Secret),
            _ => None,
        }
    }
    /// `git`, `docker` or `secret`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Git => "git",
            Kind::Docker => "docker",
            Kind::Secret => "secret",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a record's sealed secret blob lives.
#[derive(Clone)]
enum Blob {
    /// A range of the file bytes the vault (or transaction) was read from.
    File { off: usize, len: usize },
    /// Sealed in this transaction, not yet written.
    New(Vec<u8>),
}

/// One record's metadata (decrypted; wiped on drop). Its secrets stay sealed
/// until [`Vault::reveal`].
pub struct Entry {
    /// git or docker.
    pub kind: Kind,
    /// `https`, `http`, … (git); empty for docker.
    pub protocol: String,
    /// Host with optional `:port` (git), registry server URL (docker).
    pub host: String,
    /// Path (git, when `credential.useHttpPath` is set); empty otherwise.
    pub path: String,
    /// User name.
    pub username: String,
    /// git's `password_expiry_utc` (Unix seconds).
    pub password_expiry_utc: Option<u64>,
    /// git's `authtype` (paired with the secret `credential`).
    pub authtype: Option<String>,
    /// Creation time (Unix seconds).
    pub created: u64,
    /// Last update time (Unix seconds).
    pub updated: u64,
    record: [u8; ID_LEN],
    blob: Blob,
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.protocol.zeroize();
        self.host.zeroize();
        self.path.zeroize();
        self.username.zeroize();
        if let Some(a) = &mut self.authtype {
            a.zeroize();
        }
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("kind", &self.kind)
            .field("protocol", &self.protocol)
            .field("host", &self.host)
            .field("path", &self.path)
            .field("username", &self.username)
            .field("password_expiry_utc", &self.password_expiry_utc)
            .field("authtype", &self.authtype)
            .field("created", &self.created)
            .field("updated", &self.updated)
            .finish_non_exhaustive()
    }
}

impl Entry {
    fn duplicate(&self) -> Entry {
        Entry {
            kind: self.kind,
            protocol: self.protocol.clone(),
            host: self.host.clone(),
            path: self.path.clone(),
            username: self.username.clone(),
            password_expiry_utc: self.password_expiry_utc,
            authtype: self.authtype.clone(),
            created: self.created,
            updated: self.updated,
            record: self.record,
            blob: self.blob.clone(),
        }
    }

    /// Whether this record has the identity (kind, protocol, host, path, username) of `n`.
    pub fn same_identity(&self, n: &NewEntry) -> bool {
        self.kind == n.kind
            && self.protocol == n.protocol
            && self.host == n.host
            && self.path == n.path
            && self.username == n.username
    }
}

/// A record's secret fields, decrypted into locked memory.
#[derive(Debug)]
pub struct Secrets {
    /// The password or token.
    pub password: SecretBytes,
    /// git's `oauth_refresh_token`.
    pub oauth_refresh_token: Option<SecretBytes>,
    /// git's `credential` (with `authtype`).
    pub credential: Option<SecretBytes>,
}

/// A record to store ([`Txn::upsert`]).
#[derive(Debug)]
pub struct NewEntry {
    /// git or docker.
    pub kind: Kind,
    /// Protocol (git); empty for docker.
    pub protocol: String,
    /// Host with optional port, or registry server URL.
    pub host: String,
    /// Path; empty when not used.
    pub path: String,
    /// User name.
    pub username: String,
    /// The password or token.
    pub password: SecretBytes,
    /// git's `password_expiry_utc`.
    pub password_expiry_utc: Option<u64>,
    /// git's `oauth_refresh_token`.
    pub oauth_refresh_token: Option<SecretBytes>,
    /// git's `authtype`.
    pub authtype: Option<String>,
    /// git's `credential`.
    pub credential: Option<SecretBytes>,
}

impl NewEntry {
    /// A record with only the identity and a password.
    pub fn new(
        kind: Kind,
        protocol: &str,
        host: &str,
        path: &str,
        username: &str,
        password: SecretBytes,
    ) -> NewEntry {
        NewEntry {
            kind,
            protocol: protocol.to_string(),
            host: host.to_string(),
            path: path.to_string(),
            username: username.to_string(),
            password,
            password_expiry_utc: None,
            oauth_refresh_token: None,
            authtype: None,
            credential: None,
        }
    }
}

impl Drop for NewEntry {
    fn drop(&mut self) {
        self.protocol.zeroize();
        self.host.zeroize();
        self.path.zeroize();
        self.username.zeroize();
        if let Some(a) = &mut self.authtype {
            a.zeroize();
        }
    }
}

/// An open, authenticated vault. The vault key stays in locked memory.
#[derive(Debug)]
pub struct Vault {
    path: PathBuf,
    key: VaultKey,
    state: State,
}

/// The file as read, with the index decrypted in place: header ‖ sealed
/// secrets region ‖ index plaintext. The index plaintext is wiped on drop.
struct FileBuf {
    bytes: Vec<u8>,
    index: std::ops::Range<usize>,
}

impl Drop for FileBuf {
    fn drop(&mut self) {
        if let Some(s) = self.bytes.get_mut(self.index.clone()) {
            keyward_secmem::wipe(s);
        }
    }
}

/// What one read of the file yields. Records are validated at open but only
/// turned into [`Entry`] values (allocations) when [`Vault::entries`] is
/// first called; lookups go through [`EntryRef`] views of the index.
struct State {
    header: Header,
    buf: FileBuf,
    generation: u64,
    /// Where each record starts in `buf.bytes`.
    offsets: Vec<u32>,
    entries: std::sync::OnceLock<Vec<Entry>>,
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

/// A borrowed view of one record's metadata, straight from the decrypted
/// index (no allocation). Secrets stay sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a> {
    /// git or docker.
    pub kind: Kind,
    /// Protocol (git); empty for docker.
    pub protocol: &'a str,
    /// Host with optional port, or registry server.
    pub host: &'a str,
    /// Path; empty when not used.
    pub path: &'a str,
    /// User name.
    pub username: &'a str,
    /// git's `password_expiry_utc`.
    pub password_expiry_utc: Option<u64>,
    /// git's `authtype`.
    pub authtype: Option<&'a str>,
    /// Creation time (Unix seconds).
    pub created: u64,
    /// Last update time (Unix seconds).
    pub updated: u64,
}

const EMPTY_REF: EntryRef<'static> = EntryRef {
    kind: Kind::Git,
    protocol: "",
    host: "",
    path: "",
    username: "",
    password_expiry_utc: None,
    authtype: None,
    created: 0,
    updated: 0,
};

/// One decoded index record.
struct Raw<'a> {
    view: EntryRef<'a>,
    record: [u8; ID_LEN],
    /// Blob position inside the secrets region.
    off: usize,
    len: usize,
}

/// A record's identifying fields as raw bytes, straight from the decrypted
/// index: what a lookup compares, without UTF-8 checks (done once, at open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryKey<'a> {
    /// git or docker.
    pub kind: Kind,
    /// Protocol (git); empty for docker.
    pub protocol: &'a [u8],
    /// Host with optional port, or registry server.
    pub host: &'a [u8],
    /// Path; empty when not used.
    pub path: &'a [u8],
    /// User name.
    pub username: &'a [u8],
    /// Whether git's `authtype` is stored.
    pub has_authtype: bool,
}

const EMPTY_KEY: EntryKey<'static> = EntryKey {
    kind: Kind::Git,
    protocol: b"",
    host: b"",
    path: b"",
    username: b"",
    has_authtype: false,
};

/// One index record with its string fields still bytes.
struct RawBytes<'a> {
    key: EntryKey<'a>,
    authtype: Option<&'a [u8]>,
    password_expiry_utc: Option<u64>,
    created: u64,
    updated: u64,
    record: [u8; ID_LEN],
    off: usize,
    len: usize,
}

fn decode_bytes<'a>(r: &mut Reader<'a>) -> Result<RawBytes<'a>, Malformed> {
    let record: [u8; ID_LEN] = r.bytes(ID_LEN)?.try_into().map_err(|_| Malformed)?;
    let kind = Kind::from_byte(r.u8()?).ok_or(Malformed)?;
    let created = r.u64()?;
    let updated = r.u64()?;
    let password_expiry_utc = match r.u8()? {
        0 => None,
        1 => Some(r.u64()?),
        _ => return Err(Malformed),
    };
    let protocol = r.field()?;
    let host = r.field()?;
    let path = r.field()?;
    let username = r.field()?;
    let authtype = match r.u8()? {
        0 => None,
        1 => Some(r.field()?),
        _ => return Err(Malformed),
    };
    let off = usize::try_from(r.u64()?).map_err(|_| Malformed)?;
    let len = r.u32()? as usize;
    Ok(RawBytes {
        key: EntryKey {
            kind,
            protocol,
            host,
            path,
            username,
            has_authtype: authtype.is_some(),
        },
        authtype,
        password_expiry_utc,
        created,
        updated,
        record,
        off,
        len,
    })
}

/// UTF-8 check with the common all-ASCII case first (cheaper per short field).
fn is_utf8(b: &[u8]) -> bool {
    b.is_ascii() || std::str::from_utf8(b).is_ok()
}

fn utf8(b: &[u8]) -> Result<&str, Malformed> {
    std::str::from_utf8(b).map_err(|_| Malformed)
}

fn decode_record<'a>(r: &mut Reader<'a>) -> Result<Raw<'a>, Malformed> {
    let b = decode_bytes(r)?;
    Ok(Raw {
        view: EntryRef {
            kind: b.key.kind,
            protocol: utf8(b.key.protocol)?,
            host: utf8(b.key.host)?,
            path: utf8(b.key.path)?,
            username: utf8(b.key.username)?,
            password_expiry_utc: b.password_expiry_utc,
            authtype: b.authtype.map(utf8).transpose()?,
            created: b.created,
            updated: b.updated,
        },
        record: b.record,
        off: b.off,
        len: b.len,
    })
}

impl State {
    fn raw(&self, i: usize) -> Option<Raw<'_>> {
        let start = *self.offsets.get(i)? as usize;
        let mut r = Reader::new(&self.buf.bytes[start..self.buf.index.end]);
        // Validated when the file was opened.
        decode_record(&mut r).ok()
    }

    fn view(&self, i: usize) -> Option<EntryRef<'_>> {
        self.raw(i).map(|r| r.view)
    }

    fn key(&self, i: usize) -> Option<EntryKey<'_>> {
        let start = *self.offsets.get(i)? as usize;
        let mut r = Reader::new(&self.buf.bytes[start..self.buf.index.end]);
        // Validated (UTF-8 included) when the file was opened.
        decode_bytes(&mut r).ok().map(|b| b.key)
    }

    fn materialize(&self) -> Vec<Entry> {
        (0..self.offsets.len())
            .filter_map(|i| self.raw(i))
            .map(|r| self.to_entry(r))
            .collect()
    }

    fn to_entry(&self, r: Raw<'_>) -> Entry {
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
                off: format::SECRETS_START + r.off,
                len: r.len,
            },
        }
    }

    /// The records as owned values (for a transaction), reusing a materialized list.
    fn take_entries(&mut self) -> Vec<Entry> {
        match self.entries.take() {
            Some(v) => v,
            None => self.materialize(),
        }
    }
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A vault file read whole (after the path checks) but not yet decrypted: its
/// id tells which cached key to look for, and one read of the file serves
/// both the lookup and the opening.
pub struct SealedVault {
    path: std::path::PathBuf,
    data: Vec<u8>,
    header: Header,
}

impl std::fmt::Debug for SealedVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedVault")
            .field("path", &self.path)
            .field("id", &self.header.id)
            .field("bytes", &self.data.len())
            .finish()
    }
}

impl SealedVault {
    /// Reads and checks the file and its header (no key needed).
    pub fn read(path: &Path) -> Result<SealedVault> {
        let data = fs::read_vault(path)?;
        let header = Header::decode(&data).map_err(|_| corrupt(path))?;
        Ok(SealedVault {
            path: path.to_path_buf(),
            data,
            header,
        })
    }

    /// The vault id (names the kernel-keyring entry).
    pub fn id(&self) -> VaultId {
        self.header.id
    }

    /// Opens with the vault password (runs scrypt).
    pub fn open_with_password(self, password: &SecretBytes) -> Result<Vault> {
        let kek = self.header.derive_kek(password)?;
        let key = self
            .header
            .unwrap_key(&kek)?
            .ok_or_else(|| Error::WrongPassword {
                path: self.path.clone(),
            })?;
        drop(kek);
        self.open_with_key(key)
    }

    /// Opens with a vault key; no scrypt.
    pub fn open_with_key(self, key: VaultKey) -> Result<Vault> {
        let state = parse(&self.path, self.data, self.header, &key)?;
        Ok(Vault {
            path: self.path,
            key,
            state,
        })
    }
}

/// Reads only the header: the vault id, for looking up a cached key.
pub fn read_vault_id(path: &Path) -> Result<VaultId> {
    let data = fs::read_vault_upto(path, format::HEADER_LEN)?;
    Header::decode(&data)
        .map(|h| h.id)
        .map_err(|_| corrupt(path))
}

fn corrupt(path: &Path) -> Error {
    Error::Corrupt {
        path: path.to_path_buf(),
    }
}

/// Authenticates a whole file under `key`, decrypts the index in place and
/// validates every record (without allocating per record).
fn parse(path: &Path, data: Vec<u8>, header: Header, key: &VaultKey) -> Result<State> {
    let bad = |_: Malformed| corrupt(path);
    let mut r = Reader::new(&data[format::HEADER_LEN..]);
    let secrets_len = usize::try_from(r.u64().map_err(bad)?).map_err(|_| corrupt(path))?;
    let index_start = format::SECRETS_START
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

fn index_offsets(
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
        let text = [
            k.protocol,
            k.host,
            k.path,
            k.username,
            raw.authtype.unwrap_or(b""),
        ];
        if !text.iter().all(|f| is_utf8(f)) {
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

fn decode_secrets(plain: &SecretBytes) -> Result<Secrets> {
    let bad = |_: Malformed| Error::Invalid("malformed record secret".into());
    let mut r = Reader::new(plain.expose_secret());
    let password = SecretBytes::from_slice(r.field().map_err(bad)?)?;
    let opt = |r: &mut Reader<'_>| -> Result<Option<SecretBytes>> {
        match r.u8().map_err(bad)? {
            0 => Ok(None),
            1 => Ok(Some(SecretBytes::from_slice(r.field().map_err(bad)?)?)),
            _ => Err(bad(Malformed)),
        }
    };
    let oauth_refresh_token = opt(&mut r)?;
    let credential = opt(&mut r)?;
    if !r.done() {
        return Err(bad(Malformed));
    }
    Ok(Secrets {
        password,
        oauth_refresh_token,
        credential,
    })
}

fn reveal_blob(
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

fn entry_blob<'a>(path: &Path, e: &'a Entry, data: &'a [u8]) -> Result<&'a [u8]> {
    match &e.blob {
        Blob::File { off, len } => data.get(*off..*off + *len).ok_or_else(|| corrupt(path)),
        Blob::New(v) => Ok(v),
    }
}

fn check_field(name: &str, v: &str) -> Result<()> {
    if v.len() > MAX_FIELD_LEN {
        return Err(Error::Invalid(format!(
            "{name} is longer than {MAX_FIELD_LEN} bytes"
        )));
    }
    Ok(())
}

/// Serializes a whole vault file. `entries` and `blobs` are parallel; file
/// blobs are copied from `old` verbatim (still sealed).
fn encode(
    header: &Header,
    key: &VaultKey,
    generation: u64,
    entries: &[Entry],
    old: &[u8],
) -> Result<Vec<u8>> {
    let mut secrets: Vec<u8> = Vec::new();
    let mut index = Zeroizing::new(Vec::with_capacity(64 + entries.len() * 96));
    index.extend_from_slice(&generation.to_le_bytes());
    index.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    for e in entries {
        let blob: &[u8] = match &e.blob {
            Blob::File { off, len } => old
                .get(*off..*off + *len)
                .ok_or_else(|| Error::Invalid("internal: blob out of range".into()))?,
            Blob::New(v) => v,
        };
        let off = secrets.len() as u64;
        secrets.extend_from_slice(blob);
        index.extend_from_slice(&e.record);
        index.push(e.kind.to_byte());
        index.extend_from_slice(&e.created.to_le_bytes());
        index.extend_from_slice(&e.updated.to_le_bytes());
        match e.password_expiry_utc {
            None => index.push(0),
            Some(t) => {
                index.push(1);
                index.extend_from_slice(&t.to_le_bytes());
            }
        }
        for s in [&e.protocol, &e.host, &e.path, &e.username] {
            format::put_field(&mut index, s.as_bytes());
        }
        match &e.authtype {
            None => index.push(0),
            Some(a) => {
                index.push(1);
                format::put_field(&mut index, a.as_bytes());
            }
        }
        index.extend_from_slice(&off.to_le_bytes());
        index.extend_from_slice(&(blob.len() as u32).to_le_bytes());
    }
    let mut out = Vec::with_capacity(format::SECRETS_START + secrets.len() + index.len() + 64);
    out.extend_from_slice(&header.encode());
    out.extend_from_slice(&(secrets.len() as u64).to_le_bytes());
    out.extend_from_slice(&secrets);
    let sealed = format::seal_index(&key.cipher()?, &out, index)?;
    out.extend_from_slice(&sealed);
    Ok(out)
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
        let kek = format::derive_kek(password, &salt, kdf)?;
        let header = Header::wrap(VaultId(format::random_array()?), kdf, salt, &kek, &key)?;
        drop(kek);
        let data = encode(&header, &key, 1, &[], &[])?;
        fs::write_atomic(path, &data)?;
        let state = parse(path, data, header, &key)?;
        Ok(Vault {
            path: path.to_path_buf(),
            key,
            state,
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

    /// The scrypt parameters the password is wrapped with.
    pub fn kdf(&self) -> KdfParams {
        self.state.header.kdf
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
        let start = format::SECRETS_START + raw.off;
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
        let mut fresh = self.reread()?;
        let entries = fresh.take_entries();
        let mut txn = Txn {
            path: self.path.clone(),
            id: fresh.header.id,
            key: &self.key,
            data: &fresh.buf.bytes,
            entries,
            dirty: false,
        };
        let r = f(&mut txn)?;
        if txn.dirty {
            let generation = fresh.generation + 1;
            let data = encode(
                &fresh.header,
                &self.key,
                generation,
                &txn.entries,
                &fresh.buf.bytes,
            )?;
            fs::write_atomic(&self.path, &data)?;
            drop(txn);
            let header = fresh.header.clone();
            drop(fresh);
            self.state = parse(&self.path, data, header, &self.key)?;
        } else {
            let entries = std::mem::take(&mut txn.entries);
            drop(txn);
            let _ = fresh.entries.set(entries);
            self.state = fresh;
        }
        Ok(r)
    }

    fn reread(&self) -> Result<State> {
        let data = fs::read_vault(&self.path)?;
        let header = Header::decode(&data).map_err(|_| corrupt(&self.path))?;
        if header.id != self.state.header.id {
            return Err(Error::Invalid(format!(
                "{} was replaced by another vault while open; run the command again",
                self.path.display()
            )));
        }
        parse(&self.path, data, header, &self.key)
    }

    /// Rewraps the vault key under a new password and KDF parameters
    /// (records are not re-encrypted), atomically.
    pub fn change_password(&mut self, new: &SecretBytes, kdf: KdfParams) -> Result<()> {
        kdf.check().map_err(Error::Invalid)?;
        let salt: [u8; SALT_LEN] = format::random_array()?;
        let kek = format::derive_kek(new, &salt, kdf)?;
        self.rewrap_with(salt, kdf, &kek)
    }

    /// Rewraps the vault key under `kek` (derived from the new password with
    /// `salt` and `kdf`), under the writers' lock, atomically.
    pub(crate) fn rewrap_with(
        &mut self,
        salt: [u8; SALT_LEN],
        kdf: KdfParams,
        kek: &SecretBytes,
    ) -> Result<()> {
        kdf.check().map_err(Error::Invalid)?;
        let _lock = fs::lock(&self.path)?;
        let mut fresh = self.reread()?;
        let entries = fresh.take_entries();
        let header = Header::wrap(fresh.header.id, kdf, salt, kek, &self.key)?;
        let data = encode(
            &header,
            &self.key,
            fresh.generation + 1,
            &entries,
            &fresh.buf.bytes,
        )?;
        fs::write_atomic(&self.path, &data)?;
        self.state = parse(&self.path, data, header, &self.key)?;
        Ok(())
    }
}

/// The records of a vault while [`Vault::update`] holds its lock.
#[derive(Debug)]
pub struct Txn<'a> {
    path: PathBuf,
    id: VaultId,
    key: &'a VaultKey,
    data: &'a [u8],
    entries: Vec<Entry>,
    dirty: bool,
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

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

#[cfg(test)]
mod parser_tests {
    //! The parsers behind authenticated data must still never panic on any
    //! input (a bug or a key holder could hand them anything).
    use super::*;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    fn valid_index() -> Vec<u8> {
        let mut e = Vec::new();
        e.extend_from_slice(&7u64.to_le_bytes());
        e.extend_from_slice(&2u32.to_le_bytes());
        for i in 0..2u8 {
            e.extend_from_slice(&[i; ID_LEN]);
            e.push(1);
            e.extend_from_slice(&1u64.to_le_bytes());
            e.extend_from_slice(&2u64.to_le_bytes());
            e.push(1);
            e.extend_from_slice(&3u64.to_le_bytes());
            for s in ["https", "example.com", "", "user"] {
                format::put_field(&mut e, s.as_bytes());
            }
            e.push(1);
            format::put_field(&mut e, b"Bearer");
            e.extend_from_slice(&(u64::from(i) * 40).to_le_bytes());
            e.extend_from_slice(&40u32.to_le_bytes());
        }
        e
    }

    #[test]
    fn index_parser_accepts_valid_and_survives_garbage() {
        let good = valid_index();
        let (generation, offsets) = index_offsets(&good, 0..good.len(), 80).unwrap();
        assert_eq!((generation, offsets.len()), (7, 2));
        assert!(
            index_offsets(&good, 0..good.len(), 79).is_err(),
            "blob past the region"
        );
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..20_000 {
            let mut bad = good.clone();
            match round % 3 {
                0 => {
                    for _ in 0..1 + rng.next() % 4 {
                        let i = (rng.next() as usize) % bad.len();
                        bad[i] = rng.next() as u8;
                    }
                }
                1 => bad.truncate((rng.next() as usize) % good.len()),
                _ => {
                    let n = (rng.next() % 300) as usize;
                    bad = (0..n).map(|_| rng.next() as u8).collect();
                }
            }
            let _ = index_offsets(&bad, 0..bad.len(), (rng.next() % 200) as usize);
        }
    }

    #[test]
    fn index_parser_refuses_text_fields_that_are_not_utf8() {
        let good = valid_index();
        // Non-ASCII UTF-8 is text like any other.
        let mut accented = good.clone();
        let at = accented.windows(4).position(|w| w == b"user").unwrap();
        accented.splice(at..at + 4, "usé".bytes()); // same length (4 bytes)
        assert!(index_offsets(&accented, 0..accented.len(), 80).is_ok());
        // Each text field of the sample (protocol, host, username, authtype;
        // its path is empty) refuses a byte that is not UTF-8.
        for field in [&b"https"[..], b"example.com", b"user", b"Bearer"] {
            let mut bad = good.clone();
            let at = bad.windows(field.len()).position(|w| w == field).unwrap();
            bad[at] = 0xFF;
            assert!(
                index_offsets(&bad, 0..bad.len(), 80).is_err(),
                "accepted 0xFF in {:?}",
                String::from_utf8_lossy(field)
            );
        }
    }

    #[test]
    fn secret_parser_survives_garbage() {
        let mut rng = Rng(42);
        for _ in 0..5_000 {
            let n = (rng.next() % 64) as usize;
            let bytes: Vec<u8> = (0..n).map(|_| (rng.next() % 4) as u8).collect();
            let s = SecretBytes::from_slice(&bytes).unwrap();
            let _ = decode_secrets(&s);
        }
    }
}
