//! The C side: `pam_sm_*` entry points, the libpam calls pam-bindings lacks
//! (including `pam_set_data`/`pam_get_data` for the login-unlock stash), and
//! the system calls the login helper program makes before it runs as the
//! user. The only `unsafe` code of the module;
//! everything else is in safe modules ([`crate::auth`], [`crate::login`],
//! [`crate::args`], [`crate::tally`], [`crate::sessions`]).
#![allow(unsafe_code)]

use crate::args::{self, Options};
use crate::auth::{self, Host, Priority, StrItem, Token, TokenItem};
use crate::login::Account;
use keyward_passdb::MAX_PASSWORD_LEN;
use keyward_secmem::{ExposeSecret, ExposeSecretMut, SecretBytes};
use pam::constants::{
    PamFlag, PamMessageStyle, PamResultCode, PAM_ERROR_MSG, PAM_SILENT, PAM_TEXT_INFO,
};
use pam::module::PamHandle;
use std::cell::Cell;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

const PAM_AUTHTOK: c_int = 6;
const PAM_OLDAUTHTOK: c_int = 7;

#[link(name = "crypt")]
extern "C" {
    /// libxcrypt's crypt_rn(3): NULL on failure, else a pointer into `data`.
    fn crypt_rn(
        phrase: *const c_char,
        setting: *const c_char,
        data: *mut c_void,
        size: c_int,
    ) -> *mut c_char;
}

/// `sizeof(struct crypt_data)` in libxcrypt (crypt.h: `CRYPT_DATA_INTERNAL_SIZE`
/// 30720 plus the output, setting and input buffers: 32768 in all).
const CRYPT_DATA_SIZE: usize = 32768;

/// Verifies `password` against an imported crypt(3) string through libcrypt
/// (`crypt_rn`): the password (NUL-terminated) and libcrypt's whole work
/// area, output included, are in locked memory, wiped when dropped; the
/// output is compared with `stored` in constant time. `Ok(false)` for a
/// password with a NUL byte (crypt cannot take it).
pub(crate) fn crypt_verify(password: &[u8], stored: &str) -> Result<bool, String> {
    if password.contains(&0) {
        return Ok(false);
    }
    let setting = CString::new(stored).map_err(|_| "a NUL byte in a stored hash".to_owned())?;
    let mut phrase = SecretBytes::zeroed(password.len() + 1).map_err(|e| e.to_string())?;
    phrase.expose_secret_mut()[..password.len()].copy_from_slice(password);
    let mut data = SecretBytes::zeroed(CRYPT_DATA_SIZE).map_err(|e| e.to_string())?;
    let area = data.expose_secret_mut();
    let base = area.as_mut_ptr();
    // SAFETY: `phrase` and `setting` are NUL-terminated and live for the
    // call; `base` points to `CRYPT_DATA_SIZE` writable bytes that
    // crypt_rn may use as its `struct crypt_data` (zeroed, as it asks for a
    // first call), and it writes nowhere else.
    let out = unsafe {
        crypt_rn(
            phrase.expose_secret().as_ptr().cast::<c_char>(),
            setting.as_ptr(),
            base.cast::<c_void>(),
            CRYPT_DATA_SIZE as c_int,
        )
    };
    if out.is_null() {
        return Err("libcrypt cannot use the stored hash (unsupported scheme or malformed)".into());
    }
    // The result is a NUL-terminated string inside `data`.
    let start = (out as usize).wrapping_sub(base as usize);
    let result = area
        .get(start..)
        .and_then(|r| r.iter().position(|&b| b == 0).map(|n| &r[..n]))
        .ok_or_else(|| "libcrypt answered outside its work area".to_owned())?;
    Ok(keyward_secmem::ct_eq(result, stored.as_bytes()))
}

