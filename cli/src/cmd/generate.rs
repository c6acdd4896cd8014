//! `keyward generate NAME`: a random secret made in locked memory
//! (`keyward-generate`) and stored as a named secret; on an existing name
//! the old value is kept as the record's previous value (rotation).

use crate::ctx::{say, Ctx};
use crate::exit::Result;
use crate::named::{open, print_secret};
use clap::Args;
use keyward_audit::{Action, Target};
use keyward_generate::{entropy_bits, generate, Charset};
use keyward_vault::{check_name, Kind, NewEntry};

#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// The secret's name, a path like `restic/backup-1`.
    pub name: String,
    /// Characters (or words with --words); default: 128 bits' worth (7 words).
    #[arg(long, value_name = "N")]
    pub length: Option<usize>,
    /// alnum (5.95 bits/char), ascii (printable, 6.55), hex (4), base32 (5),
    /// words (EFF large word list, 12.9 bits/word).
    #[arg(long, value_parser = parse_charset, default_value = "alnum")]
    pub charset: Charset,
    /// A passphrase of words from the EFF large word list (same as --charset words).
    #[arg(long)]
    pub words: bool,
    /// Also print the new secret (and a newline) to stdout.
    #[arg(long)]
    pub print: bool,
    /// Allow fewer than 80 bits of entropy.
    #[arg(long)]
    pub weak: bool,
    /// Rotate even if the previous rotation's old value is still kept (it is lost).
    #[arg(long)]
    pub replace_previous: bool,
}

fn parse_charset(s: &str) -> std::result::Result<Charset, String> {
    Charset::parse(s).ok_or_else(|| "expected alnum, ascii, hex, base32 or words".into())
}

pub(crate) fn run(ctx: &Ctx, a: GenerateArgs) -> Result<()> {
    check_name(&a.name)?;
    let charset = if a.words { Charset::Words } else { a.charset };
    let length = a.length.unwrap_or_else(|| charset.default_length());
    let value = generate(charset, length, a.weak)?;
    let printed = if a.print {
        Some(value.try_clone()?)
    } else {
        None
    };
    let mut v = open(ctx)?;
    let name = a.name.as_str();
    let rotated = v.update(|t| {
        let previous = match t.find_secret(name) {
            None => None,
            Some(i) => {
                let (old, older) = t.reveal(i)?.into_value_and_previous();
                if older.is_some() && !a.replace_previous {
                    return Err(keyward_vault::Error::Invalid(format!(
                        "{name} still keeps the value before its last rotation: finish that \
                         rotation first (`keyward rm {name} --previous`), or pass --replace-previous"
                    )));
                }
                Some(old)
            }
        };
        let rotated = previous.is_some();
        t.upsert(NewEntry::secret(name, value, previous))?;
        Ok(rotated)
    })?;
    keyward_audit::record(&v, Action::Generate, Some(Target::new(Kind::Secret, name)));
    let what = if charset == Charset::Words {
        "words of the EFF large word list".to_string()
    } else {
        format!("characters of {}", charset.name())
    };
    let mut note = format!(
        "generated {name}: {length} {what} ({:.0} bits)",
        entropy_bits(charset, length)
    );
    if rotated {
        note.push_str(&format!(
            "; the old value is kept: `keyward get {name} --previous`, then \
             `keyward rm {name} --previous` once the server has the new one"
        ));
    }
    match printed {
        Some(p) => {
            print_secret(&p)?;
            eprintln!("keyward: {note}");
        }
        None => say(&note),
    }
    Ok(())
}
