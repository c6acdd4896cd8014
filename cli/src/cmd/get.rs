//! `keyward get NAME [--previous]`: a named secret and a newline on stdout,
//! for tools that run a password command.

use crate::ctx::Ctx;
use crate::exit::{CliError, Result};
use crate::named::{open, print_secret};
use clap::Args;
use keyward_audit::{Action, Target};
use keyward_vault::{check_name, Kind};

#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    /// The secret's name.
    pub name: String,
    /// Print the value a rotation (`keyward generate` on an existing name) replaced.
    #[arg(long)]
    pub previous: bool,
}

pub(crate) fn run(ctx: &Ctx, a: GetArgs) -> Result<()> {
    check_name(&a.name)?;
    let v = open(ctx)?;
    let i = v
        .find_secret(&a.name)
        .ok_or_else(|| CliError::NoSecret(a.name.clone()))?;
    let s = v.reveal(i)?;
    let value = if a.previous {
        s.previous()
            .ok_or_else(|| CliError::NoPrevious(a.name.clone()))?
    } else {
        &s.password
    };
    keyward_audit::record(&v, Action::Get, Some(Target::new(Kind::Secret, &a.name)));
    print_secret(value)
}
