//! The git credential wire format: attribute lines in, attribute lines out.
//!
//! As specified by git-credential(1) and gitcredentials(7) as of git 2.47:
//! `key=value` lines ending in `\n` (a `\r` before it is dropped, as git's
//! `strbuf_getline` does), terminated by a blank line or end of input. Keys
//! and values may hold any byte but NUL and newline; a line, counting its
//! newline, is at most 65,535 bytes. Keys ending in `[]` are lists, and an
//! empty value resets the list. Unknown keys and capabilities are ignored.
//!
//! Secret values (`password`, `oauth_refresh_token`, `credential`, and the
//! password inside a `url`) go from the locked input buffer straight into
//! their own locked buffers; only non-secret attributes become `String`s.
//! Errors name the line number or the key, never a value.

use super::url;
use crate::input::{read_bounded, Limits, ReadError};
use keyward_secmem::SecretBytes;
use std::os::fd::{AsRawFd, BorrowedFd};

pub use super::error::{ProtocolError, MAX_INPUT, MAX_LINE};

/// What a helper is asked to do: the one argument git appends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Return a matching credential, if any.
    Get,
    /// Store the credential.
    Store,
    /// Remove matching credentials.
    Erase,
    /// Announce the protocol version and capabilities.
    Capability,
    /// Anything else: ignored silently, so that future git can add actions.
    Unknown,
}

impl Action {
    /// The action named by git's argument.
    pub fn from_arg(arg: &str) -> Action {
        match arg {
            "get" => Action::Get,
            "store" => Action::Store,
            "erase" => Action::Erase,
            "capability" => Action::Capability,
            _ => Action::Unknown,
        }
    }
}

/// A parsed request. Secrets are in locked memory; `Debug` redacts them.
#[derive(Debug, Default)]
pub struct Request {
    /// `protocol`.
    pub protocol: Option<String>,
    /// `host`, including any port, compared as an exact string.
    pub host: Option<String>,
    /// `path`.
    pub path: Option<String>,
    /// `username`.
    pub username: Option<String>,
    /// `password`.
    pub password: Option<SecretBytes>,
    /// `password_expiry_utc`, seconds since 1970 (0 or empty means none, as in git).
    pub password_expiry_utc: Option<u64>,
    /// `oauth_refresh_token`.
    pub oauth_refresh_token: Option<SecretBytes>,
    /// `authtype` (meaningful only with the `authtype` capability).
    pub authtype: Option<String>,
    /// `credential` (meaningful only with the `authtype` capability).
    pub credential: Option<SecretBytes>,
    /// `capability[]=authtype` was announced.
    pub capability_authtype: bool,
    /// `capability[]=state` was announced.
    pub capability_state: bool,
    /// `ephemeral`: the credential must not be stored.
    pub ephemeral: bool,
    /// `continue`: a multistage authentication goes on.
    pub continue_: bool,
    /// `wwwauth[]`, in order (accepted, never stored).
    pub wwwauth: Vec<String>,
    /// `state[]`, in order (accepted; keyward keeps no state).
    pub state: Vec<String>,
}

impl Request {
    /// Whether nothing identifies a credential: no protocol, host, path or
    /// username. Erasing with such a pattern would erase everything.
    pub fn is_empty_pattern(&self) -> bool {
        self.protocol.is_none()
            && self.host.is_none()
            && self.path.is_none()
            && self.username.is_none()
    }

    /// Whether the caller understands `authtype` and `credential`.
    pub fn wants_authtype(&self) -> bool {
        self.capability_authtype
    }

