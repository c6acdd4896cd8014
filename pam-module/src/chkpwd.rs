//! Verification for programs that run as the user (screen lockers, a locked
//! session's re-authentication): the module in a non-root process cannot read
//! `/etc/keyward/shadow`, so it asks `keyward-chkpwd`, a small setuid-root
//! helper installed with it (`/usr/libexec/keyward/keyward-chkpwd`), as
//! pam_unix asks `unix_chkpwd`.
//!
//! - **The module's side** ([`verify_unprivileged`]): starts the helper with
//!   `posix_spawn` (no code of the module's between fork and exec, an empty
//!   environment), writes the password to its standard input (a socket,
//!   `MSG_NOSIGNAL`: a dead helper cannot raise SIGPIPE in the host) from
//!   locked memory and shuts it down, and reads its exit code (a PAM code) and at most a
//!   few lines for the user (the lockout message).
//! - **The helper** ([`helper_main`]): closes inherited descriptors, reads
//!   the password into locked memory, and checks that the user named is the
//!   one who ran it (the real uid's passwd entry); anyone else's name is
//!   refused with `PAM_AUTH_ERR` and a log line, so a user can check only
//!   their own password. It then runs the module's own `authenticate` on the
//!   system's files only (`/etc/keyward/shadow`, `/run/keyward/tally`, the
//!   system configuration; never a path from the caller), with the lockout
//!   counted and the fail delay slept before a failure is answered. The
//!   caller may only make the lockout stricter than the built-in floor
//!   (`deny` at most [`FLOOR_DENY`], `unlock_time` at least
//!   [`FLOOR_UNLOCK_TIME`]). No hash ever leaves it: its answer is an exit
//!   code. Log lines go to syslog (authpriv) under `keyward-chkpwd`.

use crate::args::Options;
use crate::host::{sanitize, Host, Priority, StrItem, Token, TokenItem, TRUSTED_UIDS};
use keyward_passdb::MAX_PASSWORD_LEN;
use keyward_secmem::{ExposeSecret, ExposeSecretMut, SecretBytes};
use nix::sys::socket::MsgFlags;
use pam::constants::{PamFlag, PamResultCode};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Where the module looks for the helper (`chkpwd=` names another).
pub const DEFAULT_CHKPWD: &str = "/usr/libexec/keyward/keyward-chkpwd";
/// The loosest lockout the helper applies, whatever the caller asks: a lock
/// after at most this many failures...
pub const FLOOR_DENY: u32 = 5;
/// ... lasting at least this many seconds (0, "until reset", is stricter).
pub const FLOOR_UNLOCK_TIME: u64 = 600;
/// Most bytes of messages read back from the helper.
const MAX_MESSAGES: usize = 4096;

// ------------------------------------------------------------ the module's side

