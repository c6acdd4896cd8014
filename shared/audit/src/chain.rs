//! The log file, its head and the chain: appending one entry under the head's
//! lock, rotation, reading, and verification. Layout in the crate docs.

use crate::client::Client;
use crate::Keys;
use base64::Engine as _;
use keyward_trustfs::Trust;
use keyward_vault::{AuditSettings, Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// MAC label of an entry: `HMAC(mac key, ENTRY ‖ body)`.
const ENTRY_LABEL: &[u8] = b"keyward-audit-entry-v1\0";
/// MAC label of the head: `HMAC(mac key, HEAD ‖ seq (u64 LE) ‖ link)`.
const HEAD_LABEL: &[u8] = b"keyward-audit-head-v1\0";
/// Hash label of an unsealed entry's link: `SHA-256(UNSEALED ‖ body)`.
const UNSEALED_LABEL: &[u8] = b"keyward-audit-unsealed-v1\0";
/// Associated data of an encrypted name: `NAME ‖ vault id`.
pub(crate) const NAME_LABEL: &[u8] = b"keyward-audit-name-v1\0";
/// The `prev` of the first entry ever.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const HEAD_MAGIC: &str = "keyward-audit-head-v1";
/// Length of a rendered head ([`Head::render`]): magic, two 20-digit seqs,
/// two 64-digit links and a 64-character MAC, five spaces and a newline.
const HEAD_LEN: usize = HEAD_MAGIC.len() + 2 * 20 + 3 * 64 + 5 + 1;

/// The files of one vault's audit trail.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `VAULT.audit`: the current log.
    pub log: PathBuf,
    /// `VAULT.audit.head`: the chain head, and the appenders' lock.
    pub head: PathBuf,
}

impl Paths {
    /// The audit files beside `vault`.
    pub fn for_vault(vault: &Path) -> Paths {
        let with = |suffix: &str| {
            let mut s = vault.as_os_str().to_os_string();
            s.push(suffix);
            PathBuf::from(s)
        };
        Paths {
            log: with(".audit"),
            head: with(".audit.head"),
        }
    }

    /// `VAULT.audit.N`: the N-th newest rotated file.
    pub fn rotated(&self, n: u32) -> PathBuf {
        let mut s = self.log.as_os_str().to_os_string();
        s.push(format!(".{n}"));
        PathBuf::from(s)
    }
}

/// One entry as written (the JSON before the tab).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Body {
    /// 1 for the first entry of a vault's trail, +1 per entry, across rotations.
    pub seq: u64,
    /// Unix time in milliseconds.
    pub time_ms: u64,
    /// `get`, `store`, `erase`, `generate`, `import`, `export`, `unlock`,
    /// `lock`, `unlock-failed`.
    pub action: String,
    /// `git`, `docker`, `secret`, or `*` (several kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The record's host or name, encrypted (base64 of nonce ‖ ciphertext ‖ tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// Who asked.
    pub client: Client,
    /// The link (hex) of the entry before: its MAC, or for an unsealed entry
    /// `SHA-256(label ‖ body)`; [`GENESIS`] for the first.
    pub prev: String,
}

fn hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 * b.len());
    for x in b {
        s.push(char::from(DIGITS[usize::from(x >> 4)]));
        s.push(char::from(DIGITS[usize::from(x & 15)]));
    }
    s
}

fn unsealed_link(body: &str) -> String {
    let mut h = Sha256::new();
    h.update(UNSEALED_LABEL);
    h.update(body.as_bytes());
    hex(&h.finalize())
}

fn head_mac_input(seq: u64, link: &str) -> Vec<u8> {
    [HEAD_LABEL, &seq.to_le_bytes(), link.as_bytes()].concat()
}

fn head_mac(keys: &Keys, seq: u64, link: &str) -> String {
    hex(&keys.mac.mac(&[&head_mac_input(seq, link)]))
}

fn entry_mac(keys: &Keys, body: &str) -> String {
    hex(&keys.mac.mac(&[ENTRY_LABEL, body.as_bytes()]))
}

fn ct_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The chain head: the last entry, and the last sealed one with a MAC over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    seq: u64,
    link: String,
    sealed_seq: u64,
    sealed_link: String,
    mac: Option<String>,
}

impl Head {
    fn genesis() -> Head {
        Head {
            seq: 0,
            link: GENESIS.into(),
            sealed_seq: 0,
            sealed_link: GENESIS.into(),
            mac: None,
        }
    }

