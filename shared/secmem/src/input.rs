//! Secrets typed at a terminal or piped through a file descriptor, read straight
//! into locked memory with no intermediate `String`.

use crate::error::{Error, Result};
use crate::secret::SecretBytes;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::termios::{self, LocalFlags, SetArg};
use std::cell::UnsafeCell;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Mutex;
use zeroize::Zeroize;

/// Longest secret accepted from a terminal or a file descriptor.
pub const MAX_INPUT_LEN: usize = 64 * 1024;

fn io_err(context: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io { context, source }
}

/// Reads one line (without its newline) from `fd`, byte by byte, into locked
/// memory. Stops at `\n` or end of input; a trailing `\r` is dropped.
pub fn read_secret_from_fd(fd: BorrowedFd<'_>) -> Result<SecretBytes> {
    let mut out = SecretBytes::with_capacity(128)?;
    let mut byte = [0u8; 1];
    loop {
        match nix::unistd::read(fd.as_raw_fd(), &mut byte) {
            Ok(0) => break,
            Ok(_) => {
                if byte[0] == b'\n' {
                    break;
                }
                if out.len() >= MAX_INPUT_LEN {
                    byte.zeroize();
                    return Err(Error::TooLarge {
                        requested: MAX_INPUT_LEN + 1,
                        max: MAX_INPUT_LEN,
                    });
                }
                out.push(byte[0])?;
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => {
                byte.zeroize();
                return Err(Error::Io {
                    context: "cannot read secret",
                    source: e.into(),
                });
            }
        }
    }
    byte.zeroize();
    if out.expose_last() == Some(b'\r') {
        out.pop();
    }
    Ok(out)
}

trait Last {
    fn expose_last(&self) -> Option<u8>;
}

impl Last for SecretBytes {
    fn expose_last(&self) -> Option<u8> {
        secrecy::ExposeSecret::expose_secret(self).last().copied()
    }
}

/// Signals that would end the process while echo is off: their handlers put
/// the terminal back first.
/// SIGTSTP (Ctrl-Z) restores it while the process is stopped and SIGCONT
/// turns echo off again.
const SIGNALS: [libc::c_int; 6] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGTSTP,
    libc::SIGCONT,
];

/// What a signal handler needs to restore the terminal. Written only while
/// `PROMPT` is held and before the handlers are installed.
struct Saved {
    fd: AtomicI32,
    termios: UnsafeCell<MaybeUninit<libc::termios>>,
    quiet: UnsafeCell<MaybeUninit<libc::termios>>,
    old: [UnsafeCell<MaybeUninit<libc::sigaction>>; 6],
}

// SAFETY: the cells are written only by the thread holding `PROMPT`, before
// the handlers that read them are installed and after they are removed.
unsafe impl Sync for Saved {}

