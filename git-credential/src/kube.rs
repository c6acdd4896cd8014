//! kubectl's exec credential plugin protocol (client-go's `ExecCredential`),
//! for `keyward kube-credential NAME`: which API version the client asks for
//! (`KUBERNETES_EXEC_INFO`), and the answer, built in locked memory.
//!
//! client-go runs the plugin with `KUBERNETES_EXEC_INFO` set to an
//! `ExecCredential` whose `apiVersion` is the version it expects back
//! (`client.authentication.k8s.io/v1` or `…/v1beta1`); the plugin prints
//! `{"apiVersion":…,"kind":"ExecCredential","status":{…}}` with a bearer
//! `token`, or `clientCertificateData` and `clientKeyData` (PEM), and
//! `expirationTimestamp` (RFC 3339) when the credential expires.
//!
//! A kubeconfig user `NAME` keeps its credential as named secrets:
//! `kube/NAME/token`, or `kube/NAME/client-key` with
//! `kube/NAME/client-certificate` (not secret, kept beside its key).

use crate::json::{self, Value};
use keyward_secmem::{ExposeSecret, SecretBytes};

/// The named-secret prefix.
pub const PREFIX: &str = "kube";

/// `client.authentication.k8s.io/v1`.
pub const V1: &str = "client.authentication.k8s.io/v1";
/// `client.authentication.k8s.io/v1beta1`.
pub const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

/// The named secrets of kubeconfig user `user`: (token, client key, client
/// certificate).
pub fn secret_names(user: &str) -> Result<[String; 3], keyward_vault::Error> {
    Ok([
        crate::named::name(PREFIX, &[user, "token"])?,
        crate::named::name(PREFIX, &[user, "client-key"])?,
        crate::named::name(PREFIX, &[user, "client-certificate"])?,
    ])
}

/// The API version `KUBERNETES_EXEC_INFO` asks for: [`V1`] when it is unset
/// or empty; an error naming the problem when it is not JSON, has no
/// `apiVersion` string, or asks for a version this plugin does not speak.
pub fn requested_version(exec_info: Option<&[u8]>) -> Result<&'static str, String> {
    let Some(doc) = exec_info.filter(|d| !d.iter().all(u8::is_ascii_whitespace)) else {
        return Ok(V1);
    };
    let (root, _) = json::parse(doc).map_err(|e| {
        format!(
            "KUBERNETES_EXEC_INFO is not JSON ({} at byte {})",
            e.what, e.offset
        )
    })?;
    let Value::Object(members) = root else {
        return Err("KUBERNETES_EXEC_INFO is not a JSON object".into());
    };
    let mut version = None;
    for (k, v, _) in members {
        if &doc[k] == b"apiVersion" {
            let Value::String(r) = v else {
                return Err("KUBERNETES_EXEC_INFO: apiVersion is not a string".into());
            };
            version =
                Some(json::decode(doc, r).map_err(|_| "KUBERNETES_EXEC_INFO: bad apiVersion")?);
        }
    }
    match version.as_deref() {
        Some(V1) => Ok(V1),
        Some(V1BETA1) => Ok(V1BETA1),
        Some(other) => Err(format!(
            "KUBERNETES_EXEC_INFO asks for {other:?}; keyward speaks {V1} and {V1BETA1}: set that apiVersion in the kubeconfig's exec entry"
        )),
        None => Err("KUBERNETES_EXEC_INFO has no apiVersion".into()),
    }
}

/// What the plugin answers with.
#[derive(Debug)]
pub enum Credential<'a> {
    /// A bearer token.
    Token(&'a SecretBytes),
    /// A client certificate and its key (PEM).
    ClientCert {
        /// The certificate chain, PEM.
        certificate: &'a SecretBytes,
        /// The private key, PEM.
        key: &'a SecretBytes,
    },
}

/// The `ExecCredential` for `version` and a newline, in locked memory.
/// `expires` is an RFC 3339 time.
pub fn exec_credential(
    version: &str,
    cred: &Credential<'_>,
    expires: Option<&str>,
) -> Result<SecretBytes, keyward_secmem::Error> {
    let size = match cred {
        Credential::Token(t) => t.len(),
        Credential::ClientCert { certificate, key } => certificate.len() + key.len(),
    };
    let mut out = SecretBytes::with_capacity(160 + 6 * size)?;
    out.extend_from_slice(b"{\"apiVersion\":")?;
    json::push_string(&mut out, version.as_bytes())?;
    out.extend_from_slice(b",\"kind\":\"ExecCredential\",\"status\":{")?;
    if let Some(t) = expires {
        out.extend_from_slice(b"\"expirationTimestamp\":")?;
        json::push_string(&mut out, t.as_bytes())?;
        out.push(b',')?;
    }
    match cred {
        Credential::Token(t) => {
            out.extend_from_slice(b"\"token\":")?;
            json::push_string(&mut out, t.expose_secret())?;
        }
        Credential::ClientCert { certificate, key } => {
            out.extend_from_slice(b"\"clientCertificateData\":")?;
            json::push_string(&mut out, certificate.expose_secret())?;
            out.extend_from_slice(b",\"clientKeyData\":")?;
            json::push_string(&mut out, key.expose_secret())?;
        }
    }
    out.extend_from_slice(b"}}\n")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_from_exec_info() {
        assert_eq!(requested_version(None), Ok(V1));
        assert_eq!(requested_version(Some(b" ")), Ok(V1));
        let beta = br#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}"#;
        assert_eq!(requested_version(Some(beta)), Ok(V1BETA1));
        let v1 = br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":true}}"#;
        assert_eq!(requested_version(Some(v1)), Ok(V1));
        let alpha = br#"{"apiVersion":"client.authentication.k8s.io/v1alpha1"}"#;
        assert!(requested_version(Some(alpha))
            .unwrap_err()
            .contains("v1alpha1"));
        assert!(requested_version(Some(b"{")).is_err());
        assert!(requested_version(Some(b"{}")).is_err());
        assert!(requested_version(Some(br#"{"apiVersion":1}"#)).is_err());
    }

    #[test]
    fn answers() {
        let t = SecretBytes::from_slice(b"hunter2").unwrap();
        let a = exec_credential(V1, &Credential::Token(&t), Some("2030-01-02T03:04:05Z")).unwrap();
        assert_eq!(
            std::str::from_utf8(a.expose_secret()).unwrap(),
            "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"expirationTimestamp\":\"2030-01-02T03:04:05Z\",\"token\":\"hunter2\"}}\n"
        );
        let c = SecretBytes::from_slice(
            b"-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let k = SecretBytes::from_slice(
            b"-----BEGIN EC PRIVATE KEY-----\nBB==\n-----END EC PRIVATE KEY-----\n",
        )
        .unwrap();
        let a = exec_credential(
            V1BETA1,
            &Credential::ClientCert {
                certificate: &c,
                key: &k,
            },
            None,
        )
        .unwrap();
        let (root, _) = json::parse(a.expose_secret()).unwrap();
        assert!(matches!(root, Value::Object(ref m) if m.len() == 3));
        let s = std::str::from_utf8(a.expose_secret()).unwrap();
        assert!(s.contains("\"clientKeyData\":\"-----BEGIN EC PRIVATE KEY-----\\nBB==\\n"));
        assert!(!s.contains("expirationTimestamp"));
    }
}
