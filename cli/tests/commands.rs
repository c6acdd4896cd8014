//! The user's commands, run as processes in throwaway homes.

use keyward_tests::TestHome;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn list_json(h: &TestHome) -> Vec<serde_json::Value> {
    let out = h.keyward(&["list", "--json"], "");
    serde_json::from_str(&ok(&out)).expect("list --json is JSON")
}

/// Writes a credential with the real `git credential-store`.
fn git_store(h: &TestHome, file: &std::path::Path, fields: &str) {
    let mut c = h.command("git");
    c.args(["credential-store", "--file"])
        .arg(file)
        .arg("store");
    let mut child = c
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("git must be installed");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{fields}\n").as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn import_git_credential_store_file_then_list_and_rm() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    let file = h.path().join(".git-credentials");
    git_store(
        &h,
        &file,
        "protocol=https\nhost=example.com:8443\npath=team/repo.git\nusername=al@ice\npassword=p@ss:w/rd%\n",
    );
    git_store(
        &h,
        &file,
        "protocol=https\nhost=github.com\nusername=bob\npassword=ghp_secret\n",
    );
    let before = std::fs::read(&file).unwrap();

    let out = ok(&h.keyward(&["import", "git"], ""));
    assert_eq!(
        out.lines().next().unwrap(),
        format!(
            "{}: 2 line(s) read: 2 added, 0 replaced, 0 duplicate(s) (a later line for a credential already read; git uses the first), 0 skipped",
            file.display()
        )
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "no tty and no flag: file kept"
    );

    let out = ok(&h.keyward(&["list"], ""));
    assert!(
        !out.contains("ghp_secret") && !out.contains("p@ss"),
        "list shows no secrets: {out}"
    );
    let rows = list_json(&h);
    assert_eq!(rows.len(), 2);
    let a = rows.iter().find(|r| r["username"] == "al@ice").unwrap();
    assert_eq!(a["host"], "example.com:8443");
    assert_eq!(a["path"], "team/repo.git");
    assert_eq!(a["protocol"], "https");
    assert_eq!(a["kind"], "git");
    assert!(!serde_json::to_string(&rows).unwrap().contains("ghp_secret"));

    // Importing again replaces (same identity), does not duplicate.
    ok(&h.keyward(&["import", "git", "--remove-plaintext"], ""));
    assert_eq!(list_json(&h).len(), 2);
    assert_eq!(std::fs::read(&file).unwrap(), b"", "imported lines removed");

    let out = h.keyward(&["rm", "gitlab.com"], "");
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(
        text(&out.stderr),
        "keyward: no record matches gitlab.com (see `keyward list`)\n"
    );
    assert_eq!(
        ok(&h.keyward(&["rm", "github.com"], "")),
        "removed 1 record(s)\n"
    );
    let rows = list_json(&h);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["host"], "example.com:8443");
    h.keyward(&["lock"], "");
}

