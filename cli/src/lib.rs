//! `keyward`: the user's tool for the vault. The binaries only call
//! [`main_quick`] (`keyward`, `src/main.rs`) or [`main`] (`keyward-cli`),
//! which parse arguments, run the command and map the error to an exit code
//! and one line on stderr. [`command`] gives the clap
//! definition to the man page and completion generator (`packaging/gen`), so
//! the shipped binary carries no generator code.
#![forbid(unsafe_code)]

mod cmd;
mod ctx;
pub mod date;
mod exit;
mod named;
mod password;
mod secretfile;

use crate::ctx::Ctx;
use crate::exit::Result;
use clap::{Parser, Subcommand};
use keyward_vault::Config;
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

/// Each subcommand's arguments live in its module under `cmd/`.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a new, empty vault (asks for the vault password twice).
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Init(cmd::init::InitArgs),
    /// Derive the vault key once and cache it in the kernel keyring for the helpers.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Unlock(cmd::unlock::UnlockArgs),
    /// Remove the cached vault key from the kernel keyring now.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Lock,
    /// Show the vault path and whether it is unlocked (and for how long).
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Status,
    /// List records: metadata only, never secrets.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    List(cmd::list::ListArgs),
    /// Remove the records for a host.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Rm(cmd::rm::RmArgs),
    /// Change the vault password: a new vault key, every record re-encrypted under it.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Passwd(cmd::passwd::PasswdArgs),
    /// Give the vault a new key (every record re-encrypted) and the configured
    /// [kdf] cost, keeping the password.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Rekey(cmd::passwd::RekeyArgs),
    /// Add a key slot: the host key (no typing on this machine), a recovery
    /// key (shown once) or the TPM. Needs the vault unlocked or its password.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Enroll(cmd::slots::EnrollArgs),
    /// List the vault's key slots (no secrets).
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Slots(cmd::slots::SlotsArgs),
    /// Remove a key slot (never the last one).
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Unenroll(cmd::slots::UnenrollArgs),
    /// Configure a client to use keyward, keeping the rest of its configuration.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Setup(cmd::setup::SetupArgs),
    /// Restore the previous generation of a damaged vault (saying which
    /// records that loses), or accept an older copy put back on purpose.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Recover(cmd::recover::RecoverArgs),
    /// Import plaintext credentials from git's credential store or docker's config.json.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Import(cmd::import::ImportArgs),
    /// Check secure memory, RLIMIT_MEMLOCK, the keyring, core dumps and file permissions.
    /// Exits 1 if any check needs a fix.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Doctor,
    /// Manage the password database of pam_keyward.so (/etc/keyward/shadow).
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Pam(cmd::pam::PamArgs),
    /// Store a named secret (e.g. `restic/backup-1`), asked twice on the terminal or read from --secret-fd.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Set(cmd::set::SetArgs),
    /// Print a named secret and a newline (for tools that run a password command).
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Get(cmd::get::GetArgs),
    /// Generate a random secret into locked memory and store it under NAME (rotates an existing one).
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Generate(cmd::generate::GenerateArgs),
    /// Answer an SSH_ASKPASS prompt with a named secret (`keyward askpass NAME "$@"` in the SSH_ASKPASS script).
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Askpass(cmd::askpass::AskpassArgs),
    /// Run a command with named secrets in its environment (`--env GH_TOKEN=github/token -- gh ...`).
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Exec(cmd::exec::ExecArgs),
    /// Print an AWS profile's credentials as `credential_process` JSON (set up by `keyward import aws`).
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Aws(cmd::aws::AwsArgs),
    /// kubectl's exec credential plugin: print an ExecCredential for kubeconfig user NAME
    /// from the vault (`keyward import kube` sets it up).
    #[command(name = "kube-credential", after_help = exit::EXIT_CODES_HELP)]
    KubeCredential(cmd::kube::KubeCredentialArgs),
    /// pnpm's token helper: print `Bearer TOKEN` for REGISTRY_URL from the vault
    /// (`keyward setup pnpm` writes the helper that runs it).
    #[command(name = "npm-token", after_help = exit::EXIT_CODES_HELP)]
    NpmToken(cmd::npm::NpmTokenArgs),
    /// pnpm's token helper run from a helper file's `#!` line: print `Bearer TOKEN`
    /// for the registry the file names (`keyward setup pnpm` writes it).
    #[command(name = "npm-token-helper", after_help = exit::EXIT_CODES_HELP)]
    NpmTokenHelper(cmd::npm::NpmTokenHelperArgs),
    /// Show the audit trail of record uses, or check its HMAC chain (--verify).
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Log(cmd::log::LogArgs),
}

