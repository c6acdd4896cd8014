//! `keyward aws PROFILE`: the AWS CLI's and SDKs' `credential_process`. Prints
//! `{"Version": 1, "AccessKeyId": …, "SecretAccessKey": …}` (and
//! `SessionToken`, `Expiration` when stored) from the named secrets
//! `aws/PROFILE/access-key-id`, `aws/PROFILE/secret-access-key`,
//! `aws/PROFILE/session-token` and `aws/PROFILE/expiration` (PROFILE escaped
//! as every name segment is: see docs/aws.md). The answer is built in locked
//! memory and written with one `write(2)` loop; errors go to stderr with
//! nothing on stdout, which the AWS tools report with the stderr text.

use crate::ctx::Ctx;
use crate::exit::{CliError, Result};
use crate::named::{escape_segment, open};
use clap::Args;
use keyward_audit::{Action, Target};
use keyward_protocols::json::push_string;
use keyward_secmem::{ExposeSecret, SecretBytes};
use keyward_vault::{check_name, Kind, Vault};

#[derive(Debug, Args)]
pub(crate) struct AwsArgs {
    /// The AWS profile (as in `[profile NAME]` of ~/.aws/config).
    pub profile: String,
}

/// The four names a profile's credentials are kept under.
pub(crate) struct ProfileNames {
    pub prefix: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration: String,
}

impl ProfileNames {
    pub(crate) fn new(profile: &str) -> Result<ProfileNames> {
        let prefix = format!("aws/{}", escape_segment(profile));
        let n = ProfileNames {
            access_key_id: format!("{prefix}/access-key-id"),
            secret_access_key: format!("{prefix}/secret-access-key"),
            session_token: format!("{prefix}/session-token"),
            expiration: format!("{prefix}/expiration"),
            prefix,
        };
        check_name(&n.secret_access_key)?;
        Ok(n)
    }
}

fn value(v: &Vault, name: &str) -> Result<Option<SecretBytes>> {
    match v.find_secret(name) {
        Some(i) => Ok(Some(v.reveal(i)?.into_value_and_previous().0)),
        None => Ok(None),
    }
}

/// An `Expiration` as the SDKs parse it: RFC 3339 characters only.
fn valid_expiration(s: &[u8]) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.first().is_some_and(u8::is_ascii_digit)
        && s.iter()
            .all(|c| c.is_ascii_digit() || b"-:.TZ+tz".contains(c))
}

pub(crate) fn run(ctx: &Ctx, a: AwsArgs) -> Result<()> {
    let names = ProfileNames::new(&a.profile)?;
    let v = open(ctx)?;
    let (Some(id), Some(secret)) = (
        value(&v, &names.access_key_id)?,
        value(&v, &names.secret_access_key)?,
    ) else {
        return Err(CliError::NoAwsProfile(a.profile));
    };
    let token = value(&v, &names.session_token)?;
    let expiration = value(&v, &names.expiration)?;
    if let Some(e) = &expiration {
        if !valid_expiration(e.expose_secret()) {
            return Err(CliError::BadAwsExpiration(names.expiration));
        }
    }
    let extra = token.as_ref().map_or(0, |t| t.len()) + expiration.as_ref().map_or(0, |e| e.len());
    let mut out = SecretBytes::with_capacity(128 + 6 * (id.len() + secret.len() + extra))?;
    out.extend_from_slice(b"{\"Version\": 1, \"AccessKeyId\": ")?;
    push_string(&mut out, id.expose_secret())?;
    out.extend_from_slice(b", \"SecretAccessKey\": ")?;
    push_string(&mut out, secret.expose_secret())?;
    if let Some(t) = &token {
        out.extend_from_slice(b", \"SessionToken\": ")?;
        push_string(&mut out, t.expose_secret())?;
    }
    if let Some(e) = &expiration {
        out.extend_from_slice(b", \"Expiration\": ")?;
        push_string(&mut out, e.expose_secret())?;
    }
    out.extend_from_slice(b"}\n")?;
    keyward_audit::record(
        &v,
        Action::Get,
        Some(Target::new(Kind::Secret, &names.prefix)),
    );
    keyward_protocols::output::write_secret_stdout(&out).map_err(CliError::Stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expirations() {
        assert!(valid_expiration(b"2026-12-01T05:23:03Z"));
        assert!(valid_expiration(b"2026-12-01T05:23:03.123+00:00"));
        for bad in [&b""[..], b"tomorrow", b"2026\"}", b"2026-12-01 05:23"] {
            assert!(!valid_expiration(bad), "{bad:?}");
        }
    }

    #[test]
    fn profile_names() {
        let n = ProfileNames::new("dev").unwrap();
        assert_eq!(n.secret_access_key, "aws/dev/secret-access-key");
        let n = ProfileNames::new("my profile").unwrap();
        assert_eq!(n.access_key_id, "aws/my+20profile/access-key-id");
        assert!(ProfileNames::new(&"x".repeat(300)).is_err());
    }
}
