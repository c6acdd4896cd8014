//! The Secret Service's one encrypted transport,
//! `dh-ietf1024-sha256-aes128-cbc-pkcs7`: a Diffie-Hellman exchange in the
//! RFC 2409 second Oakley group (1024-bit prime, generator 2), HKDF-SHA256
//! of the shared secret (padded to 128 bytes, no salt, empty info) giving a
//! 16-byte AES-128 key, and AES-128-CBC with PKCS#7 padding and a random IV
//! per secret.
//!
//! The private exponent, the shared secret and the AES key live in
//! [`SecretBytes`]; every computation on them runs under
//! [`with_scrubbed_stack`], which wipes the stack copies the big-integer and
//! AES code leave (crypto-bigint's `Uint`s are plain stack values).
//!
//! What it guarantees and what not: the modular exponentiation is
//! crypto-bigint's Montgomery ladder with a fixed window, constant-time in the
//! exponent's value (not its bit length, which is fixed here: 1023 bits); the
//! peer's public value is checked to lie in `[2, p-2]`. CBC has no
//! integrity: a client that can change ciphertext can change plaintext (the
//! spec's choice, not ours). Constant time of AES is the `aes` crate's
//! (fixsliced software AES, or AES-NI where the CPU has it).

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use crypto_bigint::modular::{MontyForm, MontyParams};
use crypto_bigint::{Odd, U1024};
use keyward_secmem::{with_scrubbed_stack, ExposeSecret, ExposeSecretMut, SecretBytes};
use zeroize::Zeroize;

/// The algorithm name clients ask for in `OpenSession`.
pub const ALGORITHM: &str = "dh-ietf1024-sha256-aes128-cbc-pkcs7";

/// Bytes in the prime (and in every padded group element).
const LEN: usize = 128;

/// RFC 2409, section 6.2: the second Oakley group's prime.
const PRIME: U1024 = U1024::from_be_hex(concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1",
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD",
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245",
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381",
    "FFFFFFFFFFFFFFFF"
));

/// Why a key exchange or a secret could not be processed. Never holds secret bytes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DhError {
    /// The client's public value is not a group element we accept.
    #[error("the client's Diffie-Hellman public value is out of range")]
    BadPublic,
    /// The IV is not 16 bytes.
    #[error("the secret's IV (parameters) is not 16 bytes")]
    BadIv,
    /// Ciphertext that does not decrypt to PKCS#7-padded plaintext.
    #[error("the secret's ciphertext does not decrypt (wrong session or corrupted)")]
    BadCiphertext,
    /// Locked memory or the OS random source failed.
    #[error(transparent)]
    Secmem(#[from] keyward_secmem::Error),
}

fn params() -> MontyParams<{ U1024::LIMBS }> {
    MontyParams::new_vartime(Odd::new(PRIME).expect("the Oakley prime is odd"))
}

/// `base ^ exponent mod p`, big-endian, into locked memory.
fn modpow(base: &U1024, exponent: &SecretBytes) -> Result<SecretBytes, DhError> {
    let mut out = SecretBytes::zeroed(LEN)?;
    with_scrubbed_stack(|| {
        let mut x = U1024::from_be_slice(exponent.expose_secret());
        let mut r = MontyForm::new(base, params()).pow(&x).retrieve();
        let mut bytes = r.to_be_bytes();
        out.expose_secret_mut().copy_from_slice(&bytes);
        bytes.zeroize();
        r.zeroize();
        x.zeroize();
    });
    Ok(out)
}

/// A fresh key pair: the private exponent (1023 random bits, locked) and the
/// public value `2^x mod p` (128 bytes, big-endian, as libsecret sends it).
pub fn key_pair() -> Result<(SecretBytes, Vec<u8>), DhError> {
    let mut private = SecretBytes::random(LEN)?;
    // Below 2^1023 < p: a valid exponent without a reduction.
    private.expose_secret_mut()[0] &= 0x7f;
    let public = modpow(&U1024::from_u8(2), &private)?;
    Ok((private, public.expose_secret().to_vec()))
}

/// The 16-byte AES key shared with the peer whose public value is `peer`
/// (big-endian, any length up to 128 significant bytes).
pub fn session_key(private: &SecretBytes, peer: &[u8]) -> Result<SecretBytes, DhError> {
    let first = peer.iter().position(|&b| b != 0).unwrap_or(peer.len());
    let digits = &peer[first..];
    if digits.len() > LEN {
        return Err(DhError::BadPublic);
    }
    let mut padded = [0u8; LEN];
    padded[LEN - digits.len()..].copy_from_slice(digits);
    let y = U1024::from_be_slice(&padded);
    let two = U1024::from_u8(2);
    let max = PRIME.wrapping_sub(&two);
    if y < two || y > max {
        return Err(DhError::BadPublic);
    }
    let shared = modpow(&y, private)?;
    let mut key = SecretBytes::zeroed(16)?;
    let ok = with_scrubbed_stack(|| {
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(None, shared.expose_secret());
        hk.expand(&[], key.expose_secret_mut()).is_ok()
    });
    drop(shared);
    if !ok {
        return Err(DhError::BadPublic);
    }
    Ok(key)
}

