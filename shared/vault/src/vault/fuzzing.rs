//! Entry points for the fuzz targets in `fuzz/` (cargo feature `fuzzing`):
//! the private parsers behind authenticated data, called on arbitrary bytes.
//! Not part of the API; nothing else enables the feature.
//!
//! Each function panics when an invariant the rest of the crate relies on
//! does not hold, so that the fuzzer reports it: parsing itself must never
//! panic, and what parses must re-encode to the same bytes.

use super::{decode_bytes, decode_record, decode_secrets, index_offsets, parse, Vault};
use crate::format::{self, Header, Reader, ID_LEN};
use crate::{VaultId, VaultKey};
use keyward_secmem::{ExposeSecret, SecretBytes};
use std::path::Path;

/// The decrypted-index parser on `plain` (the whole index plaintext), with a
/// secrets region of `secrets_len` bytes. Returns `(generation, records)` if
/// it is accepted.
///
/// Checks that every record the validating pass accepted decodes again from
/// its recorded offset (the views rely on it), that the records tile the
/// index exactly, and that re-encoding them gives back `plain`.
pub fn index(plain: &[u8], secrets_len: usize) -> Option<(u64, usize)> {
    let (generation, offsets) = index_offsets(plain, 0..plain.len(), secrets_len).ok()?;
    let mut again = Vec::with_capacity(plain.len());
    again.extend_from_slice(&generation.to_le_bytes());
    again.extend_from_slice(&(offsets.len() as u32).to_le_bytes());
    for &off in &offsets {
        let off = off as usize;
        assert_eq!(off, again.len(), "records must tile the index");
        let mut r = Reader::new(&plain[off..]);
        let raw = decode_record(&mut r).expect("a validated record decodes");
        let mut k = Reader::new(&plain[off..]);
        let key = decode_bytes(&mut k)
            .expect("a validated record decodes")
            .key;
        assert_eq!(r.pos(), k.pos(), "both decoders consume one record");
        assert_eq!(key.host, raw.view.host.as_bytes());
        assert_eq!(key.has_authtype, raw.view.authtype.is_some());
        assert!(raw.off + raw.len <= secrets_len, "blob inside the region");
        let v = &raw.view;
        again.extend_from_slice(&raw.record);
        again.push(v.kind.to_byte());
        again.extend_from_slice(&v.created.to_le_bytes());
        again.extend_from_slice(&v.updated.to_le_bytes());
        match v.password_expiry_utc {
            None => again.push(0),
            Some(t) => {
                again.push(1);
                again.extend_from_slice(&t.to_le_bytes());
            }
        }
        for s in [v.protocol, v.host, v.path, v.username] {
            format::put_field(&mut again, s.as_bytes());
        }
        match v.authtype {
            None => again.push(0),
            Some(a) => {
                again.push(1);
                format::put_field(&mut again, a.as_bytes());
            }
        }
        again.extend_from_slice(&(raw.off as u64).to_le_bytes());
        again.extend_from_slice(&(raw.len as u32).to_le_bytes());
    }
    assert_eq!(again, plain, "an accepted index re-encodes to itself");
    Some((generation, offsets.len()))
}

/// The record-secret parser on `plain` (a decrypted secret blob). Returns
/// whether it is accepted; checks that what is accepted re-encodes to `plain`.
pub fn secrets(plain: &[u8]) -> bool {
    let Ok(buf) = SecretBytes::from_slice(plain) else {
        return false;
    };
    let Ok(s) = decode_secrets(&buf) else {
        return false;
    };
    let mut again = Vec::new();
    let field = |out: &mut Vec<u8>, b: &[u8]| {
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        out.extend_from_slice(b);
    };
    field(&mut again, s.password.expose_secret());
    for opt in [&s.oauth_refresh_token, &s.credential] {
        match opt {
            None => again.push(0),
            Some(v) => {
                again.push(1);
                field(&mut again, v.expose_secret());
            }
        }
    }
    assert_eq!(again, plain, "accepted secrets re-encode to themselves");
    true
}

/// The key [`sealed_file`] seals with and [`open`] should be given.
pub fn fixed_key() -> VaultKey {
    let bytes = SecretBytes::from_slice(&[0x6b; format::KEY_LEN]).expect("locked memory");
    VaultKey::from_secret(bytes).expect("32 bytes")
}

/// A vault file whose index plaintext is `index` (sealed under
/// [`fixed_key`], so it authenticates) and whose secrets region is `secrets`:
/// lets the fuzzer reach the index parser through the whole open path.
pub fn sealed_file(secrets: &[u8], index: &[u8]) -> Vec<u8> {
    let header = Header::new(
        VaultId([0x11; ID_LEN]),
        format::Slot {
            kind: crate::slot::RECOVERY,
            payload: vec![0; 124],
        },
    );
    let mut out = header.encode();
    out.extend_from_slice(&(secrets.len() as u64).to_le_bytes());
    out.extend_from_slice(secrets);
    let key = fixed_key();
    let cipher = key.cipher().expect("a 32-byte key");
    let sealed = format::seal_index(&cipher, &out, zeroize::Zeroizing::new(index.to_vec()))
        .expect("sealing");
    out.extend_from_slice(&sealed);
    out
}

/// What `SealedVault::read` then `open_with_key` do, on the bytes of a file:
/// header checks, authentication, index validation. If it opens, every
/// accessor is exercised (views, keys, owned entries, each record's secrets)
/// and must agree. Returns the number of records.
pub fn open(data: Vec<u8>, key: VaultKey) -> Option<usize> {
    let path = Path::new("/fuzz/vault");
    let header = Header::decode(&data).ok()?;
    let state = parse(path, data, header, &key).ok()?;
    let vault = Vault {
        path: path.to_path_buf(),
        key,
        state,
        watch: false,
    };
    let n = vault.len();
    let refs: Vec<_> = vault.entry_refs().collect();
    let keys: Vec<_> = vault.entry_keys().collect();
    let entries = vault.entries();
    assert_eq!((refs.len(), keys.len(), entries.len()), (n, n, n));
    for i in 0..n {
        let (r, k, e) = (&refs[i], &keys[i], &entries[i]);
        assert_eq!(Some(*r), vault.entry_ref(i));
        assert_eq!(
            (r.kind, r.host, r.username, r.authtype),
            (
                e.kind,
                e.host.as_str(),
                e.username.as_str(),
                e.authtype.as_deref()
            )
        );
        assert_eq!(
            (k.protocol, k.path),
            (r.protocol.as_bytes(), r.path.as_bytes())
        );
        // Blobs are sealed under the fixed key only by a real writer; any
        // other blob must fail cleanly.
        let _ = vault.reveal(i);
    }
    Some(n)
}
