//! Reading and replacing plaintext credential files without copying their
//! contents out of locked memory.

use crate::exit::{CliError, Result};
use keyward_protocols::input::{read_bounded, Limits, ReadError};
use keyward_secmem::{ExposeSecret, SecretBytes};
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// Largest credential file accepted.
const MAX_FILE: usize = 8 << 20;

/// Reads a whole file straight into locked memory (symlinks are followed: these
/// are the user's own plaintext files, and we only read them).
pub(crate) fn read(path: &Path) -> Result<SecretBytes> {
    let mut f = std::fs::File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            CliError::NoImportFile(path.to_path_buf())
        } else {
            CliError::file(path)(e)
        }
    })?;
    let len = f
        .metadata()
        .map(|m| m.len() as usize)
        .map_err(CliError::file(path))?;
    if len > MAX_FILE {
        return Err(CliError::bad_file(
            path,
            format!("larger than {} MiB; not a credential file", MAX_FILE >> 20),
        ));
    }
    let limits = Limits {
        initial: len + 1,
        max: MAX_FILE,
        probe_at_max: true,
    };
    read_bounded(|b| f.read(b), limits, |_, _| false).map_err(|e| match e {
        ReadError::TooLarge => CliError::bad_file(path, "too large"),
        ReadError::Io(e) => CliError::file(path)(e),
        ReadError::Memory(e) => e.into(),
    })
}

/// Replaces `path` with `data` atomically (temp file, fsync, rename), keeping
/// its permission bits (at most 0600).
pub(crate) fn replace(path: &Path, data: &SecretBytes) -> Result<()> {
    let mode = std::fs::metadata(path)
        .map(|m| m.mode() & 0o600)
        .unwrap_or(0o600);
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(".keyward-tmp.{}", std::process::id()));
    let tmp = dir.join(name);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc_o_nofollow())
            .open(&tmp)?;
        f.write_all(data.expose_secret())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(CliError::file(path))
}

fn libc_o_nofollow() -> i32 {
    nix::fcntl::OFlag::O_NOFOLLOW.bits()
}

/// `src` with each range replaced by its bytes (ranges sorted, not
/// overlapping), built in locked memory.
pub(crate) fn edited(
    src: &[u8],
    mut edits: Vec<(std::ops::Range<usize>, Vec<u8>)>,
) -> Result<SecretBytes> {
    edits.sort_by_key(|(r, _)| (r.start, r.end));
    let mut out = SecretBytes::with_capacity(src.len() + 256)?;
    let mut at = 0;
    for (r, with) in edits {
        let start = r.start.max(at);
        out.extend_from_slice(&src[at..start])?;
        out.extend_from_slice(&with)?;
        at = r.end.max(at);
    }
    out.extend_from_slice(&src[at.min(src.len())..])?;
    Ok(out)
}

/// Copies `data` (the file's old contents) to `PATH.keyward-backup` (or
/// `.keyward-backup.1`, `.2`, … when that exists: an earlier backup is never
/// overwritten), created with the file's permission bits, at most 0600, and
/// synced. Returns the backup's path.
pub(crate) fn backup(path: &Path, data: &SecretBytes) -> Result<std::path::PathBuf> {
    let mode = std::fs::metadata(path)
        .map(|m| m.mode() & 0o600)
        .unwrap_or(0o600);
    for n in 0..100 {
        let mut name = path.as_os_str().to_owned();
        name.push(".keyward-backup");
        if n > 0 {
            name.push(format!(".{n}"));
        }
        let to = std::path::PathBuf::from(name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc_o_nofollow())
            .open(&to)
        {
            Ok(mut f) => {
                f.write_all(data.expose_secret())
                    .and_then(|()| f.sync_all())
                    .map_err(CliError::file(&to))?;
                return Ok(to);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(CliError::file(&to)(e)),
        }
    }
    Err(CliError::bad_file(
        path,
        "100 backups exist beside it: remove old *.keyward-backup.* files",
    ))
}
