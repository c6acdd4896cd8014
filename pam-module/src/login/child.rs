//! The child's side: running as the user, it reads the vault header, hands it
//! to the parent, and caches or rewraps with what comes back.

use super::*;

/// What the child tells the parent after reading the header.
pub(super) struct HeaderMsg {
    pub(super) header: Vec<u8>,
    /// The user's `unlock_timeout`.
    pub(super) timeout: Duration,
    /// The user's `[kdf]` (for rewrapping).
    pub(super) kdf: KdfParams,
    pub(super) path: PathBuf,
}

impl HeaderMsg {
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut v = self.header.clone();
        v.extend_from_slice(&self.timeout.as_secs().to_le_bytes());
        v.push(self.kdf.log_n);
        v.extend_from_slice(&self.kdf.r.to_le_bytes());
        v.extend_from_slice(&self.kdf.p.to_le_bytes());
        v.extend_from_slice(self.path.as_os_str().as_encoded_bytes());
        v
    }

    pub(super) fn decode(v: &[u8]) -> Option<HeaderMsg> {
        let fixed = HEADER_LEN + 8 + 9;
        if v.len() < fixed {
            return None;
        }
        let u32_at = |i: usize| v[i..i + 4].try_into().ok().map(u32::from_le_bytes);
        let t = HEADER_LEN;
        let timeout = Duration::from_secs(u64::from_le_bytes(v[t..t + 8].try_into().ok()?));
        let kdf = KdfParams {
            log_n: v[t + 8],
            r: u32_at(t + 9)?,
            p: u32_at(t + 13)?,
        };
        kdf.check().ok()?;
        let path = PathBuf::from(String::from_utf8_lossy(&v[fixed..]).into_owned());
        Some(HeaderMsg {
            header: v[..HEADER_LEN].to_vec(),
            timeout,
            kdf,
            path,
        })
    }
}

/// The child's whole life, as the user. Returns its exit code.
pub fn child_main(
    job: Job,
    home: &Path,
    config_files: &[PathBuf],
    chkpwd: Option<&Path>,
    s: &UnixStream,
) -> u8 {
    let r = if job == Job::Slots {
        slots_job(home, config_files, chkpwd, s)
    } else {
        child_job(job, home, config_files, s)
    };
    match r {
        Ok(()) => EXIT_OK,
        Err(msg) => {
            let _ = send_frame(s, T_ERROR, msg.as_bytes());
            EXIT_FAILED
        }
    }
}

