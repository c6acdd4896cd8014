//! Byte layout of the vault file (specified in FORMAT.md): the header, the
//! encrypted index of record metadata, and the encrypted secret blobs.

use aes_gcm::aead::{inout::InOutBuf, AeadInOut};
use aes_gcm::{Aes256Gcm, KeyInit};

type Nonce = aes_gcm::aead::Nonce<Aes256Gcm>;
type Tag = aes_gcm::aead::Tag<Aes256Gcm>;
use keyward_secmem::{
    with_scrubbed_stack, ExposeSecret, ExposeSecretMut, Keyed, Locked, SecretBytes,
};
use sha2::{Digest, Sha256};
#[cfg(feature = "fuzzing")]
use zeroize::Zeroizing;

pub(crate) const MAGIC: &[u8; 8] = b"KEYWARD\x00";
/// The format this keyward writes: 2, a header with a list of key slots.
/// Version 1 (one password wrap in a fixed header) is read and upgraded on
/// the next write; a higher version is refused ([`crate::Error::TooNew`]).
pub const VERSION: u16 = 2;
pub(crate) const VERSION_1: u16 = 1;
pub(crate) const ID_LEN: usize = 16;
pub(crate) const SALT_LEN: usize = 32;
pub(crate) const NONCE_LEN: usize = 12;
pub(crate) const TAG_LEN: usize = 16;
pub(crate) const KEY_LEN: usize = 32;

// Header field offsets (both versions share the first 28 bytes).
const OFF_ID: usize = 12;
const OFF_KDF: usize = OFF_ID + ID_LEN; // v1: 28: log_n u8, r u32, p u32
const OFF_SALT: usize = OFF_KDF + 9; // v1: 37
const OFF_WRAP_NONCE: usize = OFF_SALT + SALT_LEN; // v1: 69
const OFF_WRAPPED: usize = OFF_WRAP_NONCE + NONCE_LEN; // v1: 81
const OFF_CHECK: usize = OFF_WRAPPED + KEY_LEN + TAG_LEN; // v1: 129
/// Length of a version-1 header (and of the password slot as the PAM
/// module's root side receives it: [`Header::password_v1`]).
pub(crate) const V1_HEADER_LEN: usize = OFF_CHECK + 32; // 161
/// v2: where the slot list's length (u32) and the slot list start.
const OFF_SLOTS_LEN: usize = OFF_ID + ID_LEN; // 28
const OFF_SLOTS: usize = OFF_SLOTS_LEN + 4; // 32
/// At most this many bytes of slots, and this many slots.
pub(crate) const MAX_SLOTS_LEN: usize = 64 * 1024;
pub(crate) const MAX_SLOTS: usize = 32;
/// The longest header any version has: what reading the id alone reads.
pub(crate) const MAX_HEADER_LEN: usize = OFF_SLOTS + MAX_SLOTS_LEN + 32;

pub(crate) const AAD_WRAP: &[u8] = b"keyward-wrap-v1";
pub(crate) const AAD_SECRET: &[u8] = b"keyward-secret-v1";

/// A vault's public identity: 16 random bytes chosen at creation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VaultId(pub [u8; ID_LEN]);

impl VaultId {
    /// Parses 32 hex digits ([`VaultId::to_hex`]).
    pub fn from_hex(s: &str) -> Option<VaultId> {
        if s.len() != 2 * ID_LEN || !s.is_ascii() {
            return None;
        }
        let mut id = [0u8; ID_LEN];
        for (i, b) in id.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(VaultId(id))
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        // A table, not `format!` per byte: helpers name the keyring entry
        // and the generation file by it on every call.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(2 * ID_LEN);
        for &b in &self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        s
    }
}

impl std::fmt::Display for VaultId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl std::fmt::Debug for VaultId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VaultId({})", self.to_hex())
    }
}

/// The 256-bit vault key and its AES-256-GCM cipher, together in one guarded
/// allocation of locked memory (`keyward_secmem::Keyed`): the key
/// right-aligned against a guard page, the cipher (key schedule, GHASH key)
/// built in place in front of it. One `memfd_secret` mapping for both.
pub struct VaultKey(Keyed<Aes256Gcm>);

impl VaultKey {
    /// Takes 32 bytes of key material (copied into the key's own guarded
    /// allocation; `bytes` is wiped when dropped).
    pub fn from_secret(bytes: SecretBytes) -> crate::Result<VaultKey> {
        Self::from_bytes(bytes.expose_secret())
    }

