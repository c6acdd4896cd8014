//! `keyward import aws`: the keys of `~/.aws/credentials` into the vault
//! (`aws/PROFILE/access-key-id`, `…/secret-access-key`, `…/session-token`),
//! then, with the user's yes (or `--remove-plaintext`), each imported
//! profile gets `credential_process = /abs/keyward --vault V aws PROFILE` in
//! `~/.aws/config` (where the AWS CLI and SDKs look for it) and loses its
//! keys from the credentials file. Both files are backed up first; every
//! other line, key and profile stays as it was.

use crate::cmd::aws::ProfileNames;
use crate::cmd::import::{home_file, want_removal, warn_if_exposed, ImportOpts};
use crate::ctx::{open, say, Ctx};
use crate::exit::{CliError, Result};
use crate::secretfile;
use keyward_protocols::ini::{self, key_is, Kind as Line};
use keyward_secmem::{ExposeSecret, SecretBytes};
use keyward_vault::{Kind, NewEntry};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The keys that hold credentials in a credentials-file profile.
const ID: &str = "aws_access_key_id";
const SECRET: &str = "aws_secret_access_key";
const TOKEN: &[&str] = &["aws_session_token", "aws_security_token"];

/// `$AWS_SHARED_CREDENTIALS_FILE`, else ~/.aws/credentials.
pub(crate) fn credentials_path() -> Result<PathBuf> {
    match std::env::var_os("AWS_SHARED_CREDENTIALS_FILE").filter(|v| !v.is_empty()) {
        Some(p) => Ok(PathBuf::from(p)),
        None => home_file(".aws/credentials"),
    }
}

/// `$AWS_CONFIG_FILE`, else ~/.aws/config.
fn config_path() -> Result<PathBuf> {
    match std::env::var_os("AWS_CONFIG_FILE").filter(|v| !v.is_empty()) {
        Some(p) => Ok(PathBuf::from(p)),
        None => home_file(".aws/config"),
    }
}

/// One profile of the credentials file that holds keys.
struct Profile {
    name: String,
    id: Option<Range<usize>>,
    secret: Option<Range<usize>>,
    token: Option<Range<usize>>,
    /// The byte ranges (lines) that hold the keys, to cut on rewrite.
    key_lines: Vec<Range<usize>>,
    /// A key's value runs over several lines: skipped.
    multiline: bool,
}

/// The line numbers (1-based) of lines Python's parser refuses.
fn invalid_lines(lines: &[ini::Line]) -> Vec<usize> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.kind == Line::Invalid)
        .map(|(n, _)| n + 1)
        .collect()
}

