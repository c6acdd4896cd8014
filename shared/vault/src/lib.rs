//! keyward-vault: the encrypted credential vault (see FORMAT.md), its KDF,
//! configuration and the kernel-keyring unlock cache.
//!
//! - [`Vault`]: create/open (password or cached key; [`SealedVault`] reads
//!   the file once for both the id and the opening), read metadata
//!   ([`Vault::entries`]; without allocating per record [`Vault::entry_refs`],
//!   or [`Vault::entry_keys`], the byte view lookups should scan), decrypt one
//!   record's secrets
//!   ([`Vault::reveal`]), change records under a file lock ([`Vault::update`]).
//! - [`keyring`]: the unlock cache.
//! - [`login`]: what the PAM module's login unlock runs as root and as the user.
//! - [`open_for_helper`]: what the credential helpers and PAM module call.
//! - [`passdb`]: the PAM password database (`/etc/keyward/shadow`).
//! - [`Config`]: `/etc/keyward/keyward.toml` and the user's `config.toml`.
//!
//! Every error is one [`Error`] whose message is one line naming the path (or
//! configuration key) and the fix; no message ever holds a secret.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod config;
mod config_audit;
mod error;
mod format;
pub mod fs;
mod helper;
pub mod keyring;
pub mod login;
mod named;
pub mod passdb;
mod subkey;
mod vault;

pub use config::{
    default_vault_path, format_duration, parse_duration, user_config_path, Config, KdfParams,
    SYSTEM_CONFIG,
};
pub use config_audit::AuditSettings;
pub use error::{Error, Result};
pub use format::{VaultId, VaultKey};
pub use helper::{open_for_helper, open_for_helper_if_exists, HelperOpen};
pub use named::{check_name, MAX_NAME_LEN};
pub use subkey::SubKey;
/// Entry points for the fuzz targets in `fuzz/` only (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use vault::fuzzing;
pub use vault::{
    read_vault_id, Entry, EntryKey, EntryRef, Kind, NewEntry, SealedVault, Secrets, Txn, Vault,
    MAX_FIELD_LEN,
};