#[test]
fn import_docker_config_json() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    let dir = h.path().join(".docker");
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("config.json");
    // As `docker login` writes it: base64("user:password"), and an identity token.
    std::fs::write(
        &cfg,
        "{\n\t\"auths\": {\n\t\t\"https://index.docker.io/v1/\": {\n\t\t\t\"auth\": \"aHVidXNlcjpodWI6cGFzcw==\"\n\t\t},\n\t\t\"registry.example:5000\": {\n\t\t\t\"auth\": \"\",\n\t\t\t\"identitytoken\": \"eyJ0b2tlbiI6MX0\"\n\t\t}\n\t},\n\t\"currentContext\": \"default\"\n}",
    )
    .unwrap();
    let out = ok(&h.keyward(&["import", "docker", "--remove-plaintext"], ""));
    assert!(
        out.starts_with(&format!(
            "{}: 2 added, 0 replaced, 0 skipped",
            cfg.display()
        )),
        "{out}"
    );
    let rows = list_json(&h);
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .any(|r| r["host"] == "https://index.docker.io/v1/"
            && r["username"] == "hubuser"
            && r["kind"] == "docker"));
    assert!(rows
        .iter()
        .any(|r| r["host"] == "registry.example:5000" && r["username"] == "<token>"));
    let after: serde_json::Value = serde_json::from_slice(&std::fs::read(&cfg).unwrap()).unwrap();
    assert_eq!(after["credsStore"], "keyward");
    assert_eq!(
        after["auths"]["https://index.docker.io/v1/"],
        serde_json::json!({})
    );
    assert_eq!(
        after["auths"]["registry.example:5000"],
        serde_json::json!({})
    );
    assert_eq!(after["currentContext"], "default");

    let out = h.keyward(&["import", "git"], "");
    assert_eq!(out.status.code(), Some(7));
    assert!(text(&out.stderr).contains(".git-credentials: no such file: nothing to import"));

    // One bad entry is skipped (named, never its value), the others imported,
    // and the file kept: pointing docker at keyward would cut it off from
    // the skipped one. A world-readable file is called exposed.
    let bad =
        "{\"auths\": {\"x\": {\"auth\": \"!!notbase64\"}, \"y.example\": {\"auth\": \"dTpw\"}}}";
    std::fs::write(&cfg, bad).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = h.keyward(&["import", "docker", "--remove-plaintext"], "");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!(
            "keyward: {}: auths.x: `auth` is not base64: skipped (left in the file)\n",
            cfg.display()
        )),
        "{err}"
    );
    assert!(err.contains("is readable by others (mode 0644)"), "{err}");
    assert!(!err.contains("notbase64"));
    let out = text(&out.stdout);
    assert!(out.contains(": 1 added, 0 replaced, 1 skipped"), "{out}");
    assert!(out.contains("kept"), "{out}");
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), bad);
    h.keyward(&["lock"], "");
}

#[test]
fn passwd_rewraps_and_keeps_records() {
    let h = TestHome::new();
    h.init_unlocked_vault("old pw");
    let file = h.path().join("creds");
    std::fs::write(&file, "https://u:tok@example.org\n").unwrap();
    ok(&h.keyward(&["import", "git", "creds"], ""));
    ok(&h.keyward(&["lock"], ""));
    let out = h.keyward(&["passwd", "--password-fd", "0"], "wrong\nnew pw\n");
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stdout).is_empty());
    ok(&h.keyward(&["passwd", "--password-fd", "0"], "old pw\nnew pw\n"));
    let out = h.keyward(&["unlock", "--password-fd", "0"], "old pw\n");
    assert_eq!(out.status.code(), Some(3));
    ok(&h.keyward(&["unlock", "--password-fd", "0"], "new pw\n"));
    let rows = list_json(&h);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["host"], "example.org");
    h.keyward(&["lock"], "");
}

/// `passwd` and `rekey` give the vault a new key; a cached unlock keeps
/// working (it gets the new key), and the old key no longer opens the vault.
#[test]
fn passwd_and_rekey_change_the_key_and_keep_the_unlock() {
    let h = TestHome::new();
    h.init_unlocked_vault("old pw");
    let get = |h: &TestHome| {
        keyward_tests::output_with_stdin(
            h.command(keyward_tests::bin("git-credential-keyward"))
                .arg("get"),
            b"protocol=https\nhost=example.org\n\n",
        )
    };
    ok(&keyward_tests::output_with_stdin(
        h.command(keyward_tests::bin("git-credential-keyward"))
            .arg("store"),
        b"protocol=https\nhost=example.org\nusername=u\npassword=tok-before\n\n",
    ));
    let before = std::fs::read(h.vault_path()).unwrap();
    let out = ok(&h.keyward(&["passwd", "--password-fd", "0"], "old pw\nnew pw\n"));
    assert!(
        out.contains(
            "a new vault key, every record re-encrypted; the cached unlock now holds the new key"
        ),
        "{out}"
    );
    // Still unlocked: the helper answers with no prompt.
    let out = get(&h);
    assert!(
        text(&out.stdout).contains("password=tok-before"),
        "{}",
        text(&out.stderr)
    );
    // The sealed record changed too (re-encrypted), not only the header.
    let after = std::fs::read(h.vault_path()).unwrap();
    assert_ne!(before[200..], after[200..]);
    let out = ok(&h.keyward(&["rekey", "--password-fd", "0"], "new pw\n"));
    assert!(
        out.contains("password unchanged, scrypt log_n=10 r=8 p=1"),
        "{out}"
    );
    let out = get(&h);
    assert!(
        text(&out.stdout).contains("password=tok-before"),
        "{}",
        text(&out.stderr)
    );
    let out = h.keyward(&["rekey", "--password-fd", "0"], "old pw\n");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    h.keyward(&["lock"], "");
}

