//! The vault's files through the trusted-filesystem layer ([`keyward_trustfs`]):
//! owned by the filesystem uid in effect, directory 0700, file 0600, no
//! symlinks; the writers' lock is `VAULT.lock` beside the vault.

use crate::error::Result;
use keyward_secmem::BulkBuf;
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

/// Reads the whole vault file after checking the directory and the file,
/// into a [`BulkBuf`] (huge pages for a large vault: a fresh 4 KiB page per
/// fault cost more than authenticating and decrypting the file).
pub(crate) fn read_vault(path: &Path) -> Result<BulkBuf> {
    use std::io::Read;
    let (mut f, meta) = trust().open_read(path)?;
    let err = |e: std::io::Error| crate::error::io(path)(e);
    // One byte more than the file's length, to see whether it grew since.
    let cap = usize::try_from(meta.len())
        .ok()
        .and_then(|n| n.checked_add(1))
        .ok_or_else(|| err(std::io::ErrorKind::OutOfMemory.into()))?;
    let mut buf = BulkBuf::zeroed(cap).map_err(&err)?;
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(err(e)),
        }
    }
    if n == buf.len() {
        // It grew while being read: the rest goes the ordinary way.
        let mut all = buf.to_vec();
        f.read_to_end(&mut all).map_err(&err)?;
        return Ok(BulkBuf::from(all));
    }
    buf.truncate(n);
    Ok(buf)
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

/// `VAULT.prev`: the previous generation of the vault, kept beside it by
/// every update (`write_atomic_keeping_previous`); `keyward recover`
/// restores it.
pub fn previous_path(path: &Path) -> std::path::PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".prev");
    std::path::PathBuf::from(p)
}

/// `VAULT.damaged`: where `keyward recover` keeps the file it replaced.
pub fn damaged_path(path: &Path) -> std::path::PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".damaged");
    std::path::PathBuf::from(p)
}

/// Replaces the vault atomically and keeps the file it replaces as
/// [`previous_path`] (a hard link: same owner and mode; call with the lock held).
pub(crate) fn write_atomic_keeping_previous(path: &Path, data: &[u8]) -> Result<()> {
    Ok(trust().write_atomic_keeping(path, data, &previous_path(path))?)
}

/// Keeps the file now at `path` as `copy` (a hard link through a temp name,
/// renamed over `copy`), before `path` is replaced.
pub(crate) fn link_aside(path: &Path, copy: &Path) -> Result<()> {
    let mut tmp = copy.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    std::fs::hard_link(path, &tmp).map_err(crate::error::io(copy))?;
    std::fs::rename(&tmp, copy).map_err(crate::error::io(copy))?;
    let _ = std::fs::remove_file(&tmp);
    Ok(())
}
