//! `keyward set NAME`: store a named secret from the terminal (asked twice)
//! or one line of `--secret-fd N`.

use crate::ctx::{say, Ctx};
use crate::exit::Result;
use crate::named::{open, put};
use crate::password::Source;
use clap::Args;
use keyward_audit::{Action, Target};
use keyward_vault::{check_name, Kind};

#[derive(Debug, Args)]
pub(crate) struct SetArgs {
    /// The secret's name, a path like `restic/backup-1`.
    pub name: String,
    /// Read the secret from this file descriptor (one line) instead of the terminal.
    #[arg(long, value_name = "N")]
    pub secret_fd: Option<i32>,
    /// When the secret expires, `YYYY-MM-DDTHH:MM:SSZ` (UTC) or Unix seconds
    /// (`keyward kube-credential` answers it as expirationTimestamp).
    #[arg(long, value_name = "TIME", value_parser = parse_expiry)]
    pub expires: Option<u64>,
}

/// `2031-01-01T00:00:00Z` or Unix seconds.
fn parse_expiry(s: &str) -> std::result::Result<u64, String> {
    if let Ok(n) = s.parse::<u64>() {
        return Ok(n);
    }
    let bad = || format!("{s:?}: expected YYYY-MM-DDTHH:MM:SSZ (UTC) or Unix seconds");
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<i64>().map_err(|_| bad());
    let (y, mo, d, h, mi, se) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return Err(bad());
    }
    let days = crate::date::days_from_civil(y, mo, d);
    u64::try_from(days * 86_400 + h * 3600 + mi * 60 + se).map_err(|_| bad())
}

pub(crate) fn run(ctx: &Ctx, a: SetArgs) -> Result<()> {
    check_name(&a.name)?;
    let mut src = Source::for_secret(a.secret_fd)?;
    let mut v = open(ctx)?;
    let value = src.read_new(&format!("Secret for {}: ", a.name))?;
    if a.expires.is_some() {
        let mut entry = keyward_vault::NewEntry::secret(&a.name, value, None);
        entry.password_expiry_utc = a.expires;
        v.update(|t| t.upsert(entry).map(drop))?;
    } else {
        put(&mut v, &a.name, value, None)?;
    }
    keyward_audit::record(&v, Action::Store, Some(Target::new(Kind::Secret, &a.name)));
    say(&format!("stored secret {}", a.name));
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn expiry_times() {
        assert_eq!(super::parse_expiry("1924992000"), Ok(1_924_992_000));
        assert_eq!(
            super::parse_expiry("2031-01-01T00:00:00Z"),
            Ok(1_924_992_000)
        );
        assert_eq!(super::parse_expiry("1970-01-01T00:00:01Z"), Ok(1));
        for bad in [
            "2031-01-01",
            "2031-13-01T00:00:00Z",
            "2031-01-01T00:00:00+01:00",
            "x",
        ] {
            assert!(super::parse_expiry(bad).is_err(), "{bad}");
        }
    }
}
