//! `keyward-chkpwd`: the setuid helper pam_keyward.so runs in processes that
//! are not root, to check the caller's own password (see
//! `pam_keyward::chkpwd`).
#![forbid(unsafe_code)]

fn main() {
    std::process::exit(pam_keyward::chkpwd::helper_main())
}
