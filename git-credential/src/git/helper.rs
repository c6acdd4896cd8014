//! The helper's actions over the vault: `get`, `store`, `erase`, `capability`.

use super::matching::{self, StoredKey};
use super::proto::{self, Action, ProtocolError, Request};
use crate::output;
use keyward_audit::{Action as Audit, Target};
use keyward_secmem::{ExposeSecret, SecretBytes};
use keyward_unlock::HelperOpen;
use keyward_vault::{Entry, Kind, NewEntry, Secrets, Vault};
use std::ffi::OsString;
use std::os::fd::AsFd;

/// What `capability` prints: protocol version 0, and `authtype` (which covers
/// `authtype`, `credential` and `ephemeral`). keyward keeps no `state[]`.
pub const CAPABILITIES: &[u8] = b"version 0\ncapability authtype\n";

/// Why the helper failed. Messages are one line and never hold a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HelperError {
    /// Not called as `git-credential-keyward ACTION`.
    #[error("usage: git-credential-keyward [--vault PATH] get|store|erase|capability (run by git: git config --global credential.helper keyward)")]
    Usage,
    /// The request is malformed.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The vault could not be opened, read or written.
    #[error(transparent)]
    Vault(#[from] keyward_vault::Error),
    /// Secure memory could not be allocated.
    #[error(transparent)]
    Secmem(#[from] keyward_secmem::Error),
    /// A `store` without the fields a credential needs.
    #[error("store needs protocol, host or path, username and password (or authtype and credential with capability[]=authtype): nothing stored")]
    Incomplete,
    /// An `erase` that names nothing.
    #[error("refusing to erase with no protocol, host, path or username: that would erase every git credential")]
    EmptyErase,
    /// A stored value cannot be sent (it holds a newline).
    #[error("a stored `{0}` holds a newline and cannot be sent to git; erase and store it again")]
    Unsendable(&'static str),
    /// Standard output is gone.
    #[error("cannot write to standard output: {0}")]
    Output(#[source] std::io::Error),
}

impl HelperError {
    /// The process exit code: 2 for usage errors, 5 for a vault that is
    /// damaged or older than one seen before (as `keyward`), 1 for
    /// everything else.
    pub fn exit_code(&self) -> i32 {
        use keyward_vault::Error as V;
        match self {
            HelperError::Usage => 2,
            HelperError::Vault(V::Corrupt { .. } | V::Rollback { .. }) => 5,
            _ => 1,
        }
    }
}

/// Runs the helper with its command-line arguments (without the program name):
/// `[--vault PATH | --vault=PATH] ACTION`, the option given in
/// `credential.helper` as `credential-store --file` is
/// (`git config credential.helper 'keyward --vault ~/work.vault'`).
pub fn run(args: &[OsString]) -> Result<(), HelperError> {
    let (vault, arg) = match args {
        [arg] => (None, arg),
        [opt, path, arg] if opt == "--vault" => (Some(std::path::PathBuf::from(path)), arg),
        [opt, arg] => match opt.to_str().and_then(|o| o.strip_prefix("--vault=")) {
            Some(p) if !p.is_empty() => (Some(std::path::PathBuf::from(p)), arg),
            _ => return Err(HelperError::Usage),
        },
        _ => return Err(HelperError::Usage),
    };
    let action = Action::from_arg(arg.to_str().unwrap_or(""));
    match action {
        Action::Unknown => return Ok(()),
        Action::Capability => {
            return output::write_stdout(CAPABILITIES).map_err(HelperError::Output)
        }
        Action::Get | Action::Store | Action::Erase => {}
    }
    // No core dumps, no ptrace by the user's other processes, from here on.
    keyward_secmem::harden_process()?;
    // The configured memory-lock policy applies before the first secret.
    let config = keyward_vault::Config::load()?;
    keyward_secmem::set_policy(config.memory_lock);
    keyward_audit::use_config(&config);
    let opts = HelperOpen {
        vault,
        config: Some(config),
        cache_after_prompt: true,
        ..HelperOpen::default()
    };
    let req = {
        let stdin = std::io::stdin();
        let input = proto::read_request(stdin.as_fd())?;
        Request::parse(input.expose_secret())?
    };
    let result = match action {
        Action::Get => get(&req, opts),
        Action::Store => store(&req, opts),
        Action::Erase => erase(&req, opts),
        Action::Capability | Action::Unknown => Ok(()),
    };
    if let Err(HelperError::Vault(e)) = &result {
        keyward_audit::note_failure(e);
    }
    result
}

fn key_ref<'a>(e: &keyward_vault::EntryRef<'a>) -> StoredKey<'a> {
    StoredKey {
        protocol: e.protocol.as_bytes(),
        host: e.host.as_bytes(),
        path: e.path.as_bytes(),
        username: e.username.as_bytes(),
    }
}

/// An entry stored from `authtype` + `credential` without a password (its
/// password is an empty placeholder, not a value to hand out; a username
/// stored with the credential is kept and matched, as git's credential-cache
/// does).
fn credential_only(e: &Entry, s: &Secrets) -> bool {
    e.authtype.is_some() && s.password.is_empty()
}

/// The match to return: the most recently stored one. `store` keeps the
/// vault in storing order (a replaced entry moves to the end), so that is the
/// last match. Scans the index's bytes: no allocation per record.
fn find(req: &Request, vault: &Vault) -> Option<usize> {
    vault
        .entry_keys()
        .enumerate()
        .rev()
        .find(|(_, e)| {
            let credential_only = e.has_authtype && e.username.is_empty();
            e.kind == Kind::Git
                && matching::matches(
                    req,
                    StoredKey {
                        protocol: e.protocol,
                        host: e.host,
                        path: e.path,
                        username: e.username,
                    },
                )
                && (!credential_only || req.wants_authtype())
        })
        .map(|(i, _)| i)
}

fn get(req: &Request, opts: HelperOpen) -> Result<(), HelperError> {
    let Some(vault) = keyward_unlock::open_for_helper_if_exists(opts)? else {
        return Ok(());
    };
    let Some(i) = find(req, &vault) else {
        return Ok(());
    };
    let Some(entry) = vault.entry(i) else {
        return Ok(());
    };
    let secrets = vault.reveal(i)?;
    let out = render(req, &entry, &secrets)?;
    drop(secrets);
    keyward_audit::record(
        &vault,
        Audit::Get,
        Some(Target::new(Kind::Git, &entry.host)),
    );
    output::write_secret_stdout(&out).map_err(HelperError::Output)
}

/// The `get` answer, assembled in locked memory.
fn render(req: &Request, e: &Entry, s: &Secrets) -> Result<SecretBytes, HelperError> {
    let mut out = SecretBytes::with_capacity(
        256 + e.username.len()
            + s.password.len()
            + s.oauth_refresh_token.as_ref().map_or(0, SecretBytes::len)
            + s.credential.as_ref().map_or(0, SecretBytes::len),
    )?;
    let mut put = |k: &'static str, v: &[u8]| -> Result<(), HelperError> {
        if v.contains(&b'\n') || v.contains(&0) {
            return Err(HelperError::Unsendable(k));
        }
        for part in [k.as_bytes(), b"=", v, b"\n"] {
            out.extend_from_slice(part)?;
        }
        Ok(())
    };
    if req.wants_authtype() {
        put("capability[]", b"authtype")?;
        if let (Some(authtype), Some(credential)) = (&e.authtype, &s.credential) {
            put("authtype", authtype.as_bytes())?;
            put("credential", credential.expose_secret())?;
        }
    }
    // As git's credential-cache answers: the username when one is stored,
    // the password when one is.
    if !credential_only(e, s) {
        put("username", e.username.as_bytes())?;
        put("password", s.password.expose_secret())?;
    } else if !e.username.is_empty() {
        put("username", e.username.as_bytes())?;
    }
    if let Some(t) = e.password_expiry_utc {
        put("password_expiry_utc", t.to_string().as_bytes())?;
    }
    if let Some(t) = &s.oauth_refresh_token {
        put("oauth_refresh_token", t.expose_secret())?;
    }
    Ok(out)
}

