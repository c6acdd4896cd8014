//! Key slots: each one wraps the vault key once (FORMAT.md, "Key slots").
//!
//! - `password` (tag 1): scrypt of the password wraps the key, as version 1
//!   of the format did (its associated data is version 1's header prefix, so
//!   a version-1 wrap moves into a slot unchanged).
//! - every other kind (`tpm2` 2, `host` 3, `recovery` 4, and kinds to come
//!   such as `fido2`) is a *key-pair slot*: the slot's secret (the recovery
//!   key, the host helper's per-user key, what the TPM unseals) gives an
//!   X25519 key pair; the slot stores the public key, an ephemeral public
//!   key, and the vault key wrapped under HKDF of their shared secret, then
//!   kind-specific public data kept as it is. Rewrapping needs only the
//!   public key, so a new vault key (`keyward passwd`, `keyward rekey`) is
//!   wrapped into every slot, of known kinds and unknown ones, without their
//!   secrets.

use crate::format::{
    random_array, v1_prefix, Cipher, Malformed, Slot, VaultId, VaultKey, AAD_WRAP, KEY_LEN,
    NONCE_LEN, SALT_LEN, TAG_LEN,
};
use crate::kdf::KdfParams;
use keyward_secmem::{with_scrubbed_stack, ExposeSecret, ExposeSecretMut, SecretBytes};
use sha2::Sha256;

/// Kind tag of a password slot.
pub(crate) const PASSWORD: u16 = 1;
/// Kind tag of a tpm2 slot (filled by `keyward-tpm`).
pub(crate) const TPM2: u16 = 2;
/// Kind tag of a host slot.
pub(crate) const HOST: u16 = 3;
/// Kind tag of a recovery slot.
pub(crate) const RECOVERY: u16 = 4;

const PASSWORD_LEN: usize = 9 + SALT_LEN + NONCE_LEN + KEY_LEN + TAG_LEN; // 101
const PAIR_FIXED: usize = 32 + 32 + NONCE_LEN + KEY_LEN + TAG_LEN; // 124
const AAD_SLOT: &[u8] = b"keyward-slot-v2\0";
const KEY_SALT: &[u8] = b"keyward-slot-key-v2";
const KEK_INFO: &[u8] = b"keyward-slot-kek-v2";

/// What a slot is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlotKind {
    /// scrypt of the vault password.
    Password,
    /// Sealed by the machine's TPM 2.0 (`keyward-tpm`).
    Tpm2,
    /// The host key only root can read (`/var/lib/keyward/host.key`).
    Host,
    /// A random 256-bit recovery key the user keeps.
    Recovery,
    /// A kind this keyward does not know (kept, and rewrapped on rekey).
    Other(u16),
}

impl SlotKind {
    /// The tag stored in the header.
    pub fn tag(self) -> u16 {
        match self {
            SlotKind::Password => PASSWORD,
            SlotKind::Tpm2 => TPM2,
            SlotKind::Host => HOST,
            SlotKind::Recovery => RECOVERY,
            SlotKind::Other(t) => t,
        }
    }

    /// The kind of a stored tag.
    pub fn from_tag(t: u16) -> SlotKind {
        match t {
            PASSWORD => SlotKind::Password,
            TPM2 => SlotKind::Tpm2,
            HOST => SlotKind::Host,
            RECOVERY => SlotKind::Recovery,
            t => SlotKind::Other(t),
        }
    }

    /// The name commands use (`password`, `tpm2`, `host`, `recovery`;
    /// `kind-N` for others).
    pub fn name(self) -> String {
        match self {
            SlotKind::Password => "password".into(),
            SlotKind::Tpm2 => "tpm2".into(),
            SlotKind::Host => "host".into(),
            SlotKind::Recovery => "recovery".into(),
            SlotKind::Other(t) => format!("kind-{t}"),
        }
    }

