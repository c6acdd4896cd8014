//! The login helper program, `keyward-login-helper JOB USER [CONFIG]`,
//! installed in `/usr/libexec/keyward`: the PAM module starts it (no code of
//! the module's between fork and exec, an empty environment, one end of a
//! socket pair on standard input) for each login-unlock step, as pam_unix
//! starts `unix_chkpwd`. As root it closes every other inherited descriptor,
//! makes itself undumpable, looks the user up and becomes the user for good
//! (groups, gid, uid, checked; a session keyring of its own); only then does
//! it read a file ([`child_main`]). It never sees the password: the module
//! derives the keys and sends only those.
//!
//! Run by anyone else it can only act as its caller: without root the change
//! of user fails (unless it is the caller), and without the socket it stops
//! with a usage line.

use super::*;
use nix::sys::stat::{fstat, SFlag};
use std::ffi::OsString;
use std::os::fd::AsFd;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The helper's `main`: returns its exit code ([`EXIT_OK`], [`EXIT_FAILED`],
/// [`EXIT_PRIVILEGES`], [`EXIT_PANIC`], [`EXIT_USAGE`]).
pub fn helper_main() -> i32 {
    // First, before anything of the user's is touched.
    crate::ffi::close_inherited_descriptors();
    let _ = keyward_secmem::harden_process();
    let code = catch_unwind(AssertUnwindSafe(run)).unwrap_or(EXIT_PANIC);
    i32::from(code)
}

/// `JOB USER [CONFIG] [chkpwd=PATH]`: the job, the user name, the absolute
/// path of the system configuration (the module's `config=`) and, for the
/// `slots` job, the host-key helper (the module's `chkpwd=`).
type Parsed<'a> = (Job, &'a str, Option<&'a Path>, Option<&'a Path>);

fn parse(args: &[OsString]) -> Option<Parsed<'_>> {
    let (job, user, rest) = match args {
        [j, u, rest @ ..] if rest.len() <= 2 => (j, u, rest),
        _ => return None,
    };
    let job = Job::from_arg(job.to_str()?)?;
    let user = user.to_str().filter(|u| !u.is_empty())?;
    let (mut config, mut chkpwd) = (None, None);
    for a in rest {
        match a.as_encoded_bytes().strip_prefix(b"chkpwd=") {
            Some(_) if chkpwd.is_none() => {
                chkpwd = Some(Path::new(a.to_str()?.strip_prefix("chkpwd=")?));
            }
            None if config.is_none() && chkpwd.is_none() => config = Some(Path::new(a)),
            _ => return None,
        }
    }
    if config.is_some_and(|c| !c.is_absolute()) || chkpwd.is_some_and(|c| !c.is_absolute()) {
        return None;
    }
    Some((job, user, config, chkpwd))
}

fn run() -> u8 {
    let usage = || {
        eprintln!(
            "keyward-login-helper: pam_keyward.so starts this for login unlock \
             (JOB USER [CONFIG], a socket on standard input); it is not run by hand"
        );
        EXIT_USAGE
    };
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let Some((job, user, config, chkpwd)) = parse(&args) else {
        return usage();
    };
    let socket = match std::io::stdin().as_fd().try_clone_to_owned() {
        Ok(fd) => fd,
        Err(_) => return usage(),
    };
    match fstat(socket.as_raw_fd()) {
        Ok(st) if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFSOCK => {}
        _ => return usage(),
    }
    let s = UnixStream::from(socket);
    // Nothing keeps the host's working directory (a home on a network file
    // system, say) busy.
    let _ = std::env::set_current_dir("/");
    let acct = match Account::lookup(user) {
        Ok(a) => a,
        Err(e) => {
            let _ = send_frame(&s, T_ERROR, e.as_bytes());
            return EXIT_FAILED;
        }
    };
    if let Err(e) = crate::ffi::become_user(&acct) {
        let msg = format!("cannot become user={}: {e}", sanitize(user));
        let _ = send_frame(&s, T_ERROR, msg.as_bytes());
        return EXIT_PRIVILEGES;
    }
    // Again: changing credentials resets the dumpable flag to the system's
    // `suid_dumpable`, and the vault key will be in this process.
    let _ = keyward_secmem::harden_process();
    child_main(job, &acct.home, &acct.config_files(config), chkpwd, &s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn arguments() {
        let a = args(&["unlock", "alice"]);
        assert_eq!(parse(&a), Some((Job::Unlock, "alice", None, None)));
        let a = args(&["rewrap", "bob", "/etc/k.toml"]);
        assert_eq!(
            parse(&a),
            Some((Job::Rewrap, "bob", Some(Path::new("/etc/k.toml")), None))
        );
        let a = args(&["slots", "bob", "/etc/k.toml", "chkpwd=/usr/x/chk"]);
        assert_eq!(
            parse(&a),
            Some((
                Job::Slots,
                "bob",
                Some(Path::new("/etc/k.toml")),
                Some(Path::new("/usr/x/chk"))
            ))
        );
        let a = args(&["slots", "bob", "chkpwd=/usr/x/chk"]);
        assert_eq!(
            parse(&a),
            Some((Job::Slots, "bob", None, Some(Path::new("/usr/x/chk"))))
        );
        for bad in [
            &["lock"][..],
            &["frob", "alice"],
            &["lock", ""],
            &["lock", "alice", "relative.toml"],
            &["lock", "alice", "/x", "extra"],
            &["slots", "alice", "chkpwd=relative"],
            &["slots", "alice", "chkpwd=/a", "/etc/k.toml"],
            &["slots", "alice", "/a", "/b"],
        ] {
            assert_eq!(parse(&args(bad)), None, "{bad:?}");
        }
    }
}
