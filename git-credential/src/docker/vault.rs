//! Docker credentials in the keyward vault: `Kind::Docker` records whose `host`
//! is the server key verbatim (protocol and path empty) and whose password is
//! the secret.

use super::{Access, Backend, Error};
use keyward_audit::{Action as Audit, Target};
use keyward_secmem::SecretBytes;
use keyward_unlock::{open_for_helper_if_exists, HelperOpen};
use keyward_vault::{Config, Kind, NewEntry, Vault};

/// The vault, seen as a docker credential store.
#[derive(Debug)]
pub struct VaultStore {
    vault: Vault,
    /// Indices (into `vault.entries()`) of the docker records, as `list` returned them.
    docker: Vec<usize>,
}

/// Opens the vault with the cached key (or a terminal prompt when there is
/// one); a locked vault with no terminal fails at once telling the user to run
/// `keyward unlock`. `Ok(None)`: no vault file yet.
pub fn open(config: Config, _access: Access) -> Result<Option<VaultStore>, Error> {
    let opts = HelperOpen {
        vault: None,
        config: Some(config),
        no_prompt: false,
        cache_after_prompt: true,
    };
    Ok(open_for_helper_if_exists(opts)
        .inspect_err(keyward_audit::note_failure)?
        .map(VaultStore::new))
}

impl VaultStore {
    /// Serves docker credentials from an already open vault.
    pub fn new(vault: Vault) -> Self {
        VaultStore {
            vault,
            docker: Vec::new(),
        }
    }
}

impl Backend for VaultStore {
    fn list(&mut self) -> Result<Vec<(String, String)>, Error> {
        // Metadata only: no record's secret is decrypted here.
        let mut out = Vec::new();
        self.docker.clear();
        for (i, e) in self.vault.entry_refs().enumerate() {
            if e.kind == Kind::Docker {
                self.docker.push(i);
                out.push((e.host.to_string(), e.username.to_string()));
            }
        }
        Ok(out)
    }

    fn reveal(&mut self, index: usize) -> Result<SecretBytes, Error> {
        let i = *self
            .docker
            .get(index)
            .ok_or(Error::NoSuchCredential(index))?;
        let secret = self.vault.reveal(i)?.password;
        let host = self.vault.entry_ref(i).map(|e| e.host).unwrap_or("");
        keyward_audit::record(
            &self.vault,
            Audit::Get,
            Some(Target::new(Kind::Docker, host)),
        );
        Ok(secret)
    }

    fn store(
        &mut self,
        server: &str,
        username: &str,
        secret: SecretBytes,
        replaces: &dyn Fn(&str) -> bool,
    ) -> Result<(), Error> {
        let entry = NewEntry::new(Kind::Docker, "", server, "", username, secret);
        self.vault
            .update(|txn| {
                txn.retain_refs(|e| !(e.kind == Kind::Docker && replaces(e.host)));
                txn.upsert(entry).map(drop)
            })
            .map_err(Error::Vault)?;
        keyward_audit::record(
            &self.vault,
            Audit::Store,
            Some(Target::new(Kind::Docker, server)),
        );
        Ok(())
    }

    fn erase(&mut self, erase: &dyn Fn(&str) -> bool) -> Result<usize, Error> {
        let hosts: Vec<String> = (self.vault.entry_refs())
            .filter(|e| e.kind == Kind::Docker && erase(e.host))
            .map(|e| e.host.to_string())
            .collect();
        let n = self
            .vault
            .update(|txn| Ok(txn.retain_refs(|e| !(e.kind == Kind::Docker && erase(e.host)))))
            .map_err(Error::Vault)?;
        for h in &hosts {
            keyward_audit::record(
                &self.vault,
                Audit::Erase,
                Some(Target::new(Kind::Docker, h)),
            );
        }
        Ok(n)
    }
}
