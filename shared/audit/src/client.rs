//! Who asked: the parent process (the client program: git, docker, cargo, a
//! shell…), its pid and uid, the controlling terminal and the SSH connection.
//! Everything comes from `/proc`, `/dev/tty` and `SSH_CONNECTION`; what cannot be read
//! (another user's `exe`) is left out, never guessed.

use serde::{Deserialize, Serialize};

/// The process that ran keyward, and where it was.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    /// The parent's `comm` (its program name, at most 15 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// The parent's executable (`/proc/PPID/exe`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    /// The parent's pid.
    pub pid: u32,
    /// The parent's effective uid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// keyward's own pid (the helper or CLI process that wrote the entry).
    pub by: u32,
    /// The controlling terminal (`pts/3`, `tty1`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tty: Option<String>,
    /// `SSH_CONNECTION` (client address and port, server address and port).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<String>,
}

/// A short `/proc` file (`comm`: at most 16 bytes) in one `read(2)`, without
/// the `fstat` and the read to the end that `read_to_string` adds.
fn read_short(path: &str) -> Option<String> {
    use std::io::Read;
    let mut buf = [0u8; 64];
    let n = std::fs::File::open(path).ok()?.read(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// A terminal's name from its device number (glibc's `dev_t` encoding), for
/// the usual devices; `dev MAJOR:MINOR` otherwise.
fn tty_name(dev: u64) -> Option<String> {
    if dev == 0 {
        return None;
    }
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    Some(match major {
        136..=143 => format!("pts/{}", (major - 136) * 256 + minor),
        4 if minor < 64 => format!("tty{minor}"),
        4 => format!("ttyS{}", minor - 64),
        _ => format!("dev {major}:{minor}"),
    })
}

/// Keeps printable characters; others become `?` (what reaches the log and
/// syslog never carries control characters, whatever a process named itself).
pub(crate) fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

impl Client {
    /// Reads who is asking now.
    pub fn current() -> Client {
        let ppid = std::os::unix::process::parent_id();
        let proc = format!("/proc/{ppid}");
        // /proc/PID belongs to the process's effective uid (one stat, where
        // /proc/PID/status would make the kernel format a page of text).
        let uid = std::fs::metadata(&proc)
            .ok()
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m));
        // The controlling terminal: /dev/tty opens only when there is one;
        // its device number names it (cheaper than /proc/self/stat's tty_nr).
        let tty = std::fs::File::open("/dev/tty")
            .and_then(|f| f.metadata())
            .ok()
            .and_then(|m| tty_name(std::os::unix::fs::MetadataExt::rdev(&m)));
        Client {
            program: read_short(&format!("{proc}/comm"))
                .map(|s| printable(s.trim_end_matches('\n'))),
            exe: std::fs::read_link(format!("{proc}/exe"))
                .ok()
                .map(|p| printable(&p.to_string_lossy())),
            pid: ppid,
            uid,
            by: std::process::id(),
            tty,
            ssh: std::env::var("SSH_CONNECTION")
                .ok()
                .filter(|s| !s.is_empty())
                .map(|s| printable(&s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tty_numbers() {
        assert_eq!(tty_name(0), None);
        assert_eq!(tty_name(136 << 8 | 3).as_deref(), Some("pts/3"));
        // pts/300: major 137, minor 44.
        assert_eq!(tty_name(137 << 8 | 44).as_deref(), Some("pts/300"));
        assert_eq!(tty_name(4 << 8 | 1).as_deref(), Some("tty1"));
        assert_eq!(tty_name(4 << 8 | 65).as_deref(), Some("ttyS1"));
    }

    #[test]
    fn current_names_the_parent() {
        let c = Client::current();
        assert_eq!(c.pid, std::os::unix::process::parent_id());
        assert_eq!(c.by, std::process::id());
        assert!(c.program.is_some());
        assert_eq!(printable("a\x1b[2Jb\n"), "a?[2Jb?");
    }
}