    /// Copies 32 bytes of key material (from locked memory) into the key's
    /// own guarded allocation.
    pub fn from_bytes(key: &[u8]) -> crate::Result<VaultKey> {
        if key.len() != KEY_LEN {
            return Err(crate::Error::Invalid(format!(
                "a vault key has {KEY_LEN} bytes, not {}",
                key.len()
            )));
        }
        Ok(VaultKey(Keyed::new(key, |k| {
            let k: &aes_gcm::Key<Aes256Gcm> = k.try_into().unwrap_or(&ZERO_KEY);
            Aes256Gcm::new(k)
        })?))
    }

    /// A fresh random key.
    pub(crate) fn random() -> crate::Result<VaultKey> {
        Self::from_bytes(SecretBytes::random(KEY_LEN)?.expose_secret())
    }

    /// The key bytes (in locked memory).
    pub fn expose(&self) -> &[u8] {
        self.0.key()
    }

    /// An explicit copy (into new locked memory).
    pub fn try_clone(&self) -> crate::Result<VaultKey> {
        Self::from_bytes(self.expose())
    }

    /// The AES-256-GCM cipher of this key, already built beside it.
    pub(crate) fn cipher(&self) -> crate::Result<Cipher<'_>> {
        Ok(Cipher::Of(self.0.get()))
    }

    /// Seals a record's name (not a secret, but not for every reader: a
    /// host, a named secret's name) for a file kept beside the vault, the
    /// audit trail: `nonce (12) ‖ ciphertext ‖ tag (16)`, AES-256-GCM with a
    /// fresh random nonce, under the vault key's cipher already built (no
    /// key derivation, no new locked mapping per use). `aad` must begin with
    /// a label of the caller's own (`keyward-audit-name-v1\0`): the vault's
    /// own associated data begins with the file magic, `keyward-wrap-v1` or
    /// `keyward-secret-v1`, so nothing sealed here passes for a part of the
    /// vault, nor the other way round.
    pub fn seal_name(&self, aad: &[u8], name: &[u8]) -> crate::Result<Vec<u8>> {
        let nonce: [u8; NONCE_LEN] = random_array()?;
        let mut buf = name.to_vec();
        let tag = self
            .cipher()?
            .encrypt(&nonce, aad, &mut buf)
            .ok_or_else(|| crate::Error::Invalid("encryption failed".into()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + buf.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Opens what [`VaultKey::seal_name`] sealed with the same `aad`; `None`
    /// if it does not authenticate (another key, another vault, edited).
    pub fn open_name(&self, aad: &[u8], sealed: &[u8]) -> crate::Result<Option<Vec<u8>>> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Ok(None);
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
        let mut buf = ct.to_vec();
        let ok = self.cipher()?.decrypt(nonce, aad, &mut buf, tag);
        Ok(ok.then_some(buf))
    }
}

/// Never used: `from_bytes` checks the length first.
static ZERO_KEY: aes_gcm::Key<Aes256Gcm> = aes_gcm::aead::array::Array([0u8; KEY_LEN]);

impl std::fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKey([REDACTED])")
    }
}

/// An AES-256-GCM cipher (the AES key schedule and the GHASH key) that lives
/// only in locked memory: built there in place, used by reference, wiped on
/// drop (aes-gcm's `zeroize` feature, then the allocation's own wipe). It is
/// never returned or moved by value, and every operation on it runs through
/// [`with_scrubbed_stack`], so the round keys the AES code spills onto the
/// stack do not outlive the call.
pub(crate) enum Cipher<'a> {
    /// Built for one use (a key-encryption key).
    Own(Locked<Aes256Gcm>),
    /// The vault key's, which lives beside it.
    Of(&'a Aes256Gcm),
}

impl Cipher<'_> {
    pub(crate) fn new(key: &SecretBytes) -> crate::Result<Cipher<'static>> {
        let key: &aes_gcm::Key<Aes256Gcm> = key.expose_secret().try_into().map_err(|_| {
            crate::Error::Invalid(format!(
                "an AES-256 key has {KEY_LEN} bytes, not {}",
                key.len()
            ))
        })?;
        Ok(Cipher::Own(Locked::new_with(|| Aes256Gcm::new(key))?))
    }

    fn aes(&self) -> &Aes256Gcm {
        match self {
            Cipher::Own(c) => c.get(),
            Cipher::Of(c) => c,
        }
    }

    /// Encrypts `buf` in place; returns the tag.
    pub(crate) fn encrypt(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Option<Tag> {
        with_scrubbed_stack(|| {
            self.aes()
                .encrypt_inout_detached(&Nonce::from(*nonce), aad, InOutBuf::from(buf))
                .ok()
        })
    }

    /// Decrypts `buf` in place; whether the tag verified.
    pub(crate) fn decrypt(&self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
        with_scrubbed_stack(|| {
            self.aes()
                .decrypt_inout_detached(&nonce_of(nonce), aad, InOutBuf::from(buf), &tag_of(tag))
                .is_ok()
        })
    }
}

