//! The host key behind `host` slots, in the manner of `systemd-creds
//! --with-key=host`: 32 random bytes in a file only root can read
//! (`/var/lib/keyward/host.key`, or `host_key` in the system configuration
//! only). Users never see it: the setuid helper `keyward-chkpwd host-key`
//! reads it and hands the caller only [`slot_secret`] for the caller's own
//! uid and one vault id, so one user cannot derive another's slot secret.

use crate::format::VaultId;
use keyward_secmem::{with_scrubbed_stack, ExposeSecret, ExposeSecretMut, SecretBytes};
use std::io::Read;
use std::path::Path;

/// Where the host key lives unless the system configuration says otherwise.
pub const DEFAULT_HOST_KEY: &str = "/var/lib/keyward/host.key";
/// Bytes of the host key.
pub const HOST_KEY_LEN: usize = 32;
const LABEL: &[u8] = b"keyward-host-slot-v1";

fn trust() -> keyward_trustfs::Trust {
    keyward_trustfs::Trust::system(&[0], 0o077).named("host key")
}

/// Reads the host key (root-owned, mode 0600, no symlink, in a directory
/// only root can change); with `create`, makes it first when it is missing
/// (32 bytes from the OS CSPRNG, written atomically, the directory made 0755
/// if missing). [`crate::Error::NotFound`] when missing and not created.
pub fn read_host_key(path: &Path, create: bool) -> crate::Result<SecretBytes> {
    let t = trust();
    if create && !path.exists() {
        let dir = keyward_trustfs::dir_of(path);
        if !dir.exists() {
            std::fs::create_dir_all(&dir).map_err(crate::error::io(&dir))?;
        }
        let _lock = t.lock(path, keyward_trustfs::LockMode::Exclusive)?;
        if !path.exists() {
            let key = SecretBytes::random(HOST_KEY_LEN)?;
            t.write_atomic(path, key.expose_secret())?;
        }
    }
    t.check_dir(&keyward_trustfs::dir_of(path))?;
    let mut f = t.open(path)?;
    let mut key = SecretBytes::zeroed(HOST_KEY_LEN + 1)?;
    let mut n = 0;
    while n < key.len() {
        match f.read(&mut key.expose_secret_mut()[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(crate::error::io(path)(e)),
        }
    }
    if n != HOST_KEY_LEN {
        return Err(crate::Error::Invalid(format!(
            "{}: a host key has {HOST_KEY_LEN} bytes; move the damaged file away (every host slot made with it is then lost) and enroll again",
            path.display()
        )));
    }
    key.truncate(HOST_KEY_LEN);
    Ok(key)
}

/// The secret of the host slot of vault `id` for user `uid`:
/// HMAC-SHA256(host key, "keyward-host-slot-v1" ‖ uid (u32) ‖ vault id).
pub fn slot_secret(host_key: &SecretBytes, uid: u32, id: &VaultId) -> crate::Result<SecretBytes> {
    use hmac::{Hmac, Mac};
    let mut out = SecretBytes::guarded(32)?;
    with_scrubbed_stack(|| -> crate::Result<()> {
        let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(host_key.expose_secret())
            .map_err(|_| crate::Error::Invalid("host key length".into()))?;
        m.update(LABEL);
        m.update(&uid.to_le_bytes());
        m.update(&id.0);
        out.expose_secret_mut()
            .copy_from_slice(&m.finalize().into_bytes());
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_user_and_per_vault() {
        let k = SecretBytes::random(32).unwrap();
        let id = VaultId([1; 16]);
        let a = slot_secret(&k, 1000, &id).unwrap();
        assert_eq!(
            a.expose_secret(),
            slot_secret(&k, 1000, &id).unwrap().expose_secret()
        );
        assert_ne!(
            a.expose_secret(),
            slot_secret(&k, 1001, &id).unwrap().expose_secret()
        );
        assert_ne!(
            a.expose_secret(),
            slot_secret(&k, 1000, &VaultId([2; 16]))
                .unwrap()
                .expose_secret()
        );
    }
}
