//! `keyward-secret-service`: the freedesktop Secret Service over the keyward
//! vault; see [`keyward_secret_service`].
#![forbid(unsafe_code)]

/// Every freed heap block is wiped (zbus's message buffers of `plain`
/// sessions, the decrypted index): see `keyward_secmem::WipeOnFree`.
#[global_allocator]
static ALLOC: keyward_secmem::WipeOnFree = keyward_secmem::WipeOnFree;

use std::io::Write;

fn main() {
    // tpm2 slots in the unlock policy (a locked vault opens without typing).
    keyward_tpm::slot::wire();
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if let Err(e) = keyward_secret_service::run(&args) {
        let line = format!("keyward-secret-service: {e}\n");
        let _ = std::io::stderr().write_all(line.as_bytes());
        std::process::exit(1);
    }
}
