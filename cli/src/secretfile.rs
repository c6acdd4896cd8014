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
