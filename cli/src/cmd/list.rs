//! `keyward list`: record metadata, never secrets.

use crate::ctx::{for_terminal, open, parse_kind, say, say_json, Ctx};
use crate::exit::Result;
use clap::Args;
use keyward_vault::Kind;

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
    let rows: Vec<&keyward_vault::Entry> = v
        .entries()
        .iter()
        .filter(|e| a.kind.is_none_or(|k| e.kind == k))
        .collect();
    if a.json {
        let arr: Vec<serde_json::Value> = rows
            .iter()
            .map(|e| {
                if e.kind == Kind::Secret {
                    return crate::named::list_json(e);
                }
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
            })
            .collect();
        say_json(&serde_json::to_string_pretty(&arr).unwrap_or_default());
        return Ok(());
    }
    let table: Vec<[String; 6]> = rows
        .iter()
        .map(|e| {
            // One cell per line of the table: a newline in a name is escaped too.
            let cell = |s: &str| for_terminal(s, false).into_owned();
            [
                e.kind.to_string(),
                cell(&e.protocol),
                cell(&e.host),
                cell(&e.path),
                cell(&e.username),
                crate::date::utc_minutes(e.updated),
            ]
        })
        .collect();
    let head = [
        "KIND",
        "PROTOCOL",
        "HOST",
        "PATH",
        "USERNAME",
        "UPDATED (UTC)",
    ];
    let mut w = head.map(str::len);
    for r in &table {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 5 {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<width$}  ", width = w[i]));
            }
        }
        s
    };
    if table.is_empty() {
        say("(no records)");
        return Ok(());
    }
    say(&line(head));
    for r in &table {
        say(&line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]));
    }
    Ok(())
}
