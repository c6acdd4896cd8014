//! Failure counts for the optional lockout (`deny=N unlock_time=S`).
//!
//! One file per user in a root-only directory (`tally_dir`, default
//! `/run/keyward/tally`), holding `<consecutive failures> <unix time of the
//! last failure>`. Every access locks the file (shared to read, exclusive to
//! change), as pam_faillock does. Only users present in the password database
//! are counted, so made-up names cannot fill the directory.
//!
//! An attempt is counted *before* the password is verified ([`Tally::attempt`],
//! one exclusive lock for check and count) and cleared after a success, so
//! at most `deny` guesses are ever verified in a lock window, however many
//! run at once (pam_faillock's preauth/authfail/authsucc in one step).
//!
//! A file is named after its user; a name longer than [`MAX_PLAIN_NAME`]
//! bytes (valid user names go up to 256, file names to 255) is stored as
//! `~long:<SHA-256 of the name in hex>`, which no valid user name can be (`:`
//! is not allowed in one).

use keyward_trustfs::{Error, LockMode, Trust};
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Longest user name used as its tally file's name as it is.
pub const MAX_PLAIN_NAME: usize = 128;

type Result<T> = std::result::Result<T, Error>;

/// A user's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Record {
    /// Consecutive failures.
    pub failures: u32,
    /// Unix time of the last failure.
    pub last: u64,
}

impl Record {
    fn parse(text: &str) -> Record {
        let mut it = text.split_whitespace();
        let failures = it.next().and_then(|s| s.parse().ok());
        let last = it.next().and_then(|s| s.parse().ok());
        match (failures, last) {
            (Some(failures), Some(last)) => Record { failures, last },
            // Unreadable records count as empty: only root writes here.
            _ => Record::default(),
        }
    }

    /// Whether this record locks the user at `now`.
    pub fn locked(&self, deny: u32, unlock_time: u64, now: u64) -> bool {
        deny > 0
            && self.failures >= deny
            && (unlock_time == 0 || now < self.last.saturating_add(unlock_time))
    }
}

/// What [`Tally::attempt`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// `Some(failures)` when the user was already locked out (nothing was
    /// counted and the password must not be accepted).
    pub locked: Option<u32>,
    /// Failures counted now, this attempt included (until a success resets).
    pub failures: u32,
}

/// The tally directory and the policy.
#[derive(Debug, Clone)]
pub struct Tally {
    dir: PathBuf,
    deny: u32,
    unlock_time: u64,
    trusted: Vec<u32>,
}

impl Tally {
    /// A tally in `dir` (created 0700 if missing; refused if not owned by a
    /// `trusted` uid or open to group/world).
    pub fn new(dir: &Path, deny: u32, unlock_time: u64, trusted: &[u32]) -> Tally {
        Tally {
            dir: dir.to_path_buf(),
            deny,
            unlock_time,
            trusted: trusted.to_vec(),
        }
    }

    /// The directory's policy: owned by a trusted uid, mode 0700, created if missing.
    fn checked_dir(&self) -> Result<Trust> {
        let t = Trust::root_private(&self.trusted).named("tally directory");
        t.ensure_dir(&self.dir)?;
        Ok(t.named("tally record"))
    }

