//! `keyward-cli`: every `keyward` command (`keyward` becomes it for all but
//! the calls other programs make once per use); the one `keyward` binary
//! that links keyward-tpm (libtss2). Installed in /usr/libexec/keyward.
#![forbid(unsafe_code)]

/// Every freed heap block is wiped (scrypt's PBKDF2 buffer, the decrypted
/// index while it grows): see `keyward_secmem::WipeOnFree`.
#[global_allocator]
static ALLOC: keyward_secmem::WipeOnFree = keyward_secmem::WipeOnFree;

fn main() {
    keyward_cli::main();
}