/// The whole `keyward` command-line definition (for man pages and completions).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// The calls other programs make once per use, `VERB ARG` and nothing else
/// (`kube-credential NAME`, `npm-token URL`, `npm-token-helper FILE`, `get
/// NAME`, `aws PROFILE`), parsed without clap: building clap's command tree
/// (every subcommand's arguments) and wiping it on drop was 60 % of the
/// instructions of a `keyward kube-credential` call. Anything else (an
/// option, a value starting with `-`, more or fewer arguments, bytes that
/// are not UTF-8) returns `None` and goes to clap, so what clap would accept
/// here parses to the same [`Cli`].
fn parse_quick(mut args: impl Iterator<Item = std::ffi::OsString>) -> Option<Cli> {
    let (_, verb, arg) = (args.next()?, args.next()?, args.next()?);
    if args.next().is_some() {
        return None;
    }
    let arg = arg.into_string().ok().filter(|a| !a.starts_with('-'))?;
    let command = match verb.to_str()? {
        "kube-credential" => Command::KubeCredential(cmd::kube::KubeCredentialArgs { name: arg }),
        "npm-token" => Command::NpmToken(cmd::npm::NpmTokenArgs { registry: arg }),
        "npm-token-helper" => Command::NpmTokenHelper(cmd::npm::NpmTokenHelperArgs {
            file: PathBuf::from(arg),
        }),
        "get" => Command::Get(cmd::get::GetArgs {
            name: arg,
            previous: false,
        }),
        "aws" => Command::Aws(cmd::aws::AwsArgs { profile: arg }),
        _ => return None,
    };
    Some(Cli {
        vault: None,
        command,
    })
}

/// `keyward-cli`: parses the arguments, runs the command and exits with its
/// code. Every command runs here, tpm2 slots unsealed in this process.
pub fn main() {
    // `keyward unseal-tpm2`, exactly: run by the credential helpers, not a
    // command for people (not in clap's tree, help, man page or completions).
    let mut args = std::env::args_os().skip(1);
    if let (Some(verb), None) = (args.next(), args.next()) {
        if verb == keyward_unlock::tpm2_child::UNSEAL_VERB {
            finish(unseal_tpm2());
            return;
        }
    }
    let cli = match parse_quick(std::env::args_os()).map_or_else(Cli::try_parse, Ok) {
        Ok(c) => c,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            std::process::exit(code);
        }
    };
    finish(run(cli));
}

/// Where the packages install `keyward-cli` (beside the PAM module's helpers).
pub const DEFAULT_FULL_CLI: &str = "/usr/libexec/keyward/keyward-cli";

/// `keyward` (`src/main.rs`): runs the calls other programs make once per use
/// (`parse_quick`: kubectl's exec plugin, pnpm's token helper, a password
/// command's `get NAME`, AWS's `credential_process`), and becomes
/// `keyward-cli` (`exec`, the same arguments) for every other command.
///
/// Only `keyward-cli` links keyward-tpm, and through it libtss2 and
/// libcrypto, which the dynamic loader maps and relocates at every start of
/// a process that links them, TPM or not: about 1.7 ms on the VM of
/// docs/benchmarks.md, more than the rest of a `kube-credential` call. Here a
/// tpm2 slot is unsealed in a child when the vault is locked, as the
/// credential helpers do ([`keyward_unlock::wire_tpm2_child`]).
pub fn main_quick() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match parse_quick(args.iter().cloned()) {
        Some(cli) => finish(run_quick(cli)),
        None => exec_full_cli(&args),
    }
}

/// Becomes `keyward-cli` with this process's arguments: the one near this
/// program ([`keyward_unlock::sibling_program`]: a build's target directory,
/// a package unpacked or installed under another root), else
/// [`DEFAULT_FULL_CLI`].
fn exec_full_cli(args: &[std::ffi::OsString]) -> ! {
    use std::os::unix::process::CommandExt;
    let full = keyward_unlock::sibling_program("keyward-cli")
        .unwrap_or_else(|| PathBuf::from(DEFAULT_FULL_CLI));
    let mut c = std::process::Command::new(&full);
    if let Some(arg0) = args.first() {
        c.arg0(arg0);
    }
    let e = c.args(args.iter().skip(1)).exec();
    eprintln!("keyward: cannot run {}: {e}", full.display());
    std::process::exit(if e.kind() == std::io::ErrorKind::NotFound {
        127
    } else {
        126
    });
}

/// Prints a command's error (one line) and exits with its code.
fn finish(result: Result<()>) {
    if let Err(e) = result {
        eprintln!("keyward: {}", ctx::for_terminal(&e.to_string(), true));
        std::process::exit(e.exit_code());
    }
}

