//! `cargo-credential-keyward`: see [`keyward_protocols::cargo`].
#![forbid(unsafe_code)]

/// Every freed heap block is wiped (scrypt's PBKDF2 buffer, the decrypted
/// index while it grows): see `keyward_secmem::WipeOnFree`.
#[global_allocator]
static ALLOC: keyward_secmem::WipeOnFree = keyward_secmem::WipeOnFree;

fn main() {
    // tpm2 slots in the unlock policy (a locked vault opens without
    // typing), unsealed by `keyward` in a child: libtss2 is not loaded here.
    keyward_unlock::wire_tpm2_child();
    std::process::exit(keyward_protocols::cargo::main());
}
