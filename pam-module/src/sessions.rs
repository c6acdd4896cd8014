//! Per-user session counts for `lock_on_close`.
//!
//! One file per uid in a root-only directory (`session_dir`, default
//! `/run/keyward/sessions`, a tmpfs cleared at boot) holding the number of
//! open sessions that went through `session … pam_keyward.so unlock
//! lock_on_close`. `open_session` adds one, `close_session` takes one away;
//! the close that brings it to zero locks the vault. Each change holds an
//! exclusive `flock`. A session that never closes (its host was killed) keeps
//! the count above zero: the key then lives until its timeout, never less.

use keyward_trustfs::{LockMode, Trust};
use std::io::{Read, Seek, Write};
use std::path::Path;

/// Adds `delta` (+1 or -1, never below zero) to `uid`'s count; returns the new count.
/// The directory is created 0700 if missing and refused unless owned by a
/// `trusted` uid and closed to group and world.
pub fn change(
    dir: &Path,
    trusted: &[u32],
    uid: u32,
    delta: i64,
) -> Result<u64, keyward_trustfs::Error> {
    let t = Trust::root_private(trusted).named("session directory");
    t.ensure_dir(dir)?;
    let path = dir.join(uid.to_string());
    let t = t.named("session count");
    let mut f = t.lock_file(t.open_or_create(&path)?, &path, LockMode::Exclusive)?;
    let io = keyward_trustfs::Error::io(&path);
    let mut s = String::new();
    f.read_to_string(&mut s).map_err(&io)?;
    // Only root writes here; an unreadable count counts as zero.
    let old: u64 = s.trim().parse().unwrap_or(0);
    let new = if delta < 0 {
        old.saturating_sub(delta.unsigned_abs())
    } else {
        old.saturating_add(delta.unsigned_abs())
    };
    f.set_len(0).map_err(&io)?;
    f.rewind().map_err(&io)?;
    writeln!(&mut *f, "{new}").map_err(&io)?;
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
