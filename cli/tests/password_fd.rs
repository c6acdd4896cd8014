//! `--password-fd N` reads the descriptor itself, as a script expects: a pipe
//! or a file opened by someone else (root for a user), a socket, and a file
//! whose offset is not 0. (Reopening `/proc/self/fd/N`, as keyward did, fails
//! with `Permission denied` for the first two, `No such device or address` for
//! a socket, and rereads a file from its start.)
#![forbid(unsafe_code)]

use keyward_tests::{bin_for_others, output_with_stdin, TestHome};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const PW: &str = "fd password";
const NOBODY: u32 = 65534;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// A vault with a cheap KDF and one record, owned by `owner`.
fn home_with_vault(owner: u32) -> TestHome {
    let h = TestHome::new();
    h.write_config("[kdf]\nlog_n = 10\n");
    let out = h.keyward(&["init", "--password-fd", "0"], &format!("{PW}\n"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    if owner != 0 {
        let st = Command::new("chown")
            .args(["-R", &format!("{owner}:{owner}")])
            .arg(h.path())
            .status()
            .unwrap();
        assert!(st.success());
    }
    h
}

/// `keyward list --password-fd 0` with `stdin` as descriptor 0, run as `uid`
/// (through setpriv, from a copy of the binary other users can run).
fn list_with(h: &TestHome, uid: u32, stdin: Stdio) -> Output {
    let kw = bin_for_others("keyward");
    let mut cmd = if uid == 0 {
        h.command(&kw)
    } else {
        let mut c = h.command("setpriv");
        c.args([
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            "--clear-groups",
            "--",
        ])
        .arg(&kw);
        c
    };
    cmd.args(["list", "--password-fd", "0"])
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn assert_listed(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: status {:?}, stderr: {}",
        out.status,
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("no records"),
        "{what}: {}",
        text(&out.stdout)
    );
}

fn root_only_file(dir: &Path, content: &str) -> std::fs::File {
    let p = dir.join("pw");
    std::fs::write(&p, content).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::File::open(&p).unwrap()
}

#[test]
fn a_file_read_from_its_current_offset() {
    let h = home_with_vault(0);
    let dir = tempfile::tempdir().unwrap();
    let mut f = root_only_file(dir.path(), &format!("not the password\n{PW}\n"));
    f.seek(SeekFrom::Start("not the password\n".len() as u64))
        .unwrap();
    assert_listed(&list_with(&h, 0, Stdio::from(f)), "file at offset 17");
}

#[test]
fn a_socket() {
    let h = home_with_vault(0);
    let (mut ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    ours.write_all(format!("{PW}\n").as_bytes()).unwrap();
    ours.shutdown(std::net::Shutdown::Write).unwrap();
    assert_listed(
        &list_with(&h, 0, Stdio::from(std::os::fd::OwnedFd::from(theirs))),
        "socketpair",
    );
}

#[test]
fn a_pipe_and_a_root_only_file_handed_to_another_user() {
    assert!(
        is_root(),
        "needs root (to hand descriptors to another user): run scripts/test as root"
    );
    let h = home_with_vault(NOBODY);
    // echo pw | setpriv --reuid=nobody keyward list --password-fd 0
    let mut child = {
        let kw = bin_for_others("keyward");
        let mut c = h.command("setpriv");
        c.args([
            &format!("--reuid={NOBODY}"),
            &format!("--regid={NOBODY}"),
            "--clear-groups",
            "--",
        ])
        .arg(&kw)
        .args(["list", "--password-fd", "0"]);
        c
    };
    let out = output_with_stdin(&mut child, format!("{PW}\n").as_bytes());
    assert_listed(&out, "pipe made by root, read by nobody");

    // A file only root can open, opened by root and read by the user.
    let dir = tempfile::tempdir().unwrap();
    let f = root_only_file(dir.path(), &format!("{PW}\n"));
    assert_listed(
        &list_with(&h, NOBODY, Stdio::from(f)),
        "root-only file read by nobody",
    );
    // The user cannot open that file by name, so the read above really went
    // through the inherited descriptor.
    let out = Command::new("setpriv")
        .args([
            &format!("--reuid={NOBODY}"),
            &format!("--regid={NOBODY}"),
            "--clear-groups",
            "--",
            "cat",
        ])
        .arg(dir.path().join("pw"))
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn a_closed_descriptor_is_one_clear_line() {
    let h = home_with_vault(0);
    let out = h.keyward(&["list", "--password-fd", "9"], "");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("keyward: --password-fd 9: cannot read it:") && err.lines().count() == 1,
        "{err}"
    );
}
