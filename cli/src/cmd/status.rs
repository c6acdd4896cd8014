//! `keyward status`: the vault path and whether it is unlocked.

use crate::ctx::{say, Ctx};
use crate::exit::Result;
use keyward_vault::{format_duration, keyring, read_vault_id, Vault};

pub(crate) fn run(ctx: &Ctx) -> Result<()> {
    let id = read_vault_id(&ctx.vault)?;
    say(&format!("vault: {}", ctx.vault.display()));
    say(&format!("id: {id}"));
    match keyring::time_left(&id) {
        Ok(Some(left)) => {
            let key = keyring::load(&id)?;
            let records = match key {
                Some(k) => Vault::open_with_key(&ctx.vault, k)?
                    .entries()
                    .len()
                    .to_string(),
                None => "?".into(),
            };
            say(&format!("state: unlocked ({} left)", format_duration(left)));
            say(&format!("records: {records}"));
        }
        Ok(None) => say("state: locked (run `keyward unlock`)"),
        Err(e) => say(&format!("state: locked (keyring unavailable: {e})")),
    }
    Ok(())
}
