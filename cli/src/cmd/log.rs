//! `keyward log [--since TIME] [--record NAME] [--json] [--verify]`: the
//! audit trail (`keyward-audit`). Without the vault key (locked vault) it
//! shows everything but the records' names; `--verify` needs the key.

use crate::ctx::{say, say_json, Ctx};
use crate::date::utc_minutes as utc;
use crate::exit::{CliError, Result};
use clap::Args;
use keyward_audit::{read_entries, verify, Keys, LogEntry, Paths, Verified};

#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    /// Only entries from this time on: `2026-11-30`, `2026-11-30 14:05` (UTC),
    /// `@UNIX_SECONDS`, or a duration ago (`90m`, `2d`).
    #[arg(long, value_name = "TIME", value_parser = parse_since)]
    pub since: Option<u64>,
    /// Only entries about this host or secret name (needs the vault key: unlock first).
    #[arg(long, value_name = "NAME")]
    pub record: Option<String>,
    /// Print a JSON array.
    #[arg(long)]
    pub json: bool,
    /// Check the HMAC chain (asks for the vault password when locked, like `keyward get`);
    /// exits 5 if any entry was edited, deleted or cut off.
    #[arg(long)]
    pub verify: bool,
}

/// Unix seconds from the forms `--since` takes.
pub(crate) fn parse_since(s: &str) -> std::result::Result<u64, String> {
    if let Some(n) = s.strip_prefix('@') {
        return n.parse().map_err(|_| format!("bad Unix time {s:?}"));
    }
    let bad =
        || format!("expected YYYY-MM-DD[ HH:MM[:SS]], @SECONDS or a duration like 2h, not {s:?}");
    if s.len() >= 10 && s.as_bytes()[4] == b'-' {
        let (date, time) = s.split_at(10);
        let n: Vec<i64> = date
            .split('-')
            .map(|p| p.parse().map_err(|_| bad()))
            .collect::<std::result::Result<_, _>>()?;
        let [y, m, d] = n[..] else { return Err(bad()) };
        let mut secs = crate::date::days_from_civil(y, m, d) * 86400;
        let time = time.trim_start_matches([' ', 'T']);
        if !time.is_empty() {
            let t: Vec<i64> = time
                .split(':')
                .map(|p| p.parse().map_err(|_| bad()))
                .collect::<std::result::Result<_, _>>()?;
            let (h, mi, se) = match t[..] {
                [h, mi] => (h, mi, 0),
                [h, mi, se] => (h, mi, se),
                _ => return Err(bad()),
            };
            secs += h * 3600 + mi * 60 + se;
        }
        return u64::try_from(secs).map_err(|_| bad());
    }
    let ago = keyward_vault::parse_duration(s).map_err(|_| bad())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Ok(now.saturating_sub(ago.as_secs()))
}

fn client_text(e: &LogEntry) -> String {
    let c = &e.body.client;
    let mut parts = vec![format!("pid {}", c.pid)];
    if let Some(u) = c.uid {
        parts.push(format!("uid {u}"));
    }
    parts.extend(c.tty.clone());
    if let Some(s) = &c.ssh {
        parts.push(format!("ssh {s}"));
    }
    format!(
        "{} ({})",
        c.program.as_deref().unwrap_or("?"),
        parts.join(", ")
    )
}

fn name_text(e: &LogEntry) -> &str {
    match (&e.body.record, &e.name) {
        (None, _) => "-",
        (Some(_), Some(n)) => n,
        (Some(_), None) => "(encrypted)",
    }
}

fn summary(v: &Verified) -> String {
    let how = if v.macs_checked {
        "MACs verified"
    } else {
        "structure only (unlock to verify MACs)"
    };
    let mut s = format!(
        "{} entries (seq {}..{}), chain intact, {how}",
        v.entries, v.first_seq, v.last_seq
    );
    if v.first_seq > 1 {
        s.push_str("; older entries were rotated away");
    }
    if v.unsealed_tail > 0 {
        s.push_str(&format!(
            "; the last {} were written without the vault key (failed unlock or lock) and are sealed by the next use",
            v.unsealed_tail
        ));
    }
    s
}

