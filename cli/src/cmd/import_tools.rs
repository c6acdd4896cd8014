//! `keyward import terraform|kube`: Terraform's credentials.tfrc.json and a
//! kubeconfig's static credentials into named secrets (`terraform/HOST`,
//! `kube/USER/…`). Both keep a backup of the file they rewrite
//! (`FILE.keyward-backup`, mode 0600, still plaintext: delete it once the
//! client works) and keep every entry they cannot import as it was.

use crate::cmd::import::{home_file, store, want_removal, warn_if_exposed, ImportOpts};
use crate::ctx::{open, say, Ctx};
use crate::exit::{CliError, Result};
use crate::secretfile;
use base64::Engine;
use keyward_protocols::json::{self, Value};
use keyward_protocols::{kube as kubeproto, terraform as tf};
use keyward_secmem::{ExposeSecret, ExposeSecretMut, SecretBytes};
use keyward_vault::NewEntry;
use std::path::{Path, PathBuf};

/// `FILE.keyward-backup`, written (0600) from locked memory.
fn backup(file: &Path, data: &SecretBytes) -> Result<PathBuf> {
    let mut name = file.file_name().unwrap_or_default().to_owned();
    name.push(".keyward-backup");
    let b = file.with_file_name(name);
    secretfile::replace(&b, data)?;
    Ok(b)
}

/// `keyward import terraform [FILE]`.
pub(crate) fn terraform(ctx: &Ctx, o: &ImportOpts) -> Result<()> {
    let file = match &o.file {
        Some(f) => f.clone(),
        None => home_file(".terraform.d/credentials.tfrc.json")?,
    };
    warn_if_exposed(&file);
    let text = secretfile::read(&file)?;
    let src = text.expose_secret();
    let bad = |why: &str| CliError::bad_file(&file, why);
    let (root, _) =
        json::parse(src).map_err(|e| bad(&format!("not valid JSON (byte {})", e.offset)))?;
    let Value::Object(members) = &root else {
        return Err(bad("not a JSON object"));
    };
    let mut records = Vec::new();
    let mut kept = Vec::new(); // spans (key with quotes, value) of entries left in the file
    let mut creds_span = None;
    let mut skipped = Vec::new();
    for (k, v, span) in members {
        if &src[k.clone()] != b"credentials" {
            continue;
        }
        let Value::Object(hosts) = v else {
            return Err(bad("`credentials` is not an object"));
        };
        creds_span = Some(span.clone());
        for (hk, _, hspan) in hosts {
            let host = json::decode(src, hk.clone()).map_err(|_| bad("bad host name"))?;
            // The same reader as the helper's `store`: an entry with anything
            // but a token is not imported (the helper could not keep it).
            let entry = tf::secret_name(&host)
                .map_err(|e| e.to_string())
                .and_then(|name| {
                    tf::parse::token(&src[hspan.clone()])
                        .map(|t| (name, t))
                        .map_err(|e| match e {
                            tf::parse::Error::Refused(r) => r.to_string(),
                            tf::parse::Error::Memory(m) => m.to_string(),
                        })
                });
            match entry {
                Ok((name, token)) => records.push(NewEntry::secret(&name, token, None)),
                Err(why) => {
                    eprintln!(
                        "keyward: {}: credentials.{host}: {why}: skipped (left in the file)",
                        file.display()
                    );
                    skipped.push(host);
                    kept.push((hk.start - 1..hk.end + 1, hspan.clone()));
                }
            }
        }
    }
    let imported = records.len();
    let v = open(ctx, o.password_fd)?;
    let sealed = records
        .into_iter()
        .map(|r| v.seal(r))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let counts = store(v, sealed)?;
    say(&format!(
        "{}: {} added, {} replaced, {} skipped",
        file.display(),
        counts.added,
        counts.replaced,
        skipped.len()
    ));
    if imported == 0 || !want_removal(o, &file) {
        if imported > 0 {
            say(&format!(
                "left {} as it is: its tokens win over the helper until they are removed",
                file.display()
            ));
        }
        return Ok(());
    }
    let b = backup(&file, &text)?;
    let span = creds_span.expect("credentials seen");
    let mut out = SecretBytes::with_capacity(src.len() + 16)?;
    out.extend_from_slice(&src[..span.start])?;
    out.push(b'{')?;
    for (n, (key, value)) in kept.iter().enumerate() {
        out.extend_from_slice(if n == 0 { b"\n    " } else { b",\n    " })?;
        out.extend_from_slice(&src[key.clone()])?;
        out.extend_from_slice(b": ")?;
        out.extend_from_slice(&src[value.clone()])?;
    }
    out.extend_from_slice(if kept.is_empty() { b"}" } else { b"\n  }" })?;
    out.extend_from_slice(&src[span.end..])?;
    secretfile::replace(&file, &out)?;
    say(&format!(
        "removed the imported tokens from {} (backup with the plaintext: {}; delete it once Terraform works); point Terraform at the vault with `keyward setup terraform`",
        file.display(),
        b.display()
    ));
    Ok(())
}

/// The kubeconfig `kubectl` reads: the first file of `$KUBECONFIG`, else ~/.kube/config.
fn kubeconfig() -> Result<PathBuf> {
    match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(list) => std::env::split_paths(&list)
            .next()
            .ok_or(CliError::NoHomeForImport),
        None => home_file(".kube/config"),
    }
}

