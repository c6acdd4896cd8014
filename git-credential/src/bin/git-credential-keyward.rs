//! `git-credential-keyward`: git's credential helper over the keyward vault.
//! Enable it with `git config --global credential.helper keyward`.
#![forbid(unsafe_code)]

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    match keyward_credential::git::run(&args) {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("git-credential-keyward: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
