//! The byte encoding of records in the decrypted index and of their sealed
//! secrets, and the allocation-free views over it ([`EntryRef`], [`EntryKey`]).

use super::*;

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

pub(super) const EMPTY_REF: EntryRef<'static> = EntryRef {
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

/// Never used: every record was validated when the file was opened.
pub(super) const EMPTY_RAW: Raw<'static> = Raw {
    view: EMPTY_REF,
    record: [0; ID_LEN],
    off: 0,
    len: 0,
};

impl EntryRef<'_> {
    /// Whether `n` would replace this record (same kind, protocol, host, path
    /// and username).
    pub fn same_identity_as(&self, n: &NewEntry) -> bool {
        (
            self.kind,
            self.protocol,
            self.host,
            self.path,
            self.username,
        ) == (
            n.kind,
            n.protocol.as_str(),
            n.host.as_str(),
            n.path.as_str(),
            n.username.as_str(),
        )
    }

    /// Kind, protocol, host, path and username: what makes two records one.
    pub(super) fn same_identity(&self, o: &EntryRef<'_>) -> bool {
        (
            self.kind,
            self.protocol,
            self.host,
            self.path,
            self.username,
        ) == (o.kind, o.protocol, o.host, o.path, o.username)
    }

    pub(super) fn identity_key(&self) -> super::txn::IdentityKey {
        (
            self.kind.to_byte(),
            self.protocol.into(),
            self.host.into(),
            self.path.into(),
            self.username.into(),
        )
    }
}

/// One decoded index record.
pub(super) struct Raw<'a> {
    pub(super) view: EntryRef<'a>,
    pub(super) record: [u8; ID_LEN],
    /// Blob position inside the secrets region.
    pub(super) off: usize,
    pub(super) len: usize,
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

pub(super) const EMPTY_KEY: EntryKey<'static> = EntryKey {
    kind: Kind::Git,
    protocol: b"",
    host: b"",
    path: b"",
    username: b"",
    has_authtype: false,
};

/// One index record with its string fields still bytes.
pub(super) struct RawBytes<'a> {
    pub(super) key: EntryKey<'a>,
    pub(super) authtype: Option<&'a [u8]>,
    pub(super) password_expiry_utc: Option<u64>,
    pub(super) created: u64,
    pub(super) updated: u64,
    pub(super) record: [u8; ID_LEN],
    pub(super) off: usize,
    pub(super) len: usize,
    /// Where protocol, host, path and username lie in the reader's buffer,
    /// with the length prefixes between them: one ASCII check covers all four.
    pub(super) text: std::ops::Range<usize>,
}

/// Bytes of an index record before its text fields: id, kind, created,
/// updated and the expiry flag.
const FIXED: usize = ID_LEN + 1 + 8 + 8 + 1;

/// `N` bytes at `at` of `b`.
#[inline]
fn array<const N: usize>(b: &[u8], at: usize) -> Result<[u8; N], Malformed> {
    b.get(at..)
        .and_then(|r| r.get(..N))
        .and_then(|r| r.try_into().ok())
        .ok_or(Malformed)
}

/// A length-prefixed field at `*at` of `b`; moves `*at` past it.
#[inline]
fn field<'a>(b: &'a [u8], at: &mut usize) -> Result<&'a [u8], Malformed> {
    let n = u32::from_le_bytes(array(b, *at)?) as usize;
    let f = b.get(*at + 4..).and_then(|r| r.get(..n)).ok_or(Malformed)?;
    *at += 4 + n;
    Ok(f)
}

/// Decodes the index record at the reader's position. The hot loop of every
/// open and lookup (100,000 records in a few milliseconds): one bounds check
/// per field, on the unread bytes directly. Inlined, so that each caller
/// computes only the fields it uses.
#[inline(always)]
pub(super) fn decode_bytes<'a>(r: &mut Reader<'a>) -> Result<RawBytes<'a>, Malformed> {
    let b = r.rest();
    let head: [u8; FIXED] = array(b, 0)?;
    let (record, rest) = head.split_first_chunk::<ID_LEN>().ok_or(Malformed)?;
    let (&[kind], rest) = rest.split_first_chunk::<1>().ok_or(Malformed)?;
    let kind = Kind::from_byte(kind).ok_or(Malformed)?;
    let (created, rest) = rest.split_first_chunk::<8>().ok_or(Malformed)?;
    let (updated, rest) = rest.split_first_chunk::<8>().ok_or(Malformed)?;
    let mut at = FIXED;
    let password_expiry_utc = match rest {
        [0] => None,
        [1] => {
            at += 8;
            Some(u64::from_le_bytes(array(b, FIXED)?))
        }
        _ => return Err(Malformed),
    };
    let text_start = at + 4;
    let protocol = field(b, &mut at)?;
    let host = field(b, &mut at)?;
    let path = field(b, &mut at)?;
    let username = field(b, &mut at)?;
    let text = r.pos() + text_start..r.pos() + at;
    let [flag] = array(b, at)?;
    at += 1;
    let authtype = match flag {
        0 => None,
        1 => Some(field(b, &mut at)?),
        _ => return Err(Malformed),
    };
    let off = usize::try_from(u64::from_le_bytes(array(b, at)?)).map_err(|_| Malformed)?;
    let len = u32::from_le_bytes(array(b, at + 8)?) as usize;
    r.skip(at + 12)?;
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
        created: u64::from_le_bytes(*created),
        updated: u64::from_le_bytes(*updated),
        record: *record,
        off,
        len,
        text,
    })
}

/// UTF-8 check with the common all-ASCII case first (cheaper per short field).
pub(super) fn is_utf8(b: &[u8]) -> bool {
    b.is_ascii() || std::str::from_utf8(b).is_ok()
}

