//! The password prompt, driven through a pseudo-terminal: echo is off while
//! the user types, the typed secret never comes back on the screen, and the
//! terminal's settings come back on every exit path, Ctrl-C included.

mod common;

use common::*;
use keyward_secmem::input::prompt_on;
use keyward_secmem::{Error, ExposeSecret};
use nix::sys::termios::{tcgetattr, LocalFlags};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn pty() -> (File, File) {
    let p = nix::pty::openpty(None, None).expect("openpty");
    (File::from(p.master), File::from(p.slave))
}

fn echo_on(tty: &File) -> bool {
    tcgetattr(tty.as_fd())
        .expect("tcgetattr")
        .local_flags
        .contains(LocalFlags::ECHO)
}

/// Reads from the pty master until `needle` shows up (or 10 s pass).
fn read_until(master: &mut File, needle: &[u8]) -> Vec<u8> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !contains(&seen, needle) {
        assert!(Instant::now() < deadline, "timed out; saw {seen:?}");
        if !readable(master, 100) {
            continue;
        }
        let mut buf = [0u8; 256];
        match master.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    seen
}

fn readable(f: &File, ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd: f.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: polling one valid pollfd.
    unsafe { libc::poll(&mut p, 1, ms) > 0 }
}

/// Everything the master has to say right now.
fn drain(master: &mut File) -> Vec<u8> {
    let mut seen = Vec::new();
    while readable(master, 200) {
        let mut buf = [0u8; 256];
        match master.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    seen
}

#[test]
#[serial_test::serial(tty)]
fn typed_secret_is_read_with_echo_off_and_terminal_restored() {
    let (mut master, slave) = pty();
    assert!(echo_on(&slave));
    let s2 = slave.try_clone().unwrap();
    let t = std::thread::spawn(move || {
        prompt_on(&s2, "Password: ").map(|s| s.expose_secret() == b"hunter2 x")
    });
    let shown = read_until(&mut master, b"Password: ");
    assert!(!echo_on(&slave), "echo is on while the secret is typed");
    master.write_all(b"hunter2 x\n").unwrap();
    assert!(t.join().unwrap().unwrap(), "secret read back wrong");
    assert!(echo_on(&slave), "echo not restored");
    let rest = drain(&mut master);
    assert!(!contains(&shown, b"hunter2") && !contains(&rest, b"hunter2"));
    assert!(contains(&rest, b"\n"), "newline after the hidden input");
}

#[test]
#[serial_test::serial(tty)]
fn ctrl_d_on_empty_line_is_interrupted_and_restores() {
    let (mut master, slave) = pty();
    let s2 = slave.try_clone().unwrap();
    let t =
        std::thread::spawn(move || matches!(prompt_on(&s2, "Token: "), Err(Error::Interrupted)));
    read_until(&mut master, b"Token: ");
    assert!(!echo_on(&slave));
    master.write_all(&[0x04]).unwrap();
    assert!(t.join().unwrap(), "Ctrl-D did not give Error::Interrupted");
    assert!(echo_on(&slave));
}

#[test]
#[ignore = "child scenario"]
fn child_prompt() {
    if !in_child() {
        return;
    }
    if std::env::var_os("KW_CATCH").is_some() {
        extern "C" fn ignore_int(_: libc::c_int) {}
        // SAFETY: installs a handler that does nothing.
        unsafe {
            libc::signal(
                libc::SIGINT,
                ignore_int as extern "C" fn(libc::c_int) as usize,
            )
        };
    }
    let tty = File::from(std::io::stdin().as_fd().try_clone_to_owned().unwrap());
    match prompt_on(&tty, "Password: ") {
        Ok(s) => println!("\nread {} bytes", s.len()),
        Err(Error::Interrupted) => println!("\ninterrupted"),
        Err(e) => println!("\nerror {e}"),
    }
}

/// Runs `child_prompt` with the pty as its controlling terminal; `act` does
/// something to it once the prompt shows. Returns the child's output.
fn prompt_in_child(env: &[(&str, &str)], act: impl FnOnce(&mut File, u32)) -> std::process::Output {
    let (mut master, slave) = pty();
    let stdin: OwnedFd = slave.try_clone().unwrap().into();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["child_prompt", "--exact", "--ignored", "--nocapture"])
        .env("KEYWARD_CHILD", "1")
        .stdin(Stdio::from(stdin))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    // SAFETY: the hook only makes async-signal-safe calls; it makes the pty on
    // fd 0 the child's controlling terminal so Ctrl-C reaches it as SIGINT.
    unsafe { cmd.pre_exec(make_controlling_tty) };
    let child = cmd.spawn().unwrap();
    read_until(&mut master, b"Password: ");
    assert!(!echo_on(&slave), "echo on during the prompt");
    act(&mut master, child.id());
    let out = child.wait_with_output().unwrap();
    assert!(
        echo_on(&slave),
        "terminal left with echo off: {}",
        describe(&out)
    );
    out
}