/// The nonce of a sealed blob, for opening only (sealing takes a fresh
/// `[u8; NONCE_LEN]`). Callers split it off at NONCE_LEN; a wrong length
/// could only fail authentication.
fn nonce_of(b: &[u8]) -> Nonce {
    Nonce::try_from(b).unwrap_or_default()
}

fn tag_of(b: &[u8]) -> Tag {
    // A wrong-length tag (impossible: split at TAG_LEN) fails authentication.
    Tag::try_from(b).unwrap_or_default()
}

pub(crate) fn random_array<const N: usize>() -> crate::Result<[u8; N]> {
    let mut a = [0u8; N];
    getrandom::getrandom(&mut a).map_err(|_| keyward_secmem::Error::Random)?;
    Ok(a)
}

/// One key slot as stored: a kind tag and its payload (see [`crate::slot`]).
/// Slots of a kind this keyward does not know are kept as they are.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Slot {
    pub kind: u16,
    pub payload: Vec<u8>,
}

/// The parsed header: the vault id and its key slots.
#[derive(Clone)]
pub(crate) struct Header {
    pub id: VaultId,
    pub slots: Vec<Slot>,
    /// The version of the file this was decoded from (1 or 2).
    pub version: u16,
    /// Bytes the header took in that file: the secrets region's length
    /// follows it.
    pub len: usize,
}

/// Header problems that are not authenticated failures.
#[derive(Debug)]
pub(crate) struct Malformed;

/// Why a header does not decode.
#[derive(Debug)]
pub(crate) enum HeaderError {
    /// Damaged: bad magic, checksum, lengths or parameters.
    Malformed,
    /// A version above [`VERSION`], written by a newer keyward.
    TooNew(u16),
}

impl HeaderError {
    /// The vault error for `path`.
    pub fn at(self, path: &std::path::Path) -> crate::Error {
        match self {
            HeaderError::Malformed => crate::Error::Corrupt {
                path: path.to_path_buf(),
            },
            HeaderError::TooNew(found) => crate::Error::TooNew {
                path: path.to_path_buf(),
                found,
            },
        }
    }
}

impl From<Malformed> for HeaderError {
    fn from(_: Malformed) -> Self {
        HeaderError::Malformed
    }
}

impl Header {
    /// A new header with one slot.
    pub fn new(id: VaultId, slot: Slot) -> Header {
        Header {
            id,
            slots: vec![slot],
            version: VERSION,
            len: 0,
        }
    }

    /// The secrets region's length field starts here; the blobs after it.
    pub fn secrets_start(&self) -> usize {
        self.len + 8
    }

