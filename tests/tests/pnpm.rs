//! pnpm and verdaccio (from npm, installed by scripts/install-test-clients-2)
//! on 127.0.0.1: a package published to a registry that serves only
//! authenticated users installs with `pnpm install` when `keyward setup pnpm`
//! has written the token helper and the token is only in the vault, and not
//! once the token is removed.
#![forbid(unsafe_code)]

mod protocols2_common;
use protocols2_common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Registry {
    home: TestHome,
    url: String,
    token: String,
    _server: Server,
}

fn node_bin(name: &str) -> PathBuf {
    client(&format!("node/node_modules/.bin/{name}"))
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

impl Registry {
    /// verdaccio with one user (signed up through its API, which answers
    /// with the user's token) and `kw-private@1.0.0` published by that user.
    fn start() -> Registry {
        let home = TestHome::new();
        home.init_unlocked_vault("s3cret");
        let v = home.path().join("verdaccio");
        std::fs::create_dir(&v).unwrap();
        std::fs::write(
            v.join("config.yaml"),
            format!(
                "storage: {d}/storage\nauth:\n  htpasswd:\n    file: {d}/htpasswd\n    max_users: 1\npackages:\n  '**':\n    access: $authenticated\n    publish: $authenticated\nlog: {{ type: stdout, format: pretty, level: warn }}\n",
                d = v.display()
            ),
        )
        .unwrap();
        let port = free_port();
        let mut cmd = home.command(node_bin("verdaccio"));
        cmd.arg("--config")
            .arg(v.join("config.yaml"))
            .args(["--listen", &format!("127.0.0.1:{port}")]);
        let mut server = Server::start(cmd, home.path().join("verdaccio.log"));
        wait_for_port(port, &mut server.child, &server.log.clone());
        let url = format!("http://127.0.0.1:{port}/");
        let signup = format!(
            "import json, urllib.request\nreq = urllib.request.Request('{url}-/user/org.couchdb.user:alice', method='PUT', data=json.dumps({{'name': 'alice', 'password': 'hunter2'}}).encode(), headers={{'Content-Type': 'application/json'}})\nprint(json.loads(urllib.request.urlopen(req).read())['token'])\n"
        );
        let out = output_with_stdin(Command::new("/usr/bin/python3").arg("-c").arg(signup), b"");
        let token = ok(&out, "verdaccio sign-up").trim().to_owned();
        assert!(!token.is_empty());
        // Publishing is set up with a throwaway npmrc holding the token, then deleted.
        let pkg = home.path().join("pkg");
        std::fs::create_dir(&pkg).unwrap();
        std::fs::write(
            pkg.join("package.json"),
            r#"{"name":"kw-private","version":"1.0.0","main":"index.js"}"#,
        )
        .unwrap();
        std::fs::write(
            pkg.join("index.js"),
            "module.exports = 'hello from verdaccio';\n",
        )
        .unwrap();
        let rc = home.path().join("publish.npmrc");
        std::fs::write(&rc, format!("//127.0.0.1:{port}/:_authToken={token}\n")).unwrap();
        let mut c = home.command("npm");
        c.args(["publish", "--registry", &url, "--userconfig"])
            .arg(&rc)
            .current_dir(&pkg);
        ok(&output_with_stdin(&mut c, b""), "npm publish");
        std::fs::remove_file(&rc).unwrap();
        Registry {
            home,
            url,
            token,
            _server: server,
        }
    }

    fn project(&self, name: &str) -> PathBuf {
        let dir = self.home.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(
            dir.join("package.json"),
            r#"{"name":"proj","version":"0.0.0","dependencies":{"kw-private":"1.0.0"}}"#,
        )
        .unwrap();
        std::fs::write(dir.join(".npmrc"), format!("registry={}\n", self.url)).unwrap();
        dir
    }

    fn pnpm_install(&self, dir: &Path) -> Output {
        let mut c = self.home.command("timeout");
        c.args(["-s", "KILL", "180"])
            .arg(node_bin("pnpm"))
            .args(["install", "--reporter=append-only"])
            .env("npm_config_store_dir", self.home.path().join("pnpm-store"))
            .current_dir(dir);
        output_with_stdin(&mut c, b"")
    }
}

#[test]
fn pnpm_install_with_the_token_only_in_the_vault() {
    let r = Registry::start();
    let p = r.project("without-helper");
    let out = r.pnpm_install(&p);
    assert!(!out.status.success(), "installed without any token");

    let said = ok(
        &r.home.keyward(
            &["setup", "pnpm", &r.url, "--secret-fd", "0"],
            &format!("{}\n", r.token),
        ),
        "keyward setup pnpm",
    );
    let name = format!(
        "npm/{}",
        r.url.trim_start_matches("http://").trim_end_matches('/')
    );
    assert!(said.contains(&name), "{said}");
    let npmrc = std::fs::read_to_string(r.home.path().join(".npmrc")).unwrap();
    assert!(npmrc.contains(":tokenHelper=/"), "{npmrc}");
    assert!(!npmrc.contains(&r.token), "{npmrc}");
    let helper = npmrc.trim_end().rsplit('=').next().unwrap();
    assert!(!std::fs::read_to_string(helper).unwrap().contains(&r.token));

    let p = r.project("with-helper");
    ok(&r.pnpm_install(&p), "pnpm install");
    let js = std::fs::read_to_string(p.join("node_modules/kw-private/index.js")).unwrap();
    assert!(js.contains("hello from verdaccio"));

    // The token gone from the vault: the helper fails, so does pnpm.
    ok(
        &r.home.keyward(&["rm", "--kind", "secret", &name], ""),
        "keyward rm",
    );
    let out = r.pnpm_install(&r.project("token-removed"));
    assert!(
        !out.status.success(),
        "installed after the token was removed"
    );
    assert!(
        text(&out.stdout).contains("token helper") || text(&out.stderr).contains("token helper")
    );
}