    /// Whether unlocking through it needs a person (a password, recovery
    /// key or PIN); a tpm2 slot with a PIN says so in its own data.
    pub fn needs_typing(self) -> bool {
        matches!(self, SlotKind::Password | SlotKind::Recovery)
    }
}

/// One slot as `keyward slots` lists it: no secret in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInfo {
    /// Position in the header (what `keyward unenroll` takes).
    pub index: usize,
    /// The kind.
    pub kind: SlotKind,
    /// The scrypt parameters (password slots).
    pub kdf: Option<KdfParams>,
    /// The slot's public key (key-pair slots).
    pub public: Option<[u8; 32]>,
    /// The kind-specific public data (key-pair slots; a tpm2 slot's sealed
    /// object and policy).
    pub extra: Vec<u8>,
}

impl SlotInfo {
    /// A short fingerprint of the public key (first 8 hex digits), or the
    /// scrypt parameters.
    pub fn detail(&self) -> String {
        match (&self.kdf, &self.public) {
            (Some(k), _) => format!("scrypt {k}"),
            (_, Some(p)) => p[..4].iter().map(|b| format!("{b:02x}")).collect(),
            _ => String::new(),
        }
    }
}

pub(crate) fn info(index: usize, s: &Slot) -> SlotInfo {
    let kind = SlotKind::from_tag(s.kind);
    let (mut kdf, mut public, mut extra) = (None, None, Vec::new());
    if s.kind == PASSWORD {
        kdf = PasswordWrap::parse(&s.payload).ok().map(|w| w.kdf);
    } else if let Ok(w) = PairWrap::parse(&s.payload) {
        public = Some(w.public);
        extra = w.extra.to_vec();
    }
    SlotInfo {
        index,
        kind,
        kdf,
        public,
        extra,
    }
}

/// A password slot's payload: scrypt parameters ‖ salt ‖ nonce ‖ wrapped key.
pub(crate) struct PasswordWrap {
    pub kdf: KdfParams,
    pub salt: [u8; SALT_LEN],
    pub nonce: [u8; NONCE_LEN],
    pub wrapped: [u8; KEY_LEN + TAG_LEN],
}

impl PasswordWrap {
    pub fn parse(p: &[u8]) -> Result<PasswordWrap, Malformed> {
        if p.len() != PASSWORD_LEN {
            return Err(Malformed);
        }
        let u32_at = |i: usize| -> Result<u32, Malformed> {
            Ok(u32::from_le_bytes(
                p[i..i + 4].try_into().map_err(|_| Malformed)?,
            ))
        };
        let kdf = KdfParams {
            log_n: p[0],
            r: u32_at(1)?,
            p: u32_at(5)?,
        };
        kdf.check().map_err(|_| Malformed)?;
        let s = 9;
        let n = s + SALT_LEN;
        let w = n + NONCE_LEN;
        Ok(PasswordWrap {
            kdf,
            salt: p[s..n].try_into().map_err(|_| Malformed)?,
            nonce: p[n..w].try_into().map_err(|_| Malformed)?,
            wrapped: p[w..].try_into().map_err(|_| Malformed)?,
        })
    }

    fn params(kdf: KdfParams, salt: &[u8; SALT_LEN]) -> Vec<u8> {
        let mut b = Vec::with_capacity(9 + SALT_LEN);
        b.push(kdf.log_n);
        b.extend_from_slice(&kdf.r.to_le_bytes());
        b.extend_from_slice(&kdf.p.to_le_bytes());
        b.extend_from_slice(salt);
        b
    }

    fn aad(id: &VaultId, params: &[u8]) -> Vec<u8> {
        let mut aad = AAD_WRAP.to_vec();
        aad.extend_from_slice(&v1_prefix(id, params));
        aad
    }

    /// Wraps `key` under `kek` (scrypt of the password with `salt`, `kdf`).
    pub fn wrap(
        id: &VaultId,
        kdf: KdfParams,
        salt: [u8; SALT_LEN],
        kek: &SecretBytes,
        key: &VaultKey,
    ) -> crate::Result<Slot> {
        let mut payload = Self::params(kdf, &salt);
        let aad = Self::aad(id, &payload);
        seal_key(kek, &aad, key, &mut payload)?;
        Ok(Slot {
            kind: PASSWORD,
            payload,
        })
    }