    fn path(&self, user: &str) -> PathBuf {
        // `user` passed keyward_passdb::validate_user: no `/`, not `.`/`..`.
        if user.len() <= MAX_PLAIN_NAME {
            return self.dir.join(user);
        }
        let hex: String = Sha256::digest(user.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.dir.join(format!("~long:{hex}"))
    }

    /// Checks the directory as every access does, without touching any
    /// record: the unknown-user path runs it so that a broken tally directory
    /// gives known and unknown users the same answer.
    pub fn check(&self) -> Result<()> {
        self.checked_dir().map(|_| ())
    }

    /// One attempt by `user` at `now`, counted before the password is
    /// verified: under one exclusive lock, a user locked out stays locked out
    /// (`Attempt::locked` is the failure count, nothing is counted), anyone
    /// else is counted as failing now. A success then calls [`Tally::reset`].
    pub fn attempt(&self, user: &str, now: u64) -> Result<Attempt> {
        self.counting(user, now, true).map(|(r, counted)| Attempt {
            locked: (!counted).then_some(r.failures),
            failures: r.failures,
        })
    }

    /// Under the record's exclusive lock: unless `stop_if_locked` finds the
    /// user locked out, counts one failure at `now` (a lock that has expired
    /// starts the count again). Returns the record and whether it counted.
    fn counting(&self, user: &str, now: u64, stop_if_locked: bool) -> Result<(Record, bool)> {
        let t = self.checked_dir()?;
        let path = self.path(user);
        let mut f = t.lock_file(t.open_or_create(&path)?, &path, LockMode::Exclusive)?;
        let mut s = String::new();
        f.read_to_string(&mut s).map_err(Error::io(&path))?;
        let mut r = Record::parse(&s);
        if stop_if_locked && r.locked(self.deny, self.unlock_time, now) {
            return Ok((r, false));
        }
        if self.unlock_time > 0 && now >= r.last.saturating_add(self.unlock_time) {
            r.failures = 0;
        }
        r.failures = r.failures.saturating_add(1);
        r.last = now;
        f.set_len(0).map_err(Error::io(&path))?;
        f.rewind().map_err(Error::io(&path))?;
        writeln!(&mut *f, "{} {}", r.failures, r.last).map_err(Error::io(&path))?;
        Ok((r, true))
    }

    /// The number of failures that locks a user out (0: never).
    pub fn deny(&self) -> u32 {
        self.deny
    }

    /// How long a lock lasts, in seconds (0: until a success or a reset).
    pub fn unlock_time(&self) -> u64 {
        self.unlock_time
    }

    /// When `user` last failed (unix time), if they have a record.
    pub fn last_failure(&self, user: &str) -> Result<u64> {
        self.read(user).map(|r| r.last)
    }

    /// The user's record (empty when there is none).
    pub fn read(&self, user: &str) -> Result<Record> {
        let t = self.checked_dir()?;
        let path = self.path(user);
        let f = match t.open(&path) {
            Ok(f) => f,
            Err(Error::NotFound { .. }) => return Ok(Record::default()),
            Err(e) => return Err(e),
        };
        let mut f = t.lock_file(f, &path, LockMode::Shared)?;
        let mut s = String::new();
        f.read_to_string(&mut s).map_err(Error::io(&path))?;
        Ok(Record::parse(&s))
    }

    /// Whether `user` is locked out at `now`; returns the failure count when so.
    pub fn locked(&self, user: &str, now: u64) -> Result<Option<u32>> {
        let r = self.read(user)?;
        Ok(r.locked(self.deny, self.unlock_time, now)
            .then_some(r.failures))
    }

    /// Counts one failure; returns the new record. A lock that has expired
    /// starts the count again.
    pub fn fail(&self, user: &str, now: u64) -> Result<Record> {
        self.counting(user, now, false).map(|(r, _)| r)
    }

    /// Clears `user`'s failures (after a success).
    pub fn reset(&self, user: &str) -> Result<()> {
        self.checked_dir()?;
        let path = self.path(user);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(&path)(e)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn me() -> Vec<u32> {
        vec![0, nix::unistd::geteuid().as_raw()]
    }

    #[test]
    fn locks_after_deny_failures_and_unlocks_after_time_or_success() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("tally");
        let t = Tally::new(&dir, 3, 60, &me());
        assert_eq!(t.locked("alice", 1000).unwrap(), None);
        t.fail("alice", 1000).unwrap();
        t.fail("alice", 1001).unwrap();
        assert_eq!(t.locked("alice", 1002).unwrap(), None);
        assert_eq!(t.fail("alice", 1002).unwrap().failures, 3);
        assert_eq!(t.locked("alice", 1003).unwrap(), Some(3));
        assert_eq!(t.locked("bob", 1003).unwrap(), None);
        // Expires unlock_time after the last failure…
        assert_eq!(t.locked("alice", 1062).unwrap(), None);
        // …and the next failure starts over.
        assert_eq!(t.fail("alice", 1070).unwrap().failures, 1);
        t.reset("alice").unwrap();
        assert_eq!(t.read("alice").unwrap(), Record::default());
        t.reset("alice").unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn unlock_time_zero_means_until_reset() {
        let d = tempfile::tempdir().unwrap();
        let t = Tally::new(&d.path().join("t"), 1, 0, &me());
        t.fail("u", 5).unwrap();
        assert_eq!(t.locked("u", u64::MAX).unwrap(), Some(1));
        assert_eq!(t.fail("u", 6).unwrap().failures, 2);
    }

    #[test]
    fn open_directory_refused() {
        let d = tempfile::tempdir().unwrap();
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let t = Tally::new(d.path(), 1, 0, &me());
        let e = t.fail("u", 1).unwrap_err();
        assert!(e.to_string().contains("refusing tally directory"), "{e}");
    }

    /// Review finding: the count came after scrypt, so 20 guesses started
    /// together were all verified past deny=3. Counted first, at most 3 are.
    #[test]
    fn parallel_attempts_verify_at_most_deny_guesses() {
        let d = tempfile::tempdir().unwrap();
        let t = Tally::new(&d.path().join("tally"), 3, 600, &me());
        let barrier = std::sync::Barrier::new(20);
        let admitted = std::sync::atomic::AtomicU32::new(0);
        std::thread::scope(|s| {
            for _ in 0..20 {
                s.spawn(|| {
                    barrier.wait();
                    if t.attempt("alice", 1000).unwrap().locked.is_none() {
                        admitted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(admitted.into_inner(), 3);
        assert_eq!(t.locked("alice", 1001).unwrap(), Some(3));
    }

    #[test]
    fn any_valid_user_name_has_a_tally_file() {
        let d = tempfile::tempdir().unwrap();
        let t = Tally::new(&d.path().join("tally"), 2, 0, &me());
        let long = "a".repeat(256);
        crate::validate_user(&long).unwrap();
        t.fail(&long, 1).unwrap();
        assert_eq!(t.fail(&long, 2).unwrap().failures, 2);
        assert_eq!(t.locked(&long, 3).unwrap(), Some(2));
        assert_eq!(t.locked(&"a".repeat(255), 3).unwrap(), None);
    }

    #[test]
    fn garbage_record_reads_as_empty() {
        assert_eq!(Record::parse("x y"), Record::default());
        assert_eq!(
            Record::parse("4 17\n"),
            Record {
                failures: 4,
                last: 17
            }
        );
    }
}