/// What every job starts with: the user's configuration and vault path, and
/// `read` of the vault. `None` once the parent has been told there is
/// nothing to do (login unlock turned off, no vault).
fn users_vault<T>(
    home: &Path,
    files: &[PathBuf],
    s: &UnixStream,
    read: impl FnOnce(&Path) -> keyward_vault::Result<T>,
) -> Result<Option<(Config, PathBuf, T)>, String> {
    let io = |e: std::io::Error| format!("cannot talk to the PAM module: {e}");
    let config = Config::load_for_home(files, home).map_err(|e| e.to_string())?;
    if !config.login_unlock {
        let why = "login_unlock = false in the user's configuration";
        send_frame(s, T_NOTHING, why.as_bytes()).map_err(io)?;
        return Ok(None);
    }
    let path = config.vault_path_in(home);
    match read(&path) {
        Ok(v) => Ok(Some((config, path, v))),
        Err(keyward_vault::Error::NotFound { .. }) => {
            let why = format!("no vault at {}", path.display());
            send_frame(s, T_NOTHING, why.as_bytes()).map_err(io)?;
            Ok(None)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// The `slots` job: no password from this login; the vault's slots that
/// need no typing (host through `chkpwd`, tpm2 through the TPM the system
/// configuration names) open it here, in the helper running as the user, and
/// the key goes to the user's keyring.
fn slots_job(
    home: &Path,
    files: &[PathBuf],
    chkpwd: Option<&Path>,
    s: &UnixStream,
) -> Result<(), String> {
    let io = |e: std::io::Error| format!("cannot talk to the PAM module: {e}");
    let Some((config, path, sealed)) =
        users_vault(home, files, s, keyward_vault::SealedVault::read)?
    else {
        return Ok(());
    };
    let host = keyward_unlock::HostUnsealer {
        helper: chkpwd.map_or_else(
            || PathBuf::from(keyward_unlock::host::DEFAULT_HELPER),
            Path::to_path_buf,
        ),
    };
    let others = keyward_unlock::default_unsealers();
    let mut unsealers: Vec<&dyn keyward_unlock::Unsealer> = vec![&host];
    unsealers.extend(
        others
            .iter()
            .filter(|u| u.kind() != keyward_vault::SlotKind::Host)
            .map(|u| u.as_ref()),
    );
    match keyward_unlock::open_without_typing(sealed, &unsealers).map_err(|e| e.to_string())? {
        keyward_unlock::NoTyping::Opened(mut vault) => {
            vault.check_rollback().map_err(|e| e.to_string())?;
            let timeout = config.unlock_timeout;
            keyring::store(&vault.id(), vault.key(), timeout).map_err(|e| e.to_string())?;
            keyward_audit::record_with(&config.audit, &vault, keyward_audit::Action::Unlock, None);
            let msg = format!(
                "unlocked {} through a slot that needs no typing, for {}",
                path.display(),
                format_duration(timeout)
            );
            send_frame(s, T_OK, msg.as_bytes()).map_err(io)
        }
        keyward_unlock::NoTyping::Still(_, tried) => {
            let why = if tried.failures.is_empty() {
                "the vault has no slot that opens without typing (`keyward enroll host`)"
                    .to_string()
            } else {
                tried.failures.join("; ")
            };
            send_frame(s, T_NOTHING, why.as_bytes()).map_err(io)
        }
    }
}

pub(super) fn child_job(
    job: Job,
    home: &Path,
    files: &[PathBuf],
    s: &UnixStream,
) -> Result<(), String> {
    let io = |e: std::io::Error| format!("cannot talk to the PAM module: {e}");
    let Some((config, path, header)) = users_vault(home, files, s, vl::read_header)? else {
        return Ok(());
    };
    let id = vl::header_id(&path, &header).map_err(|e| e.to_string())?;
    if job == Job::Lock {
        // Recorded while the key is still cached, so the entry is sealed.
        keyward_audit::record_at_with(&config.audit, &path, keyward_audit::Action::Lock);
        let msg = match keyring::revoke(&id).map_err(|e| e.to_string())? {
            true => format!("locked {}", path.display()),
            false => format!("{} was not unlocked", path.display()),
        };
        return send_frame(s, T_OK, msg.as_bytes()).map_err(io);
    }
    let hello = HeaderMsg {
        header,
        timeout: config.unlock_timeout,
        kdf: config.kdf,
        path: path.clone(),
    };
    send_frame(s, T_HEADER, &hello.encode()).map_err(io)?;
    // The parent closes the socket when it cannot go on, after saying so
    // when the password does not unwrap the key (a failed unlock, audited).
    let Some((tag, len)) = recv_head(s).map_err(io)? else {
        return Ok(());
    };
    if tag == T_WRONG {
        keyward_audit::record_at_with(&config.audit, &path, keyward_audit::Action::UnlockFailed);
        return Ok(());
    }
    let want = match job {
        Job::Unlock => KEY_LEN + 8,
        _ => KEY_LEN + WRAP_WIRE_LEN,
    };
    if tag != T_KEY || len != want {
        return Err("unexpected message from the PAM module".into());
    }
    let msg = recv_secret(s, len)?;
    let m = msg.expose_secret();
    let key = VaultKey::from_bytes(&m[..KEY_LEN]).map_err(|e| e.to_string())?;
    // Authenticates the whole file under the key, with the usual checks.
    let mut vault = Vault::open_with_key(&path, key).map_err(|e| e.to_string())?;
    if vault.id() != id {
        return Err(format!("{} was replaced during login", path.display()));
    }
    let done = match job {
        Job::Unlock => {
            let mut t = [0u8; 8];
            t.copy_from_slice(&m[KEY_LEN..]);
            let timeout = Duration::from_secs(u64::from_le_bytes(t).max(1));
            keyring::store(&id, vault.key(), timeout).map_err(|e| e.to_string())?;
            keyward_audit::record_with(&config.audit, &vault, keyward_audit::Action::Unlock, None);
            format!(
                "unlocked {} for {}",
                path.display(),
                format_duration(timeout)
            )
        }
        _ => {
            let wire = SecretBytes::from_slice(&m[KEY_LEN..]).map_err(|e| e.to_string())?;
            let wrap = NewWrap::from_wire(&wire).map_err(|e| e.to_string())?;
            vault.rewrap(&wrap).map_err(|e| e.to_string())?;
            keyward_audit::record_with(&config.audit, &vault, keyward_audit::Action::Rekey, None);
            // The vault has a new key now: a cached unlock gets it.
            let cached = match keyring::replace(&vault.id(), vault.key()) {
                Ok(true) => "; the cached unlock holds the new key",
                Ok(false) => "",
                Err(_) => "; the cached unlock could not be updated",
            };
            format!(
                "rekeyed {} under the new login password{cached}",
                path.display()
            )
        }
    };
    send_frame(s, T_OK, done.as_bytes()).map_err(io)
}
