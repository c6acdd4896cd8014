//! `keyward init`: create a vault (`--login`: one that follows the login password).

use crate::ctx::{say, Ctx};
use crate::exit::{CliError, Result};
use crate::password::Source;
use clap::Args;
use keyward_vault::Vault;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Read the new vault password from this file descriptor (one line) instead of the terminal.
    #[arg(long, value_name = "N")]
    pub password_fd: Option<i32>,
    /// Make a vault that follows the login password: asks for your current
    /// login password (not checked against the system) and creates the vault
    /// where pam_keyward's `unlock` looks for it, so logging in unlocks it and
    /// changing the login password rewraps it.
    #[arg(long)]
    pub login: bool,
}

/// Refuses `init --login` where pam_keyward would not find or not use the vault.
fn check_login_vault(ctx: &Ctx) -> Result<()> {
    if !ctx.config.login_unlock {
        return Err(CliError::LoginUnlockOff);
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or(CliError::NoHome)?;
    let at_login = ctx.config.vault_path_in(&home);
    if at_login != ctx.vault {
        return Err(CliError::LoginVaultElsewhere {
            at_login,
            vault: ctx.vault.clone(),
        });
    }
    Ok(())
}

pub(crate) fn run(ctx: &Ctx, a: InitArgs) -> Result<()> {
    if a.login {
        check_login_vault(ctx)?;
    }
    let kdf = crate::ctx::new_password_kdf(ctx)?;
    let mut src = Source::new(a.password_fd)?;
    let prompt = if a.login {
        "Current login password: "
    } else {
        "New vault password: "
    };
    let pw = src.read_new(prompt)?;
    let v = Vault::create(&ctx.vault, &pw, kdf)?;
    if a.login {
        say(&format!(
            "created vault {} (id {}) with your login password: logging in unlocks it and \
             changing the login password rewraps it where PAM runs pam_keyward.so `unlock` \
             (see pam_keyward(8)); until then, `keyward unlock`",
            v.path().display(),
            v.id()
        ));
        return Ok(());
    }
    say(&format!(
        "created vault {} (id {}); unlock it with `keyward unlock`",
        v.path().display(),
        v.id()
    ));
    Ok(())
}
