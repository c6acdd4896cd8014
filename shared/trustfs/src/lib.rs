//! keyward-trustfs: the one place keyward decides whether a file or directory
//! on disk may be trusted. It is the project's security boundary on disk:
//! the vault, the PAM password database, the PAM module's session counts and
//! lockout tally, and `keyward doctor`'s configuration check all go through it.
//!
//! A [`Trust`] policy names the allowed owners ([`Owners`]), the mode bits a
//! directory and a file must not have, and how a refusal is worded. Its
//! methods check a directory (creating it first if asked), open a file
//! (`O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC`, then owner, mode and type checked on
//! the open descriptor), take `flock` locks with a bounded wait, and replace a
//! file atomically (temp file, fsync, rename, fsync the directory).
//!
//! Every error is one [`Error`] whose message names the path and, for a
//! refusal, the command that fixes it. This crate never sees secret bytes.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fs::{File, Metadata, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a lock waits for another process before giving up with [`Error::Busy`].
pub const LOCK_WAIT: Duration = Duration::from_secs(30);

/// Everything that can go wrong with a trusted file or directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Nothing at this path.
    #[error("{}: no such file or directory", path.display())]
    NotFound {
        /// The path looked for.
        path: PathBuf,
    },
    /// Unsafe ownership, mode, type or a symlink: the file is not trusted.
    #[error("refusing {}{}: {why}", what.map(|w| format!("{w} ")).unwrap_or_default(), path.display())]
    Refused {
        /// What the file is for ("password database"), when the path alone does not say.
        what: Option<&'static str>,
        /// The offending path.
        path: PathBuf,
        /// What is wrong and how to fix it (`...: fix with `CMD``).
        why: String,
    },
    /// An operating-system error on a path.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Writing the replacement failed (disk full, quota, I/O error); the old
    /// file is untouched.
    #[error("cannot write {}: {source}; the file was left as it was (free some space or fix the cause, then retry)", path.display())]
    WriteFailed {
        /// The file being replaced.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The replacement is in place (renamed over the old file), but syncing
    /// its directory failed, so a crash before the kernel writes it back could
    /// still bring the old file back.
    #[error("saved {}, but not yet durable: syncing its directory failed ({source}); the change is in place and survives unless the machine crashes before the disk catches up (run `sync`, and check the disk)", path.display())]
    NotDurable {
        /// The file that was replaced.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Another process held the lock longer than [`LOCK_WAIT`].
    #[error("{} is busy: another process has held it for {}s; try again (or find it with `fuser {}`)", lock.display(), waited.as_secs(), lock.display())]
    Busy {
        /// The lock file.
        lock: PathBuf,
        /// How long this process waited.
        waited: Duration,
    },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Maps an operating-system error on `path` ([`Error::NotFound`] for `ENOENT`).
    pub fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
        io(path)
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            Error::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    }
}

/// The filesystem uid in effect: the euid, unless a root process switched it
/// with `setfsuid(2)` to act on a user's files (the PAM module does).
/// `setfsuid(-1)` changes nothing and returns the current value.
pub fn fs_uid() -> u32 {
    nix::unistd::setfsuid(nix::unistd::Uid::from_raw(u32::MAX)).as_raw()
}

/// The directory holding `path` (`.` for a bare file name).
pub fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `path` with `suffix` appended to its file name (`shadow` → `shadow.lock`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    dir_of(path).join(name)
}

/// Who may own a trusted file or directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owners {
    /// The filesystem uid in effect ([`fs_uid`]): a user's own files.
    Me,
    /// Any of these uids (system state: root, and for the CLI the caller).
    Uids(Vec<u32>),
}

/// Whether a path should be a directory or a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A directory.
    Dir,
    /// A regular file.
    File,
}

/// A lock's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Readers: many at once.
    Shared,
    /// Writers: one at a time, no readers.
    Exclusive,
}

