//! Named secrets: `keyward set NAME`, `keyward get NAME [--previous]`,
//! `keyward rm NAME --previous` (plain `keyward rm NAME` removes the record
//! like any other). The value goes from the terminal or `--secret-fd N`
//! into locked memory, and from locked memory to stdout with one `write(2)`
//! loop; no value is ever in a `String`, a message or an error.

use crate::commands::{say, Ctx};
use crate::exit::{CliError, Result};
use crate::password::Source;
use clap::Args;
use keyward_audit::{Action, Target};
use keyward_secmem::{ExposeSecret, SecretBytes};
use keyward_vault::{check_name, open_for_helper, HelperOpen, Kind, NewEntry, Vault};
use std::io::Write;
use std::os::fd::AsFd;

#[derive(Debug, Args)]
pub(crate) struct SetArgs {
    /// The secret's name, a path like `restic/backup-1`.
    pub name: String,
    /// Read the secret from this file descriptor (one line) instead of the terminal.
    #[arg(long, value_name = "N")]
    pub secret_fd: Option<i32>,
}

#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    /// The secret's name.
    pub name: String,
    /// Print the value a rotation (`keyward generate` on an existing name) replaced.
    #[arg(long)]
    pub previous: bool,
}

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

fn not_found(name: &str) -> CliError {
    CliError::NotFound(format!(
        "no secret named {name} (see `keyward list --kind secret`)"
    ))
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

pub(crate) fn set(ctx: &Ctx, a: SetArgs) -> Result<()> {
    check_name(&a.name)?;
    let mut src = Source::from_option("--secret-fd", a.secret_fd)?;
    let mut v = open(ctx)?;
    let value = src.read_new(&format!("Secret for {}: ", a.name))?;
    put(&mut v, &a.name, value, None)?;
    keyward_audit::record(&v, Action::Store, Some(Target::new(Kind::Secret, &a.name)));
    say(&format!("stored secret {}", a.name));
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
        .map_err(|e| CliError::Other(format!("cannot write to standard output: {e}")))
}

pub(crate) fn get(ctx: &Ctx, a: GetArgs) -> Result<()> {
    check_name(&a.name)?;
    let v = open(ctx)?;
    let i = v.find_secret(&a.name).ok_or_else(|| not_found(&a.name))?;
    let s = v.reveal(i)?;
    let value = if a.previous {
        s.previous().ok_or_else(|| {
            CliError::NotFound(format!(
                "{} keeps no previous value (only `keyward generate` on an existing name keeps one)",
                a.name
            ))
        })?
    } else {
        &s.password
    };
    keyward_audit::record(&v, Action::Get, Some(Target::new(Kind::Secret, &a.name)));
    print_secret(value)
}

/// `keyward rm NAME --previous`: forgets a rotation's old value.
pub(crate) fn rm_previous(ctx: &Ctx, name: &str) -> Result<()> {
    check_name(name)?;
    let mut v = open(ctx)?;
    let i = v.find_secret(name).ok_or_else(|| not_found(name))?;
    let (value, previous) = v.reveal(i)?.into_value_and_previous();
    if previous.is_none() {
        return Err(CliError::NotFound(format!(
            "{name} keeps no previous value: nothing removed"
        )));
    }
    drop(previous);
    put(&mut v, name, value, None)?;
    keyward_audit::record(&v, Action::Erase, Some(Target::new(Kind::Secret, name)));
    say(&format!("removed the previous value of {name}"));
    Ok(())
}

/// A named secret in `keyward list --json`: its name and times, nothing else.
pub(crate) fn list_json(e: &keyward_vault::Entry) -> serde_json::Value {
    serde_json::json!({
        "kind": "secret",
        "name": e.host,
        "created": e.created,
        "updated": e.updated,
    })
}
