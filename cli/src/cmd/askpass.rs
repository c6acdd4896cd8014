//! `keyward askpass [NAME] [PROMPT]`: an `SSH_ASKPASS` program. ssh, ssh-add
//! and ssh-keygen run `$SSH_ASKPASS PROMPT` (with `SSH_ASKPASS_REQUIRE=force`
//! even on a terminal) and read the passphrase from its standard output, so
//! `SSH_ASKPASS` names a two-line script that runs `keyward askpass NAME
//! "$@"` (the named secret NAME) or `keyward askpass "$@"` (the secret is
//! found from the prompt: `Enter passphrase for KEY:` and `Enter passphrase
//! for key 'KEY':` ask for `ssh/` and KEY's file name).
//!
//! It answers nothing (exit 1) to a confirmation (`SSH_ASKPASS_PROMPT=confirm`
//! or `none`) and to ssh-add's `Bad passphrase, try again` prompt: the
//! stored passphrase was just refused, and repeating it would loop forever.
//! A locked vault: the shared unlock policy (a terminal prompt only on a
//! terminal, else "vault is locked" at once).

use crate::ctx::Ctx;
use crate::exit::{CliError, Result};
use crate::named::{open, print_secret};
use clap::Args;
use keyward_audit::{Action, Target};
use keyward_vault::{check_name, Kind};

#[derive(Debug, Args)]
pub(crate) struct AskpassArgs {
    /// The secret's name (e.g. `ssh/id_ed25519`), then the prompt ssh passes;
    /// without a name, the prompt alone (the secret `ssh/FILE` for the key
    /// file it names).
    #[arg(value_name = "NAME|PROMPT", num_args = 0.., allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// The secret a prompt asks for: `ssh/` and the key's file name.
pub(crate) fn name_for_prompt(prompt: &str) -> Option<String> {
    let rest = prompt.trim_end().strip_suffix(':')?;
    let path = if let Some(p) = rest.strip_prefix("Enter passphrase for key '") {
        p.strip_suffix('\'')?
    } else {
        let p = rest.strip_prefix("Enter passphrase for ")?;
        p.strip_suffix(" (will confirm each use)").unwrap_or(p)
    };
    let file = path.rsplit('/').next()?;
    let name = format!("ssh/{file}");
    check_name(&name).ok()?;
    Some(name)
}

pub(crate) fn run(ctx: &Ctx, a: AskpassArgs) -> Result<()> {
    let confirm =
        std::env::var_os("SSH_ASKPASS_PROMPT").is_some_and(|p| p == "confirm" || p == "none");
    let (name, prompt) = match a.args.split_first() {
        Some((first, rest)) if check_name(first).is_ok() => (Some(first.clone()), rest.join(" ")),
        _ => (None, a.args.join(" ")),
    };
    if confirm {
        return Err(CliError::Usage(
            "keyward askpass answers passphrase prompts only, not confirmations".into(),
        ));
    }
    if prompt.starts_with("Bad passphrase") {
        return Err(CliError::Usage(format!(
            "the stored passphrase was refused ({}): fix it with `keyward set {}`",
            prompt.trim_end(),
            name.as_deref().unwrap_or("NAME")
        )));
    }
    let name = match name {
        Some(n) => n,
        None => name_for_prompt(&prompt).ok_or_else(|| {
            CliError::Usage(format!(
                "cannot tell which secret the prompt {:?} asks for: run `keyward askpass NAME`",
                prompt.trim_end()
            ))
        })?,
    };
    let v = open(ctx)?;
    let i = v
        .find_secret(&name)
        .ok_or_else(|| CliError::NoSecret(name.clone()))?;
    let s = v.reveal(i)?;
    keyward_audit::record(&v, Action::Get, Some(Target::new(Kind::Secret, &name)));
    print_secret(&s.password)
}

#[cfg(test)]
mod tests {
    use super::name_for_prompt;

    #[test]
    fn prompts() {
        let n = |p: &str| name_for_prompt(p);
        assert_eq!(
            n("Enter passphrase for /home/u/.ssh/id_ed25519: ").as_deref(),
            Some("ssh/id_ed25519")
        );
        assert_eq!(n("Enter passphrase for key: ").as_deref(), Some("ssh/key"));
        assert_eq!(
            n("Enter passphrase for key '/h/.ssh/deploy': ").as_deref(),
            Some("ssh/deploy")
        );
        assert_eq!(
            n("Enter passphrase for /h/.ssh/id_rsa (will confirm each use): ").as_deref(),
            Some("ssh/id_rsa")
        );
        assert_eq!(n("Enter passphrase: "), None);
        assert_eq!(n("Enter passphrase for /h/my key: "), None);
        assert_eq!(
            n("Are you sure you want to continue connecting (yes/no/[fingerprint])?"),
            None
        );
    }
}
