//! The record model: what a vault entry is ([`Kind`], [`Entry`], [`NewEntry`],
//! [`Secrets`]) and the limits on its fields.

use super::*;

/// Longest metadata field (host, path, username, protocol, authtype).
pub const MAX_FIELD_LEN: usize = 4096;

/// What a record is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A git credential (`git credential` protocol).
    Git,
    /// A docker registry credential (`docker-credential-*` protocol).
    Docker,
    /// A named secret (`keyward set|get|generate NAME`): see `named`.
    Secret,
    /// A freedesktop Secret Service item (`keyward-secret-service`): `host`
    /// is the collection, `username` the item id, `authtype` the item's
    /// label, attributes and content type as JSON (see FORMAT.md).
    SecretService,
    /// A cargo registry token (`cargo-credential-keyward`): `host` is the
    /// registry's index URL exactly as cargo sends it (crates.io under one
    /// spelling, see FORMAT.md), the password the token.
    Cargo,
}

impl Kind {
    pub(super) fn to_byte(self) -> u8 {
        match self {
            Kind::Git => 1,
            Kind::Docker => 2,
            Kind::Secret => 3,
            Kind::SecretService => 4,
            Kind::Cargo => 5,
        }
    }
    pub(super) fn from_byte(b: u8) -> Option<Kind> {
        match b {
            1 => Some(Kind::Git),
            2 => Some(Kind::Docker),
            3 => Some(Kind::Secret),
            4 => Some(Kind::SecretService),
            5 => Some(Kind::Cargo),
            _ => None,
        }
    }
    /// `git`, `docker`, `secret`, `secret-service` or `cargo`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Git => "git",
            Kind::Docker => "docker",
            Kind::Secret => "secret",
            Kind::SecretService => "secret-service",
            Kind::Cargo => "cargo",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a record's sealed secret blob lives.
#[derive(Clone)]
pub(super) enum Blob {
    /// A range of the file bytes the vault (or transaction) was read from.
    File { off: usize, len: usize },
    /// Sealed in this transaction, not yet written.
    New(Vec<u8>),
}

/// One record's metadata (decrypted; wiped on drop). Its secrets stay sealed
/// until [`Vault::reveal`].
pub struct Entry {
    /// git or docker.
    pub kind: Kind,
    /// `https`, `http`, … (git); empty for docker.
    pub protocol: String,
    /// Host with optional `:port` (git), registry server URL (docker).
    pub host: String,
    /// Path (git, when `credential.useHttpPath` is set); empty otherwise.
    pub path: String,
    /// User name.
    pub username: String,
    /// git's `password_expiry_utc` (Unix seconds).
    pub password_expiry_utc: Option<u64>,
    /// git's `authtype` (paired with the secret `credential`).
    pub authtype: Option<String>,
    /// Creation time (Unix seconds).
    pub created: u64,
    /// Last update time (Unix seconds).
    pub updated: u64,
    pub(super) record: [u8; ID_LEN],
    pub(super) blob: Blob,
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.protocol.zeroize();
        self.host.zeroize();
        self.path.zeroize();
        self.username.zeroize();
        if let Some(a) = &mut self.authtype {
            a.zeroize();
        }
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("kind", &self.kind)
            .field("protocol", &self.protocol)
            .field("host", &self.host)
            .field("path", &self.path)
            .field("username", &self.username)
            .field("password_expiry_utc", &self.password_expiry_utc)
            .field("authtype", &self.authtype)
            .field("created", &self.created)
            .field("updated", &self.updated)
            .finish_non_exhaustive()
    }
}

/// A record's identity, borrowed.
type Identity<'a> = (Kind, &'a String, &'a String, &'a String, &'a String);

impl Entry {
    pub(super) fn duplicate(&self) -> Entry {
        Entry {
            kind: self.kind,
            protocol: self.protocol.clone(),
            host: self.host.clone(),
            path: self.path.clone(),
            username: self.username.clone(),
            password_expiry_utc: self.password_expiry_utc,
            authtype: self.authtype.clone(),
            created: self.created,
            updated: self.updated,
            record: self.record,
            blob: self.blob.clone(),
        }
    }

    /// Kind, protocol, host, path and username: what makes two records one.
    fn identity(&self) -> Identity<'_> {
        (
            self.kind,
            &self.protocol,
            &self.host,
            &self.path,
            &self.username,
        )
    }

    pub(super) fn identity_key(&self) -> super::txn::IdentityKey {
        let (k, a, b, c, d) = self.identity();
        (k.to_byte(), a.into(), b.into(), c.into(), d.into())
    }

    /// Whether `n` would replace this record (same kind, protocol, host, path
    /// and username).
    pub fn same_identity(&self, n: &NewEntry) -> bool {
        self.identity() == (n.kind, &n.protocol, &n.host, &n.path, &n.username)
    }
}

/// A record's secret fields, decrypted into locked memory.
#[derive(Debug)]
pub struct Secrets {
    /// The password or token.
    pub password: SecretBytes,
    /// git's `oauth_refresh_token`.
    pub oauth_refresh_token: Option<SecretBytes>,
    /// git's `credential` (with `authtype`).
    pub credential: Option<SecretBytes>,
}

/// A record to store ([`Txn::upsert`]).
#[derive(Debug)]
pub struct NewEntry {
    /// git or docker.
    pub kind: Kind,
    /// Protocol (git); empty for docker.
    pub protocol: String,
    /// Host with optional port, or registry server URL.
    pub host: String,
    /// Path; empty when not used.
    pub path: String,
    /// User name.
    pub username: String,
    /// The password or token.
    pub password: SecretBytes,
    /// git's `password_expiry_utc`.
    pub password_expiry_utc: Option<u64>,
    /// git's `oauth_refresh_token`.
    pub oauth_refresh_token: Option<SecretBytes>,
    /// git's `authtype`.
    pub authtype: Option<String>,
    /// git's `credential`.
    pub credential: Option<SecretBytes>,
}

impl NewEntry {
    /// A record with only the identity and a password.
    pub fn new(
        kind: Kind,
        protocol: &str,
        host: &str,
        path: &str,
        username: &str,
        password: SecretBytes,
    ) -> NewEntry {
        NewEntry {
            kind,
            protocol: protocol.to_string(),
            host: host.to_string(),
            path: path.to_string(),
            username: username.to_string(),
            password,
            password_expiry_utc: None,
            oauth_refresh_token: None,
            authtype: None,
            credential: None,
        }
    }
}

impl Drop for NewEntry {
    fn drop(&mut self) {
        self.protocol.zeroize();
        self.host.zeroize();
        self.path.zeroize();
        self.username.zeroize();
        if let Some(a) = &mut self.authtype {
            a.zeroize();
        }
    }
}

pub(super) fn check_field(name: &str, v: &str) -> Result<()> {
    if v.len() > MAX_FIELD_LEN {
        return Err(Error::Invalid(format!(
            "{name} is longer than {MAX_FIELD_LEN} bytes"
        )));
    }
    Ok(())
}

/// Now, in Unix seconds (records' `created` and `updated`, keyring expiry).
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
