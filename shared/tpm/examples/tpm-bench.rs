//! The TPM half of `scripts/bench-tpm`: `tpm-bench seal FILE` seals a random
//! 32-byte key to the TPM at `KEYWARD_TPM2_TCTI` and writes the slot payload
//! to FILE; `tpm-bench unseal FILE` connects, unseals it into locked memory
//! and drops it (what a no-typing unlock asks of the TPM). `PIN=…` in the
//! environment seals and unseals with that PIN (a benchmark's throwaway PIN,
//! never a real one).
#![forbid(unsafe_code)]

use keyward_secmem::{ExposeSecret, SecretBytes};
use keyward_tpm::{seal_at, unseal_at, PcrList, SealedKey, Tcti};

fn main() {
    if let Err(e) = run() {
        eprintln!("tpm-bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pin = match std::env::var("PIN") {
        Ok(p) => Some(SecretBytes::from_slice(p.as_bytes())?),
        Err(_) => None,
    };
    let tcti = Tcti::for_user(None)?;
    match args.as_slice() {
        [cmd, file] if cmd == "seal" => {
            let key = SecretBytes::random(32)?;
            let sealed = seal_at(&tcti, key.expose_secret(), PcrList::NONE, pin.as_ref())?;
            std::fs::write(file, sealed.to_bytes())?;
        }
        [cmd, file] if cmd == "unseal" => {
            let sealed = SealedKey::from_bytes(&std::fs::read(file)?)?;
            let key = unseal_at(&tcti, &sealed, pin.as_ref())?;
            assert_eq!(key.len(), 32);
        }
        _ => return Err("usage: tpm-bench seal|unseal FILE".into()),
    }
    Ok(())
}