#[test]
fn tampered_vault_exit_5_and_file_unchanged() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    std::fs::write(h.path().join("c"), "https://u:tok@example.org\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(h.path().join("c"), std::fs::Permissions::from_mode(0o600)).unwrap();
    ok(&h.keyward(&["import", "git", "c"], ""));
    let mut bytes = std::fs::read(h.vault_path()).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    std::fs::write(h.vault_path(), &bytes).unwrap();
    let msg = format!(
        "keyward: vault is corrupted or was tampered with: {}; `keyward recover` restores the last intact generation\n",
        h.vault_path().display()
    );
    for args in [
        &["list"][..],
        &["import", "git", "c"],
        &["rm", "example.org"],
        &["status"],
    ] {
        let out = h.keyward(args, "");
        assert_eq!(
            out.status.code(),
            Some(5),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stderr), msg, "{args:?}");
        assert_eq!(
            std::fs::read(h.vault_path()).unwrap(),
            bytes,
            "{args:?} changed the file"
        );
    }
    let out = h.keyward(&["unlock", "--password-fd", "0"], "pw\n");
    assert_eq!(out.status.code(), Some(5));
    h.keyward(&["lock"], "");
}

#[test]
fn unsafe_permissions_exit_6_with_fix() {
    use std::os::unix::fs::PermissionsExt;
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    let v = h.vault_path();
    std::fs::set_permissions(&v, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = h.keyward(&["list"], "");
    assert_eq!(out.status.code(), Some(6));
    assert_eq!(
        text(&out.stderr),
        format!(
            "keyward: refusing {p}: it is group/world accessible (mode 0644): fix with `chmod 600 {p}`\n",
            p = v.display()
        )
    );
    let doc = h.keyward(&["doctor"], "");
    assert_eq!(doc.status.code(), Some(1));
    let report = text(&doc.stdout);
    assert!(
        report.contains(&format!("WARN  vault: refusing {}", v.display())),
        "{report}"
    );
    assert!(
        report.contains(&format!("fix: `chmod 600 {}`", v.display())),
        "{report}"
    );
    std::fs::set_permissions(&v, std::fs::Permissions::from_mode(0o600)).unwrap();
    h.keyward(&["lock"], "");
}

#[test]
fn keyring_timeout_locks_again() {
    let h = TestHome::new();
    h.write_config("[kdf]\nlog_n = 10\n");
    ok(&h.keyward(&["init", "--password-fd", "0"], "pw\n"));
    ok(&h.keyward(&["unlock", "--password-fd", "0", "--timeout", "1s"], "pw\n"));
    assert!(ok(&h.keyward(&["status"], "")).contains("state: unlocked"));
    std::thread::sleep(std::time::Duration::from_millis(2200));
    assert!(ok(&h.keyward(&["status"], "")).contains("state: locked"));
    let out = h.keyward(&["list"], "");
    assert_eq!(out.status.code(), Some(4));
    assert!(text(&out.stderr).starts_with("keyward: vault is locked: run `keyward unlock`"));
}

#[test]
fn config_errors_name_file_and_key() {
    let h = TestHome::new();
    h.write_config("unlock_timeout = \"15 minutes\"\n");
    let out = h.keyward(&["status"], "");
    assert_eq!(out.status.code(), Some(8));
    let f = h.path().join(".config/keyward/config.toml");
    assert_eq!(
        text(&out.stderr),
        format!(
            "keyward: {}: unlock_timeout: bad duration \"15 minutes\" (expected e.g. \"90s\", \"15m\", \"2h\", \"1d\")\n",
            f.display()
        )
    );
    h.write_config("colour = \"blue\"\n");
    let out = h.keyward(&["status"], "");
    assert_eq!(
        text(&out.stderr),
        format!("keyward: {}: colour: unknown key\n", f.display())
    );
}

#[test]
fn every_command_has_help_with_exit_codes() {
    let h = TestHome::new();
    for cmd in [
        "init",
        "unlock",
        "lock",
        "status",
        "list",
        "rm",
        "passwd",
        "import",
        "import git",
        "import docker",
        "doctor",
    ] {
        let mut args: Vec<&str> = cmd.split(' ').collect();
        args.push("--help");
        let out = h.keyward(&args, "");
        let s = ok(&out);
        assert!(s.contains("Exit codes:"), "{cmd} --help: {s}");
    }
}

#[test]
fn doctor_reports_every_check_and_a_fix_for_each_problem() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    let out = h.keyward(&["doctor"], "");
    let report = text(&out.stdout);
    for what in [
        "secure memory:",
        "RLIMIT_MEMLOCK:",
        "kernel keyring:",
        "core dumps: keyward processes are undumpable",
        "swap:",
        "vault:",
        "config:",
    ] {
        assert!(
            report.contains(what),
            "doctor says nothing about {what}:\n{report}"
        );
    }
    let lines: Vec<&str> = report.lines().collect();
    let mut warnings = 0;
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with("WARN") {
            warnings += 1;
            assert!(
                lines
                    .get(i + 1)
                    .is_some_and(|n| n.trim_start().starts_with("fix: ")),
                "no fix after {l}"
            );
        }
    }
    assert_eq!(out.status.success(), warnings == 0, "{report}");
    assert!(report.contains(&format!("ok    vault: {}", h.vault_path().display())));
    // A group-writable config file is flagged with its fix.
    use std::os::unix::fs::PermissionsExt;
    let cfg = h.path().join(".config/keyward/config.toml");
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o664)).unwrap();
    let report = text(&h.keyward(&["doctor"], "").stdout);
    assert!(
        report.contains(&format!("fix: `chmod go-w {}`", cfg.display())),
        "{report}"
    );
}

