//! The password-command family with the real Debian tools, the password only
//! in the vault: restic (`--password-command "keyward get NAME"`) and borg
//! (`BORG_PASSCOMMAND`) back up a directory into a local repository and
//! restore it; ansible-vault encrypts and decrypts through the shipped
//! vault-id client script (`packaging/ansible/keyward-vault-client`) and
//! through a plain password script. A wrong or missing secret fails each.
#![forbid(unsafe_code)]

use keyward_tests::{have, output_with_stdin, target_dir, text, TestHome};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PW: &str = "correct horse battery staple";

fn require(program: &str, package: &str) {
    assert!(
        have(program),
        "`{program}` is not installed: `apt-get install {package}` (scripts/test does)"
    );
}

/// A home with an unlocked vault holding `secrets` (name, value).
fn home(secrets: &[(&str, &str)]) -> TestHome {
    let h = TestHome::new();
    h.init_unlocked_vault(PW);
    for (name, value) in secrets {
        let out = h.keyward(&["set", name, "--secret-fd", "0"], &format!("{value}\n"));
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    h
}

/// A command in `h` with the built `keyward` first on PATH, bounded.
fn cmd(h: &TestHome, program: &str) -> Command {
    let mut c = h.command("timeout");
    let mut paths = vec![target_dir()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    c.env("PATH", std::env::join_paths(paths).unwrap())
        .args(["-s", "KILL", "120", program]);
    c
}

fn run(c: &mut Command) -> Output {
    output_with_stdin(c, b"")
}

fn both(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// A small tree to back up: nested files, one binary.
fn data(h: &TestHome) -> PathBuf {
    let d = h.path().join("data");
    std::fs::create_dir_all(d.join("sub/deeper")).unwrap();
    std::fs::write(d.join("notes.txt"), "backed up by keyward's tests\n").unwrap();
    std::fs::write(
        d.join("sub/deeper/blob.bin"),
        (0..=255u8).cycle().take(70_000).collect::<Vec<u8>>(),
    )
    .unwrap();
    d
}

/// Every file under `dir`, relative, with its content.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn restic_backs_up_and_restores_with_the_password_in_the_vault() {
    require("restic", "restic");
    let h = home(&[
        ("restic/repo", "restic-s3cret"),
        ("restic/wrong", "not-the-password"),
    ]);
    let src = data(&h);
    let repo = h.path().join("repo");
    let restic = |args: &[&str], name: &str| {
        let command = format!("keyward get {name}");
        run(cmd(&h, "restic")
            .args(["--repo"])
            .arg(&repo)
            .args(["--password-command", &command, "--no-cache"])
            .args(args))
    };
    let out = restic(&["init"], "restic/repo");
    assert!(out.status.success(), "{}", both(&out));
    let backup_args = [src.to_str().unwrap()];
    let out = restic(
        &["backup", "--host", "kw-test", backup_args[0]],
        "restic/repo",
    );
    assert!(out.status.success(), "{}", both(&out));
    let dest = h.path().join("restored");
    let out = restic(
        &["restore", "latest", "--target", dest.to_str().unwrap()],
        "restic/repo",
    );
    assert!(out.status.success(), "{}", both(&out));
    // restic restores the absolute path under the target.
    let restored = dest.join(src.strip_prefix("/").unwrap());
    assert_eq!(tree(&restored), tree(&src));
    assert_eq!(tree(&src).len(), 2);

    // A wrong password and a missing secret both fail, without the password in the output.
    let out = restic(&["snapshots"], "restic/wrong");
    assert!(!out.status.success(), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("wrong password"),
        "{}",
        both(&out)
    );
    let out = restic(&["snapshots"], "restic/missing");
    assert!(!out.status.success(), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("no secret named restic/missing"),
        "{}",
        both(&out)
    );
    assert!(!text(&out.stdout).contains("restic-s3cret"));
    assert!(!text(&out.stderr).contains("restic-s3cret"));
}

#[test]
fn borg_backs_up_and_restores_with_borg_passcommand() {
    require("borg", "borgbackup");
    let h = home(&[
        ("borg/repo", "borg-s3cret"),
        ("borg/wrong", "not-the-passphrase"),
    ]);
    let src = data(&h);
    let repo = h.path().join("borg-repo");
    let borg = |args: &[&str], name: &str, dir: &Path| {
        run(cmd(&h, "borg")
            .env("BORG_PASSCOMMAND", format!("keyward get {name}"))
            .env("BORG_DISPLAY_PASSPHRASE", "no")
            .env("BORG_BASE_DIR", h.path().join("borg-base"))
            .args(args)
            .current_dir(dir))
    };
    let repo_s = repo.to_str().unwrap();
    let out = borg(
        &["init", "--encryption=repokey", repo_s],
        "borg/repo",
        h.path(),
    );
    assert!(out.status.success(), "{}", both(&out));
    // Relative paths in the archive: back up from inside the data directory's parent.
    let out = borg(
        &["create", &format!("{repo_s}::first"), "data"],
        "borg/repo",
        h.path(),
    );
    assert!(out.status.success(), "{}", both(&out));
    let dest = h.path().join("extracted");
    std::fs::create_dir(&dest).unwrap();
    let out = borg(
        &["extract", &format!("{repo_s}::first")],
        "borg/repo",
        &dest,
    );
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(tree(&dest.join("data")), tree(&src));

    let out = borg(&["list", repo_s], "borg/wrong", h.path());
    assert!(!out.status.success(), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("BORG_PASSCOMMAND or via BORG_PASSPHRASE_FD is incorrect"),
        "{}",
        both(&out)
    );
    let out = borg(&["list", repo_s], "borg/missing", h.path());
    assert!(!out.status.success(), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("no secret named borg/missing"),
        "{}",
        both(&out)
    );
}

#[test]
fn ansible_vault_through_the_client_script_and_a_password_script() {
    require("ansible-vault", "ansible-core");
    let h = home(&[
        ("ansible/prod", "ansible-s3cret"),
        ("ansible/other", "not-it"),
    ]);
    let client =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/ansible/keyward-vault-client");
    let client = client.canonicalize().unwrap();
    let plain = h.path().join("prod-password");
    std::fs::write(&plain, "#!/bin/sh\nexec keyward get ansible/prod\n").unwrap();
    std::fs::set_permissions(&plain, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let secret_file = h.path().join("secrets.yml");
    std::fs::write(&secret_file, "db_password: kept-in-ansible-vault\n").unwrap();
    let av = |args: &[&str]| {
        run(cmd(&h, "ansible-vault")
            .env("ANSIBLE_LOCAL_TEMP", h.path().join(".ansible-tmp"))
            .args(args))
    };
    let id = |script: &Path, name: &str| format!("{name}@{}", script.display());
    let f = secret_file.to_str().unwrap();

    let out = av(&["encrypt", "--vault-id", &id(&client, "prod"), f]);
    assert!(out.status.success(), "{}", both(&out));
    let sealed = std::fs::read_to_string(&secret_file).unwrap();
    assert!(
        sealed.starts_with("$ANSIBLE_VAULT;1.2;AES256;prod\n"),
        "{sealed}"
    );
    assert!(!sealed.contains("kept-in-ansible-vault"));

    for script in [&client, &plain] {
        let out = av(&["view", "--vault-id", &id(script, "prod"), f]);
        assert!(out.status.success(), "{}: {}", script.display(), both(&out));
        assert_eq!(text(&out.stdout), "db_password: kept-in-ansible-vault\n");
    }
    // The client asks for the secret of the vault id it is given: `other` is wrong.
    let out = av(&["view", "--vault-id", &id(&client, "other"), f]);
    assert!(!out.status.success(), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("Decryption failed"),
        "{}",
        both(&out)
    );
    let out = av(&["view", "--vault-id", &id(&client, "missing"), f]);
    assert!(!out.status.success(), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("no secret named ansible/missing"),
        "{}",
        both(&out)
    );
    assert!(!text(&out.stderr).contains("ansible-s3cret"));
}
