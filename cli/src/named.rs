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
