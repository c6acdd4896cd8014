//! `keyward lock`: remove the cached vault key now.

use crate::ctx::{say, Ctx};
use crate::exit::Result;
use keyward_vault::{keyring, read_vault_id};

pub(crate) fn run(ctx: &Ctx) -> Result<()> {
    let id = read_vault_id(&ctx.vault)?;
    keyward_audit::record_at(&ctx.vault, keyward_audit::Action::Lock);
    if keyring::revoke(&id)? {
        say(&format!("locked {}", ctx.vault.display()));
    } else {
        say(&format!("{} was not unlocked", ctx.vault.display()));
    }
    Ok(())
}
