//! `keyward list`: record metadata, never secrets.

use crate::ctx::{for_terminal, open, parse_kind, say, Ctx};
use crate::exit::{CliError, Result};
use clap::Args;
use keyward_vault::Kind;
use std::io::Write;

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Print a JSON array of objects instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Only records of this kind.
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<Kind>,
    /// Read the vault password from this file descriptor when the vault is locked.
    #[arg(long, value_name = "N")]
    pub password_fd: Option<i32>,
}

pub(crate) fn run(ctx: &Ctx, a: ListArgs) -> Result<()> {
    let v = open(ctx, a.password_fd)?;
    // Streamed from the decrypted index, one record at a time: a list of
    // 100,000 records never holds them all as values at once.
    let rows = || {
        v.entry_refs()
            .filter(|e| a.kind.is_none_or(|k| e.kind == k))
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let w = |out: &mut std::io::BufWriter<_>, s: &str| {
        out.write_all(s.as_bytes()).map_err(CliError::Stdout)
    };
    if a.json {
        let mut first = true;
        for e in rows() {
            let obj = if e.kind == Kind::Secret {
                crate::named::list_json(&e)
            } else {
                serde_json::json!({
                    "kind": e.kind.as_str(),
                    "protocol": e.protocol,
                    "host": e.host,
                    "path": e.path,
                    "username": e.username,
                    "password_expiry_utc": e.password_expiry_utc,
                    "authtype": e.authtype,
                    "created": e.created,
                    "updated": e.updated,
                })
            };
            // As serde_json's pretty printer writes the whole array.
            let text = serde_json::to_string_pretty(&obj).unwrap_or_default();
            w(&mut out, if first { "[\n" } else { ",\n" })?;
            first = false;
            for (i, line) in text.lines().enumerate() {
                if i > 0 {
                    w(&mut out, "\n")?;
                }
                w(&mut out, "  ")?;
                w(&mut out, line)?;
            }
        }
        w(&mut out, if first { "[]\n" } else { "\n]\n" })?;
        return out.flush().map_err(CliError::Stdout);
    }
    // One cell per line of the table: a newline in a name is escaped too.
    let cells = |e: &keyward_vault::EntryRef<'_>| -> [String; 6] {
        let cell = |s: &str| for_terminal(s, false).into_owned();
        [
            e.kind.to_string(),
            cell(e.protocol),
            cell(e.host),
            cell(e.path),
            cell(e.username),
            crate::date::utc_minutes(e.updated),
        ]
    };
    let head = [
        "KIND",
        "PROTOCOL",
        "HOST",
        "PATH",
        "USERNAME",
        "UPDATED (UTC)",
    ];
    // Two passes (widths, then lines) instead of a table in memory.
    let mut width = head.map(str::len);
    let mut any = false;
    for e in rows() {
        any = true;
        for (i, c) in cells(&e).iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    if !any {
        say("(no records)");
        return Ok(());
    }
    let line = |cells: [&str; 6]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 5 {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<width$}  ", width = width[i]));
            }
        }
        s.push('\n');
        s
    };
    w(&mut out, &line(head))?;
    for e in rows() {
        let r = cells(&e);
        w(&mut out, &line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]))?;
    }
    out.flush().map_err(CliError::Stdout)
}
