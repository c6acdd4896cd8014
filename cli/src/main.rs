//! `keyward`: the user's tool for the vault. `main` only parses arguments,
//! calls [`run`] and maps the error to an exit code and one line on stderr.
#![forbid(unsafe_code)]

mod commands;
mod exit;
mod password;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "keyward",
    version,
    about = "Keep passwords and tokens for git and docker in an encrypted vault, unlocked once per session",
    after_help = exit::EXIT_CODES_HELP
)]
pub(crate) struct Cli {
    /// Vault file (default: $KEYWARD_VAULT, else `vault_path` from the config,
    /// else $XDG_DATA_HOME/keyward/vault, else ~/.local/share/keyward/vault).
    #[arg(long, global = true, value_name = "PATH")]
    pub vault: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// Each subcommand's arguments live in `commands` (or its own module, e.g. `pam`).
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a new, empty vault (asks for the vault password twice).
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Init(commands::InitArgs),
    /// Derive the vault key once and cache it in the kernel keyring for the helpers.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Unlock(commands::UnlockArgs),
    /// Remove the cached vault key from the kernel keyring now.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Lock,
    /// Show the vault path and whether it is unlocked (and for how long).
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Status,
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            std::process::exit(code);
        }
    };
    match commands::run(cli) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("keyward: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
