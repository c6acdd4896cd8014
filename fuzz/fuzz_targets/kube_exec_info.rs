//! `keyward kube-credential`: `KUBERNETES_EXEC_INFO` and the kubeconfig user
//! name. Never panics; the version is one the plugin speaks; the answer for
//! it is JSON that names that version.
#![no_main]

use keyward_protocols::json;
use keyward_protocols::kube::{
    exec_credential, requested_version, secret_names, Credential, V1, V1BETA1,
};
use keyward_secmem::{ExposeSecret, SecretBytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(user) = std::str::from_utf8(data) {
        if let Ok(names) = secret_names(user) {
            for n in &names {
                assert!(keyward_vault::check_name(n).is_ok());
            }
        }
    }
    let Ok(version) = requested_version(Some(data)) else {
        return;
    };
    assert!(version == V1 || version == V1BETA1);
    let token = SecretBytes::from_slice(data).expect("locked memory");
    if std::str::from_utf8(data).is_ok() {
        let answer = exec_credential(
            version,
            &Credential::Token(&token),
            Some("2030-01-01T00:00:00Z"),
        )
        .expect("locked memory");
        assert!(json::parse(answer.expose_secret()).is_ok());
    }
});