    fn parse(s: &str) -> Option<Head> {
        let f: Vec<&str> = s
            .trim_end_matches('\n')
            .split(' ')
            .filter(|x| !x.is_empty())
            .collect();
        let [magic, seq, link, sealed_seq, sealed_link, mac] = f[..] else {
            return None;
        };
        (magic == HEAD_MAGIC).then_some(())?;
        Some(Head {
            seq: seq.parse().ok()?,
            link: link.into(),
            sealed_seq: sealed_seq.parse().ok()?,
            sealed_link: sealed_link.into(),
            mac: (mac.trim_end() != "-").then(|| mac.to_string()),
        })
    }

    /// One line of fixed length (seqs zero-padded, `-` padded to a MAC's
    /// width), so rewriting it in place never needs a truncate.
    fn render(&self) -> String {
        format!(
            "{HEAD_MAGIC} {:020} {} {:020} {} {:<64}\n",
            self.seq,
            self.link,
            self.sealed_seq,
            self.sealed_link,
            self.mac.as_deref().unwrap_or("-")
        )
    }
}

/// The audit files are trusted like the vault: yours, 0600, no symlink.
fn trust() -> Trust {
    Trust::private()
}

/// Opens `path` for appending (created 0600 if missing), checked; with its
/// length.
fn open_append(path: &Path) -> Result<(File, u64)> {
    let (f, meta) = trust().open_with_meta(
        path,
        OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600),
    )?;
    Ok((f, meta.len()))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// The head, and the file's length. The head is one short line: read at
/// offset 0 into a fixed buffer (`pread`: no seek, no `fstat`); a read that
/// returns less than asked of a regular file has reached its end.
fn read_head(f: &File, path: &Path) -> Result<(Option<Head>, usize)> {
    use std::os::unix::fs::FileExt;
    let mut buf = [0u8; 512];
    let mut n = 0;
    loop {
        match f.read_at(&mut buf[n..], n as u64).map_err(io(path))? {
            0 => break,
            k => n += k,
        }
        // A short read of a regular file is its end (the head is rewritten
        // only under the lock this process holds).
        if n == buf.len() || n == HEAD_LEN {
            break;
        }
    }
    if n == 0 {
        return Ok((None, 0));
    }
    let s = std::str::from_utf8(&buf[..n]).unwrap_or("");
    Head::parse(s).map(|h| (Some(h), n)).ok_or_else(|| {
        Error::Invalid(format!(
            "{}: not an audit head (edited?): run `keyward log --verify`",
            path.display()
        ))
    })
}

/// What an appender knows of the event.
pub(crate) struct NewEntry<'a> {
    pub action: &'a str,
    pub kind: Option<&'a str>,
    pub name: Option<&'a str>,
    pub client: Client,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Renames `log` → `log.1` → … → `log.keep` (the oldest is replaced).
fn rotate(paths: &Paths, keep: u32) -> Result<()> {
    for n in (1..keep).rev() {
        let from = paths.rotated(n);
        if from.exists() {
            std::fs::rename(&from, paths.rotated(n + 1)).map_err(io(&from))?;
        }
    }
    std::fs::rename(&paths.log, paths.rotated(1)).map_err(io(&paths.log))
}

/// Appends one entry: under `flock` on the head file, chains it to the head,
/// writes it with one `write(2)` on an `O_APPEND` descriptor (rotating first
/// when the file would pass the size limit), then rewrites the head.
pub(crate) fn append(
    paths: &Paths,
    settings: &AuditSettings,
    keys: Option<&Keys>,
    e: NewEntry<'_>,
) -> Result<Body> {
    let head_file = trust().open_or_create(&paths.head)?;
    // flock(2), released when the file is closed at the end (no unlock call).
    head_file.lock().map_err(io(&paths.head))?;
    let (head, old_len) = read_head(&head_file, &paths.head)?;
    let head = head.unwrap_or_else(Head::genesis);
    let seq = head.seq + 1;
    let record = match (keys, e.name) {
        (Some(k), Some(name)) => {
            Some(base64::engine::general_purpose::STANDARD.encode(k.seal_name(name)?))
        }
        _ => None,
    };
    let body = Body {
        seq,
        time_ms: now_ms(),
        action: e.action.to_string(),
        kind: e.kind.map(str::to_string),
        record,
        client: e.client,
        prev: head.link.clone(),
    };
    let json =
        serde_json::to_string(&body).map_err(|e| Error::Invalid(format!("audit entry: {e}")))?;
    // Sealed: the entry's MAC and the head's MAC over it, in one call.
    let macs = keys.map(|k| {
        let (entry, head) = k.mac.mac_then(&[ENTRY_LABEL, json.as_bytes()], |m| {
            head_mac_input(seq, &hex(m))
        });
        (hex(&entry), hex(&head))
    });
    let mac = macs.as_ref().map(|(e, _)| e.clone());
    let line = format!("{json}\t{}\n", mac.as_deref().unwrap_or("-"));
    let link = mac.clone().unwrap_or_else(|| unsealed_link(&json));

    // The length the open's check read: appenders hold the head's lock, so
    // nobody else writes to the log in between.
    let (mut log, len) = open_append(&paths.log)?;
    if len > 0 && len + line.len() as u64 > settings.max_size {
        rotate(paths, settings.keep)?;
        log = open_append(&paths.log)?.0;
    }
    let n = nix::unistd::write(&log, line.as_bytes()).map_err(|e| io(&paths.log)(e.into()))?;
    if n != line.len() {
        return Err(Error::Invalid(format!(
            "{}: short write ({n} of {} bytes); run `keyward log --verify`",
            paths.log.display(),
            line.len()
        )));
    }
    let new_head = match macs {
        Some((_, head_mac)) => Head {
            seq: body.seq,
            link: link.clone(),
            sealed_seq: body.seq,
            sealed_link: link.clone(),
            mac: Some(head_mac),
        },
        None => Head {
            seq: body.seq,
            link,
            ..head
        },
    };
    let text = new_head.render();
    std::os::unix::fs::FileExt::write_all_at(&head_file, text.as_bytes(), 0)
        .map_err(io(&paths.head))?;
    if old_len > text.len() {
        head_file
            .set_len(text.len() as u64)
            .map_err(io(&paths.head))?;
    }
    Ok(body)
}

