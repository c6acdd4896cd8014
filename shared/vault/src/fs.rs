//! File handling: permission and symlink checks, the writer lock, atomic replace.

use crate::error::{io, Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a writer waits for another writer's lock before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(30);

fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn perm_err(path: &Path, why: String) -> Error {
    Error::Permissions {
        path: path.to_path_buf(),
        why,
    }
}

/// The filesystem uid in effect: the euid, unless a root process switched it
/// with `setfsuid(2)` to act on a user's files (the PAM module does).
/// `setfsuid(-1)` changes nothing and returns the current value.
pub fn fs_uid() -> u32 {
    nix::unistd::setfsuid(nix::unistd::Uid::from_raw(u32::MAX)).as_raw()
}

/// Checks ownership and mode of an already-stat'ed file or directory: owned
/// by the filesystem uid in effect, no group/world bits, not a symlink.
pub(crate) fn check_meta(path: &Path, meta: &std::fs::Metadata, is_dir: bool) -> Result<()> {
    let me = fs_uid();
    if meta.file_type().is_symlink() {
        return Err(perm_err(
            path,
            "it is a symlink; keyward does not follow symlinks: replace it with the real file or directory, or point --vault/KEYWARD_VAULT at the target".into(),
        ));
    }
    if is_dir && !meta.is_dir() {
        return Err(perm_err(path, "it is not a directory".into()));
    }
    if !is_dir && !meta.is_file() {
        return Err(perm_err(path, "it is not a regular file".into()));
    }
    if meta.uid() != me {
        return Err(perm_err(
            path,
            format!(
                "it is owned by uid {}, not by you (uid {me}): fix with `chown {me} {}`",
                meta.uid(),
                path.display()
            ),
        ));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        let want = if is_dir { "700" } else { "600" };
        return Err(perm_err(
            path,
            format!(
                "it is group/world accessible (mode {mode:04o}): fix with `chmod {want} {}`",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Checks the vault's directory (lstat: a symlinked directory is refused).
pub fn check_dir(path: &Path) -> Result<()> {
    let dir = dir_of(path);
    let meta = std::fs::symlink_metadata(&dir).map_err(io(&dir))?;
    check_meta(&dir, &meta, true)
}

/// Whether a vault file exists (a dangling or live symlink counts and is refused later).
pub(crate) fn exists(path: &Path) -> Result<bool> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io(path)(e)),
    }
}

/// Creates the vault directory (0700) if needed, then checks it.
pub(crate) fn ensure_dir(path: &Path) -> Result<()> {
    let dir = dir_of(path);
    if std::fs::symlink_metadata(&dir).is_err() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(io(&dir))?;
    }
    check_dir(path)
}

/// Opens a file refusing symlinks, checks owner and mode on the open descriptor.
fn open_checked(path: &Path) -> Result<File> {
    // O_NONBLOCK: a FIFO (or device) put where the vault belongs would block
    // open(2) until a writer came, hanging git and a login; with it the open
    // returns and `check_meta` refuses what is not a regular file. Reads of a
    // regular file ignore the flag.
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ENOENT) => Error::NotFound {
                path: path.to_path_buf(),
            },
            Some(libc::ELOOP) => perm_err(
                path,
                "it is a symlink; keyward does not follow symlinks: replace it with the real file, or point --vault/KEYWARD_VAULT at the target".into(),
            ),
            _ => io(path)(e),
        })?;
    let meta = f.metadata().map_err(io(path))?;
    check_meta(path, &meta, false)?;
    Ok(f)
}

/// Reads the whole vault file after checking the directory and the file.
pub fn read_vault(path: &Path) -> Result<Vec<u8>> {
    read_vault_upto(path, usize::MAX)
}

/// Like [`read_vault`], but at most `limit` bytes (the header alone, for the id).
pub fn read_vault_upto(path: &Path, limit: usize) -> Result<Vec<u8>> {
    match check_dir(path) {
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::NotFound {
                path: path.to_path_buf(),
            })
        }
        r => r?,
    }
    let f = open_checked(path)?;
    let len = f.metadata().map(|m| m.len() as usize).unwrap_or(0);
    let mut data = Vec::with_capacity(len.min(limit).saturating_add(1));
    f.take(limit as u64)
        .read_to_end(&mut data)
        .map_err(io(path))?;
    Ok(data)
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    dir_of(path).join(name)
}

/// The writers' lock: `flock(LOCK_EX)` on `VAULT.lock` in the vault's directory,
/// released when dropped.
#[derive(Debug)]
pub struct WriteLock {
    _lock: nix::fcntl::Flock<File>,
}

/// Takes the writers' lock, waiting up to [`LOCK_WAIT`].
pub(crate) fn lock(path: &Path) -> Result<WriteLock> {
    check_dir(path)?;
    let lp = lock_path(path);
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&lp)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => perm_err(&lp, "it is a symlink: remove it".into()),
            _ => io(&lp)(e),
        })?;
    check_meta(&lp, &f.metadata().map_err(io(&lp))?, false)?;
    let start = Instant::now();
    let mut f = f;
    let mut pause = Duration::from_millis(1);
    loop {
        match nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusiveNonblock) {
            Ok(l) => return Ok(WriteLock { _lock: l }),
            Err((back, nix::errno::Errno::EWOULDBLOCK)) | Err((back, nix::errno::Errno::EINTR)) => {
                if start.elapsed() > LOCK_WAIT {
                    return Err(Error::Invalid(format!(
                        "vault is busy: another process has held {} for {}s; try again (or find it with `fuser {}`)",
                        lp.display(),
                        LOCK_WAIT.as_secs(),
                        lp.display()
                    )));
                }
                f = back;
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err((_, e)) => return Err(io(&lp)(e.into())),
        }
    }
}

/// Removes temp files left by writers that died (call with the lock held).
fn remove_stale_temps(path: &Path) {
    let dir = dir_of(path);
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(path.file_name().unwrap_or_default());
    prefix.push(".tmp.");
    let prefix = prefix.to_string_lossy().into_owned();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Replaces `path` with `data`: temp file in the same directory (0600,
/// O_EXCL), write, fsync, rename, fsync the directory. Call with the lock held.
/// On error the temp file is removed and `path` is untouched.
pub(crate) fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    remove_stale_temps(path);
    let dir = dir_of(path);
    let rand: [u8; 6] = crate::format::random_array()?;
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(
        ".tmp.{}.{}",
        std::process::id(),
        rand.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ));
    let tmp = dir.join(name);
    let result = (|| -> Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)
            .map_err(|source| Error::WriteFailed {
                path: path.to_path_buf(),
                source,
            })?;
        let failed = |source| Error::WriteFailed {
            path: path.to_path_buf(),
            source,
        };
        f.write_all(data).map_err(failed)?;
        f.sync_all().map_err(failed)?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(failed)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    let d = File::open(&dir).map_err(io(&dir))?;
    d.sync_all().map_err(io(&dir))?;
    Ok(())
}

/// Opens (creating it 0600 if `create`) a file keyward keeps beside the vault
/// (the audit log), read-write, appending if `append`: no symlink, owned by
/// you, no group/world bits, checked on the open descriptor.
pub fn open_private(path: &Path, create: bool, append: bool) -> Result<File> {
    let f = OpenOptions::new()
        .read(true)
        .write(!append)
        .append(append)
        .create(create)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ENOENT) => Error::NotFound {
                path: path.to_path_buf(),
            },
            Some(libc::ELOOP) => perm_err(path, "it is a symlink: remove it".into()),
            _ => io(path)(e),
        })?;
    check_meta(path, &f.metadata().map_err(io(path))?, false)?;
    Ok(f)
}
