//! kubectl (Debian's kubernetes-client, or the kubectl already on PATH)
//! against a stand-in API server on 127.0.0.1 over HTTPS
//! (tests/tests/protocols2_common/kube_apiserver.py, a throwaway CA) that
//! accepts a bearer token or a client certificate: `keyward import kube`
//! moves the kubeconfig's token and client key into the vault and replaces
//! them with `keyward kube-credential` exec entries; `kubectl get --raw /api`
//! then works with the credentials only in the vault, and fails once they are
//! removed.
#![forbid(unsafe_code)]

mod protocols2_common;
use protocols2_common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TOKEN: &str = "kube-hunter2.s3cret-token";
const CLIENT_CN: &str = "keyward-test-client";

struct Kube {
    home: TestHome,
    config: PathBuf,
    server: Server,
}

fn b64(path: &Path) -> String {
    let out = Command::new("base64")
        .arg("-w0")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    text(&out.stdout)
}

impl Kube {
    fn start() -> Kube {
        assert!(
            keyward_tests::have("kubectl"),
            "kubectl missing: install kubernetes-client"
        );
        let home = TestHome::new();
        home.init_unlocked_vault("s3cret");
        let certs = home.path().join("certs");
        std::fs::create_dir(&certs).unwrap();
        let (ca, cert, key) = throwaway_ca(&certs);
        let (ccert, ckey) = client_cert(&certs, "client", CLIENT_CN);
        let port = free_port();
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/protocols2_common/kube_apiserver.py");
        let log = home.path().join("apiserver-requests.log");
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(script)
            .arg(port.to_string())
            .args([&cert, &key, &ca])
            .args([TOKEN, CLIENT_CN])
            .arg(&log);
        let mut server = Server::start(cmd, home.path().join("apiserver.log"));
        wait_for_port(port, &mut server.child, &home.path().join("apiserver.log"));
        server.log = log;
        let dir = home.path().join(".kube");
        std::fs::create_dir(&dir).unwrap();
        let config = dir.join("config");
        std::fs::write(
            &config,
            format!(
                "apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: {ca}
    server: https://127.0.0.1:{port}
  name: test
contexts:
- context:
    cluster: test
    user: dev
  name: dev
- context:
    cluster: test
    user: cert-user
  name: cert
current-context: dev
preferences: {{}}
users:
- name: dev
  user:
    token: {TOKEN}
- name: cert-user
  user:
    client-certificate-data: {c}
    client-key-data: {k}
",
                ca = ca.display(),
                c = b64(&ccert),
                k = b64(&ckey),
            ),
        )
        .unwrap();
        Command::new("chmod")
            .arg("600")
            .arg(&config)
            .status()
            .unwrap();
        Kube {
            home,
            config,
            server,
        }
    }

    fn kubectl(&self, context: &str) -> Output {
        let mut c = self.home.command("timeout");
        c.args([
            "-s",
            "KILL",
            "60",
            "kubectl",
            "--context",
            context,
            "get",
            "--raw",
            "/api",
        ])
        .env("KUBECONFIG", &self.config);
        output_with_stdin(&mut c, b"")
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
fn kubectl_uses_the_token_and_client_key_from_the_vault() {
    let k = Kube::start();
    // The plaintext kubeconfig works to begin with.
    assert!(ok(&k.kubectl("dev"), "kubectl (plaintext)").contains("APIVersions"));

    let mut c = k.home.command(bin("keyward"));
    c.args(["import", "kube", "--remove-plaintext"])
        .env("KUBECONFIG", &k.config);
    let said = ok(&output_with_stdin(&mut c, b""), "keyward import kube");
    assert!(
        said.contains("2 user(s) imported (3 secret(s) added"),
        "{said}"
    );
    let now = std::fs::read_to_string(&k.config).unwrap();
    assert!(
        !now.contains(TOKEN) && !now.contains("client-key-data"),
        "{now}"
    );
    assert!(
        now.contains("kube-credential") && now.contains("current-context: dev"),
        "{now}"
    );
    let backup = std::fs::read_to_string(k.config.with_file_name("config.keyward-backup")).unwrap();
    assert!(backup.contains(TOKEN));
    std::fs::remove_file(k.config.with_file_name("config.keyward-backup")).unwrap();
    let mut names = secret_names(&k.home);
    names.sort();
    assert_eq!(
        names,
        [
            "kube/cert-user/client-certificate",
            "kube/cert-user/client-key",
            "kube/dev/token"
        ]
    );

    let before = k.server.log().lines().count();
    assert!(ok(&k.kubectl("dev"), "kubectl (token from the vault)").contains("APIVersions"));
    assert!(ok(&k.kubectl("cert"), "kubectl (client key from the vault)").contains("APIVersions"));
    let log = k.server.log();
    let new: Vec<&str> = log.lines().skip(before).collect();
    assert!(new.iter().any(|l| l.contains("token=yes")), "{log}");
    assert!(new.iter().any(|l| l.contains("cert=yes")), "{log}");

    // Locked: kubectl fails, with the hint from the plugin.
    ok(&k.home.keyward(&["lock"], ""), "keyward lock");
    let out = k.kubectl("dev");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("vault is locked"),
        "{}",
        text(&out.stderr)
    );
    ok(
        &k.home.keyward(
            &["unlock", "--password-fd", "0", "--timeout", "10m"],
            "s3cret\n",
        ),
        "unlock",
    );

    // Removed from the vault: kubectl cannot authenticate any more.
    ok(
        &k.home
            .keyward(&["rm", "--kind", "secret", "kube/dev/token"], ""),
        "keyward rm",
    );
    let out = k.kubectl("dev");
    assert!(!out.status.success(), "kubectl worked with no token");
    assert!(
        text(&out.stderr).contains("kube/dev/token"),
        "{}",
        text(&out.stderr)
    );
}
