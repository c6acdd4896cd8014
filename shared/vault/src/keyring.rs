//! The unlock cache: the vault key in the Linux kernel keyring.
//!
//! Where: the caller's **user keyring** (`@u`, keyrings(7)), so a `keyward
//! unlock` in one terminal serves `git push` in another terminal of the same
//! user. What: a `user` key described `keyward:vault:<vault id hex>`, so two
//! vaults never see each other's key; payload = the 32-byte vault key followed
//! by the expiry time (u64 little-endian Unix seconds, for `keyward status`),
//! then, once a helper has opened the vault, the highest vault generation
//! seen (u64 little-endian; the rollback check of [`crate::watermark`]).
//! Permissions: possessor-only (view, read, write, search, link, setattr; no
//! rights for user, group or other). Lifetime: the kernel timeout set on the
//! key; `keyward lock` invalidates it at once.

use crate::error::{Error, Result};
use crate::format::{VaultId, VaultKey, KEY_LEN};
use keyward_secmem::{ExposeSecret, ExposeSecretMut, SecretBytes};
use linux_keyutils::{KeyError, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, Permission};
use std::time::Duration;

/// Key and expiry; [`PAYLOAD_MAX`] with the generation after them.
const PAYLOAD_LEN: usize = KEY_LEN + 8;
const PAYLOAD_MAX: usize = PAYLOAD_LEN + 8;

/// The key description for a vault.
pub fn description(id: &VaultId) -> String {
    format!("keyward:vault:{}", id.to_hex())
}

/// The kernel's reason in words: linux-keyutils names common errnos and
/// passes the rest through as `Unknown(errno)`.
fn why(e: &KeyError) -> String {
    match e {
        KeyError::Unknown(libc::ENOSYS) => {
            "keyctl is not allowed here (ENOSYS: no kernel keyring support, or a seccomp \
             filter such as a container's blocks it)"
                .to_string()
        }
        KeyError::Unknown(n) => std::io::Error::from_raw_os_error(*n).to_string(),
        other => format!("{other:?}"),
    }
}

fn err(what: &str, e: KeyError) -> Error {
    Error::Keyring(format!("{what}: {}", why(&e)))
}

fn ring(create: bool) -> std::result::Result<KeyRing, KeyError> {
    KeyRing::from_special_id(KeyRingIdentifier::User, create)
}

/// Whether the kernel keyring can be used here (`Err` says why not).
pub fn available() -> std::result::Result<(), String> {
    ring(true)
        .map(|_| ())
        .map_err(|e| format!("the user keyring is not available: {}", why(&e)))
}

/// Caches `key` for vault `id` for `timeout` (at least one second).
pub fn store(id: &VaultId, key: &VaultKey, timeout: Duration) -> Result<()> {
    let secs = timeout.as_secs().max(1);
    let r = ring(true).map_err(|e| err("cannot open the user keyring", e))?;
    let expires = crate::vault::now().saturating_add(secs);
    // The generation seen survives a new key (`keyward passwd`, a new unlock).
    let seen = generation(id);
    let mut payload = SecretBytes::with_capacity(PAYLOAD_MAX)?;
    payload.extend_from_slice(key.expose())?;
    payload.extend_from_slice(&expires.to_le_bytes())?;
    if let Some(g) = seen {
        payload.extend_from_slice(&g.to_le_bytes())?;
    }
    let k = r
        .add_key(&description(id), payload.expose_secret())
        .map_err(|e| err("cannot add the key", e))?;
    let fail = |what: &str, e: KeyError| {
        let _ = k.invalidate().or_else(|_| k.revoke());
        err(what, e)
    };
    k.set_timeout(usize::try_from(secs).unwrap_or(usize::MAX))
        .map_err(|e| fail("cannot set the key timeout", e))?;
    let perms = KeyPermissionsBuilder::builder()
        .posessor(Permission::ALL)
        .build();
    k.set_perms(perms)
        .map_err(|e| fail("cannot set the key permissions", e))?;
    Ok(())
}

fn absent(e: &KeyError) -> bool {
    matches!(
        e,
        KeyError::KeyDoesNotExist
            | KeyError::KeyExpired
            | KeyError::KeyRevoked
            | KeyError::KeyringDoesNotExist
    )
}

fn load_payload(id: &VaultId) -> Result<Option<SecretBytes>> {
    Ok(load_key_payload(id)?.map(|(_, p)| p))
}