/// Hardens the process, loads the configuration and finds the vault.
fn prepare(vault: Option<PathBuf>, command: &Command) -> Result<Ctx> {
    if let Err(e) = keyward_secmem::harden_process() {
        eprintln!("keyward: warning: {e}; run `keyward doctor`");
    }
    let config = Config::load()?;
    keyward_secmem::set_policy(config.memory_lock);
    keyward_audit::use_config(&config);
    let vault = match vault {
        Some(p) => Ok(p),
        None => config.vault_path(),
    };
    // Doctor runs every check it can even when the vault cannot be found.
    let (vault, vault_unknown) = match (vault, command) {
        (Ok(v), _) => (v, None),
        (Err(e), Command::Doctor) => (PathBuf::new(), Some(e.to_string())),
        (Err(e), _) => return Err(e.into()),
    };
    Ok(Ctx {
        config,
        vault,
        vault_unknown,
    })
}

/// `keyward unseal-tpm2` ([`cmd::slots::unseal_for_helper`]): hardened, with
/// the configured memory-lock policy; the vault is not read.
fn unseal_tpm2() -> Result<()> {
    if let Err(e) = keyward_secmem::harden_process() {
        eprintln!("keyward: warning: {e}; run `keyward doctor`");
    }
    keyward_secmem::set_policy(Config::load()?.memory_lock);
    cmd::slots::unseal_for_helper()
}

/// [`parse_quick`]'s commands, in `keyward` ([`main_quick`]).
fn run_quick(cli: Cli) -> Result<()> {
    let ctx = prepare(cli.vault, &cli.command)?;
    // tpm2 slots in the unlock policy, unsealed by `keyward-cli` in a child.
    keyward_unlock::wire_tpm2_child();
    let result = match cli.command {
        Command::Get(a) => cmd::get::run(&ctx, a),
        Command::Aws(a) => cmd::aws::run(&ctx, a),
        Command::KubeCredential(a) => cmd::kube::credential(&ctx, a),
        Command::NpmToken(a) => cmd::npm::token(&ctx, a),
        Command::NpmTokenHelper(a) => cmd::npm::token_helper(&ctx, a),
        _ => Err(exit::CliError::Usage(
            "not a command `keyward` runs itself: run keyward-cli".into(),
        )),
    };
    if let Err(exit::CliError::Vault(e)) = &result {
        keyward_audit::note_failure(e);
    }
    result
}

/// Hardens the process, loads the configuration and runs the subcommand.
fn run(cli: Cli) -> Result<()> {
    let before = cmd::doctor::before();
    let ctx = prepare(cli.vault, &cli.command)?;
    // tpm2 slots in the unlock policy (TCTI: KEYWARD_TPM2_TCTI, else tpm2_tcti).
    keyward_tpm::slot::wire();
    let result = match cli.command {
        Command::Init(a) => cmd::init::run(&ctx, a),
        Command::Unlock(a) => cmd::unlock::run(&ctx, a),
        Command::Lock => cmd::lock::run(&ctx),
        Command::Status => cmd::status::run(&ctx),
        Command::List(a) => cmd::list::run(&ctx, a),
        Command::Rm(a) => cmd::rm::run(&ctx, a),
        Command::Passwd(a) => cmd::passwd::run(&ctx, a),
        Command::Rekey(a) => cmd::passwd::rekey(&ctx, a),
        Command::Enroll(a) => cmd::slots::enroll(&ctx, a),
        Command::Slots(a) => cmd::slots::list(&ctx, a),
        Command::Unenroll(a) => cmd::slots::unenroll(&ctx, a),
        Command::Import(a) => cmd::import::run(&ctx, a),
        Command::Recover(a) => cmd::recover::run(&ctx, a),
        Command::Setup(a) => cmd::setup::run(&ctx, a),
        Command::Doctor => cmd::doctor::run(&ctx, before),
        Command::Pam(a) => cmd::pam::run(&ctx, a),
        Command::Set(a) => cmd::set::run(&ctx, a),
        Command::Get(a) => cmd::get::run(&ctx, a),
        Command::Generate(a) => cmd::generate::run(&ctx, a),
        Command::Log(a) => cmd::log::run(&ctx, a),
        Command::Exec(a) => cmd::exec::run(&ctx, a),
        Command::Askpass(a) => cmd::askpass::run(&ctx, a),
        Command::Aws(a) => cmd::aws::run(&ctx, a),
        Command::KubeCredential(a) => cmd::kube::credential(&ctx, a),
        Command::NpmToken(a) => cmd::npm::token(&ctx, a),
        Command::NpmTokenHelper(a) => cmd::npm::token_helper(&ctx, a),
    };
    if let Err(exit::CliError::Vault(e)) = &result {
        keyward_audit::note_failure(e);
    }
    result
}
