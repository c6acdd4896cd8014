//! `keyward recover`: put back the previous generation kept beside the vault
//! (`VAULT.prev`) when the vault no longer authenticates, saying which
//! records that loses; `--accept-older` accepts an older copy put back on
//! purpose (the rollback check then takes its generation as the newest).

use crate::ctx::{say, Ctx};
use crate::exit::Result;
use crate::password::Source;
use clap::Args;
use keyward_vault::recover::{self, Loss, RecordName, Recovery};
use keyward_vault::{fs::previous_path, keyring, Error, VaultId, VaultKey};

#[derive(Debug, Args)]
pub(crate) struct RecoverArgs {
    /// The vault is an older copy put back on purpose: accept its generation
    /// as the newest (the vault must authenticate).
    #[arg(long)]
    pub accept_older: bool,
    /// Read the vault password from this file descriptor when the vault is locked.
    #[arg(long, value_name = "N")]
    pub password_fd: Option<i32>,
}

/// The vault key: cached under the id of whichever header is intact, else
/// from the password.
fn key(ctx: &Ctx, fd: Option<i32>) -> Result<(VaultId, VaultKey)> {
    let prev = previous_path(&ctx.vault);
    let ids: Vec<VaultId> = [&ctx.vault, &prev]
        .into_iter()
        .filter_map(|p| recover::header_id(p))
        .collect();
    for id in &ids {
        if let Ok(Some(k)) = keyring::load(id) {
            return Ok((*id, k));
        }
    }
    if ids.is_empty() {
        // Neither header is readable: say why about the vault itself.
        keyward_vault::read_vault_id(&ctx.vault)?;
        return Err(Error::NoIntactGeneration {
            path: ctx.vault.clone(),
        }
        .into());
    }
    let pw = Source::new(fd)?.read("Vault password: ")?;
    Ok(recover::key_from_password(&ctx.vault, &pw)?)
}

fn name(n: &RecordName) -> String {
    let mut s = format!("{} ", n.kind);
    if !n.protocol.is_empty() {
        s.push_str(&n.protocol);
        s.push_str("://");
    }
    if !n.username.is_empty() {
        s.push_str(&n.username);
        s.push('@');
    }
    s.push_str(&n.host);
    if !n.path.is_empty() {
        s.push('/');
        s.push_str(&n.path);
    }
    s
}

pub(crate) fn run(ctx: &Ctx, a: RecoverArgs) -> Result<()> {
    let (_, key) = key(ctx, a.password_fd)?;
    let path = ctx.vault.display();
    if a.accept_older {
        let (generation, seen) = recover::accept_older(&ctx.vault, &key)?;
        match seen {
            Some(s) => say(&format!(
                "accepted {path} at generation {generation} (generation {s} had been seen): records stored, changed or removed after generation {generation} are as this copy has them"
            )),
            None => say(&format!(
                "{path} is generation {generation}, the newest seen: nothing to accept"
            )),
        }
        return Ok(());
    }
    match recover::restore_previous(&ctx.vault, &key)? {
        Recovery::Intact { generation, seen } => {
            if let Some(seen) = seen {
                return Err(Error::Rollback {
                    path: ctx.vault.clone(),
                    found: generation,
                    seen,
                }
                .into());
            }
            say(&format!(
                "{path} is intact (generation {generation}): nothing to recover"
            ));
        }
        Recovery::Restored {
            from_generation,
            generation,
            records,
            lost,
            back,
            unknown,
            damaged,
            ..
        } => {
            say(&format!(
                "restored {path} from its previous generation ({from_generation}): {records} record(s), now generation {generation}"
            ));
            if let Some(d) = damaged {
                say(&format!("the damaged file is kept as {}", d.display()));
            }
            for (n, loss) in &lost {
                match loss {
                    Loss::Missing => say(&format!("lost: {}", name(n))),
                    Loss::Older => say(&format!("older value: {}", name(n))),
                }
            }
            for n in &back {
                say(&format!(
                    "back (the last write had removed it): {}",
                    name(n)
                ));
            }
            if unknown {
                say("the damaged file's index cannot be read: whatever its last write stored, changed or removed is lost");
            } else if lost.is_empty() {
                say("no record is lost");
            }
        }
        _ => {}
    }
    Ok(())
}
