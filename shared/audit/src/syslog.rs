//! `audit_syslog = true`: one line per use to the local syslog socket
//! (`/dev/log`, facility authpriv, level info). The line names the action,
//! the kind, the entry's seq and who asked; never a record's name (the log
//! keeps names encrypted) and never a secret. Control characters are escaped.

use crate::chain::Body;
use std::path::Path;

/// The local syslog socket.
pub const DEV_LOG: &str = "/dev/log";

/// `\xNN` for control characters and backslashes; everything else as is.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || c == '\\' {
            for b in c.to_string().bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The syslog message (RFC 3164 framing, `<86>` = authpriv.info).
pub fn message(b: &Body) -> String {
    let c = &b.client;
    let opt = |v: &Option<String>| escape(v.as_deref().unwrap_or("-"));
    format!(
        "<86>keyward[{}]: audit seq={} action={} kind={} client={} client_pid={} uid={} tty={} ssh=\"{}\"",
        c.by,
        b.seq,
        escape(&b.action),
        opt(&b.kind),
        opt(&c.program),
        c.pid,
        c.uid.map_or("-".to_string(), |u| u.to_string()),
        opt(&c.tty),
        opt(&c.ssh),
    )
}

/// Sends `b` to the datagram socket at `socket` (best effort).
pub fn send(socket: &Path, b: &Body) -> std::io::Result<()> {
    let s = std::os::unix::net::UnixDatagram::unbound()?;
    s.send_to(message(b).as_bytes(), socket).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Client;

    #[test]
    fn a_line_reaches_the_socket_escaped_and_without_names() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("log");
        let rx = std::os::unix::net::UnixDatagram::bind(&sock).unwrap();
        let b = Body {
            seq: 7,
            time_ms: 1,
            action: "get".into(),
            kind: Some("git".into()),
            record: Some("c2VjcmV0LW5hbWU=".into()),
            client: Client {
                program: Some("gi\nt\x1b".into()),
                pid: 42,
                uid: Some(1000),
                by: 43,
                ssh: Some("10.0.0.1 5000 10.0.0.2 22".into()),
                ..Client::default()
            },
            prev: crate::chain::GENESIS.into(),
        };
        send(&sock, &b).unwrap();
        let mut buf = [0u8; 1024];
        let n = rx.recv(&mut buf).unwrap();
        let got = std::str::from_utf8(&buf[..n]).unwrap();
        assert_eq!(
            got,
            "<86>keyward[43]: audit seq=7 action=get kind=git client=gi\\x0at\\x1b client_pid=42 \
             uid=1000 tty=- ssh=\"10.0.0.1 5000 10.0.0.2 22\""
        );
        assert!(!got.contains("c2VjcmV0"));
    }
}
