//! `keyward passwd`: change the vault password.

use crate::ctx::{say, Ctx};
use crate::exit::Result;
use crate::password::Source;
use clap::Args;
use keyward_vault::{read_vault_id, Vault};

#[derive(Debug, Args)]
pub(crate) struct PasswdArgs {
    /// Read the current password, then the new one, as two lines from this file descriptor.
    #[arg(long, value_name = "N")]
    pub password_fd: Option<i32>,
}

pub(crate) fn run(ctx: &Ctx, a: PasswdArgs) -> Result<()> {
    read_vault_id(&ctx.vault)?;
    let mut src = Source::new(a.password_fd)?;
    let old = src.read("Current vault password: ")?;
    let mut v = Vault::open_with_password(&ctx.vault, &old)?;
    drop(old);
    let new = src.read_new("New vault password: ")?;
    v.change_password(&new, ctx.config.kdf)?;
    say(&format!(
        "changed the password of {} (records were not re-encrypted; a cached unlock stays valid)",
        ctx.vault.display()
    ));
    Ok(())
}