/// A held `flock` lock on an open file, released when dropped. Derefs to the
/// file, so a locked data file can be read and rewritten in place.
#[derive(Debug)]
pub struct Locked {
    file: nix::fcntl::Flock<File>,
}

impl std::ops::Deref for Locked {
    type Target = File;
    fn deref(&self) -> &File {
        &self.file
    }
}

impl std::ops::DerefMut for Locked {
    fn deref_mut(&mut self) -> &mut File {
        &mut self.file
    }
}

/// A trust policy: who may own the files, which mode bits they must not have,
/// and how a refusal is worded.
#[derive(Debug, Clone)]
pub struct Trust {
    owners: Owners,
    dir_mask: u32,
    file_mask: u32,
    what: Option<&'static str>,
    symlink_fix: &'static str,
    max_len: u64,
    follow_dir_symlinks: bool,
}

impl Trust {
    /// A user's private files (the vault): owned by the filesystem uid in
    /// effect, no group or world bits on directories (0700) or files (0600).
    pub fn private() -> Trust {
        Trust {
            owners: Owners::Me,
            dir_mask: 0o077,
            file_mask: 0o077,
            what: None,
            symlink_fix: "replace it with the real file or directory",
            max_len: u64::MAX,
            follow_dir_symlinks: false,
        }
    }

    /// Root-only state (session counts, lockout tally): owned by one of
    /// `owners`, directories 0700 and files 0600.
    pub fn root_private(owners: &[u32]) -> Trust {
        Trust {
            owners: Owners::Uids(owners.to_vec()),
            ..Trust::private()
        }
    }

    /// System files others may read but not change (the password database's
    /// directory, configuration): owned by one of `owners`, no group or world
    /// write bit on directories; files keep `file_mask` (0o077 for secrets,
    /// 0o022 for configuration).
    pub fn system(owners: &[u32], file_mask: u32) -> Trust {
        Trust {
            owners: Owners::Uids(owners.to_vec()),
            dir_mask: 0o022,
            file_mask,
            ..Trust::private()
        }
    }

    /// Names what the files are for in refusals ("refusing tally directory /run/...").
    pub fn named(mut self, what: &'static str) -> Trust {
        self.what = Some(what);
        self
    }

    /// The fix a symlink refusal suggests (default: "replace it with the real
    /// file or directory").
    pub fn symlink_fix(mut self, fix: &'static str) -> Trust {
        self.symlink_fix = fix;
        self
    }

    /// Refuses files longer than `len` bytes (bounds memory in a PAM host).
    pub fn max_len(mut self, len: u64) -> Trust {
        self.max_len = len;
        self
    }

    /// Lets the *directory* be reached through a symlink (its target is checked).
    /// Files are never followed.
    pub fn follow_dir_symlinks(mut self) -> Trust {
        self.follow_dir_symlinks = true;
        self
    }

    fn refuse(&self, path: &Path, why: String) -> Error {
        Error::Refused {
            what: self.what,
            path: path.to_path_buf(),
            why,
        }
    }

    fn symlink_refusal(&self, path: &Path) -> Error {
        self.refuse(
            path,
            format!(
                "it is a symbolic link; keyward does not follow symlinks: {}",
                self.symlink_fix
            ),
        )
    }

