//! Documentation-only clap definitions of the credential helpers. The
//! helpers parse their one protocol argument by hand (git, docker, cargo
//! and Terraform call them, never a person); these definitions exist so their man pages are
//! written the same way as keyward's. Keep them in step with
//! `git-credential/src/git/helper.rs`, `git-credential/src/docker/mod.rs`
//! and `git-credential/src/cargo/mod.rs`.

use crate::Extra;
use clap::builder::PossibleValue;
use clap::{Arg, Command};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `git-credential-keyward(1)`.
pub(crate) fn git() -> (Command, Extra) {
    let cmd = Command::new("git-credential-keyward")
        .version(VERSION)
        .about("git credential helper over the keyward vault")
        .long_about(
            "A git credential helper (see gitcredentials(7)) that keeps every password and token \
             in the encrypted keyward vault and hands it to git from locked memory. git runs it; \
             people do not. Enable it with: git config --global credential.helper keyward",
        )
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(action([
            ("get", "Read a credential description on stdin; print the matching credential."),
            ("store", "Store the credential read on stdin, replacing the one with the same protocol, host, path and username."),
            ("erase", "Remove every matching credential (refuses an empty pattern)."),
            ("capability", "Print the protocol capabilities: version 0, capability authtype."),
        ]))
        .after_help("Exit codes:\n  0  success (also for actions it does not know, as git expects)\n  1  error: bad request, locked or damaged vault (one line on stderr)\n  2  usage error");
    let extra = Extra {
        sections: vec![(
            "BEHAVIOUR",
            vec![
                "\tgit config --global credential.helper keyward".into(),
                "Requests and answers are the key=value lines of git-credential(1): protocol, host, path, username, password, password_expiry_utc, oauth_refresh_token, url, authtype and credential (with capability[]=authtype), ephemeral, wwwauth[], state[] and continue. A field in the request must equal the stored one; an absent field matches anything.".into(),
                "With the vault unlocked (keyward unlock, or pam_keyward(8) at login) the vault key is read from the kernel keyring. With a locked vault and a terminal, the helper asks for the vault password on /dev/tty; with no terminal, or GIT_TERMINAL_PROMPT=0, get prints nothing and one line saying to run keyward unlock, and git falls back to its own prompt.".into(),
                "Lines are at most 65535 bytes; a longer line, a NUL byte or a line without = is one error line on stderr and exit status 1, with the vault untouched.".into(),
            ],
        )],
        environment: vec![
            ("GIT_TERMINAL_PROMPT", "0: never ask for the vault password on the terminal."),
            ("KEYWARD_VAULT", "Vault file, instead of the configured one."),
        ],
        files: vec![
            ("~/.local/share/keyward/vault", "The vault (or $XDG_DATA_HOME/keyward/vault)."),
            ("/etc/keyward/keyward.toml", "Configuration; see keyward.toml(5)."),
        ],
        see_also: vec!["keyward(1)", "gitcredentials(7)", "git-credential(1)", "keyward.toml(5)"],
    };
    (cmd, extra)
}