    /// Parses a request from `input` (which usually lives in locked memory).
    /// Stops at the first blank line.
    pub fn parse(input: &[u8]) -> Result<Request, ProtocolError> {
        let mut req = Request::default();
        let mut rest = input;
        let mut line_no = 0usize;
        while !rest.is_empty() {
            line_no += 1;
            let (raw, has_newline, next) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], true, &rest[i + 1..]),
                None => (rest, false, &rest[rest.len()..]),
            };
            rest = next;
            if raw.len() + 1 > MAX_LINE {
                return Err(ProtocolError::LineTooLong { line: line_no });
            }
            let line = match raw.strip_suffix(b"\r") {
                Some(l) if has_newline => l,
                _ => raw,
            };
            if line.is_empty() {
                break;
            }
            if line.contains(&0) {
                return Err(ProtocolError::Nul { line: line_no });
            }
            let eq = line
                .iter()
                .position(|&b| b == b'=')
                .ok_or(ProtocolError::NoEquals { line: line_no })?;
            req.apply(&line[..eq], &line[eq + 1..])?;
        }
        Ok(req)
    }

    fn apply(&mut self, key: &[u8], value: &[u8]) -> Result<(), ProtocolError> {
        match key {
            b"protocol" => self.protocol = Some(text("protocol", value)?),
            b"host" => self.host = Some(text("host", value)?),
            b"path" => self.path = Some(text("path", value)?),
            b"username" => self.username = Some(text("username", value)?),
            b"password" => self.password = Some(SecretBytes::from_slice(value)?),
            b"oauth_refresh_token" => {
                self.oauth_refresh_token = Some(SecretBytes::from_slice(value)?)
            }
            b"credential" => self.credential = Some(SecretBytes::from_slice(value)?),
            b"authtype" => self.authtype = Some(text("authtype", value)?),
            b"password_expiry_utc" => self.password_expiry_utc = expiry(value)?,
            b"ephemeral" => self.ephemeral = boolean("ephemeral", value)?,
            b"continue" => self.continue_ = boolean("continue", value)?,
            b"wwwauth[]" => push_list(&mut self.wwwauth, "wwwauth[]", value)?,
            b"state[]" => push_list(&mut self.state, "state[]", value)?,
            b"capability[]" => match value {
                b"" => {
                    self.capability_authtype = false;
                    self.capability_state = false;
                }
                b"authtype" => self.capability_authtype = true,
                b"state" => self.capability_state = true,
                _ => {}
            },
            b"url" => {
                // As git does: a url replaces everything read so far.
                let parts = url::split(value)?;
                *self = Request {
                    protocol: Some(parts.protocol),
                    host: Some(parts.host),
                    path: parts.path,
                    username: parts.username,
                    password: parts.password,
                    ..Request::default()
                };
            }
            _ => {}
        }
        Ok(())
    }
}

fn text(key: &'static str, value: &[u8]) -> Result<String, ProtocolError> {
    std::str::from_utf8(value)
        .map(str::to_owned)
        .map_err(|_| ProtocolError::NotUtf8 { key })
}

fn push_list(list: &mut Vec<String>, key: &'static str, value: &[u8]) -> Result<(), ProtocolError> {
    if value.is_empty() {
        list.clear();
    } else {
        list.push(text(key, value)?);
    }
    Ok(())
}

/// git reads 0 (and an empty value) as "no expiry".
fn expiry(value: &[u8]) -> Result<Option<u64>, ProtocolError> {
    if value.is_empty() {
        return Ok(None);
    }
    if !value.iter().all(u8::is_ascii_digit) {
        return Err(ProtocolError::BadExpiry);
    }
    let s = std::str::from_utf8(value).map_err(|_| ProtocolError::BadExpiry)?;
    match s.parse::<u64>() {
        Ok(0) => Ok(None),
        Ok(n) => Ok(Some(n)),
        Err(_) => Err(ProtocolError::BadExpiry),
    }
}

/// git's `git_config_bool`: true/yes/on, false/no/off/empty, or an integer.
fn boolean(key: &'static str, value: &[u8]) -> Result<bool, ProtocolError> {
    let s = std::str::from_utf8(value).map_err(|_| ProtocolError::BadBool { key })?;
    let lower = s.to_ascii_lowercase();
    match lower.as_str() {
        "true" | "yes" | "on" => Ok(true),
        "false" | "no" | "off" | "" => Ok(false),
        _ => s
            .parse::<i64>()
            .map(|n| n != 0)
            .map_err(|_| ProtocolError::BadBool { key }),
    }
}

/// First capacity of the request buffer: a `get` request fits, and the
/// buffer shares a locked page with the answer (the 512-byte size class)
/// instead of taking two pages of its own; longer input grows it by copying
/// and wiping.
const INITIAL_READ: usize = 512;

