//! keyward-vault: the encrypted credential vault (see FORMAT.md), its KDF,
//! configuration and the kernel-keyring unlock cache.
//!
//! - [`Vault`]: create/open (password or cached key; [`SealedVault`] reads
//!   the file once for both the id and the opening), read metadata
//!   ([`Vault::entries`]; without allocating per record [`Vault::entry_refs`],
//!   or [`Vault::entry_keys`], the byte view lookups should scan), decrypt one
//!   record's secrets
//!   ([`Vault::reveal`]), change records under a file lock ([`Vault::update`]).
//! - [`kdf`]: scrypt parameters and the one call to scrypt.
//! - [`keyring`]: the unlock cache; [`watermark`]: the highest generation
//!   seen of each vault (rollback detection); [`recover`]: the previous
//!   generation kept beside the vault, and restoring it.
//! - [`login`]: what the PAM module's login unlock runs as root and as the user.
//! - [`Config`]: `/etc/keyward/keyward.toml` and the user's `config.toml`.
//!
//! The unlock policy the CLI and the helpers share (keyring, else a terminal
//! prompt) is `keyward-unlock`; the PAM password database is `keyward-passdb`;
//! file trust checks, locks and atomic writes are `keyward-trustfs`.
//!
//! Every vault, file, key-derivation, keyring and configuration operation
//! fails with the one [`Error`], whose message is one line naming the path (or
//! configuration key) and the fix; no message ever holds a secret. The small
//! parsers ([`parse_duration`], [`KdfParams::check`]) return a reason the
//! caller words into its own error.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod config;
mod config_audit;
mod error;
mod format;
pub mod fs;
pub mod host;
pub mod kdf;
pub mod keyring;
pub mod login;
mod named;
pub mod recovery_key;
pub mod slot;
mod subkey;
mod vault;
pub mod watermark;

pub use config::{
    default_vault_path, format_duration, parse_duration, user_config_path, Config, SYSTEM_CONFIG,
};
pub use config_audit::AuditSettings;
pub use error::{Error, Result};
pub use format::VERSION as FORMAT_VERSION;
pub use format::{VaultId, VaultKey};
pub use kdf::KdfParams;
pub use named::{check_name, MAX_NAME_LEN};
pub use slot::{SlotInfo, SlotKind};
pub use subkey::SubKey;
/// Entry points for the fuzz targets in `fuzz/` only (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use vault::fuzzing;
pub use vault::recover;
pub use vault::{
    read_vault_id, Entry, EntryKey, EntryRef, Kind, NewEntry, PutCounts, Sealed, SealedVault,
    Secrets, Txn, Vault, MAX_FIELD_LEN,
};