fn load_key_payload(id: &VaultId) -> Result<Option<(linux_keyutils::Key, SecretBytes)>> {
    let r = match ring(false) {
        Ok(r) => r,
        Err(e) if absent(&e) => return Ok(None),
        Err(e) => return Err(err("cannot open the user keyring", e)),
    };
    let k = match r.search(&description(id)) {
        Ok(k) => k,
        Err(e) if absent(&e) => return Ok(None),
        Err(e) => return Err(err("cannot search the user keyring", e)),
    };
    // Read into a slot of the pool's 512-byte class: the secrets a helper
    // call makes next (the record's value, the answer it prints) then fit
    // in the same locked page instead of mapping one per size class (a
    // `memfd_secret` page costs a TLB flush on every CPU when first touched).
    let mut buf = SecretBytes::with_capacity(512)?;
    buf.set_len(PAYLOAD_MAX + 1);
    let n = match k.read(&mut buf.expose_secret_mut()) {
        Ok(n) => n,
        Err(e) if absent(&e) => return Ok(None),
        Err(e) => return Err(err("cannot read the cached key", e)),
    };
    if n != PAYLOAD_LEN && n != PAYLOAD_MAX {
        return Err(Error::Keyring(format!(
            "{} has an unexpected size; run `keyward lock` and `keyward unlock`",
            description(id)
        )));
    }
    buf.truncate(n);
    Ok(Some((k, buf)))
}

/// The highest generation of vault `id` noted in its cached key's entry
/// ([`set_generation`]), if the vault is unlocked and one was noted.
pub fn generation(id: &VaultId) -> Option<u64> {
    generation_in(&load_payload(id).ok()??)
}

/// The generation noted in a payload, if any.
fn generation_in(p: &SecretBytes) -> Option<u64> {
    let g = p.expose_secret().get(PAYLOAD_LEN..PAYLOAD_MAX)?;
    Some(u64::from_le_bytes(g.try_into().ok()?))
}

/// Notes `generation` in the cached key's entry of vault `id` (its timeout
/// unchanged). Nothing happens when the vault is not unlocked.
pub fn set_generation(id: &VaultId, generation: u64) -> Result<()> {
    let Some((k, p)) = load_key_payload(id)? else {
        return Ok(());
    };
    let mut payload = SecretBytes::with_capacity(PAYLOAD_MAX)?;
    payload.extend_from_slice(&p.expose_secret()[..PAYLOAD_LEN])?;
    payload.extend_from_slice(&generation.to_le_bytes())?;
    let mut t = [0u8; 8];
    t.copy_from_slice(&p.expose_secret()[KEY_LEN..PAYLOAD_LEN]);
    let left = u64::from_le_bytes(t)
        .saturating_sub(crate::vault::now())
        .max(1);
    k.update(&payload.expose_secret())
        .map_err(|e| err("cannot update the cached key", e))?;
    // keyctl_update gives a `user` key a new payload and no expiry: the
    // timeout is set again at once (and the key removed if that fails).
    k.set_timeout(usize::try_from(left).unwrap_or(usize::MAX))
        .map_err(|e| {
            let _ = k.invalidate().or_else(|_| k.revoke());
            err("cannot set the key timeout", e)
        })
}

/// The cached vault key, if it is present and unexpired.
pub fn load(id: &VaultId) -> Result<Option<VaultKey>> {
    Ok(load_with_generation(id)?.map(|(key, _)| key))
}

/// The cached vault key and the generation noted beside it ([`generation`]),
/// from one read of the entry: a helper checks the vault's generation
/// ([`crate::Vault::check_rollback_with`]) without reading the keyring again.
pub fn load_with_generation(id: &VaultId) -> Result<Option<(VaultKey, Option<u64>)>> {
    let Some(p) = load_payload(id)? else {
        return Ok(None);
    };
    // The key (and its cipher) get a guarded allocation of their own; the
    // payload they come from is short-lived and pooled.
    let key = VaultKey::from_bytes(&p.expose_secret()[..KEY_LEN])?;
    Ok(Some((key, generation_in(&p))))
}

/// Time until the cached key expires, if it is present.
pub fn time_left(id: &VaultId) -> Result<Option<Duration>> {
    let Some(p) = load_payload(id)? else {
        return Ok(None);
    };
    let mut t = [0u8; 8];
    t.copy_from_slice(&p.expose_secret()[KEY_LEN..PAYLOAD_LEN]);
    let expires = u64::from_le_bytes(t);
    Ok(Some(Duration::from_secs(
        expires.saturating_sub(crate::vault::now()),
    )))
}

/// After a password change gave the vault a new key: if the old key is
/// cached, puts `key` in its place for the time the old one had left (at
/// least a second); `false` if none was cached.
pub fn replace(id: &VaultId, key: &VaultKey) -> Result<bool> {
    match time_left(id)? {
        Some(left) => {
            store(id, key, left)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Removes the cached key at once; `false` if none was cached.
pub fn revoke(id: &VaultId) -> Result<bool> {
    let r = match ring(false) {
        Ok(r) => r,
        Err(e) if absent(&e) => return Ok(false),
        Err(e) => return Err(err("cannot open the user keyring", e)),
    };
    let mut any = false;
    // A key added twice (e.g. from two keyrings) is removed every time it is found.
    loop {
        match r.search(&description(id)) {
            Ok(k) => {
                k.invalidate()
                    .or_else(|_| k.revoke())
                    .map_err(|e| err("cannot remove the cached key", e))?;
                any = true;
            }
            Err(e) if absent(&e) => return Ok(any),
            Err(e) => return Err(err("cannot search the user keyring", e)),
        }
    }
}
