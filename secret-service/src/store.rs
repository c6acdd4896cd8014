//! Secret Service items as vault records of [`Kind::SecretService`]: the
//! collection in `host`, the item id in `username`, label, attributes and
//! content type as JSON in `authtype` (encrypted with the index, like every
//! record's metadata), the secret as the record's password.
//!
//! The vault is opened afresh for every request through the helpers' unlock
//! policy ([`keyward_unlock::open_for_helper`]): unlocked exactly when the
//! kernel keyring holds the vault key, so `keyward unlock` and `keyward lock`
//! anywhere unlock and lock the service too, and records written by another
//! process are seen at once.

use keyward_secmem::SecretBytes;
use keyward_unlock::HelperOpen;
use keyward_vault::{Config, Error, Kind, NewEntry, Vault};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The one collection: the vault.
pub const COLLECTION: &str = "login";

/// An item's public metadata (the `authtype` JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Meta {
    /// `org.freedesktop.Secret.Item.Label`.
    pub label: String,
    /// Lookup attributes.
    pub attributes: BTreeMap<String, String>,
    /// The secret's content type (`text/plain`, …).
    pub content_type: String,
}

/// One item as listed.
#[derive(Debug, Clone)]
pub struct Item {
    /// Its id, the last element of its object path.
    pub id: String,
    /// Label, attributes, content type.
    pub meta: Meta,
    /// Creation time (Unix seconds).
    pub created: u64,
    /// Last change (Unix seconds).
    pub modified: u64,
}

/// Where the vault is and how to open it.
#[derive(Debug, Clone)]
pub struct Store {
    config: Config,
    path: PathBuf,
}

