//! Named secrets: records of kind [`Kind::Secret`] for `keyward set`, `get`,
//! `rm` and `generate`. A named secret keeps its name in the record's `host`
//! field (protocol, path and username are empty), its value as the record's
//! password, and, after a rotation by `keyward generate`, the value it
//! replaced in the blob's second optional field (the one git records use for
//! `oauth_refresh_token`): see FORMAT.md.

use crate::error::{Error, Result};
use crate::vault::{Kind, NewEntry, Secrets, Txn, Vault};
use keyward_secmem::SecretBytes;

/// Longest name of a named secret, in bytes.
pub const MAX_NAME_LEN: usize = 256;

/// Checks a secret's name: slash-separated segments (`restic/backup-1`) of
/// ASCII letters, digits and `. _ - + @ :`, no empty, `.` or `..` segment,
/// at most [`MAX_NAME_LEN`] bytes. Names are not secret and appear in errors.
pub fn check_name(name: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::Invalid(format!("bad secret name {name:?}: {why}")));
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.len() > MAX_NAME_LEN {
        return bad(&format!("longer than {MAX_NAME_LEN} bytes"));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._-+@:".contains(c);
    for seg in name.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return bad("use segments like `restic/backup-1` (no empty, `.` or `..` segment)");
        }
        if !seg.chars().all(allowed) {
            return bad("use ASCII letters, digits, `/` and `._-+@:` only");
        }
    }
    Ok(())
}

impl NewEntry {
    /// A named secret `name` with `value` and, after a rotation, the
    /// `previous` value.
    pub fn secret(name: &str, value: SecretBytes, previous: Option<SecretBytes>) -> NewEntry {
        let mut n = NewEntry::new(Kind::Secret, "", name, "", "", value);
        n.oauth_refresh_token = previous;
        n
    }
}

impl Secrets {
    /// A named secret's previous value (kept by a rotation until `keyward rm
    /// NAME --previous`).
    pub fn previous(&self) -> Option<&SecretBytes> {
        self.oauth_refresh_token.as_ref()
    }

    /// Takes a named secret's current and previous values.
    pub fn into_value_and_previous(self) -> (SecretBytes, Option<SecretBytes>) {
        (self.password, self.oauth_refresh_token)
    }
}

impl Vault {
    /// The index of the named secret `name`.
    pub fn find_secret(&self, name: &str) -> Option<usize> {
        self.entry_keys()
            .position(|k| k.kind == Kind::Secret && k.host == name.as_bytes())
    }
}

impl Txn<'_> {
    /// The index of the named secret `name` in this transaction.
    pub fn find_secret(&self, name: &str) -> Option<usize> {
        self.entries()
            .iter()
            .position(|e| e.kind == Kind::Secret && e.host == name)
    }
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn names() {
        for ok in ["restic/backup-1", "a", "db.prod/user@host:5432", "x+y_z"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(257);
        for bad in [
            "", "/a", "a/", "a//b", "a/../b", ".", "a b", "ä", "a\nb", &long,
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
