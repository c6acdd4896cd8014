//! `keyward kube-credential NAME`: kubectl's exec credential plugin for the
//! kubeconfig user NAME (see [`keyward_protocols::kube`]): the token, or the
//! client certificate and key, from the vault as an `ExecCredential` on
//! stdout, written from locked memory.

use crate::ctx::Ctx;
use crate::exit::{CliError, Result};
use crate::named::open;
use clap::Args;
use keyward_protocols::kube::{self, Credential};
use keyward_protocols::named;
use keyward_vault::Error as VaultError;
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;

#[derive(Debug, Args)]
pub(crate) struct KubeCredentialArgs {
    /// The kubeconfig user whose credential to print.
    pub name: String,
}

/// RFC 3339 (UTC) of Unix seconds.
fn rfc3339(secs: u64) -> String {
    let s = i64::try_from(secs).unwrap_or(i64::MAX);
    let t = s.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        crate::date::utc_date(s),
        t / 3600,
        (t % 3600) / 60,
        t % 60
    )
}

pub(crate) fn credential(ctx: &Ctx, a: KubeCredentialArgs) -> Result<()> {
    let info = std::env::var_os("KUBERNETES_EXEC_INFO");
    let version = kube::requested_version(info.as_deref().map(|i| i.as_bytes()))
        .map_err(|e| CliError::Vault(VaultError::Invalid(e)))?;
    let [token_name, key_name, cert_name] = kube::secret_names(&a.name)?;
    let v = open(ctx)?;
    let answer = if let Some((token, expiry)) = named::get(&v, &token_name)? {
        kube::exec_credential(
            version,
            &Credential::Token(&token),
            expiry.map(rfc3339).as_deref(),
        )?
    } else if let Some((key, expiry)) = named::get(&v, &key_name)? {
        let (certificate, _) =
            named::get(&v, &cert_name)?.ok_or_else(|| CliError::NoSecret(cert_name.clone()))?;
        let cred = Credential::ClientCert {
            certificate: &certificate,
            key: &key,
        };
        kube::exec_credential(version, &cred, expiry.map(rfc3339).as_deref())?
    } else {
        return Err(CliError::Vault(VaultError::Invalid(format!(
            "no credential for kubeconfig user {:?} in the vault: store one with `keyward set {token_name}` or `keyward import kube`",
            a.name
        ))));
    };
    let out = std::io::stdout().as_fd().try_clone_to_owned();
    out.map(std::fs::File::from)
        .and_then(|mut f| f.write_all(keyward_secmem::ExposeSecret::expose_secret(&answer)))
        .map_err(CliError::Stdout)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_795_330_005), "2026-11-22T06:46:45Z");
    }
}
