//! Rollback detection: the highest generation of each vault this user has
//! seen, remembered outside the vault file, so an older genuine copy put
//! back in its place is refused ([`crate::Error::Rollback`]) instead of
//! silently serving revoked tokens.
//!
//! Two places hold it, and the higher wins:
//! - the user's state directory: `$XDG_STATE_HOME/keyward/generations/<vault
//!   id hex>` (else `~/.local/state/keyward/...`), a decimal number, mode
//!   0600 in a 0700 directory, written atomically under its own lock;
//! - while the vault is unlocked, its entry in the kernel user keyring
//!   (after the cached key and its expiry: [`crate::keyring`]), which a
//!   process of the user can only change through keyctl, not by copying
//!   files.
//!
//! Both are the user's to write, as the vault is: they stop a copy put back
//! by a backup tool, a sync client or a careless `cp`, and an attacker who
//! can write only the vault file; not one who rewrites all three.
//! `keyward recover --accept-older` lowers both to the vault's generation.

use crate::error::Result;
use crate::format::VaultId;
use keyward_trustfs::{LockMode, Trust};
use std::path::{Path, PathBuf};

/// The directory of the generation files: `$XDG_STATE_HOME/keyward/generations`
/// (an absolute `XDG_STATE_HOME` only), else `~/.local/state/keyward/generations`.
pub fn state_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".local/state"))
        })?;
    Some(base.join("keyward/generations"))
}

fn file_of(dir: &Path, id: &VaultId) -> PathBuf {
    dir.join(id.to_hex())
}

fn read_file(dir: &Path, id: &VaultId) -> Option<u64> {
    let data = Trust::private().read(&file_of(dir, id), 64).ok()?;
    std::str::from_utf8(&data).ok()?.trim().parse().ok()
}

fn write_file(dir: &Path, id: &VaultId, generation: u64, only_up: bool) -> Result<()> {
    let t = Trust::private();
    t.ensure_dir(dir)?;
    let path = file_of(dir, id);
    let _lock = t.lock(&path, LockMode::Exclusive)?;
    if only_up && read_file(dir, id).is_some_and(|g| g >= generation) {
        return Ok(());
    }
    t.write_atomic(&path, format!("{generation}\n").as_bytes())?;
    Ok(())
}

fn read_keyring(id: &VaultId) -> Option<u64> {
    crate::keyring::generation(id)
}

fn write_keyring(id: &VaultId, generation: u64) {
    let _ = crate::keyring::set_generation(id, generation);
}

/// What is remembered for one vault: the state file's and the keyring's numbers.
#[derive(Debug, Clone, Copy)]
struct Seen {
    file: Option<u64>,
    keyring: Option<u64>,
}

impl Seen {
    fn read(id: &VaultId) -> Seen {
        Seen {
            file: state_dir().and_then(|d| read_file(&d, id)),
            keyring: read_keyring(id),
        }
    }

    fn highest(&self) -> Option<u64> {
        match (self.file, self.keyring) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Raises whichever is lower than `generation`.
    fn raise(&self, id: &VaultId, generation: u64) {
        if self.keyring.is_none_or(|g| g < generation) {
            write_keyring(id, generation);
        }
        if self.file.is_none_or(|g| g < generation) {
            if let Some(d) = state_dir() {
                let _ = write_file(&d, id, generation, true);
            }
        }
    }
}

/// The highest generation remembered for vault `id` (state file and keyring), if any.
pub fn highest_seen(id: &VaultId) -> Option<u64> {
    Seen::read(id).highest()
}

/// `Err(seen)` when a generation higher than `generation` is remembered for
/// vault `id`; otherwise remembers `generation` where it is higher (best
/// effort: a read-only state directory or a missing keyring weakens the
/// check, it does not stop the command).
pub fn check(id: &VaultId, generation: u64) -> std::result::Result<(), u64> {
    check_with(id, generation, read_keyring(id))
}

/// [`check`] with the keyring's number already read (with the cached key:
/// [`crate::keyring::load_with_generation`]).
pub fn check_with(
    id: &VaultId,
    generation: u64,
    keyring: Option<u64>,
) -> std::result::Result<(), u64> {
    let seen = Seen {
        file: state_dir().and_then(|d| read_file(&d, id)),
        keyring,
    };
    match seen.highest() {
        Some(s) if s > generation => Err(s),
        _ => {
            seen.raise(id, generation);
            Ok(())
        }
    }
}

/// Remembers `generation` for vault `id` where it is higher than what is
/// remembered (best effort, as [`check`]).
pub fn note(id: &VaultId, generation: u64) {
    Seen::read(id).raise(id, generation);
}

/// Sets what is remembered for vault `id` to `generation`, even if lower
/// (`keyward recover --accept-older`).
pub fn accept(id: &VaultId, generation: u64) -> Result<()> {
    write_keyring(id, generation);
    if let Some(d) = state_dir() {
        write_file(&d, id, generation, false)?;
    }
    Ok(())
}