    /// The (version 2) bytes of this header.
    pub fn encode(&self) -> Vec<u8> {
        let slots_len: usize = self.slots.iter().map(|s| 6 + s.payload.len()).sum();
        let mut b = Vec::with_capacity(OFF_SLOTS + slots_len + 32);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&VERSION.to_le_bytes());
        b.extend_from_slice(&[0, 0]); // reserved flags
        b.extend_from_slice(&self.id.0);
        b.extend_from_slice(&(slots_len as u32).to_le_bytes());
        for s in &self.slots {
            b.extend_from_slice(&s.kind.to_le_bytes());
            b.extend_from_slice(&(s.payload.len() as u32).to_le_bytes());
            b.extend_from_slice(&s.payload);
        }
        let check = Sha256::digest(&b);
        b.extend_from_slice(&check);
        b
    }

    /// Parses and checks the header (magic, version, checksum, slot list,
    /// password slots' KDF bounds). A version-1 header becomes one password
    /// slot.
    pub fn decode(data: &[u8]) -> Result<Header, HeaderError> {
        if data.len() < 12 || &data[..8] != MAGIC {
            return Err(HeaderError::Malformed);
        }
        let version = u16::from_le_bytes([data[8], data[9]]);
        if version > VERSION {
            return Err(HeaderError::TooNew(version));
        }
        if data[10..12] != [0, 0] {
            return Err(HeaderError::Malformed);
        }
        let h = match version {
            VERSION_1 => Self::decode_v1(data)?,
            VERSION => Self::decode_v2(data)?,
            _ => return Err(HeaderError::Malformed),
        };
        for s in &h.slots {
            if s.kind == crate::slot::PASSWORD {
                crate::slot::PasswordWrap::parse(&s.payload)?;
            } else {
                crate::slot::PairWrap::parse(&s.payload)?;
            }
        }
        Ok(h)
    }

    fn decode_v1(data: &[u8]) -> Result<Header, Malformed> {
        if data.len() < V1_HEADER_LEN {
            return Err(Malformed);
        }
        let check = Sha256::digest(&data[..OFF_CHECK]);
        if check.as_slice() != &data[OFF_CHECK..V1_HEADER_LEN] {
            return Err(Malformed);
        }
        Ok(Header {
            id: VaultId(data[OFF_ID..OFF_KDF].try_into().map_err(|_| Malformed)?),
            slots: vec![Slot {
                kind: crate::slot::PASSWORD,
                payload: data[OFF_KDF..OFF_CHECK].to_vec(),
            }],
            version: VERSION_1,
            len: V1_HEADER_LEN,
        })
    }

    fn decode_v2(data: &[u8]) -> Result<Header, Malformed> {
        let mut r = Reader::new(data.get(OFF_ID..).ok_or(Malformed)?);
        let id = VaultId(r.bytes(ID_LEN)?.try_into().map_err(|_| Malformed)?);
        let slots_len = r.u32()? as usize;
        if slots_len > MAX_SLOTS_LEN {
            return Err(Malformed);
        }
        let end = OFF_SLOTS + slots_len;
        let check = data.get(end..end + 32).ok_or(Malformed)?;
        if Sha256::digest(&data[..end]).as_slice() != check {
            return Err(Malformed);
        }
        let mut r = Reader::new(&data[OFF_SLOTS..end]);
        let mut slots = Vec::new();
        while !r.done() {
            let kind = u16::from_le_bytes(r.bytes(2)?.try_into().map_err(|_| Malformed)?);
            let payload = r.field()?.to_vec();
            slots.push(Slot { kind, payload });
        }
        if slots.is_empty() || slots.len() > MAX_SLOTS {
            return Err(Malformed);
        }
        Ok(Header {
            id,
            slots,
            version: VERSION,
            len: end + 32,
        })
    }

    /// The first password slot as a version-1 header (161 bytes: id, scrypt
    /// parameters, salt, wrapped key, checksum): what the PAM module's root
    /// side unwraps. The password slot's associated data is version 1's
    /// header prefix, so these bytes unwrap exactly as the slot does.
    pub fn password_v1(&self) -> Option<Vec<u8>> {
        let s = self
            .slots
            .iter()
            .find(|s| s.kind == crate::slot::PASSWORD)?;
        let mut b = Vec::with_capacity(V1_HEADER_LEN);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&VERSION_1.to_le_bytes());
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&self.id.0);
        b.extend_from_slice(&s.payload);
        let check = Sha256::digest(&b);
        b.extend_from_slice(&check);
        (b.len() == V1_HEADER_LEN).then_some(b)
    }
}

/// Version 1's header prefix up to the wrap nonce (magic, version 1, flags,
/// id, scrypt parameters, salt): the password slot's associated data after
/// [`AAD_WRAP`], in both versions.
pub(crate) fn v1_prefix(id: &VaultId, kdf_and_salt: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(OFF_WRAP_NONCE);
    b.extend_from_slice(MAGIC);
    b.extend_from_slice(&VERSION_1.to_le_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&id.0);
    b.extend_from_slice(kdf_and_salt);
    b
}

/// A cursor over decrypted bytes; every read is bounds-checked.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    #[inline]
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    #[inline]
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let end = self.pos.checked_add(n).ok_or(Malformed)?;
        let s = self.buf.get(self.pos..end).ok_or(Malformed)?;
        self.pos = end;
        Ok(s)
    }
    #[inline]
    pub fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.bytes(1)?[0])
    }
    #[inline]
    pub fn u32(&mut self) -> Result<u32, Malformed> {
        Ok(u32::from_le_bytes(
            self.bytes(4)?.try_into().map_err(|_| Malformed)?,
        ))
    }
    #[inline]
    pub fn u64(&mut self) -> Result<u64, Malformed> {
        Ok(u64::from_le_bytes(
            self.bytes(8)?.try_into().map_err(|_| Malformed)?,
        ))
    }
    #[inline]
    pub fn field(&mut self) -> Result<&'a [u8], Malformed> {
        let n = self.u32()? as usize;
        self.bytes(n)
    }
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }
    #[inline]
    pub fn done(&self) -> bool {
        self.pos == self.buf.len()
    }
    /// The bytes not read yet (for a decoder that checks bounds itself).
    #[inline]
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }
    /// Counts `n` more bytes as read.
    #[inline]
    pub fn skip(&mut self, n: usize) -> Result<(), Malformed> {
        self.bytes(n).map(|_| ())
    }
}