#[link(name = "pam")]
extern "C" {
    /// glibc's (not in the libc crate for this target).
    fn getlogin_r(buf: *mut c_char, bufsize: usize) -> c_int;
    fn pam_get_user(pamh: *mut PamHandle, user: *mut *const c_char, prompt: *const c_char)
        -> c_int;
    fn pam_get_authtok(
        pamh: *mut PamHandle,
        item: c_int,
        authtok: *mut *const c_char,
        prompt: *const c_char,
    ) -> c_int;
    fn pam_syslog(pamh: *const PamHandle, priority: c_int, fmt: *const c_char, ...);
    fn pam_fail_delay(pamh: *mut PamHandle, musec_delay: c_uint) -> c_int;
    fn pam_prompt(
        pamh: *mut PamHandle,
        style: c_int,
        response: *mut *mut c_char,
        fmt: *const c_char,
        ...
    ) -> c_int;
    fn pam_set_data(
        pamh: *mut PamHandle,
        module_data_name: *const c_char,
        data: *mut c_void,
        cleanup: Option<extern "C" fn(*mut PamHandle, *mut c_void, c_int)>,
    ) -> c_int;
    fn pam_get_data(
        pamh: *const PamHandle,
        module_data_name: *const c_char,
        data: *mut *const c_void,
    ) -> c_int;
}

/// The `pam_set_data` name of the login-unlock stash.
const STASH: &CStr = c"keyward_login_unlock_password";

/// `pam_set_data` cleanup of the stash: libpam calls it exactly once per
/// stored value, when it is replaced (`PAM_DATA_REPLACE` in `error_status`,
/// e.g. by `stash_take`) or at `pam_end` (whatever `error_status` says:
/// success, failure, `PAM_DATA_SILENT` in a forked child). In every case the
/// password is wiped (dropping a `SecretBytes` wipes it; in a forked child
/// its pages are already wiped or absent and the drop leaves them alone).
/// Never unwinds into libpam.
extern "C" fn stash_cleanup(_pamh: *mut PamHandle, data: *mut c_void, _error_status: c_int) {
    if data.is_null() {
        return;
    }
    let r = catch_unwind(|| {
        // SAFETY: non-null data under STASH is only ever a `Box<SecretBytes>`
        // leaked by `stash_put`, and libpam hands each one to us exactly once.
        drop(unsafe { Box::from_raw(data.cast::<SecretBytes>()) });
    });
    if let Err(payload) = r {
        std::mem::forget(payload);
    }
}

thread_local! {
    /// The handle of the entry point running on this thread, for the
    /// secure-memory warning sink (a plain `fn`, it cannot carry the handle).
    static CURRENT: Cell<*const PamHandle> = const { Cell::new(std::ptr::null()) };
}

fn code(rc: c_int) -> PamResultCode {
    PamResultCode::try_from(rc).unwrap_or(PamResultCode::PAM_SYSTEM_ERR)
}

fn c_message(msg: &str) -> CString {
    CString::new(msg.replace('\0', "?")).unwrap_or_default()
}

fn syslog_raw(pamh: *const PamHandle, priority: c_int, msg: &str) {
    let m = c_message(msg);
    if pamh.is_null() {
        // SAFETY: a constant "%s" format with one NUL-terminated argument.
        unsafe { libc::syslog(libc::LOG_AUTHPRIV | priority, c"%s".as_ptr(), m.as_ptr()) };
    } else {
        // SAFETY: `pamh` is the live handle of the running entry point (set by
        // `entry` for its duration); "%s" with one NUL-terminated argument.
        unsafe { pam_syslog(pamh, priority, c"%s".as_ptr(), m.as_ptr()) };
    }
}

/// secmem's one-time "memory is not locked" warning goes to syslog.
fn warning_sink(msg: &str) {
    let pamh = CURRENT.with(Cell::get);
    syslog_raw(pamh, libc::LOG_WARNING, msg);
}

/// The live PAM handle of one entry-point call.
struct Pam<'a> {
    pamh: &'a mut PamHandle,
    flags: PamFlag,
}

impl Pam<'_> {
    fn raw(&mut self) -> *mut PamHandle {
        std::ptr::from_mut(self.pamh)
    }

    /// One message to the user through the conversation (nothing under
    /// `PAM_SILENT`).
    fn message(&mut self, style: PamMessageStyle, msg: &str) {
        if self.flags & PAM_SILENT != 0 {
            return;
        }
        let m = c_message(msg);
        let pamh = self.raw();
        // SAFETY: `pamh` is live; a null response pointer is allowed for
        // PAM_TEXT_INFO and PAM_ERROR_MSG; "%s" with one NUL-terminated
        // argument.
        unsafe {
            pam_prompt(
                pamh,
                style,
                std::ptr::null_mut(),
                c"%s".as_ptr(),
                m.as_ptr(),
            )
        };
    }
}

