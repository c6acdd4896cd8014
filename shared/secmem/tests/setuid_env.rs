//! `KEYWARD_SECMEM_BACKEND` is honoured only where the caller may choose: a
//! setuid program (`su`, a PAM host) ignores it, as `secure_getenv` would, so
//! an unprivileged user cannot downgrade how root keeps secrets.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

/// Run in a copy of this test binary: prints the backend chosen.
#[test]
#[ignore = "child scenario"]
fn child_backend() {
    if std::env::var_os("KEYWARD_CHILD").is_none() {
        return;
    }
    let s = keyward_secmem::SecretBytes::random(32).unwrap();
    println!("backend={}", keyward_secmem::status().locking_backend);
    drop(s);
}

fn backend_as_nobody(prog: &std::path::Path, env: Option<&str>) -> String {
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(prog)
        .args(["child_backend", "--exact", "--ignored", "--nocapture", "-q"])
        .env("KEYWARD_CHILD", "1")
        .env_remove("KEYWARD_SECMEM_BACKEND");
    if let Some(v) = env {
        c.env("KEYWARD_SECMEM_BACKEND", v);
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with("backend="))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_setuid_program_ignores_the_backend_override() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "needs root (makes a setuid-root copy): run scripts/test as root"
    );
    let dir = tempfile::Builder::new()
        .prefix("keyward-setuid-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let plain = dir.path().join("plain");
    let suid = dir.path().join("suid");
    for (p, mode) in [(&plain, 0o755), (&suid, 0o4755)] {
        std::fs::copy(std::env::current_exe().unwrap(), p).unwrap();
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let default = backend_as_nobody(&plain, None);
    if default != "backend=memfd_secret" {
        // Without memfd_secret both choices are mlock: nothing to downgrade.
        panic!(
            "this kernel has no memfd_secret ({default}); the test cannot tell the backends apart"
        );
    }
    // Not setuid: the caller's choice is honoured.
    assert_eq!(backend_as_nobody(&plain, Some("mlock")), "backend=mlock");
    // Setuid root, started by nobody: the override is ignored (AT_SECURE).
    assert_eq!(
        backend_as_nobody(&suid, Some("mlock")),
        "backend=memfd_secret"
    );
}