/// Appends a length-prefixed field to plain (non-secret) output.
pub(crate) fn put_field(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

/// Appends a length-prefixed field to secret output.
pub(crate) fn put_secret_field(out: &mut SecretBytes, b: &[u8]) -> crate::Result<()> {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes())?;
    out.extend_from_slice(b)?;
    Ok(())
}

/// Encrypts the index plaintext; returns nonce ‖ ciphertext ‖ tag (the fuzz
/// targets' vault builder; the vault itself encrypts in place in
/// `encode_records`). The
/// associated data is every byte of the file before the index (it starts with
/// the magic, which keeps it apart from the other associated data).
#[cfg(feature = "fuzzing")]
pub(crate) fn seal_index(
    cipher: &Cipher<'_>,
    aad: &[u8],
    plain: Zeroizing<Vec<u8>>,
) -> crate::Result<Vec<u8>> {
    let nonce: [u8; NONCE_LEN] = random_array()?;
    let mut buf = plain;
    let tag = cipher
        .encrypt(&nonce, aad, &mut buf[..])
        .ok_or_else(|| crate::Error::Invalid("index encryption failed".into()))?;
    let mut out = Vec::with_capacity(NONCE_LEN + buf.len() + TAG_LEN);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&buf);
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Decrypts the index in place: `data[index_start..]` is nonce ‖ ciphertext ‖
/// tag; on success the plaintext is at `data[index_start + NONCE_LEN ..
/// data.len() - TAG_LEN]` (the caller wipes it after parsing).
pub(crate) fn open_index_in_place(
    cipher: &Cipher<'_>,
    data: &mut [u8],
    index_start: usize,
) -> Result<std::ops::Range<usize>, Malformed> {
    if data.len() < index_start + NONCE_LEN + TAG_LEN {
        return Err(Malformed);
    }
    let (aad, rest) = data.split_at_mut(index_start);
    let (nonce, rest) = rest.split_at_mut(NONCE_LEN);
    let ct_len = rest.len() - TAG_LEN;
    let (ct, tag) = rest.split_at_mut(ct_len);
    if !cipher.decrypt(nonce, aad, ct, tag) {
        return Err(Malformed);
    }
    Ok(index_start + NONCE_LEN..index_start + NONCE_LEN + ct_len)
}

fn secret_aad(id: &VaultId, record: &[u8; ID_LEN]) -> Vec<u8> {
    let mut aad = AAD_SECRET.to_vec();
    aad.extend_from_slice(&id.0);
    aad.extend_from_slice(record);
    aad
}

/// Encrypts a record's secret plaintext in place inside locked memory;
/// returns nonce ‖ ciphertext ‖ tag (no longer secret).
pub(crate) fn seal_secret(
    cipher: &Cipher<'_>,
    id: &VaultId,
    record: &[u8; ID_LEN],
    mut plain: SecretBytes,
) -> crate::Result<Vec<u8>> {
    let nonce: [u8; NONCE_LEN] = random_array()?;
    let tag = cipher
        .encrypt(&nonce, &secret_aad(id, record), plain.expose_secret_mut())
        .ok_or_else(|| crate::Error::Invalid("record encryption failed".into()))?;
    let mut out = Vec::with_capacity(NONCE_LEN + plain.len() + TAG_LEN);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plain.expose_secret());
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Decrypts one secret blob inside locked memory.
pub(crate) fn open_secret(
    cipher: &Cipher<'_>,
    id: &VaultId,
    record: &[u8; ID_LEN],
    blob: &[u8],
) -> crate::Result<Option<SecretBytes>> {
    if blob.len() < NONCE_LEN + TAG_LEN {
        return Ok(None);
    }
    let (nonce, rest) = blob.split_at(NONCE_LEN);
    let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
    let mut buf = SecretBytes::from_slice(ct)?;
    let ok = cipher.decrypt(nonce, &secret_aad(id, record), buf.expose_secret_mut(), tag);
    Ok(if ok { Some(buf) } else { None })
}
