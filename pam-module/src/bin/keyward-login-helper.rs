//! `keyward-login-helper`: what pam_keyward.so's `unlock` starts for each
//! login-unlock step (see `pam_keyward::login::helper_main`).
#![forbid(unsafe_code)]

fn main() {
    std::process::exit(pam_keyward::login::helper_main())
}
