//! `keyward rm`: remove the records for a host.

use crate::ctx::{open, parse_kind, say, Ctx};
use crate::exit::{CliError, Result};
use clap::Args;
use keyward_vault::Kind;

#[derive(Debug, Args)]
pub(crate) struct RmArgs {
    /// Host (with :port) for git, registry server for docker, exactly as `keyward list` shows it.
    pub host: String,
    /// Only records with this user name.
    #[arg(long, short)]
    pub username: Option<String>,
    /// Only records of this kind.
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<Kind>,
    /// Only records with this protocol.
    #[arg(long)]
    pub protocol: Option<String>,
    /// Only records with this path.
    #[arg(long)]
    pub path: Option<String>,
    /// Remove every matching record (otherwise more than one match is an error).
    #[arg(long)]
    pub all: bool,
    /// Remove only a named secret's previous value (kept by `keyward generate`'s rotation).
    #[arg(long)]
    pub previous: bool,
    /// Read the vault password from this file descriptor when the vault is locked.
    #[arg(long, value_name = "N")]
    pub password_fd: Option<i32>,
}

pub(crate) fn run(ctx: &Ctx, a: RmArgs) -> Result<()> {
    if a.previous {
        return crate::named::rm_previous(ctx, &a.host);
    }
    let mut v = open(ctx, a.password_fd)?;
    let matches = |e: &keyward_vault::Entry| {
        e.host == a.host
            && a.username.as_ref().is_none_or(|u| &e.username == u)
            && a.kind.is_none_or(|k| e.kind == k)
            && a.protocol.as_ref().is_none_or(|p| &e.protocol == p)
            && a.path.as_ref().is_none_or(|p| &e.path == p)
    };
    let removed = v.update(|t| {
        let n = t.entries().iter().filter(|e| matches(e)).count();
        if n > 1 && !a.all {
            return Err(keyward_vault::Error::Invalid(format!(
                "{n} records match {}: narrow with --username/--kind/--protocol/--path, or pass --all",
                a.host
            )));
        }
        Ok(t.retain(|e| !matches(e)))
    })?;
    if removed == 0 {
        return Err(CliError::NoRecord(a.host));
    }
    let target = a.kind.map_or(keyward_audit::Target::any(&a.host), |k| {
        keyward_audit::Target::new(k, &a.host)
    });
    keyward_audit::record(&v, keyward_audit::Action::Erase, Some(target));
    say(&format!("removed {removed} record(s)"));
    Ok(())
}
