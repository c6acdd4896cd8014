//! pam_keyward.so: the PAM module. The FFI layer is the only place here that may use `unsafe`.