#[test]
fn init_login_makes_the_vault_pam_looks_for() {
    let h = TestHome::new();
    h.write_config("login_unlock = false\n[kdf]\nlog_n = 10\n");
    // Where pam_keyward would skip it: refused before anything is made.
    let out = h.keyward(&["init", "--login", "--password-fd", "0"], "login pw\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("login_unlock = false in your configuration"),
        "{}",
        text(&out.stderr)
    );
    assert!(!h.vault_path().exists());
    h.write_config("[kdf]\nlog_n = 10\n");
    // Where pam_keyward would not look (it ignores KEYWARD_VAULT): refused too.
    let elsewhere = h.path().join("elsewhere/vault");
    let out = h
        .command(keyward_tests::bin("keyward"))
        .env("KEYWARD_VAULT", &elsewhere)
        .args(["init", "--login", "--password-fd", "0"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!(
            "pam_keyward unlocks {} at login, not {}",
            h.vault_path().display(),
            elsewhere.display()
        )),
        "{}",
        text(&out.stderr)
    );
    assert!(!elsewhere.exists());
    // At the default path: made with the login password.
    let said = ok(&h.keyward(&["init", "--login", "--password-fd", "0"], "login pw\n"));
    assert!(said.contains("with your login password"), "{said}");
    ok(&h.keyward(&["unlock", "--password-fd", "0"], "login pw\n"));
}