/// Why a store operation failed. No message holds a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The vault key is not in the keyring (or there is no vault yet).
    #[error("the keyward vault is locked: run `keyward unlock`")]
    Locked,
    /// No item with that id.
    #[error("no such item")]
    NoSuchItem,
    /// Opening, reading or writing the vault failed.
    #[error(transparent)]
    Vault(#[from] Error),
    /// Secure memory failed.
    #[error(transparent)]
    Secmem(#[from] keyward_secmem::Error),
}

fn is_ss(kind: Kind, host: &str) -> bool {
    kind == Kind::SecretService && host == COLLECTION
}

fn parse_meta(authtype: Option<&str>) -> Option<Meta> {
    serde_json::from_str(authtype?).ok()
}

impl Store {
    /// The vault named by `config` (and `KEYWARD_VAULT`).
    pub fn new(config: Config) -> Result<Store, StoreError> {
        let path = config.vault_path()?;
        Ok(Store { config, path })
    }

    /// The vault's path.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    fn helper_open(&self, no_prompt: bool) -> HelperOpen {
        HelperOpen {
            vault: Some(self.path.clone()),
            config: Some(self.config.clone()),
            no_prompt,
            cache_after_prompt: true,
        }
    }

    /// The open vault, or `Locked` when its key is not in the keyring or no
    /// vault exists yet. Never prompts.
    pub fn open(&self) -> Result<Vault, StoreError> {
        match keyward_unlock::open_for_helper(self.helper_open(true)) {
            Ok(v) => Ok(v),
            Err(Error::Locked { .. } | Error::NotFound { .. }) => Err(StoreError::Locked),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the vault is unlocked now.
    pub fn is_unlocked(&self) -> bool {
        let Ok(id) = keyward_vault::read_vault_id(&self.path) else {
            return false;
        };
        matches!(keyward_vault::keyring::load(&id), Ok(Some(_)))
    }

    /// `keyward unlock`'s prompt on the controlling terminal (when there is
    /// one), caching the key in the keyring: whether the vault is unlocked.
    pub fn unlock_interactively(&self) -> bool {
        keyward_unlock::open_for_helper(self.helper_open(false)).is_ok()
    }

    /// Forgets the vault key (`keyward lock`): every helper is locked out.
    pub fn lock(&self) -> Result<(), StoreError> {
        match keyward_vault::read_vault_id(&self.path) {
            Ok(id) => {
                keyward_vault::keyring::revoke(&id)?;
                Ok(())
            }
            Err(Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every item of the collection, in storing order.
    pub fn items(vault: &Vault) -> Vec<Item> {
        vault
            .entry_refs()
            .filter(|e| is_ss(e.kind, e.host))
            .filter_map(|e| {
                Some(Item {
                    id: e.username.to_string(),
                    meta: parse_meta(e.authtype)?,
                    created: e.created,
                    modified: e.updated,
                })
            })
            .collect()
    }

    /// Items whose attributes include every pair of `query`.
    pub fn search(vault: &Vault, query: &BTreeMap<String, String>) -> Vec<Item> {
        Self::items(vault)
            .into_iter()
            .filter(|i| {
                query
                    .iter()
                    .all(|(k, v)| i.meta.attributes.get(k) == Some(v))
            })
            .collect()
    }

    fn index_of(vault: &Vault, id: &str) -> Option<usize> {
        vault
            .entry_refs()
            .position(|e| is_ss(e.kind, e.host) && e.username == id)
    }

    /// One item's metadata.
    pub fn item(vault: &Vault, id: &str) -> Result<Item, StoreError> {
        Self::items(vault)
            .into_iter()
            .find(|i| i.id == id)
            .ok_or(StoreError::NoSuchItem)
    }

    /// One item's secret, in locked memory, with its content type.
    pub fn secret(vault: &Vault, id: &str) -> Result<(SecretBytes, String), StoreError> {
        let i = Self::index_of(vault, id).ok_or(StoreError::NoSuchItem)?;
        let meta = vault
            .entry_ref(i)
            .and_then(|e| parse_meta(e.authtype))
            .unwrap_or_default();
        Ok((vault.reveal(i)?.password, meta.content_type))
    }

    /// Stores a new item, or with `replace` overwrites the item with exactly
    /// the same attributes (as gnome-keyring does). Returns its id.
    pub fn create(
        vault: &mut Vault,
        meta: Meta,
        secret: SecretBytes,
        replace: bool,
    ) -> Result<String, StoreError> {
        let existing = if replace {
            Self::items(vault)
                .into_iter()
                .rev()
                .find(|i| i.meta.attributes == meta.attributes)
                .map(|i| i.id)
        } else {
            None
        };
        let id = match existing {
            Some(id) => id,
            None => new_id()?,
        };
        vault.update(|txn| txn.upsert(entry(&id, &meta, secret)?))?;
        Ok(id)
    }

    /// Changes an item's secret, label or attributes (`None` keeps them).
    pub fn modify(
        vault: &mut Vault,
        id: &str,
        secret: Option<(SecretBytes, String)>,
        label: Option<String>,
        attributes: Option<BTreeMap<String, String>>,
    ) -> Result<(), StoreError> {
        vault.update(|txn| {
            let Some(i) = txn
                .entries()
                .iter()
                .position(|e| is_ss(e.kind, &e.host) && e.username == id)
            else {
                return Ok(Err(StoreError::NoSuchItem));
            };
            let mut meta = parse_meta(txn.entries()[i].authtype.as_deref()).unwrap_or_default();
            let secret = match secret {
                Some((s, content_type)) => {
                    meta.content_type = content_type;
                    s
                }
                None => txn.reveal(i)?.password,
            };
            if let Some(l) = label {
                meta.label = l;
            }
            if let Some(a) = attributes {
                meta.attributes = a;
            }
            txn.upsert(entry(id, &meta, secret)?)?;
            Ok(Ok(()))
        })?
    }

    /// Deletes one item.
    pub fn delete(vault: &mut Vault, id: &str) -> Result<(), StoreError> {
        let removed = vault
            .update(|txn| Ok(txn.retain(|e| !(is_ss(e.kind, &e.host) && e.username == id))))?;
        if removed == 0 {
            return Err(StoreError::NoSuchItem);
        }
        Ok(())
    }

    /// Deletes every item of the collection.
    pub fn clear(vault: &mut Vault) -> Result<usize, StoreError> {
        Ok(vault.update(|txn| Ok(txn.retain(|e| !is_ss(e.kind, &e.host))))?)
    }
}

fn entry(id: &str, meta: &Meta, secret: SecretBytes) -> Result<NewEntry, Error> {
    let json = serde_json::to_string(meta)
        .map_err(|e| Error::Invalid(format!("cannot encode the item's attributes: {e}")))?;
    let mut n = NewEntry::new(Kind::SecretService, "", COLLECTION, "", id, secret);
    n.authtype = Some(json);
    Ok(n)
}

/// A random item id: 16 hex digits (a valid object path element).
fn new_id() -> Result<String, StoreError> {
    let mut r = [0u8; 8];
    getrandom::getrandom(&mut r)
        .map_err(|e| Error::Invalid(format!("no randomness for an item id: {e}")))?;
    Ok(r.iter().map(|b| format!("{b:02x}")).collect())
}