fn copy(s: &Option<SecretBytes>) -> Result<Option<SecretBytes>, HelperError> {
    s.as_ref()
        .map(SecretBytes::try_clone)
        .transpose()
        .map_err(HelperError::from)
}

fn store(req: &Request, opts: HelperOpen) -> Result<(), HelperError> {
    let with_credential =
        req.wants_authtype() && req.authtype.is_some() && req.credential.is_some();
    let with_password = req.username.is_some() && req.password.is_some();
    let Some(protocol) = &req.protocol else {
        return Err(HelperError::Incomplete);
    };
    if (req.host.is_none() && req.path.is_none()) || !(with_password || with_credential) {
        return Err(HelperError::Incomplete);
    }
    if req.ephemeral {
        // git still calls `store` for ephemeral credentials; they are not kept.
        return Ok(());
    }
    let entry = NewEntry {
        kind: Kind::Git,
        protocol: protocol.clone(),
        host: req.host.clone().unwrap_or_default(),
        path: req.path.clone().unwrap_or_default(),
        // Kept with a credential too: a later `get` naming the user matches.
        username: req.username.clone().unwrap_or_default(),
        password: match (&req.password, with_password) {
            (Some(p), true) => p.try_clone()?,
            _ => SecretBytes::with_capacity(0)?,
        },
        password_expiry_utc: req.password_expiry_utc,
        oauth_refresh_token: copy(&req.oauth_refresh_token)?,
        authtype: if with_credential {
            req.authtype.clone()
        } else {
            None
        },
        credential: if with_credential {
            copy(&req.credential)?
        } else {
            None
        },
    };
    let host = entry.host.clone();
    let mut vault = keyward_unlock::open_for_helper(opts)?;
    vault.update(|txn| {
        // Replace by removing and appending, so the vault stays in storing
        // order and `get` can tell the most recent of several users.
        if let Some(i) = txn.position(|e| e.same_identity_as(&entry)) {
            txn.remove(i)?;
        }
        txn.upsert(entry)?;
        Ok(())
    })?;
    keyward_audit::record(&vault, Audit::Store, Some(Target::new(Kind::Git, &host)));
    Ok(())
}