    /// Checks already-fetched metadata (from `lstat` or the open descriptor):
    /// type, owner, mode and size.
    pub fn check_meta(&self, path: &Path, meta: &Metadata, kind: Kind) -> Result<()> {
        if meta.file_type().is_symlink() {
            return Err(self.symlink_refusal(path));
        }
        let (mask, want) = match kind {
            Kind::Dir if !meta.is_dir() => {
                return Err(self.refuse(path, "it is not a directory".into()))
            }
            Kind::File if !meta.is_file() => {
                return Err(self.refuse(path, "it is not a regular file".into()))
            }
            Kind::Dir => (self.dir_mask, 0o777 & !self.dir_mask),
            Kind::File => (self.file_mask, 0o666 & !self.file_mask),
        };
        let uid = meta.uid();
        match &self.owners {
            Owners::Me => {
                let me = fs_uid();
                if uid != me {
                    return Err(self.refuse(
                        path,
                        format!(
                            "it is owned by uid {uid}, not by you (uid {me}): fix with `chown {me} {}`",
                            path.display()
                        ),
                    ));
                }
            }
            Owners::Uids(ok) if !ok.contains(&uid) => {
                let (name, fix) = if ok.contains(&0) {
                    ("root".to_owned(), "root".to_owned())
                } else {
                    let first = ok.first().copied().unwrap_or(0);
                    (format!("uid {first}"), first.to_string())
                };
                return Err(self.refuse(
                    path,
                    format!(
                        "it is owned by uid {uid}, not by {name}: fix with `chown {fix} {}`",
                        path.display()
                    ),
                ));
            }
            Owners::Uids(_) => {}
        }
        let mode = meta.mode() & 0o7777;
        if mode & mask != 0 {
            let (open, fix) = if mask == 0o022 {
                ("group/world writable", "go-w".to_owned())
            } else {
                ("group/world accessible", format!("{want:o}"))
            };
            return Err(self.refuse(
                path,
                format!(
                    "it is {open} (mode {mode:04o}): fix with `chmod {fix} {}`",
                    path.display()
                ),
            ));
        }
        if kind == Kind::File && meta.len() > self.max_len {
            return Err(self.refuse(
                path,
                format!(
                    "it is larger than {} bytes: keyward refuses files this large; restore it from a backup",
                    self.max_len
                ),
            ));
        }
        Ok(())
    }

    /// Checks the directory `dir` (`lstat`: a symlinked directory is refused
    /// unless [`Trust::follow_dir_symlinks`]).
    pub fn check_dir(&self, dir: &Path) -> Result<()> {
        let meta = if self.follow_dir_symlinks {
            std::fs::metadata(dir)
        } else {
            std::fs::symlink_metadata(dir)
        }
        .map_err(io(dir))?;
        self.check_meta(dir, &meta, Kind::Dir)
    }

