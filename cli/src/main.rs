//! `keyward`: the user's tool for the vault (everything is in the library).
#![forbid(unsafe_code)]

fn main() {
    keyward_cli::main();
}
