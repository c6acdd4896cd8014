//! Byte layout of the vault file (specified in FORMAT.md): the header, the
//! encrypted index of record metadata, and the encrypted secret blobs.

use crate::kdf::KdfParams;
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
pub(crate) const VERSION: u16 = 1;
pub(crate) const ID_LEN: usize = 16;
pub(crate) const SALT_LEN: usize = 32;
pub(crate) const NONCE_LEN: usize = 12;
pub(crate) const TAG_LEN: usize = 16;
pub(crate) const KEY_LEN: usize = 32;

// Header field offsets.
const OFF_ID: usize = 12;
const OFF_KDF: usize = OFF_ID + ID_LEN; // 28: log_n u8, r u32, p u32
const OFF_SALT: usize = OFF_KDF + 9; // 37
const OFF_WRAP_NONCE: usize = OFF_SALT + SALT_LEN; // 69
const OFF_WRAPPED: usize = OFF_WRAP_NONCE + NONCE_LEN; // 81
const OFF_CHECK: usize = OFF_WRAPPED + KEY_LEN + TAG_LEN; // 129
/// Length of the fixed header.
pub(crate) const HEADER_LEN: usize = OFF_CHECK + 32; // 161
/// Where the secrets region starts (after its u64 length).
pub(crate) const SECRETS_START: usize = HEADER_LEN + 8;

pub(crate) const AAD_WRAP: &[u8] = b"keyward-wrap-v1";
pub(crate) const AAD_SECRET: &[u8] = b"keyward-secret-v1";

/// A vault's public identity: 16 random bytes chosen at creation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VaultId(pub [u8; ID_LEN]);

impl VaultId {
    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
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

/// The parsed fixed header.
#[derive(Clone)]
pub(crate) struct Header {
    pub id: VaultId,
    pub kdf: KdfParams,
    pub salt: [u8; SALT_LEN],
    pub wrap_nonce: [u8; NONCE_LEN],
    pub wrapped: [u8; KEY_LEN + TAG_LEN],
}

/// Header problems that are not authenticated failures.
#[derive(Debug)]
pub(crate) struct Malformed;

impl Header {
    /// Derives the key-encryption key with scrypt, straight into locked memory.
    pub fn derive_kek(&self, password: &SecretBytes) -> crate::Result<SecretBytes> {
        crate::kdf::derive_kek(password, &self.salt, self.kdf)
    }

    /// Wraps `key` under `kek`: a new header with a fresh nonce.
    pub fn wrap(
        id: VaultId,
        kdf: KdfParams,
        salt: [u8; SALT_LEN],
        kek: &SecretBytes,
        key: &VaultKey,
    ) -> crate::Result<Header> {
        let mut h = Header {
            id,
            kdf,
            salt,
            wrap_nonce: random_array()?,
            wrapped: [0u8; KEY_LEN + TAG_LEN],
        };
        let aad = h.wrap_aad();
        let mut buf = SecretBytes::from_slice(key.expose())?;
        let tag = Cipher::new(kek)?
            .encrypt(&h.wrap_nonce, &aad, buf.expose_secret_mut())
            .ok_or_else(|| crate::Error::Invalid("key wrapping failed".into()))?;
        // `buf` now holds ciphertext only.
        h.wrapped[..KEY_LEN].copy_from_slice(buf.expose_secret());
        h.wrapped[KEY_LEN..].copy_from_slice(&tag);
        Ok(h)
    }

    /// Unwraps the vault key; `None` when the tag does not verify (wrong password).
    pub fn unwrap_key(&self, kek: &SecretBytes) -> crate::Result<Option<VaultKey>> {
        let mut buf = SecretBytes::from_slice(&self.wrapped[..KEY_LEN])?;
        let aad = self.wrap_aad();
        let ok = Cipher::new(kek)?.decrypt(
            &self.wrap_nonce,
            &aad,
            buf.expose_secret_mut(),
            &self.wrapped[KEY_LEN..],
        );
        Ok(if ok {
            Some(VaultKey::from_secret(buf)?)
        } else {
            None
        })
    }

    fn wrap_aad(&self) -> Vec<u8> {
        let bytes = self.encode();
        let mut aad = AAD_WRAP.to_vec();
        aad.extend_from_slice(&bytes[..OFF_WRAP_NONCE]);
        aad
    }

    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[..8].copy_from_slice(MAGIC);
        b[8..10].copy_from_slice(&VERSION.to_le_bytes());
        // b[10..12]: reserved flags, zero
        b[OFF_ID..OFF_KDF].copy_from_slice(&self.id.0);
        b[OFF_KDF] = self.kdf.log_n;
        b[OFF_KDF + 1..OFF_KDF + 5].copy_from_slice(&self.kdf.r.to_le_bytes());
        b[OFF_KDF + 5..OFF_KDF + 9].copy_from_slice(&self.kdf.p.to_le_bytes());
        b[OFF_SALT..OFF_WRAP_NONCE].copy_from_slice(&self.salt);
        b[OFF_WRAP_NONCE..OFF_WRAPPED].copy_from_slice(&self.wrap_nonce);
        b[OFF_WRAPPED..OFF_CHECK].copy_from_slice(&self.wrapped);
        let check = Sha256::digest(&b[..OFF_CHECK]);
        b[OFF_CHECK..].copy_from_slice(&check);
        b
    }

    /// Parses and checks the header (magic, version, checksum, KDF bounds).
    pub fn decode(data: &[u8]) -> Result<Header, Malformed> {
        if data.len() < HEADER_LEN || &data[..8] != MAGIC {
            return Err(Malformed);
        }
        if u16::from_le_bytes([data[8], data[9]]) != VERSION || data[10..12] != [0, 0] {
            return Err(Malformed);
        }
        let check = Sha256::digest(&data[..OFF_CHECK]);
        if check.as_slice() != &data[OFF_CHECK..HEADER_LEN] {
            return Err(Malformed);
        }
        let kdf = KdfParams {
            log_n: data[OFF_KDF],
            r: u32::from_le_bytes(
                data[OFF_KDF + 1..OFF_KDF + 5]
                    .try_into()
                    .map_err(|_| Malformed)?,
            ),
            p: u32::from_le_bytes(
                data[OFF_KDF + 5..OFF_KDF + 9]
                    .try_into()
                    .map_err(|_| Malformed)?,
            ),
        };
        kdf.check().map_err(|_| Malformed)?;
        let arr = |r: std::ops::Range<usize>| data[r].to_vec();
        Ok(Header {
            id: VaultId(arr(OFF_ID..OFF_KDF).try_into().map_err(|_| Malformed)?),
            kdf,
            salt: arr(OFF_SALT..OFF_WRAP_NONCE)
                .try_into()
                .map_err(|_| Malformed)?,
            wrap_nonce: arr(OFF_WRAP_NONCE..OFF_WRAPPED)
                .try_into()
                .map_err(|_| Malformed)?,
            wrapped: arr(OFF_WRAPPED..OFF_CHECK)
                .try_into()
                .map_err(|_| Malformed)?,
        })
    }
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