#[test]
fn ctrl_c_restores_the_terminal_before_the_process_dies() {
    let out = prompt_in_child(&[], |m, _| m.write_all(&[0x03]).unwrap());
    assert_eq!(signal_of(&out), Some(libc::SIGINT), "{}", describe(&out));
}

#[test]
fn sigterm_restores_the_terminal_before_the_process_dies() {
    let out = prompt_in_child(&[], |_, pid| {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap()
    });
    assert_eq!(signal_of(&out), Some(libc::SIGTERM), "{}", describe(&out));
}

#[test]
fn caught_ctrl_c_returns_interrupted_with_terminal_restored() {
    let out = prompt_in_child(&[("KW_CATCH", "1")], |m, _| {
        m.write_all(b"abc").unwrap();
        m.write_all(&[0x03]).unwrap();
    });
    assert!(out.status.success(), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("interrupted"));
}

#[test]
fn typed_line_in_child_is_read() {
    let out = prompt_in_child(&[], |m, _| m.write_all(b"s3cret\n").unwrap());
    assert!(out.status.success(), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("read 6 bytes"));
}

#[test]
#[ignore = "child scenario"]
fn child_session() {
    if !in_child() {
        return;
    }
    // A session leader whose child runs the prompt as the terminal's
    // foreground job, like a shell does, so that Ctrl-Z really stops it.
    fn foreground() -> std::io::Result<()> {
        // Async-signal-safe calls between fork and exec: a process group of
        // its own, made the terminal's foreground group (SIGTTOU is ignored
        // for that one call, as shells do).
        // SAFETY: no memory is involved.
        unsafe { libc::setpgid(0, 0) };
        // SAFETY: as above.
        unsafe { libc::signal(libc::SIGTTOU, libc::SIG_IGN) };
        // SAFETY: as above.
        let pgrp = unsafe { libc::getpgrp() };
        // SAFETY: as above.
        unsafe { libc::tcsetpgrp(0, pgrp) };
        // SAFETY: as above.
        unsafe { libc::signal(libc::SIGTTOU, libc::SIG_DFL) };
        Ok(())
    }
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["child_prompt", "--exact", "--ignored", "--nocapture"]);
    // SAFETY: the hook only makes async-signal-safe calls.
    unsafe { cmd.pre_exec(foreground) };
    let mut b = cmd.spawn().unwrap();
    println!("\nbpid={}", b.id());
    let st = b.wait().unwrap();
    assert!(st.success(), "{st:?}");
}

fn proc_state(pid: u32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit(')')
        .next()
        .and_then(|r| r.trim_start().chars().next())
        .unwrap_or('?')
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ctrl_z_shows_echo_while_stopped_and_hides_it_again_on_resume() {
    use std::io::BufRead;
    let (mut master, slave) = pty();
    let stdin: OwnedFd = slave.try_clone().unwrap().into();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["child_session", "--exact", "--ignored", "--nocapture"])
        .env("KEYWARD_CHILD", "1")
        .stdin(Stdio::from(stdin))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: the hook only makes async-signal-safe calls.
    unsafe { cmd.pre_exec(make_controlling_tty) };
    let mut a = cmd.spawn().unwrap();
    let mut lines = std::io::BufReader::new(a.stdout.take().unwrap());
    let mut bpid = None;
    let mut line = String::new();
    while bpid.is_none() {
        line.clear();
        assert!(lines.read_line(&mut line).unwrap() > 0, "no bpid line");
        bpid = line
            .trim()
            .strip_prefix("bpid=")
            .map(|p| p.parse::<u32>().unwrap());
    }
    let bpid = bpid.unwrap();
    // Leave no stopped or waiting process behind if an assertion fails.
    struct Reap(u32, u32);
    impl Drop for Reap {
        fn drop(&mut self) {
            for p in [self.0, self.1] {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(p as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
    let reap = Reap(bpid, a.id());
    read_until(&mut master, b"Password: ");
    assert!(!echo_on(&slave), "echo on during the prompt");
    master.write_all(&[0x1a]).unwrap();
    wait_for("the prompt to stop on Ctrl-Z", || proc_state(bpid) == 'T');
    assert!(
        echo_on(&slave),
        "echo stayed off while the process was stopped"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(bpid as i32),
        nix::sys::signal::Signal::SIGCONT,
    )
    .unwrap();
    wait_for("echo off again after SIGCONT", || !echo_on(&slave));
    master.write_all(b"abcd\n").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut lines, &mut rest).unwrap();
    // Both have finished; their pids must not be signalled any more.
    std::mem::forget(reap);
    let st = a.wait().unwrap();
    assert!(st.success(), "{st:?}: {rest}");
    assert!(rest.contains("read 4 bytes"), "{rest}");
    assert!(echo_on(&slave));
}

fn make_controlling_tty() -> std::io::Result<()> {
    // SAFETY: setsid is async-signal-safe and has no memory preconditions.
    if unsafe { libc::setsid() } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: TIOCSCTTY on fd 0 (the pty) takes an integer argument.
    if unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
