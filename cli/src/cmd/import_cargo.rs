//! `keyward import cargo [FILE]`: moves the tokens of cargo's
//! `credentials.toml` (`[registry] token` for crates.io, `[registries.NAME]
//! token` for the others) into the vault, as `cargo-credential-keyward`
//! stores them (kind `cargo`, keyed by the registry's index URL, which for a
//! named registry comes from `[registries.NAME] index` in cargo's
//! `config.toml`).
//!
//! The file is read into locked memory. The toml crate (the project's one TOML
//! parser) finds each `token` and its byte span; the value is decoded from the
//! locked text straight into locked memory. The parser's own transient heap
//! copies are wiped when freed (`keyward_secmem::WipeOnFree`, the `keyward`
//! binary's allocator). With the plaintext removed, the file keeps everything
//! else, line for line.

use super::import::{store, want_removal, warn_if_exposed, ImportOpts};
use crate::ctx::{open, say, Ctx};
use crate::exit::{CliError, Result};
use crate::secretfile;
use keyward_protocols::cargo::CRATES_IO;
use keyward_secmem::{ExposeSecret, SecretBytes};
use keyward_vault::{Kind, NewEntry};
use serde::de::IgnoredAny;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

#[derive(Debug, serde::Deserialize)]
struct CredentialsFile {
    registry: Option<TokenTable>,
    #[serde(default)]
    registries: BTreeMap<String, TokenTable>,
}

/// A registry's table: only where its token is (the value is never
/// deserialized into ordinary memory).
#[derive(Debug, serde::Deserialize)]
struct TokenTable {
    token: Option<Spanned<IgnoredAny>>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct ConfigFile {
    #[serde(default)]
    registries: BTreeMap<String, IndexTable>,
}

#[derive(Debug, serde::Deserialize)]
struct IndexTable {
    index: Option<String>,
}

/// `$CARGO_HOME`, else `~/.cargo`.
pub(crate) fn cargo_home() -> Option<PathBuf> {
    match std::env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        Some(h) => Some(PathBuf::from(h)),
        None => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".cargo")),
    }
}

/// The default file: `$CARGO_HOME/credentials.toml`, or the older
/// `credentials` when only that exists.
pub(crate) fn default_file() -> Result<PathBuf> {
    let home = cargo_home().ok_or(CliError::NoHomeForImport)?;
    let toml = home.join("credentials.toml");
    let old = home.join("credentials");
    Ok(if !toml.exists() && old.exists() {
        old
    } else {
        toml
    })
}

/// The index URLs of cargo's named registries, from `config.toml` (or the
/// older `config`) beside the credentials file.
fn registry_indexes(dir: &Path) -> BTreeMap<String, String> {
    for name in ["config.toml", "config"] {
        // Read like the credentials: cargo allows tokens in config.toml too.
        if let Ok(text) = secretfile::read(&dir.join(name)) {
            let cfg: ConfigFile = std::str::from_utf8(text.expose_secret())
                .ok()
                .and_then(|t| toml::from_str(t).ok())
                .unwrap_or_default();
            return (cfg.registries.into_iter())
                .filter_map(|(k, v)| v.index.map(|i| (k, i)))
                .collect();
        }
    }
    BTreeMap::new()
}

/// Decodes a one-line TOML string (`"basic"` with escapes, or `'literal'`)
/// into locked memory; `None` for any other value (multi-line strings
/// included, which tokens never are).
pub(crate) fn decode_toml_string(raw: &[u8]) -> Option<SecretBytes> {
    let mut out = SecretBytes::with_capacity(raw.len().max(1)).ok()?;
    if raw.starts_with(b"'''") || raw.starts_with(b"\"\"\"") || raw.len() < 2 {
        return None;
    }
    let (q, body) = (raw[0], &raw[1..raw.len() - 1]);
    if raw[raw.len() - 1] != q {
        return None;
    }
    match q {
        b'\'' => out.extend_from_slice(body).ok()?,
        b'"' => {
            let mut i = 0;
            while i < body.len() {
                let c = body[i];
                i += 1;
                if c != b'\\' {
                    out.push(c).ok()?;
                    continue;
                }
                let e = *body.get(i)?;
                i += 1;
                let simple = match e {
                    b'b' => 0x08,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 0x0c,
                    b'r' => b'\r',
                    b'e' => 0x1b,
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'u' | b'U' => {
                        let n = if e == b'u' { 4 } else { 8 };
                        let hex = std::str::from_utf8(body.get(i..i + n)?).ok()?;
                        i += n;
                        let ch = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes())
                            .ok()?;
                        zeroize::Zeroize::zeroize(&mut buf);
                        continue;
                    }
                    _ => return None,
                };
                out.push(simple).ok()?;
            }
        }
        _ => return None,
    }
    Some(out)
}