/// Encrypts `plain` under `key` with a fresh random IV: `(iv, ciphertext)`,
/// the two byte arrays that go on the wire.
pub fn encrypt(key: &SecretBytes, plain: &[u8]) -> Result<(Vec<u8>, Vec<u8>), DhError> {
    let mut iv = [0u8; 16];
    getrandom::getrandom(&mut iv).map_err(|_| DhError::BadIv)?;
    let mut buf = SecretBytes::zeroed(plain.len() + 16)?;
    buf.expose_secret_mut()[..plain.len()].copy_from_slice(plain);
    let ct = with_scrubbed_stack(|| {
        let enc = cbc::Encryptor::<aes::Aes128>::new_from_slices(key.expose_secret(), &iv)
            .map_err(|_| DhError::BadIv)?;
        enc.encrypt_padded::<Pkcs7>(buf.expose_secret_mut(), plain.len())
            .map(<[u8]>::to_vec)
            .map_err(|_| DhError::BadCiphertext)
    })?;
    Ok((iv.to_vec(), ct))
}

/// Decrypts `ct` under `key` and `iv` into locked memory.
pub fn decrypt(key: &SecretBytes, iv: &[u8], ct: &[u8]) -> Result<SecretBytes, DhError> {
    if iv.len() != 16 {
        return Err(DhError::BadIv);
    }
    if ct.is_empty() || !ct.len().is_multiple_of(16) {
        return Err(DhError::BadCiphertext);
    }
    let mut buf = SecretBytes::from_slice(ct)?;
    let n = with_scrubbed_stack(|| {
        let dec = cbc::Decryptor::<aes::Aes128>::new_from_slices(key.expose_secret(), iv)
            .map_err(|_| DhError::BadIv)?;
        dec.decrypt_padded::<Pkcs7>(buf.expose_secret_mut())
            .map(<[u8]>::len)
            .map_err(|_| DhError::BadCiphertext)
    })?;
    buf.truncate(n);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_derive_the_same_key() {
        let (a, a_pub) = key_pair().unwrap();
        let (b, b_pub) = key_pair().unwrap();
        assert_eq!(a_pub.len(), LEN);
        let ka = session_key(&a, &b_pub).unwrap();
        let kb = session_key(&b, &a_pub).unwrap();
        assert!(ka.ct_eq(&kb));
        let (iv, ct) = encrypt(&ka, b"hunter2").unwrap();
        assert_eq!(ct.len(), 16);
        assert_eq!(decrypt(&kb, &iv, &ct).unwrap().expose_secret(), b"hunter2");
    }

    #[test]
    fn refuses_degenerate_public_values() {
        let (a, _) = key_pair().unwrap();
        let p = PRIME.to_be_bytes();
        let p_minus_1 = PRIME.wrapping_sub(&U1024::ONE).to_be_bytes();
        for bad in [
            &[][..],
            &[0],
            &[1],
            &[0, 0, 1],
            &p_minus_1[..],
            &p[..],
            &[1; 129],
        ] {
            assert!(
                matches!(session_key(&a, bad), Err(DhError::BadPublic)),
                "{bad:?}"
            );
        }
        assert!(session_key(&a, &[2]).is_ok());
    }

    #[test]
    fn known_answer_hkdf_and_cbc() {
        // Peer public value 2 with private exponent 1: the shared secret is 2,
        // padded to 128 bytes. The expected key is secretstorage's derivation
        // (HMAC-SHA256 with a zero salt, then one expand block with info 0x01),
        // computed with Python's hmac and hashlib.
        let mut one = SecretBytes::zeroed(LEN).unwrap();
        one.expose_secret_mut()[LEN - 1] = 1;
        let key = session_key(&one, &[2]).unwrap();
        assert_eq!(hex(key.expose_secret()), "fded2eddc1597b0c98d213751caef29d");
        // cbc's own example vector: key 0x42.., IV 0x24..
        let k = SecretBytes::from_slice(&[0x42; 16]).unwrap();
        let iv = [0x24; 16];
        let ct = hex_decode(concat!(
            "c7fe247ef97b21f07cbdd26cb5d346bf",
            "d27867cb00d9486723e159978fb9a5f9",
            "14cfb228a710de4171e396e7b6cf859e"
        ));
        let pt = decrypt(&k, &iv, &ct).unwrap();
        assert_eq!(pt.expose_secret(), b"hello world! this is my plaintext.");
        assert!(matches!(
            decrypt(&k, &iv, &ct[..16]),
            Err(DhError::BadCiphertext)
        ));
        assert!(matches!(decrypt(&k, &iv[..8], &ct), Err(DhError::BadIv)));
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn hex_decode(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
