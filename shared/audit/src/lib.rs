//! keyward-audit: the audit trail of every use of a vault record.
//!
//! The CLI and both credential helpers call [`record`] (with the open vault)
//! or [`record_at`] (with only the vault's path: `keyward lock`, a failed
//! unlock) once per event; [`note_failure`] turns a wrong-password error into
//! an `unlock-failed` entry. A failure to write the trail never fails the
//! operation: it prints one warning line on stderr.
//!
//! Files, beside the vault and checked like it (owner, mode 0600, no symlink):
//! - `VAULT.audit`: one entry per line, `JSON ‖ TAB ‖ MAC ‖ LF`, appended with
//!   one `write(2)` on an `O_APPEND` descriptor. The JSON ([`Body`]) holds
//!   seq, time, action, kind, the record's host or name **encrypted**
//!   (AES-256-GCM under a key derived from the vault key), who asked
//!   ([`Client`]) and `prev`, the link of the entry before. MAC =
//!   `HMAC-SHA-256(mac key, "keyward-audit-entry-v1\0" ‖ JSON)`, hex; an
//!   entry's link is its MAC. Everything but the name is readable without the
//!   vault key.
//! - `VAULT.audit.N`: rotated files (`audit_max_size`, `audit_keep`); seq and
//!   the chain go on across files.
//! - `VAULT.audit.head`: `keyward-audit-head-v1 SEQ LINK SEALED_SEQ
//!   SEALED_LINK HEAD_MAC`, rewritten after every append, under `flock` on
//!   this file (which also orders the appenders). HEAD_MAC =
//!   `HMAC(mac key, "keyward-audit-head-v1\0" ‖ SEALED_SEQ (u64 LE) ‖
//!   SEALED_LINK)`. Appenders chain to the head, not to the log's last line,
//!   so a truncated log stays visibly broken.
//!
//! Keys: `mac key = HMAC-SHA-256(vault key, "keyward-audit-mac-v1")`,
//! `name key = HMAC-SHA-256(vault key, "keyward-audit-name-v1")`
//! ([`keyward_vault::SubKey`]), in locked memory.
//!
//! Entries written without the vault key (a failed unlock, `keyward lock`
//! of a locked vault) carry `-` for a MAC and no name; their link is
//! `SHA-256("keyward-audit-unsealed-v1\0" ‖ JSON)`. The next entry written
//! with the key chains to that link, so its MAC **seals** them: deleting or
//! editing them afterwards breaks the chain. Until then they are an unsealed
//! tail that anyone who can write the file could forge or drop
//! ([`Verified::unsealed_tail`]).
//!
//! A new vault key (`keyward passwd`, `keyward rekey`) means new audit keys:
//! the CLI then writes a `rekey` entry, the first sealed with the new key,
//! chained to the last entry sealed with the old one. `verify` checks MACs
//! from the last `rekey` entry on, and the entries before it by structure
//! only (seq, `prev` links, the head): deleting or truncating them is still
//! seen, editing their bodies is not.
//!
//! What the trail cannot show: a rollback of both the log and the head to
//! an older genuine copy, entries lost in a crash before the page cache
//! reached the disk (the log is not fsynced: one `fsync` would cost more
//! than the whole `get`), and uses by a process that has the vault key but
//! not keyward's code.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod chain;
mod client;
pub mod syslog;

pub use chain::{read_entries, verify, Body, LogEntry, Paths, Verified, GENESIS};
pub use client::Client;

use keyward_vault::{AuditSettings, Config, Kind, SubKey, Vault, VaultId, VaultKey};
use std::path::Path;

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// A secret was read out (`get`).
    Get,
    /// A record was stored or replaced.
    Store,
    /// A record (or a named secret's previous value) was removed.
    Erase,
    /// A secret was generated (`keyward generate`).
    Generate,
    /// Records were imported.
    Import,
    /// Records were exported.
    Export,
    /// The vault was unlocked with its password.
    Unlock,
    /// The cached key was removed (`keyward lock`).
    Lock,
    /// A vault password was wrong.
    UnlockFailed,
    /// The vault key changed (`keyward passwd`, `keyward rekey`): this entry
    /// is the first sealed with the new key.
    Rekey,
}

impl Action {
    /// The name written to the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Get => "get",
            Action::Store => "store",
            Action::Erase => "erase",
            Action::Generate => "generate",
            Action::Import => "import",
            Action::Export => "export",
            Action::Unlock => "unlock",
            Action::Lock => "lock",
            Action::UnlockFailed => "unlock-failed",
            Action::Rekey => "rekey",
        }
    }
}

