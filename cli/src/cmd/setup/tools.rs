//! `keyward setup terraform` and what `keyward setup pnpm` (cmd/npm.rs) shares
//! with it: finding keyward's programs, appending a configuration line.
//! Writes configuration only, never a secret.

use crate::ctx::say;
use crate::exit::{CliError, Result};
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub(crate) struct TerraformArgs {
    /// The helper to link (default: terraform-credentials-keyward beside this
    /// `keyward`, else on PATH).
    #[arg(long, value_name = "PATH")]
    pub helper: Option<PathBuf>,
}

/// `$HOME`, or an error naming what needed it.
pub(crate) fn home() -> Result<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or(CliError::NoHome)
}

/// A keyward program: `--helper`, else near this executable
/// ([`keyward_unlock::sibling_program`]: beside it, or for `keyward-cli` in
/// `PREFIX/libexec/keyward`, in `PREFIX/bin`), else on PATH.
pub(crate) fn find_program(name: &str, given: Option<&Path>) -> Result<PathBuf> {
    let not_found =
        |p: &Path| CliError::bad_file(p, "no such program: give its path with --helper");
    if let Some(p) = given {
        return std::path::absolute(p)
            .ok()
            .filter(|p| p.is_file())
            .ok_or_else(|| not_found(p));
    }
    let on_path = || {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    };
    keyward_unlock::sibling_program(name)
        .or_else(on_path)
        .ok_or_else(|| not_found(Path::new(name)))
}

/// Appends `text` to `path` (created 0600 when missing).
pub(crate) fn append(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(CliError::file(path))?;
    f.write_all(text.as_bytes()).map_err(CliError::file(path))
}

/// Whether `text` (HCL) configures a credentials helper, and which.
fn configured_helper(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with('#') && !l.starts_with("//"))
        .find_map(|l| l.strip_prefix("credentials_helper"))
        .map(|rest| {
            rest.trim_start()
                .trim_start_matches('"')
                .split(['"', ' ', '{'])
                .next()
                .unwrap_or("")
                .to_owned()
        })
}

pub(super) fn terraform(a: &TerraformArgs) -> Result<()> {
    let home = home()?;
    let helper = find_program(keyward_protocols::terraform::NAME, a.helper.as_deref())?;
    let plugins = home.join(".terraform.d/plugins");
    std::fs::create_dir_all(&plugins).map_err(CliError::file(&plugins))?;
    let link = plugins.join(keyward_protocols::terraform::NAME);
    match std::fs::symlink_metadata(&link) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::remove_file(&link).map_err(CliError::file(&link))?
        }
        Ok(_) => {
            return Err(CliError::bad_file(
                &link,
                "exists and is not a link: remove it or pass its path with --helper",
            ))
        }
        Err(_) => {}
    }
    std::os::unix::fs::symlink(&helper, &link).map_err(CliError::file(&link))?;
    say(&format!(
        "linked {} -> {}",
        link.display(),
        helper.display()
    ));

    let rc = match std::env::var_os("TF_CLI_CONFIG_FILE").filter(|v| !v.is_empty()) {
        Some(f) => PathBuf::from(f),
        None => home.join(".terraformrc"),
    };
    let text = match std::fs::read_to_string(&rc) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(CliError::file(&rc)(e)),
    };
    match configured_helper(&text) {
        Some(h) if h == "keyward" => say(&format!("{} already uses it", rc.display())),
        Some(other) => {
            return Err(CliError::bad_file(
                &rc,
                format!("configures credentials_helper \"{other}\"; Terraform takes one helper: remove that block, then run this again"),
            ))
        }
        None => {
            let sep = if text.is_empty() || text.ends_with('\n') { "" } else { "\n" };
            append(&rc, &format!("{sep}credentials_helper \"keyward\" {{}}\n"))?;
            say(&format!("added credentials_helper \"keyward\" {{}} to {}", rc.display()));
        }
    }
    let plain = home.join(".terraform.d/credentials.tfrc.json");
    if plain.exists() {
        say(&format!(
            "{} exists: tokens in it win over the helper; move them with `keyward import terraform`",
            plain.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::configured_helper;

    #[test]
    fn finds_the_configured_helper() {
        assert_eq!(configured_helper(""), None);
        assert_eq!(configured_helper("# credentials_helper \"x\" {}\n"), None);
        assert_eq!(
            configured_helper("plugin_cache_dir = \"/x\"\ncredentials_helper \"keyward\" {}\n")
                .as_deref(),
            Some("keyward")
        );
        assert_eq!(
            configured_helper("  credentials_helper \"credstore\" {\n args = []\n}\n").as_deref(),
            Some("credstore")
        );
    }
}