/// Review finding (issue 13): `keyward list` printed stored paths raw, so a
/// path a server chose (`credential.useHttpPath`) could send escape sequences
/// to the user's terminal. Human-readable output escapes control characters.
#[test]
fn list_escapes_control_characters_a_server_chose() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    ok(&keyward_tests::output_with_stdin(
        h.command(keyward_tests::bin("git-credential-keyward")).arg("store"),
        b"protocol=https\nhost=example.org\npath=repo\x1b]0;pwned\x07\x1b[2J\xe2\x80\xaeevil\nusername=u\npassword=p\n\n",
    ));
    let out = ok(&h.keyward(&["list"], ""));
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{7}') && !out.contains('\u{202e}'),
        "{out:?}"
    );
    assert!(
        out.contains(r"repo\x1b]0;pwned\x07\x1b[2J\u{202e}evil"),
        "{out}"
    );
    // JSON keeps the exact value, escaped by JSON's rules.
    let rows = list_json(&h);
    assert_eq!(
        rows[0]["path"],
        "repo\u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}evil"
    );
    h.keyward(&["lock"], "");
}

/// The XDG Base Directory spec: a relative `XDG_DATA_HOME` or
/// `XDG_CONFIG_HOME` is invalid and ignored (the defaults under HOME apply);
/// with HOME unset, `doctor` still runs every check it can.
#[test]
fn relative_xdg_paths_are_ignored_and_doctor_runs_without_home() {
    let h = TestHome::new();
    let mut c = h.command(keyward_tests::bin("keyward"));
    c.env_remove("KEYWARD_VAULT")
        .env("XDG_DATA_HOME", "relative/data")
        .env("XDG_CONFIG_HOME", "relative/config")
        .args(["init", "--password-fd", "0"]);
    let out = keyward_tests::output_with_stdin(&mut c, b"pw\n");
    let stdout = ok(&out);
    let want = h.path().join(".local/share/keyward/vault");
    assert!(stdout.contains(&want.display().to_string()), "{stdout}");
    assert!(want.exists());
    assert!(!h.path().join("relative").exists());

    let mut c = h.command(keyward_tests::bin("keyward"));
    c.env_remove("HOME")
        .env_remove("KEYWARD_VAULT")
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .arg("doctor");
    let out = keyward_tests::output_with_stdin(&mut c, b"");
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    for check in [
        "secure memory",
        "RLIMIT_MEMLOCK",
        "kernel keyring",
        "core dumps",
        "vault",
        "config",
    ] {
        assert!(report.contains(check), "doctor skipped {check}: {report}");
    }
    assert!(report.contains("cannot find the vault"), "{report}");
}

/// Review finding (issue 13): doctor said "all checks passed" with 12
/// plaintext git credentials and `credential.helper=store` set. It reports
/// every plaintext source it knows, with the command that imports it.
#[test]
fn doctor_finds_plaintext_credentials() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    let clean = h.keyward(&["doctor"], "");
    assert!(
        text(&clean.stdout).contains("ok    plaintext: no plaintext"),
        "{}",
        text(&clean.stdout)
    );
    let lines: String = (0..12)
        .map(|i| format!("https://u{i}:tok{i}@host{i}.example\n"))
        .collect();
    std::fs::write(h.path().join(".git-credentials"), lines).unwrap();
    let st = h
        .command("git")
        .args(["config", "--global", "credential.helper", "store"])
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::create_dir_all(h.path().join(".docker")).unwrap();
    std::fs::write(
        h.path().join(".docker/config.json"),
        r#"{"auths":{"registry.example":{"auth":"dTpw"},"empty.example":{}}}"#,
    )
    .unwrap();
    std::fs::write(
        h.path().join(".pypirc"),
        "[distutils]\nindex-servers = pypi\n[pypi]\nusername = __token__\npassword = pypi-s3cret\n",
    )
    .unwrap();
    std::fs::write(
        h.path().join(".netrc"),
        "machine a.example login u password n3trc\nmachine b.example login v\n",
    )
    .unwrap();
    std::fs::write(h.path().join(".netrc.keyward-backup"), "old").unwrap();
    let out = h.keyward(&["doctor"], "");
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(!report.contains("all checks passed"), "{report}");
    assert!(
        report.contains("/.pypirc: 1 index-server passwords in plaintext")
            && report.contains("fix: `keyward import pypirc --remove-plaintext`"),
        "{report}"
    );
    assert!(
        report.contains("/.netrc: 1 machine passwords in plaintext")
            && report.contains("fix: `keyward import netrc --remove-plaintext`"),
        "{report}"
    );
    assert!(
        report.contains("/.netrc.keyward-backup: the file as it was before `keyward import`"),
        "{report}"
    );
    assert!(
        !report.contains("pypi-s3cret") && !report.contains("n3trc"),
        "{report}"
    );
    assert!(
        report.contains("12 git credentials in plaintext"),
        "{report}"
    );
    assert!(report.contains("fix: `keyward import git`"), "{report}");
    assert!(
        report.contains("credential.helper=store (file:"),
        "{report}"
    );
    assert!(
        report.contains("1 registry credentials in plaintext"),
        "{report}"
    );
    assert!(report.contains("fix: `keyward import docker "), "{report}");
    // Nothing of a secret in the report.
    assert!(
        !report.contains("tok1") && !report.contains("dTpw"),
        "{report}"
    );
    h.keyward(&["lock"], "");
}