impl Host for Pam<'_> {
    /// The user name; bytes that are not UTF-8 become U+FFFD, which no valid
    /// name contains, so such a name gets the unknown-user answer (after the
    /// same scrypt work) instead of an error of its own.
    fn user(&mut self) -> Result<String, PamResultCode> {
        let mut user: *const c_char = std::ptr::null();
        let pamh = self.raw();
        // SAFETY: `pamh` is live for this call; `user` is a valid out pointer;
        // a null prompt asks libpam for its default.
        let rc = unsafe { pam_get_user(pamh, &mut user, std::ptr::null()) };
        if rc != 0 {
            return Err(code(rc));
        }
        if user.is_null() {
            return Err(PamResultCode::PAM_SYSTEM_ERR);
        }
        // SAFETY: libpam returned its NUL-terminated PAM_USER item, valid
        // until the item changes (not before we copy it here).
        Ok(unsafe { CStr::from_ptr(user) }
            .to_string_lossy()
            .into_owned())
    }

    fn token(&mut self, item: TokenItem, prompt: Option<&str>) -> Result<Token, PamResultCode> {
        let item = match item {
            TokenItem::Current => PAM_AUTHTOK,
            TokenItem::Old => PAM_OLDAUTHTOK,
        };
        let prompt = prompt.map(c_message);
        let prompt_ptr = prompt.as_ref().map_or(std::ptr::null(), |p| p.as_ptr());
        let mut tok: *const c_char = std::ptr::null();
        let pamh = self.raw();
        // SAFETY: `pamh` is live for this call; `tok` is a valid out pointer;
        // the prompt is null or NUL-terminated and outlives the call.
        let rc = unsafe { pam_get_authtok(pamh, item, &mut tok, prompt_ptr) };
        if rc != 0 {
            return Err(code(rc));
        }
        if tok.is_null() {
            return Err(PamResultCode::PAM_AUTHTOK_ERR);
        }
        // SAFETY: libpam returned its NUL-terminated item string, valid while
        // the item is unchanged (until we return); strnlen reads no further
        // than the NUL or MAX_PASSWORD_LEN + 1 bytes.
        let len = unsafe { libc::strnlen(tok, MAX_PASSWORD_LEN + 1) };
        if len > MAX_PASSWORD_LEN {
            return Ok(Token::TooLong);
        }
        // SAFETY: strnlen found `len` readable bytes before the NUL.
        let bytes = unsafe { std::slice::from_raw_parts(tok.cast::<u8>(), len) };
        // Straight into locked memory; libpam wipes its own copy at pam_end.
        SecretBytes::from_slice(bytes)
            .map(Token::Secret)
            .map_err(|_| PamResultCode::PAM_BUF_ERR)
    }

    fn item(&self, item: StrItem) -> String {
        use pam::items::{RHost, RUser, Service, Tty};
        let s: Option<&CStr> = match item {
            StrItem::Service => self.pamh.get_item::<Service>().ok().flatten().map(|x| x.0),
            StrItem::Tty => self.pamh.get_item::<Tty>().ok().flatten().map(|x| x.0),
            StrItem::Rhost => self.pamh.get_item::<RHost>().ok().flatten().map(|x| x.0),
            StrItem::Ruser => self.pamh.get_item::<RUser>().ok().flatten().map(|x| x.0),
        };
        s.map(|c| auth::sanitize(&c.to_string_lossy()))
            .unwrap_or_default()
    }

    fn log(&self, priority: Priority, msg: &str) {
        let p = match priority {
            Priority::Err => libc::LOG_ERR,
            Priority::Warning => libc::LOG_WARNING,
            Priority::Notice => libc::LOG_NOTICE,
            Priority::Info => libc::LOG_INFO,
            Priority::Debug => libc::LOG_DEBUG,
        };
        syslog_raw(std::ptr::from_ref(self.pamh), p, msg);
    }

    fn fail_delay(&mut self, usec: u32) {
        let pamh = self.raw();
        // SAFETY: `pamh` is live for this call.
        unsafe { pam_fail_delay(pamh, usec) };
    }

    fn info(&mut self, msg: &str) {
        self.message(PAM_TEXT_INFO, msg);
    }

    fn error(&mut self, msg: &str) {
        self.message(PAM_ERROR_MSG, msg);
    }

    fn uid(&self) -> u32 {
        nix::unistd::getuid().as_raw()
    }

    fn euid(&self) -> u32 {
        nix::unistd::geteuid().as_raw()
    }

    fn logname(&self) -> String {
        let mut buf = [0u8; 257];
        // SAFETY: getlogin_r writes at most `buf.len()` bytes, NUL included,
        // into our buffer, or fails.
        let rc = unsafe { getlogin_r(buf.as_mut_ptr().cast(), buf.len()) };
        if rc != 0 {
            return String::new();
        }
        CStr::from_bytes_until_nul(&buf)
            .map(|c| c.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    fn peek_token(&self, item: TokenItem) -> Option<Token> {
        use pam::items::{AuthTok, OldAuthTok};
        fn copy(bytes: &[u8]) -> Option<Token> {
            if bytes.len() > MAX_PASSWORD_LEN {
                return Some(Token::TooLong);
            }
            // Straight into locked memory; the item stays libpam's.
            SecretBytes::from_slice(bytes).ok().map(Token::Secret)
        }
        match item {
            TokenItem::Current => copy(self.pamh.get_item::<AuthTok>().ok().flatten()?.as_bytes()),
            TokenItem::Old => copy(
                self.pamh
                    .get_item::<OldAuthTok>()
                    .ok()
                    .flatten()?
                    .as_bytes(),
            ),
        }
    }

    fn stash_put(&mut self, secret: SecretBytes) -> Result<(), PamResultCode> {
        let data = Box::into_raw(Box::new(secret));
        let pamh = self.raw();
        // SAFETY: `pamh` is live; STASH is NUL-terminated and static; `data`
        // is a leaked Box that `stash_cleanup` takes back exactly once.
        let rc = unsafe { pam_set_data(pamh, STASH.as_ptr(), data.cast(), Some(stash_cleanup)) };
        if rc != 0 {
            // SAFETY: libpam did not take `data`; it is still ours alone.
            drop(unsafe { Box::from_raw(data) });
            return Err(code(rc));
        }
        Ok(())
    }

    fn stash_take(&mut self) -> Option<SecretBytes> {
        let pamh = self.raw();
        let mut data: *const c_void = std::ptr::null();
        // SAFETY: `pamh` is live; `data` is a valid out pointer.
        let rc = unsafe { pam_get_data(pamh, STASH.as_ptr(), &mut data) };
        if rc != 0 || data.is_null() {
            return None;
        }
        // SAFETY: non-null data under STASH is a live `Box<SecretBytes>` from
        // `stash_put`; it stays alive until the pam_set_data below.
        let copy = unsafe { &*data.cast::<SecretBytes>() }.try_clone().ok();
        // SAFETY: `pamh` is live; replacing the entry runs `stash_cleanup` on
        // the old value (PAM_DATA_REPLACE), which wipes it; a null value with
        // no cleanup is left behind (pam_get_data then yields null).
        unsafe { pam_set_data(pamh, STASH.as_ptr(), std::ptr::null_mut(), None) };
        copy
    }

    fn now(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

type Logic = fn(&mut dyn Host, &Options, PamFlag) -> PamResultCode;

/// Restores [`CURRENT`] when an entry point returns or unwinds.
struct CurrentGuard(*const PamHandle);

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// Runs `logic` for one `pam_sm_*` call; no panic leaves this function.
///
/// # Safety
/// `pamh` is null or a live PAM handle; `argv` holds `argc` pointers, each
/// null or a NUL-terminated string, all valid for the call (libpam's contract).
unsafe fn entry(
    name: &str,
    pamh: *mut PamHandle,
    flags: c_int,
    argc: c_int,
    argv: *const *const c_char,
    logic: Logic,
) -> c_int {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per this function's contract, `pamh` is null or live.
        let Some(handle) = (unsafe { pamh.as_mut() }) else {
            return PamResultCode::PAM_SYSTEM_ERR as c_int;
        };
        let n = usize::try_from(argc).unwrap_or(0);
        let mut args: Vec<&[u8]> = Vec::with_capacity(n);
        if !argv.is_null() && n > 0 {
            // SAFETY: `argv` holds `argc` pointers (contract).
            let ptrs = unsafe { std::slice::from_raw_parts(argv, n) };
            for &p in ptrs {
                if !p.is_null() {
                    // SAFETY: each non-null argument is NUL-terminated and
                    // lives for the call (contract).
                    args.push(unsafe { CStr::from_ptr(p) }.to_bytes());
                }
            }
        }
        let previous = CURRENT.with(|c| c.replace(pamh));
        let _restore = CurrentGuard(previous);
        // The host's environment is the user's (su, sudo): it never chooses
        // how this module keeps passwords.
        keyward_secmem::ignore_environment();
        keyward_secmem::set_warning_sink(warning_sink);
        let mut pam = Pam {
            pamh: handle,
            flags: flags as PamFlag,
        };
        let (opts, bad) = args::parse(args.iter().copied());
        for b in &bad {
            pam.log(Priority::Err, b);
        }
        let rc = logic(&mut pam, &opts, flags as PamFlag);
        // Every secret of this call is dropped (and wiped) by now: give the
        // pages back so the host keeps no secret memory between calls.
        keyward_secmem::release_unused();
        if opts.debug {
            let st = keyward_secmem::status();
            pam.log(
                Priority::Debug,
                &format!(
                    "{name} returns {rc:?}; secure memory: {} live secrets, {} bytes mapped, backend {}",
                    st.live_secrets, st.mapped_bytes, st.backend
                ),
            );
        }
        rc as c_int
    }));
    match result {
        Ok(rc) => rc,
        Err(payload) => {
            // Dropping a panic payload may itself panic: leak it instead.
            std::mem::forget(payload);
            syslog_raw(
                std::ptr::null(),
                libc::LOG_ERR,
                "pam_keyward: internal error (panic)",
            );
            PamResultCode::PAM_SYSTEM_ERR as c_int
        }
    }
}