static SAVED: Saved = Saved {
    fd: AtomicI32::new(-1),
    termios: UnsafeCell::new(MaybeUninit::uninit()),
    quiet: UnsafeCell::new(MaybeUninit::uninit()),
    old: [
        UnsafeCell::new(MaybeUninit::uninit()),
        UnsafeCell::new(MaybeUninit::uninit()),
        UnsafeCell::new(MaybeUninit::uninit()),
        UnsafeCell::new(MaybeUninit::uninit()),
        UnsafeCell::new(MaybeUninit::uninit()),
        UnsafeCell::new(MaybeUninit::uninit()),
    ],
};
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Write end of the pipe that wakes the reading thread (the signal may be
/// delivered to any thread of the process).
static WAKE: AtomicI32 = AtomicI32::new(-1);
/// One prompt at a time per process.
static PROMPT: Mutex<()> = Mutex::new(());

/// Restores the terminal, puts the previous handler back and re-raises, so
/// the program's own handling (or the default: termination) follows.
extern "C" fn on_signal(sig: libc::c_int) {
    let fd = SAVED.fd.load(Ordering::SeqCst);
    if sig == libc::SIGCONT {
        // Back in the foreground after Ctrl-Z: echo off again, and catch the
        // next Ctrl-Z too.
        if fd >= 0 {
            // SAFETY: tcsetattr is async-signal-safe; `quiet` was written
            // before `fd` was published.
            unsafe {
                libc::tcsetattr(fd, libc::TCSANOW, SAVED.quiet.get().cast::<libc::termios>())
            };
            install(libc::SIGTSTP, None);
        }
        return;
    }
    if fd >= 0 {
        // SAFETY: tcsetattr is async-signal-safe; `termios` was written before
        // `fd` was published.
        unsafe {
            libc::tcsetattr(
                fd,
                libc::TCSANOW,
                SAVED.termios.get().cast::<libc::termios>(),
            )
        };
    }
    if sig != libc::SIGTSTP {
        INTERRUPTED.store(true, Ordering::SeqCst);
        let wake = WAKE.load(Ordering::SeqCst);
        if wake >= 0 {
            // SAFETY: write is async-signal-safe; one byte from a valid buffer.
            unsafe { libc::write(wake, [1u8].as_ptr().cast(), 1) };
        }
    }
    if let Some(i) = SIGNALS.iter().position(|&s| s == sig) {
        // SAFETY: sigaction is async-signal-safe; the old action was saved
        // when ours was installed.
        unsafe {
            libc::sigaction(
                sig,
                SAVED.old[i].get().cast::<libc::sigaction>(),
                std::ptr::null_mut(),
            )
        };
        // SAFETY: raise is async-signal-safe; the signal stays blocked until
        // this handler returns, then the previous disposition applies.
        unsafe { libc::raise(sig) };
    }
}

/// Installs `on_signal` for `sig`, saving the previous action into `old`.
/// Async-signal-safe.
fn install(sig: libc::c_int, old: Option<*mut libc::sigaction>) {
    // SAFETY: an all-zero sigaction is a valid value to fill in.
    let mut act: libc::sigaction = unsafe { std::mem::zeroed() };
    act.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
    // No SA_RESTART: a read interrupted by a caught signal returns EINTR.
    act.sa_flags = 0;
    let old = old.unwrap_or(std::ptr::null_mut());
    // SAFETY: installs a handler that only makes async-signal-safe calls;
    // `old` is null or points to a saved-action slot.
    unsafe { libc::sigaction(sig, &act, old) };
}

/// Restores the terminal's settings and the previous signal handlers when
/// dropped, on every exit path (return, error, panic).
struct EchoGuard<'a> {
    tty: &'a File,
    saved: termios::Termios,
    /// The prompt's settings: echo off, canonical, signals on.
    quiet: termios::Termios,
    handlers: bool,
    /// Read end of the wake-up pipe; the write end is in `WAKE`.
    wake: Option<(OwnedFd, OwnedFd)>,
    _one_prompt: std::sync::MutexGuard<'static, ()>,
}

impl EchoGuard<'_> {
    fn new(tty: &File) -> Result<EchoGuard<'_>> {
        let one = PROMPT.lock().unwrap_or_else(|e| e.into_inner());
        let saved = termios::tcgetattr(tty.as_fd()).map_err(|_| Error::NoTty)?;
        INTERRUPTED.store(false, Ordering::SeqCst);
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        quiet
            .local_flags
            .insert(LocalFlags::ECHONL | LocalFlags::ICANON | LocalFlags::ISIG);
        let mut g = EchoGuard {
            tty,
            quiet,
            saved,
            handlers: false,
            wake: None,
            _one_prompt: one,
        };
        if let Ok((r, w)) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK) {
            WAKE.store(w.as_raw_fd(), Ordering::SeqCst);
            g.wake = Some((r, w));
        }
        let fd = tty.as_raw_fd();
        // SAFETY: `PROMPT` is held and no handler of ours is installed, so
        // nothing reads the cell concurrently; tcgetattr fills it.
        let rc = unsafe { libc::tcgetattr(fd, SAVED.termios.get().cast::<libc::termios>()) };
        if rc != 0 {
            return Ok(g);
        }
        // SAFETY: as above; `termios` was just filled in.
        let mut q: libc::termios = unsafe { SAVED.termios.get().cast::<libc::termios>().read() };
        q.c_lflag &= !libc::ECHO;
        q.c_lflag |= libc::ECHONL | libc::ICANON | libc::ISIG;
        // SAFETY: as above; nothing reads `quiet` until `fd` is published.
        unsafe { SAVED.quiet.get().cast::<libc::termios>().write(q) };
        SAVED.fd.store(fd, Ordering::SeqCst);
        for (i, &sig) in SIGNALS.iter().enumerate() {
            install(sig, Some(SAVED.old[i].get().cast::<libc::sigaction>()));
        }
        g.handlers = true;
        Ok(g)
    }
}