/// Issue 13.4: a new or changed password below the KDF floor is refused
/// (exit 8, naming the file) unless the test suite's escape is set, which
/// warns on every use; doctor flags a vault below the floor and offers rekey.
#[test]
fn kdf_floor_refuses_cheap_costs_and_doctor_offers_rekey() {
    let h = TestHome::new();
    h.write_config("[kdf]\nlog_n = 10\n");
    let real = |args: &[&str], stdin: &str| {
        let mut c = h.command(keyward_tests::bin("keyward"));
        c.env_remove("KEYWARD_INSECURE_TEST_KDF").args(args);
        keyward_tests::output_with_stdin(&mut c, stdin.as_bytes())
    };
    let out = real(&["init", "--password-fd", "0"], "pw\n");
    assert_eq!(out.status.code(), Some(8), "{}", text(&out.stderr));
    let config = h.path().join(".config/keyward/config.toml");
    assert_eq!(
        text(&out.stderr),
        format!(
            "keyward: {}: kdf: scrypt log_n=10 r=8 p=1 is below the floor log_n=15 r=8, the least keyward accepts for a new or changed password: raise log_n/r there (or remove [kdf]: the default is log_n=17 r=8 p=1)\n",
            config.display()
        )
    );
    assert!(!h.vault_path().exists());
    // The escape: accepted, with a warning each time.
    let out = h.keyward(&["init", "--password-fd", "0"], "pw\n");
    ok(&out);
    assert!(
        text(&out.stderr)
            .contains("KEYWARD_INSECURE_TEST_KDF=1: scrypt log_n=10 r=8 p=1 is below the floor"),
        "{}",
        text(&out.stderr)
    );
    let report = text(&real(&["doctor"], "").stdout);
    assert!(
        report.contains("WARN  kdf: the vault's scrypt log_n=10 r=8 p=1 is below the floor"),
        "{report}"
    );
    assert!(report.contains("fix: `keyward rekey`"), "{report}");
    // passwd and rekey refuse it too, before asking anything.
    for args in [
        &["passwd", "--password-fd", "0"][..],
        &["rekey", "--password-fd", "0"],
    ] {
        let out = real(args, "pw\npw2\npw2\n");
        assert_eq!(
            out.status.code(),
            Some(8),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    // At the floor, rekey moves the vault up and doctor is content.
    h.write_config("[kdf]\nlog_n = 15\n");
    let said = ok(&real(&["rekey", "--password-fd", "0"], "pw\n"));
    assert!(
        said.contains("scrypt log_n=15 r=8 p=1 (was log_n=10 r=8 p=1)"),
        "{said}"
    );
    let report = text(&real(&["doctor"], "").stdout);
    assert!(
        report.contains("ok    kdf: the vault's scrypt log_n=15 r=8 p=1 is within"),
        "{report}"
    );
    h.keyward(&["lock"], "");
}