macro_rules! entry_point {
    ($name:ident, $logic:path) => {
        /// PAM entry point.
        ///
        /// # Safety
        /// Called by libpam with a live handle and `argc` argument strings.
        #[no_mangle]
        pub unsafe extern "C" fn $name(
            pamh: *mut PamHandle,
            flags: c_int,
            argc: c_int,
            argv: *const *const c_char,
        ) -> c_int {
            // SAFETY: libpam's calling contract is `entry`'s contract.
            unsafe { entry(stringify!($name), pamh, flags, argc, argv, $logic) }
        }
    };
}

entry_point!(pam_sm_authenticate, auth::authenticate);
entry_point!(pam_sm_setcred, auth::setcred);
entry_point!(pam_sm_acct_mgmt, auth::acct_mgmt);
entry_point!(pam_sm_chauthtok, auth::chauthtok);
entry_point!(pam_sm_open_session, auth::open_session);
entry_point!(pam_sm_close_session, auth::close_session);

/// Drops to `a` for good: supplementary groups, then gid, then uid (real,
/// effective, saved, and with them the filesystem ids), and checks that the
/// old ids cannot be regained. A process that is already `a` (a non-root
/// host, e.g. `passwd` run by the user has euid 0 and is handled above)
/// changes nothing.
fn drop_privileges(a: &Account) -> nix::Result<()> {
    use nix::unistd::{getresgid, getresuid, setgroups, setresgid, setresuid, Gid, Uid};
    let (u, g) = (Uid::from_raw(a.uid), Gid::from_raw(a.gid));
    if Uid::effective().is_root() {
        let groups: Vec<Gid> = a.groups.iter().map(|&g| Gid::from_raw(g)).collect();
        setgroups(&groups)?;
        setresgid(g, g, g)?;
        setresuid(u, u, u)?;
    }
    let r = getresuid()?;
    let rg = getresgid()?;
    if [r.real, r.effective, r.saved] != [u; 3] || [rg.real, rg.effective, rg.saved] != [g; 3] {
        return Err(nix::errno::Errno::EPERM);
    }
    let root = Uid::from_raw(0);
    if !u.is_root() && (setresuid(root, root, root).is_ok() || nix::unistd::seteuid(root).is_ok()) {
        return Err(nix::errno::Errno::EPERM);
    }
    Ok(())
}