/// One entry as read back.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// What was written.
    pub body: Body,
    /// Whether it carries a MAC (written with the vault key).
    pub sealed: bool,
    /// The record's name, decrypted (only with the vault key).
    pub name: Option<String>,
}

/// The files of the trail, oldest first, that exist.
fn files(paths: &Paths, keep: u32) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = (1..=keep.max(100))
        .rev()
        .map(|n| paths.rotated(n))
        .filter(|p| p.exists())
        .collect();
    if paths.log.exists() {
        v.push(paths.log.clone());
    }
    v
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    let mut f = trust().open(path)?;
    let mut data = Vec::new();
    f.read_to_end(&mut data).map_err(io(path))?;
    Ok(data)
}

/// Splits a line into its body and MAC field.
fn split_line(line: &[u8]) -> Option<(&str, &str)> {
    let s = std::str::from_utf8(line).ok()?;
    s.rsplit_once('\t')
}

/// Every readable entry, oldest first (lines that do not parse are skipped:
/// `verify` reports them). Names are decrypted with `keys`.
pub fn read_entries(paths: &Paths, keys: Option<&Keys>) -> Result<Vec<LogEntry>> {
    let mut out = Vec::new();
    for path in files(paths, 100) {
        let data = read_file(&path)?;
        for line in data.split(|&b| b == b'\n') {
            let Some((json, mac)) = split_line(line) else {
                continue;
            };
            let Ok(body) = serde_json::from_str::<Body>(json) else {
                continue;
            };
            let name = match (keys, &body.record) {
                (Some(k), Some(r)) => base64::engine::general_purpose::STANDARD
                    .decode(r)
                    .ok()
                    .and_then(|b| k.open_name(&b))
                    .and_then(|b| String::from_utf8(b).ok()),
                _ => None,
            };
            out.push(LogEntry {
                body,
                sealed: mac != "-",
                name,
            });
        }
    }
    Ok(out)
}

/// What `keyward log --verify` and `keyward doctor` found.
#[derive(Debug, Clone, Default)]
pub struct Verified {
    /// Entries read.
    pub entries: u64,
    /// The first entry's seq (above 1 when older files were rotated away).
    pub first_seq: u64,
    /// The last entry's seq.
    pub last_seq: u64,
    /// Entries at the end written without the vault key (failed unlocks,
    /// locks of a locked vault), not yet sealed by a later entry.
    pub unsealed_tail: u64,
    /// Whether MACs were checked (with the vault key), or only the structure.
    pub macs_checked: bool,
    /// Every break found, one line each; empty when the chain is intact.
    pub problems: Vec<String>,
}