/// The whole line holding `value` when it is a line of its own, `token =
/// VALUE` with at most a comment after it; `None` otherwise.
fn token_line(text: &[u8], value: &Range<usize>) -> Option<Range<usize>> {
    let start = text[..value.start]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |p| p + 1);
    let end = text[value.end..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(text.len(), |p| value.end + p + 1);
    let before = std::str::from_utf8(&text[start..value.start]).ok()?;
    let key = before.trim().strip_suffix('=')?.trim();
    if !matches!(key, "token" | "\"token\"" | "'token'") {
        return None;
    }
    let after = std::str::from_utf8(&text[value.end..end]).ok()?.trim();
    (after.is_empty() || after.starts_with('#')).then_some(start..end)
}

pub(crate) fn run(ctx: &Ctx, o: &ImportOpts, file: &Path) -> Result<()> {
    warn_if_exposed(file);
    let text = secretfile::read(file)?;
    let src = text.expose_secret();
    let doc = std::str::from_utf8(src).map_err(|_| CliError::bad_file(file, "not UTF-8"))?;
    let creds: CredentialsFile = toml::from_str(doc).map_err(|e| {
        let at = e
            .span()
            .map(|s| format!(" (byte {})", s.start))
            .unwrap_or_default();
        CliError::bad_file(file, format!("not a cargo credentials file{at}"))
    })?;
    let indexes = registry_indexes(file.parent().unwrap_or(Path::new(".")));
    let mut found: Vec<(String, String, Range<usize>)> = Vec::new(); // (label, key, value span)
    if let Some(t) = creds.registry.and_then(|r| r.token) {
        found.push(("crates-io".into(), CRATES_IO.into(), t.span()));
    }
    let mut skipped: Vec<String> = Vec::new();
    for (name, table) in creds.registries {
        let Some(t) = table.token else { continue };
        match indexes.get(&name) {
            Some(index) => found.push((name, index.clone(), t.span())),
            None => {
                eprintln!(
                    "keyward: {}: registry {name}: no `[registries.{name}] index` in cargo's config.toml beside it: skipped (left in the file)",
                    file.display()
                );
                skipped.push(name);
            }
        }
    }
    let mut records = Vec::new();
    let mut lines = Vec::new();
    for (label, key, span) in found {
        let value = decode_toml_string(&src[span.clone()]);
        let line = token_line(src, &span);
        match (value, line) {
            (Some(v), Some(line)) if !v.is_empty() && key.len() <= keyward_vault::MAX_FIELD_LEN => {
                records.push(NewEntry::new(Kind::Cargo, "", &key, "", "", v));
                lines.push(line);
            }
            _ => {
                eprintln!(
                    "keyward: {}: registry {label}: the token is not a one-line string on a line of its own: skipped (left in the file)",
                    file.display()
                );
                skipped.push(label);
            }
        }
    }
    let read = records.len() + skipped.len();
    let imported = records.len();
    let v = open(ctx, o.password_fd)?;
    let sealed = records
        .into_iter()
        .map(|r| v.seal(r))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let counts = store(v, sealed)?;
    say(&format!(
        "{}: {read} token(s) read: {} added, {} replaced, {} skipped",
        file.display(),
        counts.added,
        counts.replaced,
        skipped.len()
    ));
    if imported > 0 && want_removal(o, file) {
        lines.sort_by_key(|r| r.start);
        let mut kept = SecretBytes::with_capacity(src.len().max(1))?;
        let mut at = 0;
        for r in lines {
            kept.extend_from_slice(&src[at..r.start])?;
            at = r.end;
        }
        kept.extend_from_slice(&src[at..])?;
        secretfile::replace(file, &kept)?;
        say(&format!(
            "removed the imported tokens from {}{}; cargo finds them with `[registry] global-credential-providers = [\"cargo-credential-keyward\"]` in {}",
            file.display(),
            if skipped.is_empty() {
                String::new()
            } else {
                format!(" ({} skipped token(s) remain in it)", skipped.len())
            },
            file.with_file_name("config.toml").display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Option<Vec<u8>> {
        decode_toml_string(s.as_bytes()).map(|b| b.expose_secret().to_vec())
    }

    #[test]
    fn toml_strings() {
        assert_eq!(dec(r#""cio_abc""#).unwrap(), b"cio_abc");
        assert_eq!(dec(r#"'C:\lit\'"#).unwrap(), br"C:\lit\");
        assert_eq!(
            dec(r#""a\"b\\c\u00e9\U0001F600\t""#).unwrap(),
            "a\"b\\cé😀\t".as_bytes()
        );
        for bad in [
            r#""""abc""""#,
            "'''x'''",
            r#""\q""#,
            r#""\u12""#,
            "12",
            r#""abc"#,
            "\"",
        ] {
            assert!(dec(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn only_whole_token_lines_are_removed() {
        let t =
            b"[registry]\ntoken = \"abc\" # crates.io\n[registries.x]\nfoo = { token = \"def\" }\n";
        let s = |needle: &str| {
            let i = t
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
                .unwrap();
            i..i + needle.len()
        };
        assert_eq!(token_line(t, &s("\"abc\"")), Some(11..37));
        assert_eq!(token_line(t, &s("\"def\"")), None);
    }
}
