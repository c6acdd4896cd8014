//! `keyward set NAME`: store a named secret from the terminal (asked twice)
//! or one line of `--secret-fd N`.

use crate::ctx::{say, Ctx};
use crate::exit::Result;
use crate::named::{open, put};
use crate::password::Source;
use clap::Args;
use keyward_audit::{Action, Target};
use keyward_vault::{check_name, Kind};

#[derive(Debug, Args)]
pub(crate) struct SetArgs {
    /// The secret's name, a path like `restic/backup-1`.
    pub name: String,
    /// Read the secret from this file descriptor (one line) instead of the terminal.
    #[arg(long, value_name = "N")]
    pub secret_fd: Option<i32>,
}

pub(crate) fn run(ctx: &Ctx, a: SetArgs) -> Result<()> {
    check_name(&a.name)?;
    let mut src = Source::for_secret(a.secret_fd)?;
    let mut v = open(ctx)?;
    let value = src.read_new(&format!("Secret for {}: ", a.name))?;
    put(&mut v, &a.name, value, None)?;
    keyward_audit::record(&v, Action::Store, Some(Target::new(Kind::Secret, &a.name)));
    say(&format!("stored secret {}", a.name));
    Ok(())
}
