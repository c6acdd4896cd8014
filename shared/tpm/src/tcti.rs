//! Which TPM to talk to.

use crate::{Error, Result};
use std::fmt;
use std::str::FromStr;
use tss_esapi::TctiNameConf;

/// The environment variable naming the TCTI (the CLI and helpers only).
pub const TCTI_ENV: &str = "KEYWARD_TPM2_TCTI";

/// The kernel's TPM resource manager.
pub const DEFAULT_TCTI: &str = "device:/dev/tpmrm0";

/// A libtss2 TCTI string (`device:/dev/tpmrm0`, `swtpm:host=127.0.0.1,port=2321`),
/// checked. Only the kinds tss-esapi parses are accepted (device, swtpm,
/// mssim, tabrmd): never libtss2's `cmd:` TCTI, which would run a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tcti(String);

impl Tcti {
    /// Parses `s`; `from` names where it came from, for the error.
    pub fn parse(s: &str, from: &str) -> Result<Tcti> {
        TctiNameConf::from_str(s).map_err(|_| Error::BadTcti {
            tcti: s.to_string(),
            from: from.to_string(),
        })?;
        Ok(Tcti(s.to_string()))
    }

    /// For the CLI and the credential helpers, run by the user:
    /// `KEYWARD_TPM2_TCTI`, else `config` (the `tpm2_tcti` key of the merged
    /// configuration), else [`DEFAULT_TCTI`].
    pub fn for_user(config: Option<&str>) -> Result<Tcti> {
        match std::env::var(TCTI_ENV) {
            Ok(s) if !s.is_empty() => Self::parse(&s, TCTI_ENV),
            _ => Self::for_system(config),
        }
    }

    /// For the PAM module's login helper, where neither the environment nor
    /// the user's files may choose the device: `system_config` (the
    /// `tpm2_tcti` key of `/etc/keyward/keyward.toml`), else [`DEFAULT_TCTI`].
    pub fn for_system(system_config: Option<&str>) -> Result<Tcti> {
        match system_config {
            Some(s) => Self::parse(s, "tpm2_tcti"),
            None => Self::parse(DEFAULT_TCTI, "the default"),
        }
    }

    /// A better reason than libtss2's response code, where one can be
    /// found: the device node missing or not openable, nothing listening.
    pub(crate) fn why_unreachable(&self) -> Option<String> {
        let (kind, rest) = self.0.split_once(':').unwrap_or((&self.0, ""));
        match kind {
            "device" => {
                // tss-esapi's default device is /dev/tpm0.
                let p = if rest.is_empty() { "/dev/tpm0" } else { rest };
                std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(p)
                    .err()
                    .map(|e| format!("{p}: {e}"))
            }
            "swtpm" | "mssim" => {
                let (mut host, mut port) = ("localhost", 2321u16);
                for kv in rest.split(',') {
                    match kv.split_once('=') {
                        Some(("host", h)) => host = h,
                        Some(("port", p)) => port = p.parse().ok()?,
                        _ => {}
                    }
                }
                std::net::TcpStream::connect((host, port))
                    .err()
                    .map(|e| format!("{host}:{port}: {e}"))
            }
            _ => None,
        }
    }

    pub(crate) fn conf(&self) -> TctiNameConf {
        // Checked in `parse`.
        TctiNameConf::from_str(&self.0).unwrap_or_else(|_| TctiNameConf::Device(Default::default()))
    }
}

impl fmt::Display for Tcti {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// libtss2 prints its own warnings and errors to stderr ("WARNING:tcti:…
/// Failed to connect"), which would bury keyward's one line. Unless the user
/// asked for its log (`TSS2_LOG`), turn it off, once, before the first
/// context is made.
pub(crate) fn quiet_libtss2() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TSS2_LOG").is_none() {
            std::env::set_var("TSS2_LOG", "all+NONE");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert!(Tcti::parse("device:/dev/tpmrm0", "t").is_ok());
        assert!(Tcti::parse("swtpm:host=127.0.0.1,port=2321", "t").is_ok());
        let e = Tcti::parse("cmd:tpm2-swtpm", "tpm2_tcti").unwrap_err();
        assert!(e.to_string().contains("tpm2_tcti"), "{e}");
        assert!(Tcti::parse("nonsense", "t").is_err());
        assert_eq!(Tcti::for_system(None).unwrap().to_string(), DEFAULT_TCTI);
    }
}
