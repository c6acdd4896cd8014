//! `keyward`: the user's tool for the vault. The binary (`src/main.rs`) only
//! calls [`main`], which parses arguments, runs the command and maps the error
//! to an exit code and one line on stderr. [`command`] gives the clap
//! definition to the man page and completion generator (`packaging/gen`), so
//! the shipped binary carries no generator code.
#![forbid(unsafe_code)]

mod commands;
mod doctor;
mod exit;
mod generate;
mod import;
mod json;
mod log;
mod pam;
mod password;
mod secretfile;
mod secrets;

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
    /// List records: metadata only, never secrets.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    List(commands::ListArgs),
    /// Remove the records for a host.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Rm(commands::RmArgs),
    /// Change the vault password (the vault key is rewrapped; records are untouched).
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Passwd(commands::PasswdArgs),
    /// Import plaintext credentials from git's credential store or docker's config.json.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Import(import::ImportArgs),
    /// Check secure memory, RLIMIT_MEMLOCK, the keyring, core dumps and file permissions.
    /// Exits 1 if any check needs a fix.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Doctor,
    /// Store a named secret (e.g. `restic/backup-1`), asked twice on the terminal or read from --secret-fd.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Set(secrets::SetArgs),
    /// Print a named secret and a newline (for tools that run a password command).
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Get(secrets::GetArgs),
    /// Generate a random secret into locked memory and store it under NAME (rotates an existing one).
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Generate(generate::GenerateArgs),
    /// Show the audit trail of record uses, or check its HMAC chain (--verify).
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Log(log::LogArgs),
    /// Manage the password database of pam_keyward.so (/etc/keyward/shadow).
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Pam(pam::PamArgs),
}

/// The whole `keyward` command-line definition (for man pages and completions).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Parses the arguments, runs the command and exits with its code.
pub fn main() {
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