/// Gives the helper a session keyring of its own with the user keyring
/// linked into it, as pam_keyinit does for a login: keys it adds to (or
/// finds in) the user keyring are then possessed, whatever session keyring
/// the host had (possibly root's, or a revoked one at close).
fn own_session_keyring() {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) takes no pointer
    // but the null name; it only changes this (helper) process's keyrings.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<c_char>(),
        )
    };
    if rc >= 0 {
        use linux_keyutils::{KeyRing, KeyRingIdentifier};
        if let Ok(s) = KeyRing::from_special_id(KeyRingIdentifier::Session, false) {
            let _ = s.link_keyring_id(KeyRingIdentifier::User);
        }
    }
}

/// What the login helper program does first, as root, before anything else
/// (`login::helper_main`): closes every descriptor but 0, 1 and 2 (the host
/// may have left some without `O_CLOEXEC`), so nothing of the host's reaches
/// the user's process.
pub(crate) fn close_inherited_descriptors() {
    // SAFETY: close_range(3, ~0, 0) takes no pointer; it only closes this
    // (freshly executed) process's descriptors from 3 up, none of which the
    // Rust runtime or this program holds yet.
    let _ = unsafe { libc::syscall(libc::SYS_close_range, 3 as c_uint, c_uint::MAX, 0 as c_uint) };
}

