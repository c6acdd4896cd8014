//! The recovery key as a person types it: 256 random bits shown once as 8
//! groups of 8 characters of Crockford's base32 (no I, L, O or U), each
//! group 32 bits of the key and an 8-bit check, so a mistyped group is
//! named before anything is tried:
//!
//! ```text
//! 8ZKJ3M0Q-C4T1VX9R-…-…-…-…-…-…   (71 characters with the dashes)
//! ```
//!
//! Reading is forgiving where it cannot be wrong: lower case, spaces and
//! dashes anywhere, `O` for `0`, `I` and `L` for `1`. The key and its text
//! live only in locked memory.

use keyward_secmem::{with_scrubbed_stack, ExposeSecret, ExposeSecretMut, SecretBytes};
use sha2::{Digest, Sha256};

/// Bytes of a recovery key.
pub const KEY_BYTES: usize = 32;
/// Groups of characters the key is shown in.
pub const GROUPS: usize = 8;
/// Characters in one group.
pub const GROUP_CHARS: usize = 8;
/// Length of the text [`to_text`] makes (groups joined by dashes).
pub const TEXT_LEN: usize = GROUPS * GROUP_CHARS + GROUPS - 1;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CHECK_LABEL: &[u8] = b"keyward-recovery-check-v1";

/// Why a typed recovery key was refused (no part of the key in it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not 64 characters of the alphabet (dashes and spaces aside).
    #[error("a recovery key has 64 characters (8 groups of 8), this has {0}")]
    Length(usize),
    /// A character outside the alphabet, in this group (1-based).
    #[error("group {0} of the recovery key has a character that is not in it (letters and digits; no U)")]
    Char(usize),
    /// A group whose check does not match: mistyped (1-based).
    #[error("group {0} of the recovery key is mistyped (its check does not match)")]
    Check(usize),
}

/// A fresh recovery key: 32 bytes from the OS CSPRNG, in locked memory.
pub fn generate() -> crate::Result<SecretBytes> {
    Ok(SecretBytes::random(KEY_BYTES)?)
}

fn check(group: usize, bytes: &[u8]) -> u8 {
    with_scrubbed_stack(|| {
        let mut h = Sha256::new();
        h.update(CHECK_LABEL);
        h.update([group as u8]);
        h.update(bytes);
        h.finalize()[0]
    })
}

/// The key as text to show once: `XXXXXXXX-XXXXXXXX-…` (locked memory).
pub fn to_text(key: &SecretBytes) -> crate::Result<SecretBytes> {
    let k = key.expose_secret();
    if k.len() != KEY_BYTES {
        return Err(crate::Error::Invalid(format!(
            "a recovery key has {KEY_BYTES} bytes"
        )));
    }
    let mut out = SecretBytes::with_capacity(TEXT_LEN)?;
    for g in 0..GROUPS {
        if g > 0 {
            out.push(b'-')?;
        }
        let part = &k[4 * g..4 * g + 4];
        let mut v = u64::from(u32::from_be_bytes([part[0], part[1], part[2], part[3]])) << 8
            | u64::from(check(g, part));
        let mut chars = [0u8; GROUP_CHARS];
        for c in chars.iter_mut().rev() {
            *c = ALPHABET[(v & 31) as usize];
            v >>= 5;
        }
        out.extend_from_slice(&chars)?;
        zeroize::Zeroize::zeroize(&mut chars);
    }
    Ok(out)
}

fn value(c: u8) -> Option<u8> {
    let c = c.to_ascii_uppercase();
    let c = match c {
        b'O' => b'0',
        b'I' | b'L' => b'1',
        c => c,
    };
    ALPHABET.iter().position(|&a| a == c).map(|i| i as u8)
}

/// Reads a typed recovery key back into its 32 bytes (locked memory).
pub fn parse(text: &[u8]) -> Result<SecretBytes, ParseError> {
    let symbols = text
        .iter()
        .filter(|c| !matches!(c, b'-' | b' ' | b'\t' | b'\r' | b'\n'))
        .count();
    if symbols != GROUPS * GROUP_CHARS {
        return Err(ParseError::Length(symbols));
    }
    let mut key = SecretBytes::guarded(KEY_BYTES).map_err(|_| ParseError::Length(0))?;
    let mut n = 0usize;
    let mut v = 0u64;
    for &c in text {
        if matches!(c, b'-' | b' ' | b'\t' | b'\r' | b'\n') {
            continue;
        }
        let g = n / GROUP_CHARS;
        let d = value(c).ok_or(ParseError::Char(g + 1))?;
        v = v << 5 | u64::from(d);
        n += 1;
        if n.is_multiple_of(GROUP_CHARS) {
            let word = ((v >> 8) as u32).to_be_bytes();
            let out = &mut key.expose_secret_mut()[4 * g..4 * g + 4];
            out.copy_from_slice(&word);
            let ok = check(g, out) == (v & 0xff) as u8;
            v = 0;
            if !ok {
                return Err(ParseError::Check(g + 1));
            }
        }
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_and_typing_slack() {
        for _ in 0..50 {
            let k = generate().unwrap();
            let t = to_text(&k).unwrap();
            let s = std::str::from_utf8(t.expose_secret()).unwrap().to_string();
            assert_eq!(s.len(), TEXT_LEN);
            assert_eq!(s.split('-').count(), GROUPS);
            assert!(s.split('-').all(|g| g.len() == GROUP_CHARS));
            assert!(!s.contains(['I', 'L', 'O', 'U']));
            let back = parse(s.as_bytes()).unwrap();
            assert_eq!(back.expose_secret(), k.expose_secret());
            let loose = s
                .to_lowercase()
                .replace('-', " ")
                .replace('0', "o")
                .replace('1', "l");
            assert_eq!(
                parse(loose.as_bytes()).unwrap().expose_secret(),
                k.expose_secret()
            );
        }
    }

    #[test]
    fn typos_are_named_by_group() {
        let k = generate().unwrap();
        let t = to_text(&k).unwrap();
        let s = std::str::from_utf8(t.expose_secret()).unwrap().to_string();
        assert_eq!(
            parse(&s.as_bytes()[..70]).unwrap_err(),
            ParseError::Length(63)
        );
        let mut b = s.clone().into_bytes();
        b[20] = b'U';
        assert_eq!(parse(&b).unwrap_err(), ParseError::Char(3));
        // Every single-character change in a group is caught in that group
        // (but for the 1 in 256 the check cannot tell).
        let mut caught = 0;
        for i in [0usize, 9, 30, 70] {
            let mut b = s.clone().into_bytes();
            b[i] = if b[i] == b'Z' { b'Y' } else { b'Z' };
            match parse(&b) {
                Err(ParseError::Check(g)) => {
                    assert_eq!(g, i / 9 + 1);
                    caught += 1;
                }
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
        assert!(caught >= 3);
    }
}
