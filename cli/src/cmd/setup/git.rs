//! `keyward setup git`: `git config --global --replace-all credential.helper keyward`.

use super::warn;
use crate::ctx::{say, Ctx};
use crate::exit::{CliError, Result};
use std::process::{Command, Stdio};

/// `git ARGS`' standard output, or why git could not be run.
fn git(args: &[&str]) -> Result<(bool, String)> {
    let out = Command::new("git")
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| CliError::Setup(format!("cannot run git: {e} (is git installed?)")))?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

pub(crate) fn run(_ctx: &Ctx) -> Result<()> {
    let (_, old) = git(&["config", "--global", "--get-all", "credential.helper"])?;
    let old: Vec<&str> = old.lines().collect();
    if old == ["keyward"] {
        say("git: credential.helper is already keyward in your global configuration");
    } else {
        let (ok, _) = git(&[
            "config",
            "--global",
            "--replace-all",
            "credential.helper",
            "keyward",
        ])?;
        if !ok {
            return Err(CliError::Setup(
                "git config --global --replace-all credential.helper keyward failed (see above)"
                    .into(),
            ));
        }
        if old.is_empty() {
            say("git: set credential.helper = keyward in your global configuration");
        } else {
            say(&format!(
                "git: set credential.helper = keyward in your global configuration, replacing: {}",
                old.iter()
                    .map(|h| format!("`{h}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    // What still writes or holds plaintext: `store` in any scope git reads
    // here (system, global, this repository), and the store's file.
    let (_, all) = git(&["config", "--show-origin", "--get-all", "credential.helper"])?;
    for line in all.lines() {
        let (origin, helper) = line.split_once('\t').unwrap_or(("", line));
        if helper.split_whitespace().next() == Some("store") {
            let file = origin.strip_prefix("file:").unwrap_or(origin);
            warn(&format!(
                "credential.helper `{helper}` is still configured in {file}: git keeps writing passwords there in plaintext; remove it with `git config --file {file} --unset-all credential.helper '^store'`"
            ));
        }
    }
    if let Some(h) = super::home_opt() {
        let store = h.join(".git-credentials");
        // Read into locked memory, as `import` does: it holds passwords.
        if let Ok(text) = crate::secretfile::read(&store) {
            use keyward_secmem::ExposeSecret;
            let n = text
                .expose_secret()
                .split(|&c| c == b'\n')
                .filter(|l| l.windows(3).any(|w| w == b"://"))
                .count();
            if n > 0 {
                warn(&format!(
                    "{} still holds {n} plaintext git credential(s): `keyward import git` moves them into the vault and removes them",
                    store.display()
                ));
            }
        }
    }
    Ok(())
}