/// The login helper becomes `account` for good: groups, gid, uid (checked),
/// then a session keyring of its own with the user keyring linked.
pub(crate) fn become_user(account: &Account) -> nix::Result<()> {
    drop_privileges(account)?;
    own_session_keyring();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panics(_: &mut dyn Host, _: &Options, _: PamFlag) -> PamResultCode {
        panic!("deliberate panic in module logic");
    }

    fn succeeds(_: &mut dyn Host, _: &Options, _: PamFlag) -> PamResultCode {
        PamResultCode::PAM_SUCCESS
    }

    #[test]
    fn a_panic_becomes_a_pam_error_code() {
        // The logic never touches the handle, so any non-null pointer will do.
        let pamh = std::ptr::NonNull::<PamHandle>::dangling().as_ptr();
        // SAFETY: argc 0 and a null argv; the handle is never dereferenced.
        let rc = unsafe { entry("test", pamh, 0, 0, std::ptr::null(), panics) };
        assert_eq!(rc, PamResultCode::PAM_SYSTEM_ERR as c_int);
        // SAFETY: as above.
        let rc = unsafe { entry("test", pamh, 0, 0, std::ptr::null(), succeeds) };
        assert_eq!(rc, PamResultCode::PAM_SUCCESS as c_int);
        // The handle is restored for the warning sink.
        assert!(CURRENT.with(Cell::get).is_null());
    }

    /// libcrypt through `crypt_rn`: Drepper's sha512crypt vector, a bcrypt
    /// hash from libxcrypt's own tests' alphabet, and refusals.
    #[test]
    fn crypt_verifies_imported_hashes() {
        let sha = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
        assert_eq!(crypt_verify(b"Hello world!", sha), Ok(true));
        assert_eq!(crypt_verify(b"Hello world?", sha), Ok(false));
        assert_eq!(crypt_verify(b"Hello\0world!", sha), Ok(false));
        let rounds = "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.";
        assert_eq!(crypt_verify(b"Hello world!", rounds), Ok(true));
        // A setting libcrypt does not know.
        assert!(crypt_verify(b"x", "$unknown$abc$def").is_err());
    }

    #[test]
    fn a_null_handle_is_refused() {
        // SAFETY: a null handle is part of `entry`'s contract.
        let rc = unsafe {
            entry(
                "test",
                std::ptr::null_mut(),
                0,
                0,
                std::ptr::null(),
                succeeds,
            )
        };
        assert_eq!(rc, PamResultCode::PAM_SYSTEM_ERR as c_int);
    }
}