    /// Creates `dir` and its missing parents (mode 0700, or 0755 for
    /// [`Trust::system`]) if it does not exist, then checks it.
    pub fn ensure_dir(&self, dir: &Path) -> Result<()> {
        if std::fs::symlink_metadata(dir).is_err() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o777 & !self.dir_mask)
                .create(dir)
                .map_err(io(dir))?;
        }
        self.check_dir(dir)
    }

    /// Checks a path without opening it (`lstat`): for files keyward only
    /// reports on, such as configuration in `keyward doctor`.
    pub fn check_path(&self, path: &Path, kind: Kind) -> Result<()> {
        let meta = std::fs::symlink_metadata(path).map_err(io(path))?;
        self.check_meta(path, &meta, kind)
    }

    /// Opens `path` with `opts` (for example appending, for the audit log),
    /// refusing symlinks, and checks the open file.
    pub fn open_with(&self, path: &Path, opts: &mut OpenOptions) -> Result<File> {
        self.open_with_meta(path, opts).map(|(f, _)| f)
    }

    /// [`Trust::open_with`], also giving the metadata the check read (its
    /// length, say, without another `fstat` or `lseek`).
    pub fn open_with_meta(
        &self,
        path: &Path,
        opts: &mut OpenOptions,
    ) -> Result<(File, std::fs::Metadata)> {
        // O_NONBLOCK: a FIFO (or device) put where a trusted file belongs would
        // block open(2) until a writer came, hanging git or a login; with it the
        // open returns and the check refuses what is not a regular file. Reads
        // and writes of a regular file ignore the flag.
        let f = opts
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => self.symlink_refusal(path),
                _ => io(path)(e),
            })?;
        let meta = f.metadata().map_err(io(path))?;
        self.check_meta(path, &meta, Kind::File)?;
        Ok((f, meta))
    }

    /// Opens `path` read-only, refusing symlinks, and checks the open file.
    pub fn open(&self, path: &Path) -> Result<File> {
        self.open_with(path, OpenOptions::new().read(true))
    }

    /// Opens `path` for reading and writing, creating it (mode 0600) if
    /// missing, and checks the open file.
    pub fn open_or_create(&self, path: &Path) -> Result<File> {
        self.open_with(
            path,
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600),
        )
    }

    /// Checks `path`'s directory, then opens `path` read-only and checks it:
    /// the file and the metadata the check read (its length), for a caller
    /// that reads it into a buffer of its own.
    pub fn open_read(&self, path: &Path) -> Result<(File, Metadata)> {
        match self.check_dir(&dir_of(path)) {
            // A missing directory means a missing file.
            Err(Error::NotFound { .. }) => {
                return Err(Error::NotFound {
                    path: path.to_path_buf(),
                })
            }
            r => r?,
        }
        self.open_with_meta(path, OpenOptions::new().read(true))
    }

    /// Checks `path`'s directory, then reads at most `limit` bytes of `path`.
    pub fn read(&self, path: &Path, limit: u64) -> Result<Vec<u8>> {
        let (f, meta) = self.open_read(path)?;
        let len = meta.len();
        let cap = usize::try_from(len.min(limit)).unwrap_or(0);
        let mut data = Vec::with_capacity(cap.saturating_add(1));
        f.take(limit).read_to_end(&mut data).map_err(io(path))?;
        Ok(data)
    }

    /// Locks an open file, waiting up to [`LOCK_WAIT`] for other holders.
    pub fn lock_file(&self, file: File, path: &Path, mode: LockMode) -> Result<Locked> {
        use nix::fcntl::{Flock, FlockArg};
        let arg = match mode {
            LockMode::Shared => FlockArg::LockSharedNonblock,
            LockMode::Exclusive => FlockArg::LockExclusiveNonblock,
        };
        let start = Instant::now();
        let mut f = file;
        let mut pause = Duration::from_millis(1);
        loop {
            match Flock::lock(f, arg) {
                Ok(file) => return Ok(Locked { file }),
                Err((back, nix::errno::Errno::EWOULDBLOCK | nix::errno::Errno::EINTR)) => {
                    if start.elapsed() > LOCK_WAIT {
                        return Err(Error::Busy {
                            lock: path.to_path_buf(),
                            waited: LOCK_WAIT,
                        });
                    }
                    f = back;
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
                Err((_, e)) => return Err(io(path)(e.into())),
            }
        }
    }

    /// The lock file guarding `path`: `PATH.lock` beside it.
    pub fn lock_path(path: &Path) -> PathBuf {
        with_suffix(path, ".lock")
    }

    /// Takes the lock guarding `path` (`PATH.lock`, created 0600 and checked),
    /// after checking `path`'s directory.
    pub fn lock(&self, path: &Path, mode: LockMode) -> Result<Locked> {
        self.check_dir(&dir_of(path))?;
        let lp = Self::lock_path(path);
        let f = self.open_or_create(&lp)?;
        self.lock_file(f, &lp, mode)
    }

    /// Takes the shared lock guarding `path` if its lock file exists (readers
    /// who may not create files there: no writer has ever run, so there is
    /// nothing to wait for).
    pub fn lock_shared_if_exists(&self, path: &Path) -> Result<Option<Locked>> {
        let lp = Self::lock_path(path);
        match self.open(&lp) {
            Ok(f) => self.lock_file(f, &lp, LockMode::Shared).map(Some),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Checks a program before a privileged process executes it (the PAM
    /// module's login helper): `path` is absolute, a regular file, executable,
    /// owned by one of the owners and not group/world writable, and so is
    /// every directory above it, from `/` down, none of them a symlink. A
    /// directory with the sticky bit (`/tmp`) may be writable by others, as
    /// the next component is then checked to be owned by one of the owners,
    /// whom nobody else can rename or remove it from under. So only the
    /// owners (root) can change what runs.
    pub fn check_program(&self, path: &Path) -> Result<()> {
        if !path.is_absolute() {
            return Err(self.refuse(path, "the program's path must be absolute".into()));
        }
        let mut dir = PathBuf::new();
        for part in path.parent().into_iter().flat_map(|p| p.components()) {
            dir.push(part);
            let meta = std::fs::symlink_metadata(&dir).map_err(io(&dir))?;
            let sticky = meta.mode() & 0o1000 != 0 && meta.is_dir();
            let t = Trust {
                dir_mask: if sticky { 0 } else { self.dir_mask },
                ..self.clone()
            };
            t.check_meta(&dir, &meta, Kind::Dir)?;
        }
        let meta = std::fs::symlink_metadata(path).map_err(io(path))?;
        self.check_meta(path, &meta, Kind::File)?;
        if meta.mode() & 0o111 == 0 {
            return Err(self.refuse(
                path,
                format!(
                    "it is not executable: fix with `chmod 755 {}`",
                    path.display()
                ),
            ));
        }
        Ok(())
    }

    /// Replaces `path` with `data`: temp file in the same directory (0600,
    /// `O_EXCL`), write, fsync, rename, fsync the directory. Call with the
    /// writers' lock held. On error the temp file is removed and `path` is
    /// untouched. Temp files left by writers that died are removed first.
    pub fn write_atomic(&self, path: &Path, data: &[u8]) -> Result<()> {
        self.replace(path, data, None)
    }

    /// Like [`Trust::write_atomic`], but the file being replaced stays
    /// behind as `previous` (a hard link to it, so the same inode: same
    /// owner, same mode, no copy). The order: the new data is written and
    /// fdatasync'd to a temp file; the old file is linked to a second temp
    /// name and renamed over `previous`; the new file is renamed over
    /// `path`; one fsync of the directory makes both names durable. A crash
    /// anywhere leaves `path` holding the old or the new file, whole, and
    /// `previous` holding the old file or the one before it. Where the
    /// filesystem has no hard links (or `path` does not exist yet), the
    /// write happens without keeping the previous file.
    pub fn write_atomic_keeping(&self, path: &Path, data: &[u8], previous: &Path) -> Result<()> {
        self.replace(path, data, Some(previous))
    }

    fn replace(&self, path: &Path, data: &[u8], previous: Option<&Path>) -> Result<()> {
        remove_stale_temps(path);
        let dir = dir_of(path);
        let mut rand = [0u8; 6];
        getrandom::getrandom(&mut rand).map_err(|e| Error::Io {
            path: PathBuf::from("getrandom"),
            source: std::io::Error::from(e),
        })?;
        let hex: String = rand.iter().map(|b| format!("{b:02x}")).collect();
        let tmp = dir.join(format!(
            "{}{}.{hex}",
            temp_prefix(path).to_string_lossy(),
            std::process::id()
        ));
        let failed = |source| Error::WriteFailed {
            path: path.to_path_buf(),
            source,
        };
        let result = (|| -> Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&tmp)
                .map_err(failed)?;
            f.write_all(data).map_err(failed)?;
            // fdatasync: the data and the size; the name is made durable by
            // syncing the directory after the rename.
            f.sync_data().map_err(failed)?;
            drop(f);
            if let Some(prev) = previous {
                keep_previous(path, prev, &tmp);
            }
            std::fs::rename(&tmp, path).map_err(failed)?;
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
            return result;
        }
        // The rename happened: from here on the change is made, only maybe
        // not yet on disk.
        let not_durable = |source| Error::NotDurable {
            path: path.to_path_buf(),
            source,
        };
        let d = File::open(&dir).map_err(not_durable)?;
        d.sync_all().map_err(not_durable)?;
        Ok(())
    }
}

/// `.NAME.tmp.`: the start of every temp file name [`Trust::write_atomic`] uses for `path`.
fn temp_prefix(path: &Path) -> std::ffi::OsString {
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(path.file_name().unwrap_or_default());
    prefix.push(".tmp.");
    prefix
}

/// Links the file at `path` to `previous` (through a temp name beside it,
/// renamed over `previous`). Best effort: on any failure `previous` is left
/// as it was and the temp name removed.
fn keep_previous(path: &Path, previous: &Path, tmp: &Path) {
    let mut link = tmp.as_os_str().to_owned();
    link.push(".prev");
    let link = PathBuf::from(link);
    if std::fs::hard_link(path, &link).is_ok() {
        let _ = std::fs::rename(&link, previous);
        // rename(2) does nothing when both names are links to the same
        // file (a previous write failed after this step): drop the temp name.
        let _ = std::fs::remove_file(&link);
    }
}

/// Removes temp files left by writers that died (call with the lock held).
fn remove_stale_temps(path: &Path) {
    let prefix = temp_prefix(path).to_string_lossy().into_owned();
    if let Ok(rd) = std::fs::read_dir(dir_of(path)) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn programs_need_owned_unwritable_files_and_directories_all_the_way_up() {
        let me = fs_uid();
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("libexec");
        std::fs::create_dir(&dir).unwrap();
        chmod(&dir, 0o755);
        let prog = dir.join("helper");
        std::fs::write(&prog, "#!/bin/sh\n").unwrap();
        chmod(&prog, 0o755);
        // Every directory above the temp dir is someone else's (root's) here
        // unless the test runs as root: trust root and me.
        let t = Trust::system(&[0, me], 0o022);
        t.check_program(&prog).unwrap();
        chmod(&prog, 0o775);
        assert!(t
            .check_program(&prog)
            .unwrap_err()
            .to_string()
            .contains("group/world writable"));
        chmod(&prog, 0o644);
        assert!(t
            .check_program(&prog)
            .unwrap_err()
            .to_string()
            .contains("not executable"));
        chmod(&prog, 0o755);
        chmod(&dir, 0o777);
        let e = t.check_program(&prog).unwrap_err().to_string();
        assert!(
            e.contains(&format!(
                "refusing {}: it is group/world writable",
                dir.display()
            )),
            "{e}"
        );
        // Sticky, like /tmp: fine, the program is the owners' own.
        chmod(&dir, 0o1777);
        t.check_program(&prog).unwrap();
        chmod(&dir, 0o755);
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        assert!(t
            .check_program(&link.join("helper"))
            .unwrap_err()
            .to_string()
            .contains("symbolic link"));
        assert!(t.check_program(Path::new("helper")).is_err());
        // Someone else's program is refused.
        if me != 0 {
            let root_only = Trust::system(&[0], 0o022);
            assert!(root_only.check_program(&prog).is_err());
        }
    }

    #[test]
    fn private_dirs_are_created_0700_and_loose_ones_refused_with_a_fix() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("a/b");
        let t = Trust::private();
        t.ensure_dir(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        chmod(&dir, 0o750);
        let e = t.check_dir(&dir).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "refusing {0}: it is group/world accessible (mode 0750): fix with `chmod 700 {0}`",
                dir.display()
            )
        );
    }

    #[test]
    fn files_are_checked_on_the_open_descriptor() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        let t = Trust::root_private(&[0, nix::unistd::geteuid().as_raw()]).named("tally file");
        t.open_or_create(&p).unwrap();
        chmod(&p, 0o640);
        let e = t.open(&p).unwrap_err().to_string();
        assert!(e.starts_with("refusing tally file "), "{e}");
        assert!(
            e.ends_with(&format!("fix with `chmod 600 {}`", p.display())),
            "{e}"
        );
        chmod(&p, 0o600);
        let link = d.path().join("l");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        let e = t.open(&link).unwrap_err().to_string();
        assert!(e.contains("symbolic link") && e.contains("symlinks"), "{e}");
        let e = t.open(d.path()).unwrap_err().to_string();
        assert!(e.contains("it is not a regular file"), "{e}");
        assert!(matches!(
            t.open(&d.path().join("none")),
            Err(Error::NotFound { .. })
        ));
        let big = Trust::private().max_len(1);
        std::fs::write(&p, b"12").unwrap();
        assert!(big
            .open(&p)
            .unwrap_err()
            .to_string()
            .contains("larger than 1 bytes"));
        let other = Trust::root_private(&[4_000_000]);
        let e = other.open(&p).unwrap_err().to_string();
        assert!(
            e.contains("not by uid 4000000: fix with `chown 4000000"),
            "{e}"
        );
    }

    #[test]
    fn system_dirs_may_be_read_by_others_but_not_written() {
        let d = tempfile::tempdir().unwrap();
        let me = nix::unistd::geteuid().as_raw();
        let t = Trust::system(&[0, me], 0o077);
        chmod(d.path(), 0o755);
        t.check_dir(d.path()).unwrap();
        chmod(d.path(), 0o775);
        let e = t.check_dir(d.path()).unwrap_err().to_string();
        assert!(
            e.contains("writable (mode 0775): fix with `chmod go-w"),
            "{e}"
        );
    }

    #[test]
    fn atomic_write_keeps_the_previous_file_as_the_same_inode() {
        use std::os::unix::fs::MetadataExt;
        let base = tempfile::tempdir().unwrap();
        let t = Trust::private();
        let p = base.path().join("db");
        let prev = base.path().join("db.prev");
        t.write_atomic_keeping(&p, b"one", &prev).unwrap();
        assert!(!prev.exists(), "nothing to keep the first time");
        let first = std::fs::metadata(&p).unwrap().ino();
        t.write_atomic_keeping(&p, b"two", &prev).unwrap();
        assert_eq!(std::fs::read(&prev).unwrap(), b"one");
        assert_eq!(std::fs::metadata(&prev).unwrap().ino(), first);
        t.write_atomic_keeping(&p, b"three", &prev).unwrap();
        assert_eq!(std::fs::read(&prev).unwrap(), b"two");
        assert_eq!(std::fs::read(&p).unwrap(), b"three");
        // A failed write before the rename left both names on one file.
        std::fs::remove_file(&prev).unwrap();
        std::fs::hard_link(&p, &prev).unwrap();
        t.write_atomic_keeping(&p, b"four", &prev).unwrap();
        assert_eq!(std::fs::read(&prev).unwrap(), b"three");
        let names: Vec<_> = std::fs::read_dir(base.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn atomic_write_leaves_no_temp_files_and_locks_exclude_each_other() {
        let base = tempfile::tempdir().unwrap();
        let d = base.path().join("v");
        let t = Trust::private();
        t.ensure_dir(&d).unwrap();
        let p = d.join("db");
        std::fs::write(d.join(".db.tmp.1.abc"), b"stale").unwrap();
        let held = t.lock(&p, LockMode::Exclusive).unwrap();
        t.write_atomic(&p, b"one").unwrap();
        let names: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(!names.iter().any(|n| n.contains(".tmp.")), "{names:?}");
        assert_eq!(t.read(&p, 2).unwrap(), b"on");
        let f = t.open(&Trust::lock_path(&p)).unwrap();
        assert!(matches!(
            nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockSharedNonblock),
            Err((_, nix::errno::Errno::EWOULDBLOCK))
        ));
        drop(held);
        assert!(t.lock_shared_if_exists(&p).unwrap().is_some());
        assert!(t.lock_shared_if_exists(&d.join("x")).unwrap().is_none());
    }
}
