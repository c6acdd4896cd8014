//! keyward-unlock: the one unlock policy the `keyward` CLI and the credential
//! helpers share: take the vault key from the kernel keyring, else ask on the
//! slots that need no typing (host, tpm2 without a PIN: [`slots`]), else ask
//! on the terminal when one may be used (not with `GIT_TERMINAL_PROMPT=0` or
//! [`HelperOpen::no_prompt`]), else fail at once with a hint. The vault crate
//! below it only stores; the PAM module unlocks through its own login path
//! (`keyward_vault::login`) and does not use this crate.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use keyward_vault::{Config, Error, Result, SealedVault, Vault};
use std::path::PathBuf;
use std::sync::OnceLock;

pub mod host;
pub mod programs;
pub mod slots;
pub mod tpm2_child;

pub use host::HostUnsealer;
pub use programs::sibling_program;
pub use slots::{open_without_typing, NoTyping, SealOptions, Tried, Unsealer};
pub use tpm2_child::{wire_tpm2_child, ChildTpm2Unsealer};

/// Makes the tpm2 [`Unsealer`] (`keyward-tpm`), or `None` when this machine
/// has no TPM.
pub type Tpm2Hook = fn() -> Option<Box<dyn Unsealer>>;

static TPM2: OnceLock<Tpm2Hook> = OnceLock::new();

/// Wires the tpm2 unsealer in (once, at the start of a binary's `main`):
/// from then on [`default_unsealers`] includes it, so every binary that
/// unlocks through this crate tries tpm2 slots. `false` if already wired.
pub fn wire_tpm2(hook: Tpm2Hook) -> bool {
    TPM2.set(hook).is_ok()
}

/// The unsealers of slots that need no typing this build has: host, and
/// tpm2 once wired ([`wire_tpm2`]).
pub fn default_unsealers() -> Vec<Box<dyn Unsealer>> {
    let mut v: Vec<Box<dyn Unsealer>> = vec![Box::new(HostUnsealer::default())];
    if let Some(u) = TPM2.get().and_then(|f| f()) {
        v.push(u);
    }
    v
}

/// Opens through the slots that need no typing with [`default_unsealers`].
pub fn open_with_default_unsealers(sealed: SealedVault) -> Result<NoTyping> {
    let owned = default_unsealers();
    let refs: Vec<&dyn Unsealer> = owned.iter().map(|b| b.as_ref()).collect();
    open_without_typing(sealed, &refs)
}

/// Options for [`open_for_helper`].
#[derive(Debug, Clone, Default)]
pub struct HelperOpen {
    /// Vault path; `None`: [`Config::vault_path`] (KEYWARD_VAULT, config, XDG default).
    pub vault: Option<PathBuf>,
    /// Configuration; `None`: [`Config::load`].
    pub config: Option<Config>,
    /// Never prompt, even when a terminal exists (e.g. docker helpers run by daemons).
    pub no_prompt: bool,
    /// After a successful terminal prompt, cache the key in the keyring for
    /// the configured unlock timeout.
    pub cache_after_prompt: bool,
}

/// Whether prompting on `/dev/tty` is allowed: not disabled by the caller or
/// `GIT_TERMINAL_PROMPT=0`.
fn prompt_allowed(opts: &HelperOpen) -> bool {
    !opts.no_prompt && std::env::var_os("GIT_TERMINAL_PROMPT").is_none_or(|v| v != "0")
}

/// Resolves the vault, takes its key from the kernel keyring; if absent (or no
/// keyring), prompts on `/dev/tty` when allowed; otherwise fails at once with
/// [`Error::Locked`] ("vault is locked: run `keyward unlock`"). Never hangs
/// waiting for input that cannot come. An older generation than one seen
/// before is refused ([`Error::Rollback`], [`Vault::check_rollback`]).
pub fn open_for_helper(opts: HelperOpen) -> Result<Vault> {
    let (mut vault, keyring_generation) = open_unchecked(opts)?;
    match keyring_generation {
        Some(g) => vault.check_rollback_with(g)?,
        None => vault.check_rollback()?,
    }
    Ok(vault)
}

/// The vault, and when it was opened with the cached key, the generation
/// noted beside that key (read with it).
fn open_unchecked(opts: HelperOpen) -> Result<(Vault, Option<Option<u64>>)> {
    let config = match &opts.config {
        Some(c) => c.clone(),
        None => Config::load()?,
    };
    let path = match &opts.vault {
        Some(p) => p.clone(),
        None => config.vault_path()?,
    };
    let sealed = SealedVault::read(&path)?;
    let id = sealed.id();
    // A keyring error (no keyring in this container, seccomp) falls through to the prompt.
    if let Ok(Some((key, generation))) = keyward_vault::keyring::load_with_generation(&id) {
        return Ok((sealed.open_with_key(key)?, Some(generation)));
    }
    // Slots that need no typing (host, tpm2 without a PIN); cached as after
    // a prompt, when the caller asks for that (not `keyward exec`).
    let sealed = match open_with_default_unsealers(sealed)? {
        NoTyping::Opened(vault) => {
            if opts.cache_after_prompt {
                let _ = keyward_vault::keyring::store(&id, vault.key(), config.unlock_timeout);
            }
            return Ok((vault, None));
        }
        NoTyping::Still(sealed, _) => sealed,
    };
    let locked = || Error::Locked { path: path.clone() };
    if !prompt_allowed(&opts) {
        return Err(locked());
    }
    let prompt = format!("keyward: password for vault {}: ", path.display());
    let password = match keyward_secmem::prompt_secret(&prompt) {
        Ok(p) => p,
        Err(keyward_secmem::Error::NoTty) => return Err(locked()),
        Err(e) => return Err(e.into()),
    };
    let vault = sealed.open_with_password(&password)?;
    drop(password);
    if opts.cache_after_prompt {
        // Best effort: the vault is open either way.
        let _ = keyward_vault::keyring::store(&id, vault.key(), config.unlock_timeout);
    }
    Ok((vault, None))
}

/// Like [`open_for_helper`], but `Ok(None)` when no vault file exists yet
/// (`get`/`list` then print nothing).
pub fn open_for_helper_if_exists(opts: HelperOpen) -> Result<Option<Vault>> {
    match open_for_helper(opts) {
        Ok(v) => Ok(Some(v)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}
