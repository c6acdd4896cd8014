//! The [`Unsealer`] of host slots: asks the setuid helper `keyward-chkpwd
//! host-key VAULT_ID` for the caller's slot secret (the helper reads the
//! root-only host key; the caller never sees it).

use crate::slots::Unsealer;
use keyward_secmem::{ExposeSecretMut, SecretBytes};
use keyward_vault::{Error, Result, SlotInfo, SlotKind, VaultId};
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Where the helper is installed (pam_keyward.so runs the same program).
pub const DEFAULT_HELPER: &str = "/usr/libexec/keyward/keyward-chkpwd";

/// The host-slot unsealer.
#[derive(Debug, Clone)]
pub struct HostUnsealer {
    /// The setuid helper (`KEYWARD_CHKPWD`, else [`DEFAULT_HELPER`]).
    pub helper: PathBuf,
}

impl Default for HostUnsealer {
    /// The helper named by `KEYWARD_CHKPWD` (the caller's own choice of
    /// which program to run as itself: it grants nothing), else the
    /// installed one.
    fn default() -> Self {
        HostUnsealer {
            helper: std::env::var_os("KEYWARD_CHKPWD")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_HELPER)),
        }
    }
}

impl HostUnsealer {
    /// The caller's host-slot secret for vault `id`; with `create`, the
    /// helper makes the host key first if the machine has none (enrolling).
    /// `Ok(None)` when there is no host key (and `create` was not asked).
    pub fn secret(&self, id: &VaultId, create: bool) -> Result<Option<SecretBytes>> {
        keyward_trustfs::Trust::system(&[0], 0o022)
            .named("host key helper")
            .check_program(&self.helper)?;
        let mut cmd = Command::new(&self.helper);
        cmd.arg("host-key")
            .arg(id.to_hex())
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if create {
            cmd.arg("create");
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| Error::Invalid(format!("cannot run {}: {e}", self.helper.display())))?;
        let mut secret = SecretBytes::zeroed(33)?;
        let mut n = 0;
        if let Some(mut out) = child.stdout.take() {
            while n < secret.len() {
                match out.read(&mut secret.expose_secret_mut()[n..]) {
                    Ok(0) => break,
                    Ok(k) => n += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        }
        let mut said = String::new();
        if let Some(err) = child.stderr.take() {
            let _ = err.take(1024).read_to_string(&mut said);
        }
        let status = child
            .wait()
            .map_err(|e| Error::Invalid(format!("{}: {e}", self.helper.display())))?;
        let line = said.lines().next().unwrap_or("").trim().to_string();
        match status.code() {
            Some(0) if n == 32 => {
                secret.truncate(32);
                Ok(Some(secret))
            }
            Some(9) => Ok(None),
            _ => Err(Error::Invalid(if line.is_empty() {
                format!("{} failed ({status})", self.helper.display())
            } else {
                line
            })),
        }
    }
}

impl Unsealer for HostUnsealer {
    fn kind(&self) -> SlotKind {
        SlotKind::Host
    }

    fn unseal(&self, vault: &VaultId, _slot: &SlotInfo) -> Result<Option<SecretBytes>> {
        self.secret(vault, false)
    }
}
