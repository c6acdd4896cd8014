//! Per-user session counts for `lock_on_close`.
//!
//! One file per uid in a root-only directory (`session_dir`, default
//! `/run/keyward/sessions`, a tmpfs cleared at boot) holding the number of
//! open sessions that went through `session … pam_keyward.so unlock
//! lock_on_close`. `open_session` adds one, `close_session` takes one away;
//! the close that brings it to zero locks the vault. Each change holds an
//! exclusive `flock`. A session that never closes (its host was killed) keeps
//! the count above zero: the key then lives until its timeout, never less.

use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

fn checked_dir(dir: &Path, trusted: &[u32]) -> std::io::Result<()> {
    if std::fs::symlink_metadata(dir).is_err() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let md = std::fs::symlink_metadata(dir)?;
    if !md.is_dir() || !trusted.contains(&md.uid()) || md.mode() & 0o077 != 0 {
        return Err(std::io::Error::other(format!(
            "{}: refusing session directory: must be a directory owned by root with mode 0700",
            dir.display()
        )));
    }
    Ok(())
}

/// Adds `delta` (+1 or -1, never below zero) to `uid`'s count; returns the new count.
pub fn change(dir: &Path, trusted: &[u32], uid: u32, delta: i64) -> std::io::Result<u64> {
    checked_dir(dir, trusted)?;
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(dir.join(uid.to_string()))?;
    let mut f =
        Flock::lock(f, FlockArg::LockExclusive).map_err(|(_, e)| std::io::Error::from(e))?;
    let mut s = String::new();
    f.read_to_string(&mut s)?;
    // Only root writes here; an unreadable count counts as zero.
    let old: u64 = s.trim().parse().unwrap_or(0);
    let new = if delta < 0 {
        old.saturating_sub(delta.unsigned_abs())
    } else {
        old.saturating_add(delta.unsigned_abs())
    };
    let file: &mut File = &mut f;
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "{new}")?;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn me() -> Vec<u32> {
        vec![0, nix::unistd::geteuid().as_raw()]
    }

    #[test]
    fn counts_up_and_down_never_below_zero() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("s");
        assert_eq!(change(&dir, &me(), 1000, 1).unwrap(), 1);
        assert_eq!(change(&dir, &me(), 1000, 1).unwrap(), 2);
        assert_eq!(change(&dir, &me(), 1001, 1).unwrap(), 1);
        assert_eq!(change(&dir, &me(), 1000, -1).unwrap(), 1);
        assert_eq!(change(&dir, &me(), 1000, -1).unwrap(), 0);
        assert_eq!(change(&dir, &me(), 1000, -1).unwrap(), 0);
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = change(&dir, &me(), 1000, 1).unwrap_err();
        assert!(e.to_string().contains("refusing session directory"), "{e}");
    }
}