pub(crate) fn run(ctx: &Ctx, a: LogArgs) -> Result<()> {
    let paths = Paths::for_vault(&ctx.vault);
    let vault = if a.verify {
        Some(crate::named::open(ctx)?)
    } else {
        None
    };
    let keys = match &vault {
        Some(v) => Some(Keys::of(v)?),
        None => Keys::cached(&ctx.vault),
    };
    if a.verify {
        let v = verify(&paths, keys.as_ref())?;
        if !v.problems.is_empty() {
            for p in &v.problems {
                eprintln!("keyward: audit log: {p}");
            }
            return Err(CliError::AuditBroken {
                vault: ctx.vault.clone(),
                problems: v.problems.len(),
            });
        }
        say(&format!("audit log: {}", summary(&v)));
        return Ok(());
    }
    if a.record.is_some() && keys.is_none() {
        return Err(CliError::Vault(keyward_vault::Error::Locked {
            path: ctx.vault.clone(),
        }));
    }
    let entries: Vec<LogEntry> = read_entries(&paths, keys.as_ref())?
        .into_iter()
        .filter(|e| a.since.is_none_or(|t| e.body.time_ms / 1000 >= t))
        .filter(|e| a.record.as_ref().is_none_or(|r| e.name.as_ref() == Some(r)))
        .collect();
    if a.json {
        let arr: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "seq": e.body.seq,
                    "time": e.body.time_ms / 1000,
                    "time_ms": e.body.time_ms,
                    "action": e.body.action,
                    "kind": e.body.kind,
                    "name": e.name,
                    "name_encrypted": e.body.record.is_some() && e.name.is_none(),
                    "sealed": e.sealed,
                    "client": e.body.client,
                })
            })
            .collect();
        say_json(&serde_json::to_string_pretty(&arr).unwrap_or_default());
        return Ok(());
    }
    if entries.is_empty() {
        say("(no audit entries)");
    }
    for e in &entries {
        say(&format!(
            "{}  {:<13} {:<6} {}  {}",
            utc(e.body.time_ms / 1000),
            e.body.action,
            e.body.kind.as_deref().unwrap_or("-"),
            name_text(e),
            client_text(e)
        ));
    }
    Ok(())
}

/// `keyward doctor`'s check: `Ok(detail)` or `Err((problem, fix))`.
pub(crate) fn doctor_check(ctx: &Ctx) -> std::result::Result<String, (String, String)> {
    let paths = Paths::for_vault(&ctx.vault);
    if !paths.log.exists() && !paths.head.exists() {
        return Ok("no entries yet".into());
    }
    let keys = Keys::cached(&ctx.vault);
    match verify(&paths, keys.as_ref()) {
        Ok(v) if v.problems.is_empty() => Ok(summary(&v)),
        Ok(v) => Err((
            format!("the chain is broken: {}", v.problems.join("; ")),
            "entries were edited, deleted or cut off: keep a copy of the files as evidence, \
             see `keyward log --verify`"
                .into(),
        )),
        Err(e) => Err((e.to_string(), "see the message".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_since;

    #[test]
    fn since_forms() {
        assert_eq!(parse_since("1970-01-02"), Ok(86400));
        assert_eq!(parse_since("2026-11-22 06:44"), Ok(1_795_329_840));
        assert_eq!(parse_since("2026-11-22T06:44:05"), Ok(1_795_329_845));
        assert_eq!(parse_since("@17"), Ok(17));
        assert!(parse_since("yesterday").is_err());
        let t = parse_since("1h").unwrap();
        assert!(t > 1_700_000_000);
        assert_eq!(
            crate::date::utc_minutes(parse_since("2026-11-22 06:44").unwrap()),
            "2026-11-22 06:44"
        );
    }
}
