//! `git-credential-keyward`: git's credential helper over the keyward vault.
//! Enable it with `git config --global credential.helper keyward`.
#![forbid(unsafe_code)]

/// Every freed heap block is wiped (scrypt's PBKDF2 buffer, the decrypted
/// index while it grows): see `keyward_secmem::WipeOnFree`.
#[global_allocator]
static ALLOC: keyward_secmem::WipeOnFree = keyward_secmem::WipeOnFree;

use std::io::Write;

fn main() {
    // tpm2 slots in the unlock policy (a locked vault opens without
    // typing), unsealed by `keyward` in a child: libtss2 is not loaded here.
    keyward_unlock::wire_tpm2_child();
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    match keyward_protocols::git::run(&args) {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            // One write(2), so concurrent helpers never interleave their lines.
            let line = format!("git-credential-keyward: {e}\n");
            let _ = std::io::stderr().write_all(line.as_bytes());
            std::process::exit(e.exit_code());
        }
    }
}