/// Whether entry `i`'s secrets are the ones named by the request (when it
/// names a password or credential at all).
fn secrets_match(
    req: &Request,
    vault_reveal: impl FnOnce() -> keyward_vault::Result<Secrets>,
) -> keyward_vault::Result<bool> {
    let want_credential = req.credential.as_ref().filter(|_| req.wants_authtype());
    if req.password.is_none() && want_credential.is_none() {
        return Ok(true);
    }
    let s = vault_reveal()?;
    let password_ok = req.password.as_ref().is_none_or(|p| p.ct_eq(&s.password));
    let credential_ok =
        want_credential.is_none_or(|c| s.credential.as_ref().is_some_and(|sc| c.ct_eq(sc)));
    Ok(password_ok && credential_ok)
}

fn erase(req: &Request, opts: HelperOpen) -> Result<(), HelperError> {
    if req.is_empty_pattern() {
        return Err(HelperError::EmptyErase);
    }
    let Some(mut vault) = keyward_unlock::open_for_helper_if_exists(opts)? else {
        return Ok(());
    };
    if !vault
        .entry_refs()
        .any(|e| e.kind == Kind::Git && matching::matches(req, key_ref(&e)))
    {
        return Ok(());
    }
    erase_matches(&mut vault, req)?;
    let host = req.host.as_deref().unwrap_or("*");
    keyward_audit::record(&vault, Audit::Erase, Some(Target::new(Kind::Git, host)));
    Ok(())
}

fn erase_matches(vault: &mut Vault, req: &Request) -> Result<(), HelperError> {
    vault.update(|txn| {
        let mut i = txn.len();
        while i > 0 {
            i -= 1;
            let Some(e) = txn.entry_ref(i) else { continue };
            if e.kind != Kind::Git || !matching::matches(req, key_ref(&e)) {
                continue;
            }
            if secrets_match(req, || txn.reveal(i))? {
                txn.remove(i)?;
            }
        }
        Ok(())
    })?;
    Ok(())
}
