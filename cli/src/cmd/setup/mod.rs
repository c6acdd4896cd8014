//! `keyward setup git|docker|podman|terraform|pnpm`: point a client at keyward's helper without losing
//! what its configuration already holds. One module per client; each
//! changes only its own setting, says what it replaced, and warns about
//! plaintext that stays configured.

use crate::ctx::Ctx;
use crate::exit::Result;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

mod docker;
mod git;
mod podman;
mod tools;

pub(crate) use tools::{append, find_program, home};

#[derive(Debug, Args)]
pub(crate) struct SetupArgs {
    #[command(subcommand)]
    pub client: SetupClient,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SetupClient {
    /// git: `credential.helper = keyward` in your global git configuration
    /// (the helpers it replaces are named; `store` left anywhere is warned about).
    #[command(after_help = crate::exit::EXIT_CODES_HELP)]
    Git,
    /// docker CLI and docker-py: `"credsStore": "keyward"` merged into
    /// config.json ($DOCKER_CONFIG or ~/.docker), every other key kept, the
    /// old file saved beside it as config.json.before-keyward.
    #[command(after_help = crate::exit::EXIT_CODES_HELP)]
    Docker,
    /// podman, skopeo and buildah: a registries.conf drop-in
    /// (~/.config/containers/registries.conf.d/50-keyward.conf) asking keyward
    /// first for every registry, then the auth files.
    #[command(after_help = crate::exit::EXIT_CODES_HELP)]
    Podman,
    /// Terraform/OpenTofu: link terraform-credentials-keyward into
    /// ~/.terraform.d/plugins and add `credentials_helper "keyward" {}` to the
    /// CLI configuration ($TF_CLI_CONFIG_FILE, else ~/.terraformrc).
    #[command(after_help = crate::exit::EXIT_CODES_HELP)]
    Terraform(tools::TerraformArgs),
    /// pnpm: write a token helper for REGISTRY_URL (a script with no secret
    /// that runs `keyward npm-token`) and its `//HOST/PATH/:tokenHelper` line
    /// in ~/.npmrc; the token itself is the named secret `npm/...` (store it
    /// with `keyward set`, or give --secret-fd).
    #[command(after_help = crate::exit::EXIT_CODES_HELP)]
    Pnpm(crate::cmd::npm::SetupPnpmArgs),
}

pub(crate) fn run(ctx: &Ctx, a: SetupArgs) -> Result<()> {
    match a.client {
        SetupClient::Git => git::run(ctx),
        SetupClient::Docker => docker::run(ctx),
        SetupClient::Podman => podman::run(ctx),
        SetupClient::Terraform(t) => tools::terraform(&t),
        SetupClient::Pnpm(p) => crate::cmd::npm::setup(ctx, p),
    }
}

/// One warning line on stderr.
fn warn(line: &str) {
    eprintln!(
        "keyward: warning: {}",
        crate::ctx::for_terminal(line, false)
    );
}

/// `$XDG_CONFIG_HOME` (absolute) else `~/.config`.
fn config_home() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| home_opt().map(|h| h.join(".config")))
}

fn home_opt() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// The trust policy for a client's configuration file: yours, not writable
/// by others (a file others may change could point the client anywhere).
fn trust() -> keyward_trustfs::Trust {
    keyward_trustfs::Trust::system(&[keyward_trustfs::fs_uid()], 0o022)
}

/// `FILE.before-keyward`: a copy of `file` as it was, with its mode.
fn backup(file: &Path, data: &[u8]) -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let mut name = file.as_os_str().to_owned();
    name.push(".before-keyward");
    let copy = PathBuf::from(name);
    let mode = std::fs::metadata(file)
        .map_err(crate::exit::CliError::file(file))?
        .permissions()
        .mode()
        & 0o777;
    trust()
        .write_atomic(&copy, data)
        .map_err(keyward_vault::Error::from)?;
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(mode))
        .map_err(crate::exit::CliError::file(&copy))?;
    Ok(copy)
}
