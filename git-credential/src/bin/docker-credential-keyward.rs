//! `docker-credential-keyward`: see [`keyward_protocols::docker`].
#![forbid(unsafe_code)]

fn main() {
    std::process::exit(keyward_protocols::docker::main());
}
