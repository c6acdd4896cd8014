//! Password history for pam_keyward's `remember=N`, as pam_unix keeps
//! `/etc/security/opasswd`: `<db>.history` beside the database
//! (`/etc/keyward/shadow.history`), under the same trust rules (root's, mode
//! 0600, atomic rewrites under its own lock), one line per user:
//! `user:<hash> <hash> …`, the most recently replaced first. Only hashes are
//! kept, never a password; a line that does not parse is dropped at the next
//! rewrite of its user and otherwise kept.

use crate::{trust, validate_user, Hash, Result, MAX_DB_SIZE};
use keyward_trustfs::LockMode;
use std::path::{Path, PathBuf};

/// Most hashes kept per user, whatever `remember=` says.
pub const MAX_REMEMBER: usize = 400;

/// The history file of the database at `db`.
pub fn path_for(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".history");
    keyward_trustfs::dir_of(db).join(name)
}

/// The parsed history file.
#[derive(Debug, Clone, Default)]
pub struct History {
    lines: Vec<String>,
}

impl History {
    /// Parses the file's text.
    pub fn parse(text: &[u8]) -> History {
        let text = String::from_utf8_lossy(text);
        History {
            lines: text.lines().map(str::to_owned).collect(),
        }
    }

    /// `user`'s previous hashes, the most recent first (unparsable ones left out).
    pub fn of(&self, user: &str) -> Vec<Hash> {
        self.lines
            .iter()
            .find_map(|l| l.strip_prefix(user).and_then(|r| r.strip_prefix(':')))
            .map(|rest| {
                rest.split(' ')
                    .filter_map(|h| Hash::parse(h).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Puts `old` first in `user`'s history and keeps at most `keep` hashes.
    pub fn push(&mut self, user: &str, old: &Hash, keep: usize) -> Result<()> {
        validate_user(user)?;
        let mut hashes = vec![old.clone()];
        hashes.extend(self.of(user));
        hashes.truncate(keep.min(MAX_REMEMBER));
        let line = format!(
            "{user}:{}",
            hashes
                .iter()
                .map(Hash::to_phc)
                .collect::<Vec<_>>()
                .join(" ")
        );
        let prefix = format!("{user}:");
        match self.lines.iter_mut().find(|l| l.starts_with(&prefix)) {
            Some(l) => *l = line,
            None => self.lines.push(line),
        }
        Ok(())
    }

    /// The file's text.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for l in &self.lines {
            out.extend_from_slice(l.as_bytes());
            out.push(b'\n');
        }
        out
    }
}

/// Reads the history of the database at `db` (empty if there is none yet).
pub fn load(db: &Path, trusted: &[u32]) -> Result<History> {
    let path = path_for(db);
    match trust(trusted)
        .named("password history")
        .read(&path, MAX_DB_SIZE)
    {
        Ok(text) => Ok(History::parse(&text)),
        Err(keyward_trustfs::Error::NotFound { .. }) => Ok(History::default()),
        Err(e) => Err(e.into()),
    }
}

/// Records that `user`'s hash `old` was replaced, keeping `keep` hashes:
/// under the history's own lock, rewritten atomically.
pub fn remember(db: &Path, trusted: &[u32], user: &str, old: &Hash, keep: usize) -> Result<()> {
    let path = path_for(db);
    let t = trust(trusted).named("password history");
    let _guard = t.lock(&path, LockMode::Exclusive)?;
    let mut h = match t.read(&path, MAX_DB_SIZE) {
        Ok(text) => History::parse(&text),
        Err(keyward_trustfs::Error::NotFound { .. }) => History::default(),
        Err(e) => return Err(e.into()),
    };
    h.push(user, old, keep)?;
    t.write_atomic(&path, &h.render())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KdfParams;

    const FAST: KdfParams = KdfParams {
        log_n: 4,
        r: 8,
        p: 1,
    };

    #[test]
    fn keeps_the_last_n_newest_first_per_user() {
        let d = tempfile::tempdir().unwrap();
        let db = d.path().join("shadow");
        let me = [0, nix::unistd::geteuid().as_raw()];
        assert_eq!(path_for(&db), d.path().join("shadow.history"));
        assert!(load(&db, &me).unwrap().of("alice").is_empty());
        let hashes: Vec<Hash> = (0..4)
            .map(|i| Hash::new(format!("pw{i}").as_bytes(), FAST).unwrap())
            .collect();
        for h in &hashes {
            remember(&db, &me, "alice", h, 3).unwrap();
        }
        remember(&db, &me, "bob", &hashes[0], 3).unwrap();
        let hist = load(&db, &me).unwrap();
        let alice: Vec<String> = hist.of("alice").iter().map(Hash::to_phc).collect();
        let want: Vec<String> = hashes[1..].iter().rev().map(Hash::to_phc).collect();
        assert_eq!(alice, want);
        assert_eq!(hist.of("bob").len(), 1);
        assert!(hist.of("al").is_empty());
        use std::os::unix::fs::MetadataExt;
        let mode = std::fs::metadata(path_for(&db)).unwrap().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