impl Drop for EchoGuard<'_> {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(self.tty.as_fd(), SetArg::TCSAFLUSH, &self.saved);
        if self.handlers {
            for (i, &sig) in SIGNALS.iter().enumerate() {
                // SAFETY: puts back the action saved when ours was installed.
                unsafe {
                    libc::sigaction(
                        sig,
                        SAVED.old[i].get().cast::<libc::sigaction>(),
                        std::ptr::null_mut(),
                    )
                };
            }
        }
        SAVED.fd.store(-1, Ordering::SeqCst);
        WAKE.store(-1, Ordering::SeqCst);
    }
}

/// Waits until the terminal has input (true) or a signal asked us to stop (false).
fn wait_readable(tty: &File, wake: Option<&OwnedFd>) -> bool {
    let Some(wake) = wake else {
        return true;
    };
    loop {
        if INTERRUPTED.load(Ordering::SeqCst) {
            return false;
        }
        let mut fds = [
            PollFd::new(tty.as_fd(), PollFlags::POLLIN),
            PollFd::new(wake.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {
                let woke = fds[1].revents().is_some_and(|r| !r.is_empty());
                if woke || INTERRUPTED.load(Ordering::SeqCst) {
                    return false;
                }
                if fds[0].revents().is_some_and(|r| !r.is_empty()) {
                    return true;
                }
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return true,
        }
    }
}

/// Prompts on `/dev/tty` with echo off and reads a line into locked memory.
///
/// The terminal is restored on every exit path: normal return, error, panic,
/// and SIGINT (Ctrl-C), SIGTERM, SIGHUP or SIGQUIT, whose handlers restore it
/// before the signal takes its usual effect. Ctrl-Z (SIGTSTP) shows the
/// terminal restored while the process is stopped; SIGCONT hides input
/// again. If the program handles the signal itself and carries on, the prompt
/// returns [`Error::Interrupted`]; so
/// does Ctrl-D on an empty line.
pub fn prompt_secret(prompt: &str) -> Result<SecretBytes> {
    let tty = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|_| Error::NoTty)?;
    prompt_on(&tty, prompt)
}

/// Like [`prompt_secret`] on an already open terminal.
pub fn prompt_on(tty: &File, prompt: &str) -> Result<SecretBytes> {
    let guard = EchoGuard::new(tty)?;
    termios::tcsetattr(tty.as_fd(), SetArg::TCSAFLUSH, &guard.quiet)
        .map_err(|e| io_err("cannot turn off echo")(e.into()))?;
    let mut w = tty;
    w.write_all(prompt.as_bytes())
        .map_err(io_err("cannot write prompt"))?;
    let mut out = SecretBytes::with_capacity(128)?;
    let mut byte = [0u8; 1];
    let mut r = tty;
    let mut eof = false;
    let wake = guard.wake.as_ref().map(|(r, _)| r);
    let result = loop {
        if !wait_readable(tty, wake) {
            break Err(Error::Interrupted);
        }
        match r.read(&mut byte) {
            Ok(0) => {
                eof = true;
                break if out.is_empty() {
                    Err(Error::Interrupted)
                } else {
                    Ok(())
                };
            }
            Ok(_) => match byte[0] {
                b'\n' | b'\r' => break Ok(()),
                0x03 => break Err(Error::Interrupted),
                b => {
                    if out.len() >= MAX_INPUT_LEN {
                        break Err(Error::TooLarge {
                            requested: MAX_INPUT_LEN + 1,
                            max: MAX_INPUT_LEN,
                        });
                    }
                    if let Err(e) = out.push(b) {
                        break Err(e);
                    }
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                if INTERRUPTED.load(Ordering::SeqCst) {
                    break Err(Error::Interrupted);
                }
            }
            Err(e) => break Err(io_err("cannot read from the terminal")(e)),
        }
    };
    byte.zeroize();
    drop(guard);
    if result.is_err() || eof {
        // ECHONL did not get to end the line.
        let _ = w.write_all(b"\n");
    }
    result.map(|()| out)
}