    /// Unwraps with `kek`; `None` when it does not verify (wrong password).
    pub fn unwrap(&self, id: &VaultId, kek: &SecretBytes) -> crate::Result<Option<VaultKey>> {
        let aad = Self::aad(id, &Self::params(self.kdf, &self.salt));
        open_key(kek, &self.nonce, &aad, &self.wrapped)
    }

    /// scrypt of `password`, then [`Self::unwrap`].
    pub fn unwrap_password(
        &self,
        id: &VaultId,
        password: &SecretBytes,
    ) -> crate::Result<Option<VaultKey>> {
        let kek = crate::kdf::derive_kek(password, &self.salt, self.kdf)?;
        self.unwrap(id, &kek)
    }
}

/// A key-pair slot's payload: public key ‖ ephemeral public key ‖ nonce ‖
/// wrapped key ‖ kind-specific public data.
pub(crate) struct PairWrap<'a> {
    pub public: [u8; 32],
    pub eph: [u8; 32],
    pub nonce: [u8; NONCE_LEN],
    pub wrapped: &'a [u8],
    pub extra: &'a [u8],
}

impl<'a> PairWrap<'a> {
    pub fn parse(p: &'a [u8]) -> Result<PairWrap<'a>, Malformed> {
        if p.len() < PAIR_FIXED {
            return Err(Malformed);
        }
        Ok(PairWrap {
            public: p[..32].try_into().map_err(|_| Malformed)?,
            eph: p[32..64].try_into().map_err(|_| Malformed)?,
            nonce: p[64..64 + NONCE_LEN].try_into().map_err(|_| Malformed)?,
            wrapped: &p[64 + NONCE_LEN..PAIR_FIXED],
            extra: &p[PAIR_FIXED..],
        })
    }

    fn aad(id: &VaultId, kind: u16, public: &[u8; 32], eph: &[u8; 32], extra: &[u8]) -> Vec<u8> {
        let mut aad = AAD_SLOT.to_vec();
        aad.extend_from_slice(&id.0);
        aad.extend_from_slice(&kind.to_le_bytes());
        aad.extend_from_slice(public);
        aad.extend_from_slice(eph);
        aad.extend_from_slice(extra);
        aad
    }

    /// Wraps `key` to the slot public key `public` with a fresh ephemeral key.
    pub fn wrap(
        id: &VaultId,
        kind: u16,
        public: &[u8; 32],
        extra: &[u8],
        key: &VaultKey,
    ) -> crate::Result<Slot> {
        let eph_secret = SecretBytes::random(32)?;
        let eph = public_of(&eph_secret)?;
        let kek = kek(id, kind, &eph_secret, public, public, &eph)?
            .ok_or_else(|| crate::Error::Invalid("not a usable slot public key".into()))?;
        drop(eph_secret);
        let aad = Self::aad(id, kind, public, &eph, extra);
        let mut payload = Vec::with_capacity(PAIR_FIXED + extra.len());
        payload.extend_from_slice(public);
        payload.extend_from_slice(&eph);
        seal_key(&kek, &aad, key, &mut payload)?;
        payload.extend_from_slice(extra);
        Ok(Slot { kind, payload })
    }

    /// The same slot wrapping `key` instead (public key and data kept).
    pub fn rewrap(&self, id: &VaultId, kind: u16, key: &VaultKey) -> crate::Result<Slot> {
        Self::wrap(id, kind, &self.public, self.extra, key)
    }

    /// Unwraps with the slot secret; `None` when it is not this slot's.
    pub fn unwrap(
        &self,
        id: &VaultId,
        kind: u16,
        secret: &SecretBytes,
    ) -> crate::Result<Option<VaultKey>> {
        let sk = slot_private(kind, secret)?;
        if public_of(&sk)? != self.public {
            return Ok(None);
        }
        let Some(kek) = kek(id, kind, &sk, &self.eph, &self.public, &self.eph)? else {
            return Ok(None);
        };
        drop(sk);
        let aad = Self::aad(id, kind, &self.public, &self.eph, self.extra);
        open_key(&kek, &self.nonce, &aad, self.wrapped)
    }
}

/// Every slot's wrap: appends a fresh nonce ‖ `key` encrypted under `kek`
/// (AES-256-GCM, `aad`) ‖ tag to `payload`.
fn seal_key(
    kek: &SecretBytes,
    aad: &[u8],
    key: &VaultKey,
    payload: &mut Vec<u8>,
) -> crate::Result<()> {
    let nonce: [u8; NONCE_LEN] = random_array()?;
    let mut buf = SecretBytes::from_slice(key.expose())?;
    let tag = Cipher::new(kek)?
        .encrypt(&nonce, aad, buf.expose_secret_mut())
        .ok_or_else(|| crate::Error::Invalid("key wrapping failed".into()))?;
    payload.extend_from_slice(&nonce);
    payload.extend_from_slice(buf.expose_secret());
    payload.extend_from_slice(&tag);
    Ok(())
}

/// Every slot's unwrap: the key in `wrapped` (ciphertext ‖ tag) under
/// `kek`, into locked memory; `None` when it does not verify.
fn open_key(
    kek: &SecretBytes,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    wrapped: &[u8],
) -> crate::Result<Option<VaultKey>> {
    let mut buf = SecretBytes::from_slice(&wrapped[..KEY_LEN])?;
    let ok = Cipher::new(kek)?.decrypt(nonce, aad, buf.expose_secret_mut(), &wrapped[KEY_LEN..]);
    Ok(if ok {
        Some(VaultKey::from_secret(buf)?)
    } else {
        None
    })
}

/// The X25519 private key of a slot secret: HKDF-SHA256 of it, bound to
/// the kind (the same secret gives different keys for different kinds).
fn slot_private(kind: u16, secret: &SecretBytes) -> crate::Result<SecretBytes> {
    let mut sk = SecretBytes::guarded(32)?;
    hkdf_into(
        KEY_SALT,
        secret.expose_secret(),
        &kind.to_le_bytes(),
        &mut sk,
    )?;
    Ok(sk)
}

/// The public key of the slot whose secret is `secret` (what enrolling
/// stores; the secret itself is not stored).
pub fn public_key(kind: SlotKind, secret: &SecretBytes) -> crate::Result<[u8; 32]> {
    public_of(&slot_private(kind.tag(), secret)?)
}

fn public_of(sk: &SecretBytes) -> crate::Result<[u8; 32]> {
    let sk: [u8; 32] = sk
        .expose_secret()
        .try_into()
        .map_err(|_| crate::Error::Invalid("an X25519 key has 32 bytes".into()))?;
    Ok(with_scrubbed_stack(|| {
        x25519_dalek::x25519(sk, x25519_dalek::X25519_BASEPOINT_BYTES)
    }))
}

/// HKDF-SHA256(X25519(`sk`, `peer`), salt = vault id, info = label ‖ kind
/// ‖ public ‖ eph) into locked memory; `None` for a low-order point (an
/// all-zero shared secret).
fn kek(
    id: &VaultId,
    kind: u16,
    sk: &SecretBytes,
    peer: &[u8; 32],
    public: &[u8; 32],
    eph: &[u8; 32],
) -> crate::Result<Option<SecretBytes>> {
    let mut shared = SecretBytes::guarded(32)?;
    with_scrubbed_stack(|| {
        let mut k = [0u8; 32];
        k.copy_from_slice(sk.expose_secret());
        let s = x25519_dalek::x25519(k, *peer);
        shared.expose_secret_mut().copy_from_slice(&s);
        zeroize::Zeroize::zeroize(&mut k);
    });
    if shared.expose_secret().iter().all(|&b| b == 0) {
        return Ok(None);
    }
    let mut info = KEK_INFO.to_vec();
    info.extend_from_slice(&kind.to_le_bytes());
    info.extend_from_slice(public);
    info.extend_from_slice(eph);
    let mut kek = SecretBytes::guarded(KEY_LEN)?;
    hkdf_into(&id.0, shared.expose_secret(), &info, &mut kek)?;
    Ok(Some(kek))
}

fn hkdf_into(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut SecretBytes) -> crate::Result<()> {
    with_scrubbed_stack(|| {
        hkdf::Hkdf::<Sha256>::new(Some(salt), ikm).expand(info, out.expose_secret_mut())
    })
    .map_err(|_| crate::Error::Invalid("HKDF output length".into()))
}

impl crate::format::Header {
    /// The scrypt parameters of the first password slot.
    pub fn kdf(&self) -> Option<KdfParams> {
        self.slots
            .iter()
            .filter(|s| s.kind == PASSWORD)
            .find_map(|s| PasswordWrap::parse(&s.payload).ok())
            .map(|w| w.kdf)
    }