/// Checks the whole trail: every entry chains to the one before it (seq +1,
/// `prev` = its link), every MAC verifies (with `keys`), no line is cut off,
/// and the log ends where the head says (with `keys`: the head's MAC too).
pub fn verify(paths: &Paths, keys: Option<&Keys>) -> Result<Verified> {
    let mut v = Verified {
        macs_checked: keys.is_some(),
        ..Verified::default()
    };
    let head = match trust().open(&paths.head).map_err(Error::from) {
        Ok(f) => read_head(&f, &paths.head)?.0,
        Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let mut last: Option<(u64, String)> = None;
    let mut sealed_seen = false;
    let all: Vec<(PathBuf, Vec<u8>)> = files(paths, 100)
        .into_iter()
        .map(|p| read_file(&p).map(|d| (p, d)))
        .collect::<Result<_>>()?;
    // MACs are checked from the last `rekey` entry on: entries before it
    // were sealed with a vault key that no longer exists.
    let last_rekey = all
        .iter()
        .flat_map(|(_, d)| d.split(|&b| b == b'\n'))
        .filter_map(split_line)
        .filter_map(|(json, _)| serde_json::from_str::<Body>(json).ok())
        .filter(|b| b.action == "rekey")
        .map(|b| b.seq)
        .max()
        .unwrap_or(0);
    for (path, data) in &all {
        let shown = path.display();
        let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
        if lines.last().is_some_and(|l| !l.is_empty()) {
            v.problems.push(format!(
                "{shown}: the last entry is cut off (the file was truncated, or a write was torn)"
            ));
        }
        lines.pop();
        for (i, line) in lines.iter().enumerate() {
            let at = format!("{shown} line {}", i + 1);
            let Some((json, mac)) = split_line(line) else {
                v.problems
                    .push(format!("{at}: not an audit entry (edited?)"));
                last = None;
                continue;
            };
            let Ok(body) = serde_json::from_str::<Body>(json) else {
                v.problems
                    .push(format!("{at}: not an audit entry (edited?)"));
                last = None;
                continue;
            };
            v.entries += 1;
            if v.entries == 1 {
                v.first_seq = body.seq;
                if body.seq == 1 && body.prev != GENESIS {
                    v.problems
                        .push(format!("{at}: entry 1 does not start the chain (edited?)"));
                }
            }
            if let Some((seq, link)) = &last {
                if body.seq != seq + 1 {
                    v.problems.push(format!(
                        "{at}: entry {} follows entry {seq}: entries were deleted, inserted or reordered",
                        body.seq
                    ));
                } else if body.prev != *link {
                    v.problems.push(format!(
                        "{at}: entry {} does not chain to entry {seq} (an entry was edited, deleted or inserted)",
                        body.seq
                    ));
                }
            }
            let link = if mac == "-" {
                v.unsealed_tail += 1;
                unsealed_link(json)
            } else {
                if let Some(k) = keys.filter(|_| body.seq >= last_rekey) {
                    if !ct_eq(&entry_mac(k, json), mac) {
                        v.problems.push(format!(
                            "{at}: entry {}: the MAC does not match (the entry was edited)",
                            body.seq
                        ));
                    }
                }
                v.unsealed_tail = 0;
                sealed_seen = true;
                mac.to_string()
            };
            if let Some(h) = &head {
                if body.seq == h.sealed_seq && link != h.sealed_link {
                    v.problems.push(format!(
                        "{at}: entry {} is not the one the head sealed (edited or replaced)",
                        body.seq
                    ));
                }
            }
            v.last_seq = body.seq;
            last = Some((body.seq, link));
        }
    }
    match (&head, &last) {
        (None, None) => {}
        (None, Some(_)) => v.problems.push(format!(
            "{} is missing: the end of the log cannot be checked (deleted?)",
            paths.head.display()
        )),
        (Some(h), _) => {
            let (seq, link) = last.clone().unwrap_or((0, GENESIS.to_string()));
            if h.seq != seq || h.link != link {
                v.problems.push(format!(
                    "the log ends at entry {seq} but its head says entry {}: entries at the end were removed (truncated) or the head was replaced",
                    h.seq
                ));
            }
            if h.sealed_seq > seq {
                v.problems.push(format!(
                    "the head sealed entry {}, which is not in the log (truncated)",
                    h.sealed_seq
                ));
            }
            if let (Some(k), Some(mac)) = (keys, &h.mac) {
                if !ct_eq(&head_mac(k, h.sealed_seq, &h.sealed_link), mac) {
                    v.problems.push(format!(
                        "{}: its MAC does not match (edited, or from another vault)",
                        paths.head.display()
                    ));
                }
            }
            if keys.is_some() && h.mac.is_none() && sealed_seen {
                v.problems.push(format!(
                    "{}: holds no MAC although the log has sealed entries (replaced?)",
                    paths.head.display()
                ));
            }
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_renders_to_its_fixed_length_and_parses_back() {
        let sealed = Head {
            seq: 7,
            link: "a".repeat(64),
            sealed_seq: 7,
            sealed_link: "a".repeat(64),
            mac: Some("b".repeat(64)),
        };
        for h in [Head::genesis(), sealed] {
            let text = h.render();
            assert_eq!(text.len(), HEAD_LEN, "{text}");
            let back = Head::parse(&text).unwrap();
            assert_eq!((back.seq, back.link), (h.seq, h.link));
        }
    }

    #[test]
    fn hex_is_lowercase_two_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }
}