pub(super) fn utf8(b: &[u8]) -> Result<&str, Malformed> {
    std::str::from_utf8(b).map_err(|_| Malformed)
}

pub(super) fn decode_record<'a>(r: &mut Reader<'a>) -> Result<Raw<'a>, Malformed> {
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

pub(super) fn decode_secrets(plain: &SecretBytes) -> Result<Secrets> {
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

/// One record as [`encode_records`] writes it: its metadata, id and sealed blob.
pub(super) struct Rec<'a> {
    pub(super) view: EntryRef<'a>,
    pub(super) record: [u8; ID_LEN],
    pub(super) blob: &'a [u8],
}

impl Entry {
    /// This record as [`encode_records`] takes it; file blobs come from `old`.
    pub(super) fn rec<'a>(&'a self, old: &'a [u8]) -> Result<Rec<'a>> {
        let blob: &[u8] = match &self.blob {
            Blob::File { off, len } => old
                .get(*off..*off + *len)
                .ok_or_else(|| Error::Invalid("internal: blob out of range".into()))?,
            Blob::New(v) => v,
        };
        Ok(Rec {
            view: self.view(),
            record: self.record,
            blob,
        })
    }

    /// A borrowed view of this record's metadata.
    pub(super) fn view(&self) -> EntryRef<'_> {
        EntryRef {
            kind: self.kind,
            protocol: &self.protocol,
            host: &self.host,
            path: &self.path,
            username: &self.username,
            password_expiry_utc: self.password_expiry_utc,
            authtype: self.authtype.as_deref(),
            created: self.created,
            updated: self.updated,
        }
    }
}

/// Serializes a whole vault file. `entries`' file blobs are copied from
/// `old` verbatim (still sealed).
pub(super) fn encode(
    header: &Header,
    key: &VaultKey,
    generation: u64,
    entries: &[Entry],
    old: &[u8],
) -> Result<Vec<u8>> {
    encode_records(header, key, generation, || {
        entries.iter().map(|e| e.rec(old))
    })
}

/// Bytes one record takes in the index plaintext.
fn index_len(r: &Rec<'_>) -> usize {
    let v = &r.view;
    ID_LEN
        + 1
        + 16
        + if v.password_expiry_utc.is_some() {
            9
        } else {
            1
        }
        + 16
        + v.protocol.len()
        + v.host.len()
        + v.path.len()
        + v.username.len()
        + v.authtype.map_or(1, |a| 5 + a.len())
        + 12
}

/// Serializes a whole vault file from the records `recs()` yields (called
/// twice: sizes first, so the file and the index are each allocated once at
/// their final size and the index is encrypted in place).
pub(super) fn encode_records<'a, I>(
    header: &Header,
    key: &VaultKey,
    generation: u64,
    recs: impl Fn() -> I,
) -> Result<Vec<u8>>
where
    I: Iterator<Item = Result<Rec<'a>>>,
{
    let (mut count, mut secrets_len, mut index_bytes) = (0usize, 0usize, 12usize);
    for r in recs() {
        let r = r?;
        count += 1;
        secrets_len += r.blob.len();
        index_bytes += index_len(&r);
    }
    let count = u32::try_from(count).map_err(|_| Error::Invalid("too many records".into()))?;
    let header_bytes = header.encode();
    let index_start = header_bytes.len() + 8 + secrets_len + format::NONCE_LEN;
    // One allocation of the final size. The index plaintext is written into
    // its tail and encrypted there in place; until then the buffer is wiped
    // on every way out.
    let mut out = Zeroizing::new(Vec::with_capacity(
        index_start + index_bytes + format::TAG_LEN,
    ));
    out.extend_from_slice(&header_bytes);
    out.extend_from_slice(&(secrets_len as u64).to_le_bytes());
    for r in recs() {
        out.extend_from_slice(r?.blob);
    }
    let nonce: [u8; format::NONCE_LEN] = format::random_array()?;
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&generation.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    let mut off = 0u64;
    for r in recs() {
        let r = r?;
        let index = &mut *out;
        let v = &r.view;
        index.extend_from_slice(&r.record);
        index.push(v.kind.to_byte());
        index.extend_from_slice(&v.created.to_le_bytes());
        index.extend_from_slice(&v.updated.to_le_bytes());
        match v.password_expiry_utc {
            None => index.push(0),
            Some(t) => {
                index.push(1);
                index.extend_from_slice(&t.to_le_bytes());
            }
        }
        for s in [v.protocol, v.host, v.path, v.username] {
            format::put_field(index, s.as_bytes());
        }
        match v.authtype {
            None => index.push(0),
            Some(a) => {
                index.push(1);
                format::put_field(index, a.as_bytes());
            }
        }
        index.extend_from_slice(&off.to_le_bytes());
        index.extend_from_slice(&(r.blob.len() as u32).to_le_bytes());
        off += r.blob.len() as u64;
    }
    if off != secrets_len as u64 || out.len() != index_start + index_bytes {
        return Err(Error::Invalid(
            "internal: records changed while encoding".into(),
        ));
    }
    // The index tag authenticates every byte before it (see FORMAT.md).
    let (aad, index) = out.split_at_mut(index_start);
    let tag = key
        .cipher()?
        .encrypt(&nonce, &aad[..index_start - format::NONCE_LEN], index)
        .ok_or_else(|| Error::Invalid("index encryption failed".into()))?;
    out.extend_from_slice(&tag);
    // Ciphertext now: no longer wiped on drop.
    Ok(std::mem::take(&mut *out))
}