    /// The slots, without secrets.
    pub fn infos(&self) -> Vec<SlotInfo> {
        self.slots
            .iter()
            .enumerate()
            .map(|(i, s)| info(i, s))
            .collect()
    }

    /// Runs scrypt on `password` for each password slot (usually one) until
    /// one unwraps; `Ok(None)` when none does; [`crate::Error::NoSlotOpens`]
    /// when there is no password slot.
    pub fn unwrap_password(
        &self,
        path: &std::path::Path,
        password: &SecretBytes,
    ) -> crate::Result<Option<VaultKey>> {
        let mut any = false;
        for s in self.slots.iter().filter(|s| s.kind == PASSWORD) {
            any = true;
            let w = PasswordWrap::parse(&s.payload)
                .map_err(|_| crate::Error::Corrupt { path: path.into() })?;
            if let Some(k) = w.unwrap_password(&self.id, password)? {
                return Ok(Some(k));
            }
        }
        if !any {
            return Err(crate::Error::NoSlotOpens {
                path: path.into(),
                what: "a password".into(),
                hint: "this vault has no password slot; unlock it with its recovery key (`keyward unlock --recovery-key-fd N`) and set one with `keyward passwd --recovery-key-fd N`".into(),
            });
        }
        Ok(None)
    }

    /// Tries the slot secret on each slot of `kind` (key-pair kinds).
    pub fn unwrap_slot(
        &self,
        kind: SlotKind,
        secret: &SecretBytes,
    ) -> crate::Result<Option<VaultKey>> {
        for s in self
            .slots
            .iter()
            .filter(|s| s.kind == kind.tag() && s.kind != PASSWORD)
        {
            if let Ok(w) = PairWrap::parse(&s.payload) {
                if let Some(k) = w.unwrap(&self.id, s.kind, secret)? {
                    return Ok(Some(k));
                }
            }
        }
        Ok(None)
    }

