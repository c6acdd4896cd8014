//! The wire format between the PAM process and the child: length-prefixed,
//! tagged frames over a socket pair; secrets are read straight into locked
//! memory.

use super::*;

pub(super) fn send_all(s: &UnixStream, mut buf: &[u8]) -> std::io::Result<()> {
    while !buf.is_empty() {
        // MSG_NOSIGNAL: a child that died must not raise SIGPIPE in the host.
        match nix::sys::socket::send(s.as_raw_fd(), buf, MsgFlags::MSG_NOSIGNAL) {
            Ok(n) => buf = &buf[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

pub(super) fn send_frame(s: &UnixStream, tag: u8, payload: &[u8]) -> std::io::Result<()> {
    let mut head = [0u8; 5];
    head[0] = tag;
    head[1..].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    send_all(s, &head)?;
    send_all(s, payload)
}

/// The next frame's tag and length; `None` at a clean end of stream.
pub(super) fn recv_head(mut s: &UnixStream) -> std::io::Result<Option<(u8, usize)>> {
    let mut head = [0u8; 5];
    let mut got = 0;
    while got < head.len() {
        match s.read(&mut head[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::other("oversized frame"));
    }
    Ok(Some((head[0], len)))
}

pub(super) fn recv_public(mut s: &UnixStream, len: usize) -> std::io::Result<Vec<u8>> {
    let mut v = vec![0u8; len];
    s.read_exact(&mut v)?;
    Ok(v)
}

/// Reads a secret payload straight into locked memory.
pub(super) fn recv_secret(mut s: &UnixStream, len: usize) -> Result<SecretBytes, String> {
    let mut b = SecretBytes::zeroed(len).map_err(|e| e.to_string())?;
    s.read_exact(b.expose_secret_mut())
        .map_err(|e| format!("cannot read from the PAM module: {e}"))?;
    Ok(b)
}