/// `docker-credential-keyward(1)`.
pub(crate) fn docker() -> (Command, Extra) {
    let cmd = Command::new("docker-credential-keyward")
        .version(VERSION)
        .about("docker credential helper over the keyward vault")
        .long_about(
            "A credential helper in the protocol of github.com/docker/docker-credential-helpers, \
             for the docker CLI, docker-py, skopeo, podman and buildah. Registry passwords and \
             tokens are kept in the encrypted keyward vault. The payload comes on stdin, the \
             answer and any error go to stdout, as the clients expect.",
        )
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(action([
            ("store", "Store {\"ServerURL\":..,\"Username\":..,\"Secret\":..} read on stdin, replacing that server's credential."),
            ("get", "Read a server on stdin; print {\"ServerURL\":..,\"Username\":..,\"Secret\":..}."),
            ("erase", "Read a server on stdin; remove its credential (erasing what is not there succeeds)."),
            ("list", "Print {\"server\":\"username\",..} without decrypting any secret."),
            ("version", "Print the version (also -v, --version; -h, --help prints the usage line)."),
        ]))
        .after_help("Exit codes:\n  0  success\n  1  error, including \"credentials not found in native keychain\" (the message is on stdout)");
    let extra = Extra {
        sections: vec![(
            "CONFIGURATION",
            vec![
                "For every registry: `keyward setup docker` merges this into ~/.docker/config.json (docker, docker-py), keeping the rest of the file (skopeo, podman and buildah: `keyward setup podman`, a registries.conf.d drop-in):".into(),
                "\t{ \"credsStore\": \"keyward\" }".into(),
                "For some registries only, in ~/.docker/config.json or containers-auth.json(5) ($XDG_RUNTIME_DIR/containers/auth.json):".into(),
                "\t{ \"credHelpers\": { \"registry.example:5000\": \"keyward\" } }".into(),
                "Docker Hub is stored under https://index.docker.io/v1/ and found under any of its spellings (docker.io, index.docker.io, registry-1.docker.io). A locked vault with no terminal answers at once with an error telling to run keyward unlock.".into(),
            ],
        )],
        environment: vec![("KEYWARD_VAULT", "Vault file, instead of the configured one.")],
        files: vec![
            ("~/.local/share/keyward/vault", "The vault (or $XDG_DATA_HOME/keyward/vault)."),
            ("/etc/keyward/keyward.toml", "Configuration; see keyward.toml(5)."),
        ],
        see_also: vec!["keyward(1)", "keyward.toml(5)", "containers-auth.json(5)"],
    };
    (cmd, extra)
}

/// `cargo-credential-keyward(1)`.
pub(crate) fn cargo() -> (Command, Extra) {
    let cmd = Command::new("cargo-credential-keyward")
        .version(VERSION)
        .about("cargo credential provider over the keyward vault")
        .long_about(
            "A credential provider in cargo's credential-provider protocol (cargo 1.74 and later): \
             registry tokens are kept in the encrypted keyward vault, keyed by the registry's index \
             URL. cargo runs it with --cargo-plugin; it writes its hello {\"v\":[1]}, then answers \
             each request line on stdin (get, login, logout) with one line on stdout, every error \
             as {\"Err\":{\"kind\":..}} with exit status 0, as cargo expects.",
        )
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(
            Arg::new("cargo-plugin")
                .long("cargo-plugin")
                .action(clap::ArgAction::SetTrue)
                .required(true)
                .help("Serve cargo's requests on stdin (cargo always passes it)"),
        )
        .after_help("Exit codes:\n  0  the session ended (errors are answered on stdout)\n  1  stdout could not be written\n  2  not run by cargo (no --cargo-plugin)");
    let extra = Extra {
        sections: vec![(
            "CONFIGURATION",
            vec![
                "For every registry, in ~/.cargo/config.toml:".into(),
                "\t[registry]".into(),
                "\tglobal-credential-providers = [\"cargo-credential-keyward\"]".into(),
                "Then cargo login --registry NAME (the token on stdin, or asked on the terminal) stores the token in the vault, cargo logout erases it; keyward import cargo moves the tokens of ~/.cargo/credentials.toml into the vault. get answers with \"cache\":\"session\" (cargo keeps the token for the rest of its run). crates.io is one registry under both of its index URLs. A locked vault with no terminal answers at once with an error telling to run keyward unlock.".into(),
            ],
        )],
        environment: vec![("KEYWARD_VAULT", "Vault file, instead of the configured one.")],
        files: vec![
            ("~/.local/share/keyward/vault", "The vault (or $XDG_DATA_HOME/keyward/vault)."),
            ("/etc/keyward/keyward.toml", "Configuration; see keyward.toml(5)."),
        ],
        see_also: vec!["keyward(1)", "keyward-import-cargo(1)", "cargo-login(1)", "keyward.toml(5)"],
    };
    (cmd, extra)
}

