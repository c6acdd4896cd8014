//! `keyward`: the user's tool for the vault. The calls other programs make
//! once per use run here; every other command runs in `keyward-cli`, which
//! this process becomes (everything is in the library: `main_quick`).
#![forbid(unsafe_code)]

/// Every freed heap block is wiped (scrypt's PBKDF2 buffer, the decrypted
/// index while it grows): see `keyward_secmem::WipeOnFree`.
#[global_allocator]
static ALLOC: keyward_secmem::WipeOnFree = keyward_secmem::WipeOnFree;

fn main() {
    keyward_cli::main_quick();
}