/// A YAML string value into locked memory (`base64`: decoded first).
fn yaml_secret(v: &serde_yaml_ng::Value, base64: bool) -> std::result::Result<SecretBytes, String> {
    let s = v.as_str().ok_or("not a string")?;
    if !base64 {
        return SecretBytes::from_slice(s.trim().as_bytes()).map_err(|e| e.to_string());
    }
    let mut raw = SecretBytes::zeroed(s.len()).map_err(|e| e.to_string())?;
    let n = base64::engine::general_purpose::STANDARD
        .decode_slice(s.trim().as_bytes(), raw.expose_secret_mut())
        .map_err(|_| "not base64")?;
    raw.truncate(n);
    Ok(raw)
}

/// One kubeconfig user's credential → its named secrets, or why it stays.
fn kube_user(
    name: &str,
    user: &serde_yaml_ng::Mapping,
) -> std::result::Result<Vec<NewEntry>, String> {
    let [token_name, key_name, cert_name] =
        kubeproto::secret_names(name).map_err(|e| e.to_string())?;
    let token = user.get("token");
    let key = user.get("client-key-data");
    let cert = user.get("client-certificate-data");
    if user.contains_key("exec") || user.contains_key("auth-provider") {
        return Err("already uses a plugin".into());
    }
    match (token, key, cert) {
        (Some(_), Some(_), _) => Err(
            "has both a token and a client key: keyward answers with one; move it by hand".into(),
        ),
        (Some(t), None, _) => Ok(vec![NewEntry::secret(
            &token_name,
            yaml_secret(t, false)?,
            None,
        )]),
        (None, Some(k), Some(c)) => Ok(vec![
            NewEntry::secret(
                &key_name,
                yaml_secret(k, true).map_err(|e| format!("client-key-data: {e}"))?,
                None,
            ),
            NewEntry::secret(
                &cert_name,
                yaml_secret(c, true).map_err(|e| format!("client-certificate-data: {e}"))?,
                None,
            ),
        ]),
        (None, Some(_), None) => Err("client-key-data without client-certificate-data".into()),
        (None, None, _) => Err(String::new()),
    }
}

/// `keyward import kube [FILE]`.
///
/// The kubeconfig is parsed with serde_yaml_ng, into ordinary heap memory:
/// the tokens and keys it holds are in heap `String`s while this command
/// runs (the `keyward` binary's allocator wipes every block it frees), and
/// each is copied into locked memory at once. See docs/protocols-2.md.
pub(crate) fn kube(ctx: &Ctx, o: &ImportOpts) -> Result<()> {
    let file = match &o.file {
        Some(f) => f.clone(),
        None => kubeconfig()?,
    };
    warn_if_exposed(&file);
    let text = secretfile::read(&file)?;
    let mut doc: serde_yaml_ng::Value =
        serde_yaml_ng::from_slice(text.expose_secret()).map_err(|e| {
            CliError::bad_file(
                &file,
                format!(
                    "not a kubeconfig: YAML error at {}",
                    e.location()
                        .map(|l| format!("line {}", l.line()))
                        .unwrap_or_default()
                ),
            )
        })?;
    let keyward = crate::cmd::setup::find_program("keyward", None)?;
    let mut records = Vec::new();
    let mut skipped = Vec::new();
    let mut replaced = 0usize;
    if let Some(users) = doc.get_mut("users").and_then(|u| u.as_sequence_mut()) {
        for entry in users {
            let Some(name) = entry
                .get("name")
                .and_then(|n| n.as_str())
                .map(str::to_owned)
            else {
                continue;
            };
            let Some(user) = entry.get_mut("user").and_then(|u| u.as_mapping_mut()) else {
                continue;
            };
            match kube_user(&name, user) {
                Ok(r) => {
                    records.extend(r);
                    for k in ["token", "client-key-data", "client-certificate-data"] {
                        user.remove(k);
                    }
                    let exec = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&format!(
                        "apiVersion: {}\ncommand: {}\nargs: [kube-credential, {}]\n",
                        kubeproto::V1BETA1,
                        serde_json::to_string(&keyward.display().to_string()).unwrap_or_default(),
                        serde_json::to_string(&name).unwrap_or_default(),
                    ))
                    .map_err(|_| {
                        CliError::bad_file(
                            &file,
                            format!("user {name:?}: cannot write its exec entry"),
                        )
                    })?;
                    user.insert("exec".into(), exec);
                    replaced += 1;
                }
                Err(why) if why.is_empty() => {}
                Err(why) => {
                    eprintln!(
                        "keyward: {}: user {name:?}: {why}: skipped (left as it is)",
                        file.display()
                    );
                    skipped.push(name);
                }
            }
        }
    }
    let v = open(ctx, o.password_fd)?;
    let sealed = records
        .into_iter()
        .map(|r| v.seal(r))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let counts = store(v, sealed)?;
    say(&format!(
        "{}: {replaced} user(s) imported ({} secret(s) added, {} replaced), {} skipped",
        file.display(),
        counts.added,
        counts.replaced,
        skipped.len()
    ));
    if replaced == 0 || !want_removal(o, &file) {
        if replaced > 0 {
            say(&format!(
                "left {} as it is: kubectl keeps using its plaintext credentials",
                file.display()
            ));
        }
        return Ok(());
    }
    let b = backup(&file, &text)?;
    drop(text);
    let yaml = serde_yaml_ng::to_string(&doc)
        .map_err(|_| CliError::bad_file(&file, "cannot write it back"))?;
    drop(doc);
    let out = SecretBytes::from_slice(yaml.as_bytes())?;
    drop(yaml);
    secretfile::replace(&file, &out)?;
    say(&format!(
        "replaced the imported credentials in {} with `keyward kube-credential` exec entries (backup with the plaintext: {}; delete it once kubectl works)",
        file.display(),
        b.display()
    ));
    Ok(())
}