/// The record an event is about: its kind and its host or name (never a secret).
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    kind: Option<Kind>,
    name: &'a str,
}

impl<'a> Target<'a> {
    /// A record of `kind` with host or name `name`.
    pub fn new(kind: Kind, name: &'a str) -> Self {
        Target {
            kind: Some(kind),
            name,
        }
    }

    /// Records of any kind with this host or name (`keyward rm HOST`).
    pub fn any(name: &'a str) -> Self {
        Target { kind: None, name }
    }
}

/// The audit keys of one vault.
pub struct Keys {
    mac: SubKey,
    name: SubKey,
    id: VaultId,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys([REDACTED])")
    }
}

impl Keys {
    /// Derives the audit keys from a vault key.
    pub fn new(key: &VaultKey, id: VaultId) -> keyward_vault::Result<Keys> {
        let [mac, name] = key.derive_many(["keyward-audit-mac-v1", "keyward-audit-name-v1"])?;
        Ok(Keys { mac, name, id })
    }

    /// The audit keys of an open vault.
    pub fn of(vault: &Vault) -> keyward_vault::Result<Keys> {
        Keys::new(vault.key(), vault.id())
    }

    /// The audit keys from the kernel keyring's cached vault key, if any.
    pub fn cached(vault_path: &Path) -> Option<Keys> {
        let id = keyward_vault::read_vault_id(vault_path).ok()?;
        let key = keyward_vault::keyring::load(&id).ok()??;
        Keys::new(&key, id).ok()
    }

    fn name_aad(&self) -> Vec<u8> {
        let mut aad = chain::NAME_LABEL.to_vec();
        aad.extend_from_slice(&self.id.0);
        aad
    }
}

/// This process's audit settings, set once: by [`use_config`] from the
/// configuration the program already loaded, else read on first use.
static SETTINGS: std::sync::OnceLock<AuditSettings> = std::sync::OnceLock::new();

/// Takes the audit settings from the configuration this program has loaded,
/// so that recording an entry does not read the configuration files again.
/// Call it before the first [`record`]; later calls change nothing.
pub fn use_config(config: &Config) {
    let _ = SETTINGS.set(config.audit);
}

/// The configured settings (read once per process).
fn settings() -> AuditSettings {
    *SETTINGS.get_or_init(|| Config::load().map(|c| c.audit).unwrap_or_default())
}

/// Appends one entry to the trail of the vault at `vault_path` with these
/// settings (whether or not they enable the trail), sealed with `keys` if
/// given. What [`record`] and [`record_at`] run; tests call it directly.
pub fn append(
    vault_path: &Path,
    settings: &AuditSettings,
    keys: Option<&Keys>,
    action: Action,
    target: Option<Target<'_>>,
) -> keyward_vault::Result<Body> {
    let entry = chain::NewEntry {
        action: action.as_str(),
        kind: target.map(|t| t.kind.map_or("*", Kind::as_str)),
        name: target.map(|t| t.name),
        client: Client::current(),
    };
    chain::append(&Paths::for_vault(vault_path), settings, keys, entry)
}

fn write(vault_path: &Path, keys: Option<&Keys>, action: Action, target: Option<Target<'_>>) {
    let s = settings();
    if !s.enabled {
        return;
    }
    match append(vault_path, &s, keys, action, target) {
        Ok(body) => {
            if s.syslog {
                let _ = syslog::send(Path::new(syslog::DEV_LOG), &body);
            }
        }
        Err(e) => eprintln!("keyward: warning: audit log not written: {e}"),
    }
}

/// Records `action` on `target` in `vault`'s audit trail, sealed with its key.
pub fn record(vault: &Vault, action: Action, target: Option<Target<'_>>) {
    if !settings().enabled {
        return;
    }
    let keys = Keys::of(vault);
    if let Err(e) = &keys {
        eprintln!("keyward: warning: audit log not written: {e}");
        return;
    }
    write(vault.path(), keys.ok().as_ref(), action, target);
}

/// Records `action` for the vault at `vault_path` when it is not open:
/// sealed if its key is cached in the kernel keyring, else unsealed.
pub fn record_at(vault_path: &Path, action: Action) {
    if !settings().enabled || !vault_path.exists() {
        return;
    }
    write(vault_path, Keys::cached(vault_path).as_ref(), action, None);
}

/// Records a failed unlock when `err` is a wrong vault password.
pub fn note_failure(err: &keyward_vault::Error) {
    if let keyward_vault::Error::WrongPassword { path } = err {
        record_at(path, Action::UnlockFailed);
    }
}