/// Verifies `password` for `user` through the setuid helper; returns its
/// answer as a PAM code (`PAM_AUTHINFO_UNAVAIL` when it cannot be run).
pub fn verify_unprivileged(
    h: &mut dyn Host,
    o: &Options,
    user: &str,
    password: &SecretBytes,
    nullok: bool,
) -> PamResultCode {
    let helper = &o.chkpwd;
    if let Err(e) = keyward_trustfs::Trust::system(TRUSTED_UIDS, 0o022)
        .named("password checking helper")
        .check_program(helper)
    {
        h.log(Priority::Err, &format!("{e}"));
        return PamResultCode::PAM_AUTHINFO_UNAVAIL;
    }
    // Standard input is a socket, not a pipe: writing to a helper that died
    // must not raise SIGPIPE in the host (MSG_NOSIGNAL).
    let (ours, theirs) = match UnixStream::pair() {
        Ok(p) => p,
        Err(e) => {
            h.log(Priority::Err, &format!("socket: {e}"));
            return PamResultCode::PAM_AUTHINFO_UNAVAIL;
        }
    };
    let mut cmd = Command::new(helper);
    cmd.arg(user)
        .arg(if nullok { "nullok" } else { "nonull" })
        .arg(format!("deny={}", o.deny))
        .arg(format!("unlock_time={}", o.unlock_time))
        .env_clear()
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let spawned = cmd.spawn();
    // The helper's end is closed here with `cmd`.
    drop(cmd);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            h.log(
                Priority::Err,
                &format!("cannot run {}: {e}", helper.display()),
            );
            return PamResultCode::PAM_AUTHINFO_UNAVAIL;
        }
    };
    // The password goes from locked memory to the socket; shutting down our
    // side ends the helper's input.
    let mut left = password.expose_secret();
    while !left.is_empty() {
        match nix::sys::socket::send(ours.as_raw_fd(), left, MsgFlags::MSG_NOSIGNAL) {
            Ok(n) => left = &left[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => break,
        }
    }
    let _ = ours.shutdown(std::net::Shutdown::Write);
    let mut said = Vec::new();
    if let Some(out) = child.stdout.take() {
        let _ = out.take(MAX_MESSAGES as u64).read_to_end(&mut said);
    }
    let status = match child.wait() {
        Ok(s) => s,
        Err(e) => {
            h.log(Priority::Err, &format!("{}: {e}", helper.display()));
            return PamResultCode::PAM_AUTHINFO_UNAVAIL;
        }
    };
    for line in String::from_utf8_lossy(&said).lines().take(4) {
        h.info(&sanitize_message(line));
    }
    match status.code() {
        Some(0) => PamResultCode::PAM_SUCCESS,
        Some(9) => PamResultCode::PAM_AUTHINFO_UNAVAIL,
        Some(10) => PamResultCode::PAM_USER_UNKNOWN,
        _ => PamResultCode::PAM_AUTH_ERR,
    }
}

