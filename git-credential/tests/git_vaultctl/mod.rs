//! Throwaway HOME and vault for the transcript tests, made and locked through
//! the vault crate itself (no `keyward` binary needed for `cargo test -p
//! keyward-protocols`). Cheap scrypt parameters: these vaults guard nothing.

#![allow(dead_code)] // shared by the git and cargo transcript tests, which use different parts

use keyward_secmem::SecretBytes;
use keyward_vault::{keyring, read_vault_id, KdfParams, Kind, NewEntry, Vault};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use keyward_tests::transcript::Initial;

const PASSWORD: &[u8] = b"transcript vault password";

#[derive(Debug)]
pub struct Home {
    dir: tempfile::TempDir,
    vault: PathBuf,
}

impl Home {
    pub fn new(initial: Initial) -> Home {
        let dir = tempfile::Builder::new()
            .prefix("keyward-git-transcript-")
            .tempdir()
            .expect("tempdir");
        for sub in [".config", ".local/share", ".cache"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        let vault = dir.path().join(".local/share/keyward/vault");
        let home = Home { dir, vault };
        if initial != Initial::None {
            let pw = SecretBytes::from_slice(PASSWORD).unwrap();
            let kdf = KdfParams {
                log_n: 10,
                r: 8,
                p: 1,
            };
            let v = Vault::create(&home.vault, &pw, kdf).expect("create vault");
            if initial == Initial::Unlocked {
                keyring::store(&v.id(), v.key(), Duration::from_secs(600)).expect("cache key");
            }
        }
        home
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A command that sees only this home: no inherited configuration, no
    /// terminal prompting.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        let home = self.path();
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("KEYWARD_VAULT", &self.vault)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LANG", "C.UTF-8")
            .current_dir(home);
        c
    }

    pub fn lock(&self) {
        let id = read_vault_id(&self.vault).expect("vault id");
        keyring::revoke(&id).expect("revoke");
    }

    pub fn unlock(&self) {
        let pw = SecretBytes::from_slice(PASSWORD).unwrap();
        let v = Vault::open_with_password(&self.vault, &pw).expect("open vault");
        keyring::store(&v.id(), v.key(), Duration::from_secs(600)).expect("cache key");
    }
}

impl Home {
    fn open(&self) -> Vault {
        let pw = SecretBytes::from_slice(PASSWORD).unwrap();
        Vault::open_with_password(&self.vault, &pw).expect("open vault")
    }

    /// Adds a docker credential (kind Docker) through the vault API.
    pub fn add_docker(&self, host: &str, user: &str, password: &str) {
        let mut v = self.open();
        let secret = SecretBytes::from_slice(password.as_bytes()).unwrap();
        v.update(|t| {
            t.upsert(NewEntry::new(Kind::Docker, "", host, "", user, secret))
                .map(|_| ())
        })
        .expect("add docker entry");
    }

    /// How many docker entries the vault holds.
    pub fn count_docker(&self) -> usize {
        self.count(Kind::Docker)
    }

    /// How many entries of `kind` the vault holds.
    pub fn count(&self, kind: Kind) -> usize {
        self.open().entry_refs().filter(|e| e.kind == kind).count()
    }

    /// Flips one bit near the end of the vault file (inside the sealed index).
    pub fn tamper(&self) {
        let mut data = std::fs::read(&self.vault).expect("read vault");
        let i = data.len() - 5;
        data[i] ^= 0x01;
        std::fs::write(&self.vault, data).expect("write vault");
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        if let Ok(id) = read_vault_id(&self.vault) {
            let _ = keyring::revoke(&id);
        }
    }
}
