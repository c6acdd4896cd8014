//! Tokens kept as named secrets (`Kind::Secret` records, the ones `keyward
//! set|get|rm NAME` manage) under one prefix per client: `terraform/HOST`,
//! `openbao/SCHEME/ADDRESS`, `kube/USER/token`, `npm/HOST/PATH`. The
//! Terraform, OpenBao/Vault, kubectl and pnpm adapters are thin layers over
//! this module: open the vault with the helpers' unlock policy, read, store
//! or remove one named secret, audit each use.
//!
//! Why named secrets rather than a record kind per client: each of these
//! clients keeps exactly one opaque token per key (a host, a server address,
//! a kubeconfig user), which is what a named secret is, and the user can then
//! see, set, rotate and remove them with the commands they already know
//! (`keyward list --kind secret`, `keyward set terraform/app.terraform.io`).
//!
//! Names are built with [`name`]: each component is kept as it is when it is
//! made of the characters named secrets allow (`A-Z a-z 0-9 . _ - @ :`), and
//! otherwise every other byte (and `+`) is written `+HH` (upper-case hex), so
//! two different keys never share a name and every name passes
//! [`keyward_vault::check_name`].

use keyward_audit::{Action as Audit, Target};
use keyward_secmem::SecretBytes;
use keyward_unlock::{open_for_helper_if_exists, HelperOpen};
use keyward_vault::{check_name, Config, Kind, NewEntry, Vault};

/// One name component, escaped as the module docs say. Empty, `.` and `..`
/// are escaped whole (`+2E`), so a component is never a bad segment.
pub fn component(raw: &str) -> String {
    let plain = |c: u8| c.is_ascii_alphanumeric() || b"._-@:".contains(&c);
    let mut out = String::with_capacity(raw.len());
    if raw.is_empty() {
        return "+".into();
    }
    let whole_dots = raw == "." || raw == "..";
    for &c in raw.as_bytes() {
        if plain(c) && !(whole_dots && c == b'.') {
            out.push(c as char);
        } else {
            out.push_str(&format!("+{c:02X}"));
        }
    }
    out
}

/// `prefix/component(part)/…`, checked with [`check_name`].
pub fn name(prefix: &str, parts: &[&str]) -> Result<String, keyward_vault::Error> {
    let mut n = String::from(prefix);
    for p in parts {
        n.push('/');
        n.push_str(&component(p));
    }
    check_name(&n)?;
    Ok(n)
}

/// Opens the vault with the helpers' unlock policy (keyring, else a terminal
/// prompt when one may be used, else "vault is locked" at once). `Ok(None)`:
/// no vault file yet.
pub fn open(config: Config) -> Result<Option<Vault>, keyward_vault::Error> {
    open_for_helper_if_exists(HelperOpen {
        vault: None,
        config: Some(config),
        no_prompt: false,
        cache_after_prompt: true,
    })
    .inspect_err(keyward_audit::note_failure)
}

/// The named secret `name`, decrypted into locked memory (audited as a get),
/// with the record's expiry time (Unix seconds) when one is stored.
pub fn get(
    vault: &Vault,
    name: &str,
) -> Result<Option<(SecretBytes, Option<u64>)>, keyward_vault::Error> {
    let Some(i) = vault.find_secret(name) else {
        return Ok(None);
    };
    let expiry = vault.entries()[i].password_expiry_utc;
    let value = vault.reveal(i)?.password;
    keyward_audit::record(vault, Audit::Get, Some(Target::new(Kind::Secret, name)));
    Ok(Some((value, expiry)))
}

/// Stores `value` under `name` (replacing it), with an optional expiry
/// (Unix seconds).
pub fn put(
    vault: &mut Vault,
    name: &str,
    value: SecretBytes,
    expiry: Option<u64>,
) -> Result<(), keyward_vault::Error> {
    let mut entry = NewEntry::secret(name, value, None);
    entry.password_expiry_utc = expiry;
    vault.update(|t| t.upsert(entry).map(drop))?;
    keyward_audit::record(vault, Audit::Store, Some(Target::new(Kind::Secret, name)));
    Ok(())
}

/// Removes the named secrets `names`; returns how many there were. Removing
/// what is not there succeeds.
pub fn remove(vault: &mut Vault, names: &[&str]) -> Result<usize, keyward_vault::Error> {
    let present: Vec<&str> = (names.iter().copied())
        .filter(|n| vault.find_secret(n).is_some())
        .collect();
    if present.is_empty() {
        return Ok(0);
    }
    let n = vault.update(|t| {
        Ok(t.retain(|e| !(e.kind == Kind::Secret && names.contains(&e.host.as_str()))))
    })?;
    for name in present {
        keyward_audit::record(vault, Audit::Erase, Some(Target::new(Kind::Secret, name)));
    }
    Ok(n)
}

/// Where an adapter's tokens live: the vault (named secrets), or memory in
/// the adapters' unit tests. One trait for every adapter that keeps one
/// token per name (Terraform, the OpenBao/Vault token helper).
pub trait TokenStore {
    /// The token named `name`.
    fn get_token(&mut self, name: &str) -> Result<Option<SecretBytes>, keyward_vault::Error>;
    /// Keeps `token` under `name`, replacing any.
    fn put_token(&mut self, name: &str, token: SecretBytes) -> Result<(), keyward_vault::Error>;
    /// Forgets `name`.
    fn remove_token(&mut self, name: &str) -> Result<(), keyward_vault::Error>;
}

impl TokenStore for Vault {
    fn get_token(&mut self, name: &str) -> Result<Option<SecretBytes>, keyward_vault::Error> {
        Ok(get(self, name)?.map(|(t, _)| t))
    }
    fn put_token(&mut self, name: &str, token: SecretBytes) -> Result<(), keyward_vault::Error> {
        put(self, name, token, None)
    }
    fn remove_token(&mut self, name: &str) -> Result<(), keyward_vault::Error> {
        remove(self, &[name]).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_injective_and_valid() {
        let cases = [
            ("app.terraform.io", "app.terraform.io"),
            ("host:8443", "host:8443"),
            ("[::1]:8200", "+5B::1+5D:8200"),
            ("a+b", "a+2Bb"),
            ("a/b", "a+2Fb"),
            ("", "+"),
            (".", "+2E"),
            ("..", "+2E+2E"),
            ("ä", "+C3+A4"),
        ];
        for (raw, want) in cases {
            assert_eq!(component(raw), want, "{raw:?}");
            name("x", &[raw]).unwrap();
        }
        assert_ne!(component("a+2Fb"), component("a/b"));
    }

    #[test]
    fn long_names_are_refused() {
        assert!(name("terraform", &[&"a".repeat(300)]).is_err());
    }
}