/// A message from the helper, printable and short.
fn sanitize_message(s: &str) -> String {
    s.chars()
        .take(200)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

// ------------------------------------------------------------------ the helper

/// The helper's `Host`: the user it was asked about, the password from its
/// standard input, syslog, and what the user should be told on stdout.
struct Helper {
    user: String,
    password: Option<SecretBytes>,
    caller: u32,
    delay: Option<Duration>,
    said: Vec<String>,
}

impl Host for Helper {
    fn user(&mut self) -> Result<String, PamResultCode> {
        Ok(self.user.clone())
    }
    fn token(&mut self, _item: TokenItem, _p: Option<&str>) -> Result<Token, PamResultCode> {
        match self.password.take() {
            Some(p) if p.len() > MAX_PASSWORD_LEN => Ok(Token::TooLong),
            Some(p) => Ok(Token::Secret(p)),
            None => Err(PamResultCode::PAM_AUTHTOK_ERR),
        }
    }
    fn item(&self, item: StrItem) -> String {
        match item {
            StrItem::Service => "keyward-chkpwd".into(),
            _ => String::new(),
        }
    }
    fn log(&self, priority: Priority, msg: &str) {
        syslog(priority, msg);
    }
    fn fail_delay(&mut self, usec: u32) {
        self.delay = Some(Duration::from_micros(u64::from(usec)));
    }
    fn info(&mut self, msg: &str) {
        self.said.push(msg.to_owned());
    }
    fn uid(&self) -> u32 {
        self.caller
    }
    fn euid(&self) -> u32 {
        0
    }
    fn now(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// One line to syslog (authpriv), through `/dev/log`; nowhere if there is none.
fn syslog(priority: Priority, msg: &str) {
    let level = match priority {
        Priority::Err => 3,
        Priority::Warning => 4,
        Priority::Notice => 5,
        Priority::Info => 6,
        Priority::Debug => 7,
    };
    // LOG_AUTHPRIV is facility 10.
    let line = format!(
        "<{}>keyward-chkpwd[{}]: {}",
        10 * 8 + level,
        std::process::id(),
        sanitize_message(msg)
    );
    if let Ok(s) = std::os::unix::net::UnixDatagram::unbound() {
        let _ = s.send_to(line.as_bytes(), "/dev/log");
    }
}

/// The helper's arguments: `USER nullok|nonull [deny=N] [unlock_time=S]`.
fn parse(args: &[String]) -> Option<(&str, bool, u32, u64)> {
    let (user, null) = (args.first()?, args.get(1)?);
    let nullok = match null.as_str() {
        "nullok" => true,
        "nonull" => false,
        _ => return None,
    };
    let (mut deny, mut unlock_time) = (0u32, FLOOR_UNLOCK_TIME);
    for a in &args[2..] {
        match a.split_once('=') {
            Some(("deny", v)) => deny = v.parse().ok()?,
            Some(("unlock_time", v)) => unlock_time = v.parse().ok()?,
            _ => return None,
        }
    }
    Some((user, nullok, deny, unlock_time))
}

/// The caller's policy, made no looser than the floor.
fn floor(deny: u32, unlock_time: u64) -> (u32, u64) {
    let deny = if deny == 0 {
        FLOOR_DENY
    } else {
        deny.min(FLOOR_DENY)
    };
    let unlock_time = if unlock_time == 0 {
        0
    } else {
        unlock_time.max(FLOOR_UNLOCK_TIME)
    };
    (deny, unlock_time)
}

/// Reads the whole of standard input (at most `MAX_PASSWORD_LEN + 1` bytes)
/// into locked memory.
fn read_password() -> Option<SecretBytes> {
    let mut buf = SecretBytes::zeroed(MAX_PASSWORD_LEN + 1).ok()?;
    let mut n = 0;
    let mut stdin = std::io::stdin().lock();
    while n < buf.len() {
        match stdin.read(&mut buf.expose_secret_mut()[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    SecretBytes::from_slice(&buf.expose_secret()[..n]).ok()
}

/// `keyward-chkpwd`'s `main`: the exit code is the PAM code.
pub fn helper_main() -> i32 {
    crate::ffi::close_inherited_descriptors();
    let _ = keyward_secmem::harden_process();
    let code = std::panic::catch_unwind(run).unwrap_or(PamResultCode::PAM_SYSTEM_ERR);
    code as i32
}

fn run() -> PamResultCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("host-key") {
        return host_key(&args[1..]);
    }
    let Some((user, nullok, deny, unlock_time)) = parse(&args) else {
        eprintln!(
            "keyward-chkpwd: pam_keyward.so runs this to check the caller's own password \
             (USER nullok|nonull [deny=N] [unlock_time=S], the password on standard input)"
        );
        return PamResultCode::PAM_SYSTEM_ERR;
    };
    let caller = nix::unistd::getuid();
    let own = matches!(nix::unistd::User::from_uid(caller), Ok(Some(u)) if u.name == user);
    let password = read_password();
    let mut h = Helper {
        user: user.to_owned(),
        password,
        caller: caller.as_raw(),
        delay: None,
        said: Vec::new(),
    };
    let code = if own || caller.is_root() {
        let (deny, unlock_time) = floor(deny, unlock_time);
        let o = Options {
            db: keyward_passdb::DEFAULT_PATH.into(),
            tally_dir: keyward_passdb::DEFAULT_TALLY_DIR.into(),
            config: None,
            nullok,
            deny,
            unlock_time,
            ..Options::default()
        };
        crate::auth::authenticate(&mut h, &o, 0 as PamFlag)
    } else {
        drop(h.password.take());
        h.log(
            Priority::Notice,
            &format!(
                "uid {} asked to check the password of user={}: refused (only one's own)",
                caller.as_raw(),
                sanitize(user)
            ),
        );
        h.delay = Some(Duration::from_micros(u64::from(
            crate::host::FAIL_DELAY_USEC,
        )));
        PamResultCode::PAM_AUTH_ERR
    };
    if code != PamResultCode::PAM_SUCCESS {
        if let Some(d) = h.delay {
            std::thread::sleep(d);
        }
    }
    let mut out = std::io::stdout().lock();
    for line in &h.said {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
    code
}

// ------------------------------------------------------- the host-key verb

/// Exit code of `host-key` when there is no host key (and `create` was not
/// asked): [`PamResultCode::PAM_AUTHINFO_UNAVAIL`], as for the password check.
pub const HOST_KEY_MISSING: i32 = PamResultCode::PAM_AUTHINFO_UNAVAIL as i32;

/// `keyward-chkpwd host-key VAULT_ID [create]`: writes the 32-byte secret
/// of the caller's host slot for that vault to standard output
/// (`keyward_vault::host::slot_secret` for the real uid; the host key itself
/// never leaves). `create` makes the host key first if it is missing (what
/// `keyward enroll host` asks). The host key's path comes from the system
/// configuration only (`host_key` in /etc/keyward/keyward.toml), never from
/// the caller's environment or arguments. One line on stderr when refused.
fn host_key(args: &[String]) -> PamResultCode {
    let fail = |msg: &str, code: PamResultCode| {
        eprintln!("keyward-chkpwd: {msg}");
        code
    };
    let (id, create) = match args {
        [id] => (id, false),
        [id, c] if c == "create" => (id, true),
        _ => return fail(
            "usage: keyward-chkpwd host-key VAULT_ID [create] (keyward runs this for host slots)",
            PamResultCode::PAM_SYSTEM_ERR,
        ),
    };
    let Some(id) = keyward_vault::VaultId::from_hex(id) else {
        return fail(
            "the vault id is 32 hex digits",
            PamResultCode::PAM_SYSTEM_ERR,
        );
    };
    let config = match keyward_vault::Config::load_from(&[std::path::PathBuf::from(
        keyward_vault::SYSTEM_CONFIG,
    )]) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string(), PamResultCode::PAM_SYSTEM_ERR),
    };
    let uid = nix::unistd::getuid().as_raw();
    let key = match keyward_vault::host::read_host_key(&config.host_key, create) {
        Ok(k) => k,
        Err(keyward_vault::Error::NotFound { .. }) => {
            return fail(
                &format!(
                    "no host key at {} (`keyward enroll host` makes it)",
                    config.host_key.display()
                ),
                PamResultCode::PAM_AUTHINFO_UNAVAIL,
            )
        }
        Err(e) => return fail(&e.to_string(), PamResultCode::PAM_SYSTEM_ERR),
    };
    let secret = match keyward_vault::host::slot_secret(&key, uid, &id) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string(), PamResultCode::PAM_SYSTEM_ERR),
    };
    drop(key);
    // Straight from locked memory to the descriptor (no stdout buffer).
    let mut left = secret.expose_secret();
    while !left.is_empty() {
        match nix::unistd::write(std::io::stdout(), left) {
            Ok(n) => left = &left[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return PamResultCode::PAM_SYSTEM_ERR,
        }
    }
    PamResultCode::PAM_SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_and_the_floor() {
        assert_eq!(
            parse(&a(&["alice", "nullok"])),
            Some(("alice", true, 0, 600))
        );
        assert_eq!(
            parse(&a(&["bob", "nonull", "deny=3", "unlock_time=60"])),
            Some(("bob", false, 3, 60))
        );
        for bad in [
            &["alice"][..],
            &["alice", "maybe"],
            &["a", "nonull", "db=/x"],
            &["a", "nonull", "deny=x"],
        ] {
            assert_eq!(parse(&a(bad)), None, "{bad:?}");
        }
        assert_eq!(floor(0, 60), (FLOOR_DENY, FLOOR_UNLOCK_TIME));
        assert_eq!(floor(100, 10_000), (FLOOR_DENY, 10_000));
        assert_eq!(floor(2, 0), (2, 0));
    }
}