/// The one positional argument the git and docker helpers take.
/// `terraform-credentials-keyward(1)`.
pub(crate) fn terraform() -> (Command, Extra) {
    let cmd = Command::new("terraform-credentials-keyward")
        .version(VERSION)
        .about("Terraform/OpenTofu credentials helper over the keyward vault")
        .long_about(
            "A credentials helper in the protocol of Terraform's \"credentials helpers\" \
             (Terraform and OpenTofu): API tokens for Terraform hosts are kept in the encrypted \
             keyward vault as named secrets terraform/HOST. Terraform runs it; people do not.",
        )
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(action([
            ("get", "Print {\"token\":..} for HOSTNAME, or {} when there is none."),
            ("store", "Read {\"token\":..} on stdin (to its end) and keep the token; refuse any other property."),
            ("forget", "Forget the token for HOSTNAME (forgetting nothing succeeds)."),
        ]))
        .arg(Arg::new("hostname").value_name("HOSTNAME").required(true).help("The Terraform host"))
        .after_help("Exit codes:\n  0  success\n  1  error: unknown verb, unstorable object, locked or damaged vault (one line on stderr)");
    let extra = Extra {
        sections: vec![(
            "CONFIGURATION",
            vec![
                "keyward setup terraform links the helper into ~/.terraform.d/plugins and adds to ~/.terraformrc:".into(),
                "\tcredentials_helper \"keyward\" {}".into(),
                "Arguments configured with args = [...] come before the verb; this helper takes none. keyward import terraform moves tokens out of ~/.terraform.d/credentials.tfrc.json, which would otherwise win over the helper.".into(),
            ],
        )],
        environment: vec![("KEYWARD_VAULT", "Vault file, instead of the configured one.")],
        files: vec![
            ("~/.terraform.d/plugins/terraform-credentials-keyward", "Where Terraform looks for the helper."),
            ("~/.local/share/keyward/vault", "The vault (or $XDG_DATA_HOME/keyward/vault)."),
        ],
        see_also: vec!["keyward(1)", "keyward-setup-terraform(1)", "keyward-import-terraform(1)"],
    };
    (cmd, extra)
}

/// `keyward-token-helper(1)`.
pub(crate) fn token_helper() -> (Command, Extra) {
    let cmd = Command::new("keyward-token-helper")
        .version(VERSION)
        .about("OpenBao/Vault token helper over the keyward vault")
        .long_about(
            "A token helper for the OpenBao (bao) and HashiCorp Vault (vault) command-line \
             clients: the token a login returns is kept in the encrypted keyward vault, per server \
             address, instead of ~/.vault-token. The CLI runs it; people do not.",
        )
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(action([
            (
                "get",
                "Print the stored token for the server (no newline); nothing when there is none.",
            ),
            ("store", "Keep the token read on stdin for the server."),
            (
                "erase",
                "Forget the server's token (forgetting nothing succeeds).",
            ),
        ]))
        .after_help("Exit codes:\n  0  success\n  1  error (one line on stderr)");
    let extra = Extra {
        sections: vec![(
            "CONFIGURATION",
            vec![
                "In ~/.bao (OpenBao) or ~/.vault (Vault):".into(),
                "\ttoken_helper = \"/usr/bin/keyward-token-helper\"".into(),
                "The token is the named secret openbao/SCHEME/HOST:PORT of the address the CLI gives the helper.".into(),
            ],
        )],
        environment: vec![
            ("BAO_ADDR", "The server address (OpenBao sets it for the helper)."),
            ("VAULT_ADDR", "The server address when BAO_ADDR is unset; default https://127.0.0.1:8200."),
            ("KEYWARD_VAULT", "Vault file, instead of the configured one."),
        ],
        files: vec![("~/.local/share/keyward/vault", "The vault (or $XDG_DATA_HOME/keyward/vault).")],
        see_also: vec!["keyward(1)", "bao(1)", "vault(1)"],
    };
    (cmd, extra)
}

/// The one positional argument every helper takes.
fn action<const N: usize>(actions: [(&'static str, &'static str); N]) -> Arg {
    Arg::new("action")
        .value_name("ACTION")
        .required(true)
        .help("What the client asks for")
        .value_parser(actions.map(|(name, help)| PossibleValue::new(name).help(help)))
}