/// The credentials file's profiles, in order; an error for a file botocore
/// would refuse (a line it cannot parse, a profile or key given twice).
fn profiles(file: &Path, doc: &[u8], lines: &[ini::Line]) -> Result<Vec<Profile>> {
    let bad = invalid_lines(lines);
    if !bad.is_empty() {
        return Err(CliError::bad_file(
            file,
            format!(
                "line(s) {} are not `[profile]` or `key = value` lines, so the AWS CLI cannot read this file either: fix them, then import again",
                crate::cmd::import::line_list(&bad)
            ),
        ));
    }
    let mut out: Vec<Profile> = Vec::new();
    for (n, l) in lines.iter().enumerate() {
        match &l.kind {
            Line::Section { name } => {
                let name = String::from_utf8_lossy(&doc[name.clone()]).into_owned();
                if out.iter().any(|p| p.name == name) {
                    return Err(CliError::bad_file(
                        file,
                        format!("line {}: profile {name} appears twice, which the AWS CLI refuses: merge the two, then import again", n + 1),
                    ));
                }
                out.push(Profile {
                    name,
                    id: None,
                    secret: None,
                    token: None,
                    key_lines: Vec::new(),
                    multiline: false,
                });
            }
            Line::Option { key, value, .. } => {
                let Some(p) = out.last_mut() else { continue };
                let slot = if key_is(doc, key, ID) {
                    &mut p.id
                } else if key_is(doc, key, SECRET) {
                    &mut p.secret
                } else if TOKEN.iter().any(|t| key_is(doc, key, t)) {
                    &mut p.token
                } else {
                    continue;
                };
                if slot.is_some() {
                    return Err(CliError::bad_file(
                        file,
                        format!("line {}: a key appears twice in profile {}, which the AWS CLI refuses: remove one, then import again", n + 1, p.name),
                    ));
                }
                *slot = Some(value.clone());
                p.key_lines.push(l.full.clone());
            }
            Line::Continuation { option, .. } => {
                let Some(p) = out.last_mut() else { continue };
                if p.key_lines
                    .last()
                    .is_some_and(|r| *r == lines[*option].full)
                {
                    p.multiline = true;
                    p.key_lines.push(l.full.clone());
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// An argument of `credential_process`, quoted for botocore's `shlex.split`
/// (and the SDKs' rules: double quotes around anything but plain characters).
fn quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_./:@+=,".contains(&c))
    {
        return arg.into();
    }
    let mut s = String::from("\"");
    for c in arg.chars() {
        if c == '"' || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

/// Whether the AWS tools can name this profile in `[profile NAME]` unquoted.
fn plain_profile(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.@+".contains(&c))
}

/// The `credential_process` command for `profile`.
fn command_for(ctx: &Ctx, profile: &str) -> Result<String> {
    // `keyward` (which answers `aws` itself), not this `keyward-cli`.
    let exe = crate::cmd::setup::find_program("keyward", None)?
        .canonicalize()
        .map_err(|e| {
            CliError::bad_file(
                Path::new("keyward"),
                format!("cannot find its own path: {e}"),
            )
        })?;
    let vault = std::path::absolute(&ctx.vault).unwrap_or_else(|_| ctx.vault.clone());
    Ok(format!(
        "{} --vault {} aws {}",
        quote(&exe.to_string_lossy()),
        quote(&vault.to_string_lossy()),
        quote(profile)
    ))
}

/// The edits that give each profile of `commands` its `credential_process`
/// line in the config file `doc` (replacing one that is there).
fn config_edits(doc: &[u8], commands: &[(String, String)]) -> Vec<(Range<usize>, Vec<u8>)> {
    let lines = ini::parse(doc);
    let mut edits = Vec::new();
    let mut appended = Vec::new();
    for (profile, cmd) in commands {
        // botocore: `[default]`, or `[profile NAME]` split as shell words.
        let is_it = |name: &[u8]| {
            let words: Vec<&[u8]> = name
                .split(|c| c.is_ascii_whitespace())
                .filter(|w| !w.is_empty())
                .collect();
            (profile == "default" && name == b"default")
                || (words.len() == 2 && words[0] == b"profile" && words[1] == profile.as_bytes())
        };
        let header = lines
            .iter()
            .position(|l| matches!(&l.kind, Line::Section { name } if is_it(&doc[name.clone()])));
        let Some(h) = header else {
            let head = if profile == "default" {
                "[default]".to_string()
            } else {
                format!("[profile {profile}]")
            };
            appended
                .extend_from_slice(format!("\n{head}\ncredential_process = {cmd}\n").as_bytes());
            continue;
        };
        let existing = lines.iter().find(|l| {
            matches!(&l.kind, Line::Option { key, section, .. }
                if *section == h && key_is(doc, key, "credential_process"))
        });
        match existing {
            Some(l) => {
                let Line::Option { value, .. } = &l.kind else {
                    continue;
                };
                edits.push((value.clone(), cmd.as_bytes().to_vec()));
            }
            None => {
                let at = lines[h].full.end;
                let nl = if lines[h].full.end == lines[h].text.end {
                    "\n"
                } else {
                    ""
                };
                edits.push((
                    at..at,
                    format!("{nl}credential_process = {cmd}\n").into_bytes(),
                ));
            }
        }
    }
    if !appended.is_empty() {
        let mut add = Vec::new();
        if !doc.is_empty() && !doc.ends_with(b"\n") {
            add.push(b'\n');
        }
        if doc.is_empty() {
            appended.remove(0);
        }
        add.extend_from_slice(&appended);
        edits.push((doc.len()..doc.len(), add));
    }
    edits
}

pub(crate) fn run(ctx: &Ctx, o: &ImportOpts) -> Result<()> {
    let file = match &o.file {
        Some(f) => f.clone(),
        None => credentials_path()?,
    };
    warn_if_exposed(&file);
    let text = secretfile::read(&file)?;
    let doc = text.expose_secret();
    let lines = ini::parse(doc);
    let all = profiles(&file, doc, &lines)?;
    let v = open(ctx, o.password_fd)?;
    let mut sealed = Vec::new();
    let mut imported: Vec<&Profile> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    let mut stale: Vec<String> = Vec::new();
    let mut with_keys = 0;
    for p in &all {
        if p.id.is_none() && p.secret.is_none() {
            continue;
        }
        with_keys += 1;
        let why = if p.multiline {
            Some("a key's value runs over several lines")
        } else if !plain_profile(&p.name) {
            Some("its name has characters other than letters, digits and `-_.@+`")
        } else {
            match (&p.id, &p.secret) {
                (Some(i), Some(s)) if !i.is_empty() && !s.is_empty() => None,
                _ => Some("it needs both aws_access_key_id and aws_secret_access_key"),
            }
        };
        if let Some(why) = why {
            eprintln!(
                "keyward: {}: profile {}: {why}: skipped (left in the file)",
                file.display(),
                p.name
            );
            skipped.push(p.name.clone());
            continue;
        }
        let names = ProfileNames::new(&p.name)?;
        let put = |name: &str, r: &Range<usize>| -> Result<_> {
            let value = SecretBytes::from_slice(&doc[r.clone()])?;
            Ok(v.seal(NewEntry::secret(name, value, None))?)
        };
        if let (Some(i), Some(s)) = (&p.id, &p.secret) {
            sealed.push(put(&names.access_key_id, i)?);
            sealed.push(put(&names.secret_access_key, s)?);
        }
        match &p.token {
            Some(t) if !t.is_empty() => sealed.push(put(&names.session_token, t)?),
            // A token kept from an earlier import would be sent with new keys.
            _ => stale.push(names.session_token.clone()),
        }
        stale.push(names.expiration.clone());
        imported.push(p);
    }
    let mut v = v;
    let counts = if sealed.is_empty() {
        keyward_vault::PutCounts {
            added: 0,
            replaced: 0,
        }
    } else {
        let c = v.update(|t| {
            t.retain(|e| !(e.kind == Kind::Secret && stale.contains(&e.host)));
            t.put_all(sealed)
        })?;
        keyward_audit::record(&v, keyward_audit::Action::Import, None);
        c
    };
    say(&format!(
        "{}: {with_keys} profile(s) with keys: {} imported ({} secret(s) added, {} replaced), {} skipped{}",
        file.display(),
        imported.len(),
        counts.added,
        counts.replaced,
        skipped.len(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(" ({})", skipped.join(", "))
        }
    ));
    if imported.is_empty() || !want_removal(o, &file) {
        if !imported.is_empty() {
            say("the keys are still in the file and the AWS CLI still reads them there: run `keyward import aws --remove-plaintext` to switch the profiles to credential_process");
        }
        return Ok(());
    }
    // The config file first: if the credentials file could not be rewritten
    // afterwards, the keys there still work.
    let config = config_path()?;
    let commands = imported
        .iter()
        .map(|p| Ok((p.name.clone(), command_for(ctx, &p.name)?)))
        .collect::<Result<Vec<_>>>()?;
    let old_config = match secretfile::read(&config) {
        Ok(t) => Some(t),
        Err(CliError::NoImportFile(_)) => None,
        Err(e) => return Err(e),
    };
    let empty = SecretBytes::with_capacity(1)?;
    let cdoc = old_config.as_ref().unwrap_or(&empty).expose_secret();
    let new_config = secretfile::edited(cdoc, config_edits(cdoc, &commands))?;
    let config_backup = match &old_config {
        Some(t) => Some(secretfile::backup(&config, t)?),
        None => None,
    };
    let creds_backup = secretfile::backup(&file, &text)?;
    secretfile::replace(&config, &new_config)?;
    let cuts = imported
        .iter()
        .flat_map(|p| p.key_lines.iter().map(|r| (r.clone(), Vec::new())))
        .collect();
    secretfile::replace(&file, &secretfile::edited(doc, cuts)?)?;
    say(&format!(
        "{}: credential_process = keyward aws PROFILE set for {} profile(s){}",
        config.display(),
        imported.len(),
        config_backup.map_or(String::new(), |b| format!(
            " (old file kept as {})",
            b.display()
        ))
    ));
    say(&format!(
        "{}: keys removed; the old file, keys and all, is {}: delete it once `aws sts get-caller-identity` works",
        file.display(),
        creds_backup.display()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(doc: &str, cmds: &[(&str, &str)]) -> String {
        let cmds: Vec<(String, String)> = cmds
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let out = secretfile::edited(doc.as_bytes(), config_edits(doc.as_bytes(), &cmds)).unwrap();
        String::from_utf8(out.expose_secret().to_vec()).unwrap()
    }

    #[test]
    fn config_gets_credential_process_and_keeps_the_rest() {
        assert_eq!(
            apply("", &[("default", "/k aws default")]),
            "[default]\ncredential_process = /k aws default\n"
        );
        assert_eq!(
            apply(
                "# mine\n[default]\nregion = eu-west-1\n[profile dev]\ncredential_process = old\noutput=json",
                &[("default", "/k aws default"), ("dev", "/k aws dev"), ("ci", "/k aws ci")]
            ),
            "# mine\n[default]\ncredential_process = /k aws default\nregion = eu-west-1\n[profile dev]\ncredential_process = /k aws dev\noutput=json\n\n[profile ci]\ncredential_process = /k aws ci\n"
        );
    }

    #[test]
    fn quoting_for_shlex() {
        assert_eq!(quote("/usr/bin/keyward"), "/usr/bin/keyward");
        assert_eq!(quote("/a b/k\"x"), "\"/a b/k\\\"x\"");
    }

    #[test]
    fn profiles_and_refusals() {
        let f = Path::new("creds");
        let doc = b"[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key=s3cret\nregion = x\n[dev]\nAWS_ACCESS_KEY_ID = A\naws_session_token = t\n";
        let ps = profiles(f, doc, &ini::parse(doc)).unwrap();
        assert_eq!(ps.len(), 2);
        assert_eq!(&doc[ps[0].secret.clone().unwrap()], b"s3cret");
        assert_eq!(ps[0].key_lines.len(), 2);
        assert!(ps[1].secret.is_none() && ps[1].token.is_some());
        for bad in [
            &b"[a]\n[a]\n"[..],
            b"[a]\naws_access_key_id=1\naws_access_key_id=2\n",
            b"k=v\n",
        ] {
            let e = profiles(f, bad, &ini::parse(bad))
                .err()
                .unwrap()
                .to_string();
            assert!(!e.contains("s3cret"), "{e}");
        }
    }
}
