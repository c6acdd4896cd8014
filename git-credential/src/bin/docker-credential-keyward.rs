//! `docker-credential-keyward`: see [`keyward_credential::docker`].
#![forbid(unsafe_code)]

fn main() {
    std::process::exit(keyward_credential::docker::main());
}
