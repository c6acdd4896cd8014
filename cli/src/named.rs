//! What the named-secret commands share (`set`, `get`, `generate`, `rm
//! --previous`, `list --json`): opening the vault like the git helper,
//! storing a value, writing one to stdout. Values go from the terminal or
//! `--secret-fd N` into locked memory, and from locked memory to stdout with
//! one `write(2)` loop; no value is ever in a `String`, a message or an error.

use crate::ctx::{say, Ctx};
use crate::exit::{CliError, Result};
use keyward_audit::{Action, Target};
use keyward_secmem::{ExposeSecret, SecretBytes};
use keyward_unlock::{open_for_helper, HelperOpen};
use keyward_vault::{check_name, Kind, NewEntry, Vault};
use std::io::Write;
use std::os::fd::AsFd;

/// Opens the vault as the git helper does: the cached key, else a terminal
/// prompt (then cached), else "vault is locked" at once.
pub(crate) fn open(ctx: &Ctx) -> Result<Vault> {
    Ok(open_for_helper(HelperOpen {
        vault: Some(ctx.vault.clone()),
        config: Some(ctx.config.clone()),
        cache_after_prompt: true,
        ..HelperOpen::default()
    })?)
}

/// Stores `value` (and `previous`) under `name`, replacing the record.
pub(crate) fn put(
    vault: &mut Vault,
    name: &str,
    value: SecretBytes,
    previous: Option<SecretBytes>,
) -> Result<()> {
    let entry = NewEntry::secret(name, value, previous);
    vault.update(|t| t.upsert(entry).map(drop))?;
    Ok(())
}

/// Writes `value` and a newline to stdout from locked memory, unbuffered.
pub(crate) fn print_secret(value: &SecretBytes) -> Result<()> {
    let mut line = SecretBytes::with_capacity(value.len() + 1)?;
    line.extend_from_slice(value.expose_secret())?;
    line.push(b'\n')?;
    let out = std::io::stdout().as_fd().try_clone_to_owned();
    out.map(std::fs::File::from)
        .and_then(|mut f| f.write_all(line.expose_secret()))
        .map_err(CliError::Stdout)
}

/// `keyward rm NAME --previous`: forgets a rotation's old value.
pub(crate) fn rm_previous(ctx: &Ctx, name: &str) -> Result<()> {
    check_name(name)?;
    let mut v = open(ctx)?;
    let i = v
        .find_secret(name)
        .ok_or_else(|| CliError::NoSecret(name.into()))?;
    let (value, previous) = v.reveal(i)?.into_value_and_previous();
    if previous.is_none() {
        return Err(CliError::NoPrevious(name.into()));
    }
    drop(previous);
    put(&mut v, name, value, None)?;
    keyward_audit::record(&v, Action::Erase, Some(Target::new(Kind::Secret, name)));
    say(&format!("removed the previous value of {name}"));
    Ok(())
}

/// A named secret in `keyward list --json`: its name and times, nothing else.
pub(crate) fn list_json(e: &keyward_vault::EntryRef<'_>) -> serde_json::Value {
    serde_json::json!({
        "kind": "secret",
        "name": e.host,
        "created": e.created,
        "updated": e.updated,
    })
}

/// One segment of a secret's name for an arbitrary string (a keyring service
/// URL, a user name, an AWS profile): bytes other than ASCII letters, digits
/// and `. _ - @ :` become `+HH` (upper-case hex); an empty string is `+`;
/// a segment that would be `.` or `..` has its dots escaped. Injective
/// (`+` itself is escaped), and undone by reading `+HH` back; the same rule
/// is in the Python backend (packaging/python/keyrings/keyward/__init__.py).
pub(crate) fn escape_segment(s: &str) -> String {
    if s.is_empty() {
        return "+".into();
    }
    if s == "." || s == ".." {
        return "+2E".repeat(s.len());
    }
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"._-@:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
    out
}

/// The named secret Python's keyring stores (`service`, `username`) under:
/// `python-keyring/SERVICE/USERNAME`, each escaped by [`escape_segment`].
pub(crate) fn keyring_name(service: &str, username: &str) -> String {
    format!(
        "python-keyring/{}/{}",
        escape_segment(service),
        escape_segment(username)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_valid_names_and_distinct() {
        let cases = [
            "",
            ".",
            "..",
            "...",
            "+",
            "+2B",
            "a/b",
            "https://upload.pypi.org/legacy/",
            "127.0.0.1:8080",
            "__token__",
            "ä b",
            "a+b",
            "a%2Bb",
        ];
        let mut seen = std::collections::HashSet::new();
        for c in cases {
            let e = escape_segment(c);
            assert!(keyward_vault::check_name(&e).is_ok(), "{c:?} → {e:?}");
            assert!(seen.insert(e.clone()), "{c:?} collides as {e:?}");
        }
        assert_eq!(
            keyring_name("http://127.0.0.1:8080/simple/", "alice"),
            "python-keyring/http:+2F+2F127.0.0.1:8080+2Fsimple+2F/alice"
        );
        assert_eq!(escape_segment("."), "+2E");
        assert_eq!(escape_segment("a+b c"), "a+2Bb+20c");
    }
}
