//! The AWS CLI (PyPI awscli, botocore) with `credential_process = keyward aws
//! PROFILE`, against moto's server on 127.0.0.1 with request signing checked
//! (`INITIAL_NO_AUTH_ACTION_COUNT`: the first three calls make the user, its
//! policy and its access key; every later call must be signed with that
//! key). The keys start in ~/.aws/credentials, `keyward import aws` moves
//! them into the vault, and `aws sts get-caller-identity` and `aws s3` then
//! work with the keys only in the vault, and fail once they are removed.
#![forbid(unsafe_code)]

mod py_common;
use keyward_tests::{bin, text, TestHome};
use py_common::{tool, Server};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};

const VAULT_PASSWORD: &str = "correct horse battery staple";
/// What moto lets the first calls run with (no user exists yet).
const BOOTSTRAP_ID: &str = "AKIDBOOTSTRAP";
const BOOTSTRAP_SECRET: &str = "bootstrap-s3cret";

fn moto() -> Server {
    let moto = tool("moto_server");
    Server::start("moto_server", |port, _| {
        let mut c = Command::new(&moto);
        c.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("INITIAL_NO_AUTH_ACTION_COUNT", "3");
        c
    })
}

fn aws(h: &TestHome, server: &Server, args: &[&str]) -> Output {
    h.command(tool("aws"))
        .args(args)
        .env(
            "AWS_ENDPOINT_URL",
            format!("http://127.0.0.1:{}", server.port),
        )
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .output()
        .expect("run aws")
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\n{}{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A user `alice` with every permission and an access key, made with the
/// bootstrap calls moto allows unsigned. Returns (key id, secret).
fn make_user(h: &TestHome, server: &Server) -> (String, String) {
    let boot = |args: &[&str]| {
        let out = h
            .command(tool("aws"))
            .args(args)
            .env(
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", server.port),
            )
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", BOOTSTRAP_ID)
            .env("AWS_SECRET_ACCESS_KEY", BOOTSTRAP_SECRET)
            .output()
            .unwrap();
        ok(&out, &format!("aws {args:?}"))
    };
    boot(&["iam", "create-user", "--user-name", "alice"]);
    boot(&[
        "iam",
        "put-user-policy",
        "--user-name",
        "alice",
        "--policy-name",
        "all",
        "--policy-document",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    ]);
    let key: serde_json::Value =
        serde_json::from_str(&boot(&["iam", "create-access-key", "--user-name", "alice"])).unwrap();
    let k = &key["AccessKey"];
    (
        k["AccessKeyId"].as_str().unwrap().to_string(),
        k["SecretAccessKey"].as_str().unwrap().to_string(),
    )
}

fn keyward(h: &TestHome, args: &[&str], stdin: &str) -> Output {
    h.keyward(args, stdin)
}

#[test]
fn import_then_the_aws_cli_signs_with_keys_from_the_vault_only() {
    let server = moto();
    let h = TestHome::new();
    h.init_unlocked_vault(VAULT_PASSWORD);
    let (id, secret) = make_user(&h, &server);

    let dir = h.path().join(".aws");
    std::fs::create_dir_all(&dir).unwrap();
    let creds = dir.join("credentials");
    let config = dir.join("config");
    std::fs::write(
        &creds,
        format!(
            "# work account\n[dev]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\nregion = us-east-1\n\n[other]\naws_access_key_id = AKIDOTHER\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(
        &config,
        "[profile dev]\noutput = json\n[profile ci]\nregion = eu-west-1\n",
    )
    .unwrap();
    // The plaintext works before the import (the floor the benchmark compares with).
    let who = ok(
        &aws(
            &h,
            &server,
            &["--profile", "dev", "sts", "get-caller-identity"],
        ),
        "plaintext",
    );
    assert!(who.contains("user/alice"), "{who}");

    // doctor names the plaintext keys and the command that imports them.
    let doc = text(&keyward(&h, &["doctor"], "").stdout);
    assert!(
        doc.contains(&format!(
            "WARN  plaintext: {}: 1 AWS secret access keys in plaintext",
            creds.display()
        )) && doc.contains("fix: `keyward import aws --remove-plaintext`"),
        "{doc}"
    );
    let out = keyward(&h, &["import", "aws", "--remove-plaintext"], "");
    let said = ok(&out, "keyward import aws");
    assert!(
        said.starts_with(&format!(
            "{}: 2 profile(s) with keys: 1 imported (2 secret(s) added, 0 replaced), 1 skipped (other)",
            creds.display()
        )),
        "{said}"
    );
    assert!(
        text(&out.stderr).contains("profile other: it needs both"),
        "{}",
        text(&out.stderr)
    );
    // The keys left the credentials file; everything else stayed.
    let after = std::fs::read_to_string(&creds).unwrap();
    assert!(!after.contains(&secret) && !after.contains(&id), "{after}");
    assert_eq!(
        after,
        "# work account\n[dev]\nregion = us-east-1\n\n[other]\naws_access_key_id = AKIDOTHER\n"
    );
    // The config names keyward for dev and keeps its other lines and profiles.
    let cfg = std::fs::read_to_string(&config).unwrap();
    let kw = bin("keyward").canonicalize().unwrap();
    assert_eq!(
        cfg,
        format!(
            "[profile dev]\ncredential_process = {} --vault {} aws dev\noutput = json\n[profile ci]\nregion = eu-west-1\n",
            kw.display(),
            h.vault_path().display()
        )
    );
    // Backups: the old files, with their modes (at most 0600).
    let backup = dir.join("credentials.keyward-backup");
    assert!(std::fs::read_to_string(&backup).unwrap().contains(&secret));
    let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(dir.join("config.keyward-backup").exists());
    // doctor: the keys are gone from the file, the backup still holds them.
    let doc = text(&keyward(&h, &["doctor"], "").stdout);
    assert!(
        !doc.contains("AWS secret access keys in plaintext"),
        "{doc}"
    );
    assert!(
        doc.contains(&format!(
            "WARN  plaintext: {}: the file as it was before `keyward import`",
            backup.display()
        )),
        "{doc}"
    );

    // The AWS CLI signs with the keys from the vault.
    let who = ok(
        &aws(
            &h,
            &server,
            &["--profile", "dev", "sts", "get-caller-identity"],
        ),
        "sts",
    );
    assert!(
        who.contains("arn:aws:iam::123456789012:user/alice"),
        "{who}"
    );
    ok(
        &aws(
            &h,
            &server,
            &["--profile", "dev", "s3", "mb", "s3://keyward-test-bucket"],
        ),
        "s3 mb",
    );
    let ls = ok(
        &aws(&h, &server, &["--profile", "dev", "s3", "ls"]),
        "s3 ls",
    );
    assert!(ls.contains("keyward-test-bucket"), "{ls}");

    // A wrong secret in the vault: the server refuses the signature, so the
    // vault's value is the one that signed.
    let out = keyward(
        &h,
        &["set", "aws/dev/secret-access-key", "--secret-fd", "0"],
        "not-the-s3cret\n",
    );
    ok(&out, "keyward set");
    let out = aws(&h, &server, &["--profile", "dev", "s3", "ls"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("SignatureDoesNotMatch"),
        "{}",
        text(&out.stderr)
    );

    // Locked: the CLI fails with keyward's hint.
    ok(&keyward(&h, &["lock"], ""), "lock");
    let out = aws(
        &h,
        &server,
        &["--profile", "dev", "sts", "get-caller-identity"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("vault is locked"),
        "{}",
        text(&out.stderr)
    );

    // Removed: the CLI has no keys at all.
    ok(
        &keyward(
            &h,
            &["unlock", "--password-fd", "0"],
            &format!("{VAULT_PASSWORD}\n"),
        ),
        "unlock",
    );
    ok(&keyward(&h, &["rm", "aws/dev/secret-access-key"], ""), "rm");
    let out = aws(
        &h,
        &server,
        &["--profile", "dev", "sts", "get-caller-identity"],
    );
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("no AWS profile dev"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn keyward_aws_prints_credential_process_json_and_refuses_unknown_profiles() {
    let h = TestHome::new();
    h.init_unlocked_vault(VAULT_PASSWORD);
    for (name, value) in [
        ("aws/ci/access-key-id", "AKIDEXAMPLE"),
        ("aws/ci/secret-access-key", "s3cret\"\\x"),
        ("aws/ci/session-token", "tok"),
        ("aws/ci/expiration", "2026-12-01T05:23:03Z"),
    ] {
        ok(
            &keyward(
                &h,
                &["set", name, "--secret-fd", "0"],
                &format!("{value}\n"),
            ),
            name,
        );
    }
    let out = keyward(&h, &["aws", "ci"], "");
    let json = ok(&out, "keyward aws ci");
    assert_eq!(
        json,
        "{\"Version\": 1, \"AccessKeyId\": \"AKIDEXAMPLE\", \"SecretAccessKey\": \"s3cret\\\"\\\\x\", \"SessionToken\": \"tok\", \"Expiration\": \"2026-12-01T05:23:03Z\"}\n"
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["SecretAccessKey"], "s3cret\"\\x");

    // Unknown profile: one line on stderr, exit 7, nothing on stdout.
    let out = keyward(&h, &["aws", "nosuch"], "");
    assert_eq!(out.status.code(), Some(7));
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        "keyward: no AWS profile nosuch in the vault: import it with `keyward import aws`, or store aws/PROFILE/access-key-id and aws/PROFILE/secret-access-key with `keyward set` (docs/aws.md)\n"
    );
    // A bad expiration is refused, never printed.
    ok(
        &keyward(
            &h,
            &["set", "aws/ci/expiration", "--secret-fd", "0"],
            "soon\n",
        ),
        "set",
    );
    let out = keyward(&h, &["aws", "ci"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("aws/ci/expiration is not an RFC 3339 time"));
    // Locked: exit 4, the git helper's hint, nothing on stdout.
    ok(&keyward(&h, &["lock"], ""), "lock");
    let out = keyward(&h, &["aws", "ci"], "");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("vault is locked"));
}

#[test]
fn import_aws_refuses_a_file_botocore_refuses_and_stores_nothing() {
    let h = TestHome::new();
    h.init_unlocked_vault(VAULT_PASSWORD);
    let dir = h.path().join(".aws");
    std::fs::create_dir_all(&dir).unwrap();
    let creds = dir.join("credentials");
    for (doc, why) in [
        (
            "aws_access_key_id = AKIDEXAMPLE\n[dev]\n",
            "line(s) 1 are not",
        ),
        (
            "[dev]\naws_secret_access_key = s3cret\n[dev]\n",
            "profile dev appears twice",
        ),
    ] {
        std::fs::write(&creds, doc).unwrap();
        let out = keyward(&h, &["import", "aws", "--remove-plaintext"], "");
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        assert!(err.contains(why) && !err.contains("s3cret"), "{err}");
        assert_eq!(std::fs::read_to_string(&creds).unwrap(), doc);
    }
    let list = ok(&keyward(&h, &["list", "--json"], ""), "list");
    assert_eq!(list.trim(), "[]");
}