    /// Tries the slot secret on slot `index` only.
    pub fn unwrap_slot_at(
        &self,
        index: usize,
        secret: &SecretBytes,
    ) -> crate::Result<Option<VaultKey>> {
        let Some(s) = self.slots.get(index).filter(|s| s.kind != PASSWORD) else {
            return Ok(None);
        };
        match PairWrap::parse(&s.payload) {
            Ok(w) => w.unwrap(&self.id, s.kind, secret),
            Err(_) => Ok(None),
        }
    }

    /// This header with every slot wrapping `key` instead: key-pair slots
    /// from their public keys; the first password slot under `password`
    /// (scrypt `kdf` with `salt` gave `kek`), added in front when there was
    /// none. Any other password slot cannot be rewrapped without its
    /// password and is dropped (keyward writes at most one).
    pub fn rewrapped(
        &self,
        key: &VaultKey,
        password: Option<(KdfParams, [u8; SALT_LEN], &SecretBytes)>,
    ) -> crate::Result<crate::format::Header> {
        let mut slots = Vec::with_capacity(self.slots.len() + 1);
        let mut new_password = password
            .map(|(kdf, salt, kek)| PasswordWrap::wrap(&self.id, kdf, salt, kek, key))
            .transpose()?;
        if !self.slots.iter().any(|s| s.kind == PASSWORD) {
            slots.extend(new_password.take());
        }
        for s in &self.slots {
            if s.kind == PASSWORD {
                slots.extend(new_password.take());
            } else {
                let w = PairWrap::parse(&s.payload)
                    .map_err(|_| crate::Error::Invalid("internal: malformed slot".into()))?;
                slots.push(w.rewrap(&self.id, s.kind, key)?);
            }
        }
        if slots.is_empty() {
            return Err(crate::Error::Invalid(
                "internal: a vault keeps at least one slot".into(),
            ));
        }
        Ok(crate::format::Header {
            id: self.id,
            slots,
            version: crate::format::VERSION,
            len: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> VaultKey {
        VaultKey::random().unwrap()
    }

    #[test]
    fn pair_slot_opens_with_its_secret_only_and_rewraps_without_it() {
        let id = VaultId([3; 16]);
        let secret = SecretBytes::random(32).unwrap();
        let public = public_key(SlotKind::Recovery, &secret).unwrap();
        let k1 = key();
        let slot = PairWrap::wrap(&id, RECOVERY, &public, b"extra", &k1).unwrap();
        let w = PairWrap::parse(&slot.payload).unwrap();
        assert_eq!(w.extra, b"extra");
        let got = w.unwrap(&id, RECOVERY, &secret).unwrap().unwrap();
        assert_eq!(got.expose(), k1.expose());
        // Another secret, another kind or another vault: nothing.
        let other = SecretBytes::random(32).unwrap();
        assert!(w.unwrap(&id, RECOVERY, &other).unwrap().is_none());
        assert!(w.unwrap(&id, HOST, &secret).unwrap().is_none());
        assert!(w
            .unwrap(&VaultId([4; 16]), RECOVERY, &secret)
            .unwrap()
            .is_none());
        // A new key wraps into the slot from its public key alone.
        let k2 = key();
        let again = w.rewrap(&id, RECOVERY, &k2).unwrap();
        let w2 = PairWrap::parse(&again.payload).unwrap();
        assert_eq!(w2.public, w.public);
        assert_ne!(w2.eph, w.eph);
        let got = w2.unwrap(&id, RECOVERY, &secret).unwrap().unwrap();
        assert_eq!(got.expose(), k2.expose());
        // Any changed byte fails authentication.
        for i in [0, 40, 70, 100, 125] {
            let mut bad = again.payload.clone();
            bad[i] ^= 1;
            let b = PairWrap::parse(&bad).unwrap();
            assert!(
                b.unwrap(&id, RECOVERY, &secret).unwrap().is_none(),
                "byte {i}"
            );
        }
    }

    #[test]
    fn password_slot_round_trip() {
        let id = VaultId([5; 16]);
        let kdf = KdfParams {
            log_n: 4,
            r: 8,
            p: 1,
        };
        let pw = SecretBytes::from_slice(b"pw").unwrap();
        let salt = [9u8; SALT_LEN];
        let kek = crate::kdf::derive_kek(&pw, &salt, kdf).unwrap();
        let k = key();
        let slot = PasswordWrap::wrap(&id, kdf, salt, &kek, &k).unwrap();
        let w = PasswordWrap::parse(&slot.payload).unwrap();
        assert_eq!(
            w.unwrap_password(&id, &pw).unwrap().unwrap().expose(),
            k.expose()
        );
        let wrong = SecretBytes::from_slice(b"px").unwrap();
        assert!(w.unwrap_password(&id, &wrong).unwrap().is_none());
    }
}
