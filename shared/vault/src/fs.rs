//! The vault's files through the trusted-filesystem layer ([`keyward_trustfs`]):
//! owned by the filesystem uid in effect, directory 0700, file 0600, no
//! symlinks; the writers' lock is `VAULT.lock` beside the vault.

use crate::error::Result;
use keyward_trustfs::{dir_of, LockMode, Locked, Trust};
use std::path::Path;

/// The vault's trust policy.
fn trust() -> Trust {
    Trust::private().symlink_fix(
        "replace it with the real file or directory, or point --vault/KEYWARD_VAULT at the target",
    )
}

/// Whether a vault file exists (a dangling or live symlink counts and is refused later).
pub(crate) fn exists(path: &Path) -> Result<bool> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(crate::error::io(path)(e)),
    }
}

/// Creates the vault's directory (0700) if needed, then checks it.
pub(crate) fn ensure_dir(path: &Path) -> Result<()> {
    Ok(trust().ensure_dir(&dir_of(path))?)
}

/// Reads the whole vault file after checking the directory and the file.
pub(crate) fn read_vault(path: &Path) -> Result<Vec<u8>> {
    read_vault_upto(path, u64::MAX)
}

/// Like [`read_vault`], but at most `limit` bytes (the header alone, for the id).
pub(crate) fn read_vault_upto(path: &Path, limit: u64) -> Result<Vec<u8>> {
    Ok(trust().read(path, limit)?)
}

/// Takes the writers' lock (`flock(LOCK_EX)` on `VAULT.lock`), waiting up to
/// [`keyward_trustfs::LOCK_WAIT`]; released when dropped.
pub(crate) fn lock(path: &Path) -> Result<Locked> {
    Ok(trust().lock(path, LockMode::Exclusive)?)
}

/// Replaces the vault atomically (call with the lock held).
pub(crate) fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    Ok(trust().write_atomic(path, data)?)
}