/// Reads a request from `fd` into locked memory, up to and excluding the
/// first blank line (or to end of input). Never reads past the blank line's
/// read(2) chunk, so a caller that keeps the pipe open does not hang us.
pub fn read_request(fd: BorrowedFd<'_>) -> Result<SecretBytes, ProtocolError> {
    let limits = Limits {
        initial: INITIAL_READ,
        max: MAX_INPUT,
        // git waits for our answer with the pipe open: never read past the limit.
        probe_at_max: false,
    };
    let mut line_start = 0usize;
    let read = |b: &mut [u8]| nix::unistd::read(fd.as_raw_fd(), b).map_err(std::io::Error::from);
    let blank_line = |buf: &mut SecretBytes, old: usize| {
        let mut scan = old;
        loop {
            let found = {
                let bytes = keyward_secmem::ExposeSecret::expose_secret(&*buf);
                bytes[scan..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map(|off| (scan + off, &bytes[line_start..scan + off]))
                    .map(|(nl, line)| (nl, line.is_empty() || line == b"\r"))
            };
            match found {
                Some((_, true)) => {
                    buf.truncate(line_start);
                    return true;
                }
                Some((nl, false)) => {
                    line_start = nl + 1;
                    scan = line_start;
                }
                None => return false,
            }
        }
    };
    read_bounded(read, limits, blank_line).map_err(|e| match e {
        ReadError::TooLarge => ProtocolError::InputTooLarge,
        ReadError::Io(e) => ProtocolError::Io(e),
        ReadError::Memory(e) => e.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_secmem::ExposeSecret;

    fn secret(s: &Option<SecretBytes>) -> Option<&[u8]> {
        s.as_ref().map(|s| s.expose_secret())
    }

    #[test]
    fn parses_every_attribute() {
        let r = Request::parse(
            b"capability[]=authtype\ncapability[]=state\ncapability[]=future\n\
              protocol=https\nhost=example.com:8443\npath=a/b.git\nusername=bob\n\
              password=p=w\npassword_expiry_utc=2000000000\noauth_refresh_token=rt\n\
              authtype=Bearer\ncredential=tok\nephemeral=1\ncontinue=true\n\
              wwwauth[]=Basic realm=\"x\"\nstate[]=a:b\nunknown=x\n",
        )
        .unwrap();
        assert_eq!(r.protocol.as_deref(), Some("https"));
        assert_eq!(r.host.as_deref(), Some("example.com:8443"));
        assert_eq!(r.path.as_deref(), Some("a/b.git"));
        assert_eq!(r.username.as_deref(), Some("bob"));
        assert_eq!(secret(&r.password), Some(&b"p=w"[..]));
        assert_eq!(r.password_expiry_utc, Some(2_000_000_000));
        assert_eq!(secret(&r.oauth_refresh_token), Some(&b"rt"[..]));
        assert_eq!(r.authtype.as_deref(), Some("Bearer"));
        assert_eq!(secret(&r.credential), Some(&b"tok"[..]));
        assert!(r.capability_authtype && r.capability_state && r.ephemeral && r.continue_);
        assert_eq!(r.wwwauth, vec!["Basic realm=\"x\"".to_string()]);
        assert_eq!(r.state, vec!["a:b".to_string()]);
    }

    #[test]
    fn blank_line_ends_the_request_and_crlf_is_stripped() {
        let r = Request::parse(b"protocol=https\r\nhost=h\r\n\r\nusername=late\n").unwrap();
        assert_eq!(r.protocol.as_deref(), Some("https"));
        assert_eq!(r.host.as_deref(), Some("h"));
        assert_eq!(r.username, None);
        // A \r not followed by \n belongs to the value.
        let r = Request::parse(b"host=h\r").unwrap();
        assert_eq!(r.host.as_deref(), Some("h\r"));
    }

    #[test]
    fn empty_values_are_values() {
        let r = Request::parse(b"username=\npassword=\npath=\n").unwrap();
        assert_eq!(r.username.as_deref(), Some(""));
        assert_eq!(secret(&r.password), Some(&b""[..]));
        assert_eq!(r.path.as_deref(), Some(""));
        assert!(!r.is_empty_pattern());
        assert!(Request::parse(b"password=x\n").unwrap().is_empty_pattern());
    }

    #[test]
    fn list_reset_and_capability_reset() {
        let r = Request::parse(
            b"wwwauth[]=a\nwwwauth[]=\nwwwauth[]=b\ncapability[]=authtype\ncapability[]=\n",
        )
        .unwrap();
        assert_eq!(r.wwwauth, vec!["b".to_string()]);
        assert!(!r.capability_authtype);
    }

    #[test]
    fn line_limit_counts_the_newline() {
        let mut ok = b"password=".to_vec();
        ok.resize(MAX_LINE - 1, b'a');
        ok.push(b'\n');
        assert_eq!(
            Request::parse(&ok).unwrap().password.unwrap().len(),
            MAX_LINE - 10
        );
        let mut long = b"password=".to_vec();
        long.resize(MAX_LINE, b'a');
        long.push(b'\n');
        assert!(matches!(
            Request::parse(&long),
            Err(ProtocolError::LineTooLong { line: 1 })
        ));
        // Without a newline at end of input the same count applies.
        long.pop();
        assert!(matches!(
            Request::parse(&long),
            Err(ProtocolError::LineTooLong { line: 1 })
        ));
    }

    #[test]
    fn rejects_nul_missing_equals_and_bad_values() {
        assert!(matches!(
            Request::parse(b"host=h\npassword=a\0b\n"),
            Err(ProtocolError::Nul { line: 2 })
        ));
        assert!(matches!(
            Request::parse(b"hello\n"),
            Err(ProtocolError::NoEquals { line: 1 })
        ));
        assert!(matches!(
            Request::parse(b"password_expiry_utc=soon\n"),
            Err(ProtocolError::BadExpiry)
        ));
        assert!(matches!(
            Request::parse(b"ephemeral=maybe\n"),
            Err(ProtocolError::BadBool { key: "ephemeral" })
        ));
        assert!(matches!(
            Request::parse(b"host=\xff\n"),
            Err(ProtocolError::NotUtf8 { key: "host" })
        ));
        // Unknown keys are ignored whatever their bytes.
        assert!(Request::parse(b"x-\xff=\xfe\n").is_ok());
        let msg = Request::parse(b"password=hunter2\0\n")
            .unwrap_err()
            .to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn expiry_zero_means_none() {
        assert_eq!(
            Request::parse(b"password_expiry_utc=0\n")
                .unwrap()
                .password_expiry_utc,
            None
        );
        assert_eq!(
            Request::parse(b"password_expiry_utc=\n")
                .unwrap()
                .password_expiry_utc,
            None
        );
    }

    #[test]
    fn url_replaces_what_came_before() {
        let r = Request::parse(
            b"capability[]=authtype\nusername=x\npath=zz\nurl=https://u:p%41ss@h:8/r.git/\nusername=y\n",
        )
        .unwrap();
        assert_eq!(r.protocol.as_deref(), Some("https"));
        assert_eq!(r.host.as_deref(), Some("h:8"));
        assert_eq!(r.path.as_deref(), Some("r.git"));
        assert_eq!(r.username.as_deref(), Some("y"));
        assert_eq!(secret(&r.password), Some(&b"pAss"[..]));
        assert!(!r.capability_authtype);
    }

    /// Arbitrary input never panics: it parses or it is one error.
    #[test]
    fn arbitrary_input_never_panics() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        const ALPHABET: &[u8] = b"=\n\r%:/@?#[]0aF\0\xffpassword urlhost";
        for _ in 0..5000 {
            let len = (next() % 200) as usize;
            let mut input: Vec<u8> = match next() % 4 {
                0 => b"url=".to_vec(),
                1 => b"url=https://".to_vec(),
                2 => b"password_expiry_utc=".to_vec(),
                _ => Vec::new(),
            };
            for _ in 0..len {
                input.push(ALPHABET[(next() % ALPHABET.len() as u64) as usize]);
            }
            let _ = Request::parse(&input);
        }
    }

    #[test]
    fn actions() {
        assert_eq!(Action::from_arg("get"), Action::Get);
        assert_eq!(Action::from_arg("store"), Action::Store);
        assert_eq!(Action::from_arg("erase"), Action::Erase);
        assert_eq!(Action::from_arg("capability"), Action::Capability);
        assert_eq!(Action::from_arg("GET"), Action::Unknown);
    }
}
