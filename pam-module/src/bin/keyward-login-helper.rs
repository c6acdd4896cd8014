//! `keyward-login-helper`: what pam_keyward.so's `unlock` starts for each
//! login-unlock step (see `pam_keyward::login::helper_main`).
#![forbid(unsafe_code)]

fn main() {
    // tpm2 slots in the `slots` job, the TPM named by /etc/keyward/keyward.toml
    // only (never this process's environment or the user's files).
    keyward_tpm::slot::wire_system();
    std::process::exit(pam_keyward::login::helper_main())
}
