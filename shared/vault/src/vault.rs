//! The open vault: authenticated metadata in memory, secrets sealed until
//! [`Vault::reveal`], and transactional updates under a file lock. One module
//! per layer: the record model (`record`), its byte encoding (`encoding`), the
//! decrypted index of one read (`index`), the file before decryption
//! (`sealed`), the open vault (`open`) and its transactions (`txn`).

use crate::error::{Error, Result};
use crate::format::{self, Header, Malformed, Reader, VaultId, VaultKey, ID_LEN, SALT_LEN};
use crate::fs;
use crate::kdf::KdfParams;
use crate::slot::{SlotInfo, SlotKind};
use keyward_secmem::{BulkBuf, ExposeSecret, SecretBytes};
use std::path::{Path, PathBuf};
use zeroize::{Zeroize, Zeroizing};

mod encoding;
mod index;
mod open;
mod record;
pub mod recover;
mod sealed;
mod txn;

pub use encoding::{EntryKey, EntryRef};
pub use open::Vault;
pub(crate) use record::now;
pub use record::{Entry, Kind, NewEntry, Secrets, MAX_FIELD_LEN};
pub use sealed::{read_vault_id, SealedVault};
pub use txn::{PutCounts, Sealed, Txn};
// The submodules share their crate-private items through here (`use super::*`).
use {encoding::*, index::*, open::*, record::*, sealed::*};

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

#[cfg(test)]
mod parser_tests {
    //! The parsers behind authenticated data must still never panic on any
    //! input (a bug or a key holder could hand them anything).
    use super::*;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    fn valid_index() -> Vec<u8> {
        let mut e = Vec::new();
        e.extend_from_slice(&7u64.to_le_bytes());
        e.extend_from_slice(&2u32.to_le_bytes());
        for i in 0..2u8 {
            e.extend_from_slice(&[i; ID_LEN]);
            e.push(1);
            e.extend_from_slice(&1u64.to_le_bytes());
            e.extend_from_slice(&2u64.to_le_bytes());
            e.push(1);
            e.extend_from_slice(&3u64.to_le_bytes());
            for s in ["https", "example.com", "", "user"] {
                format::put_field(&mut e, s.as_bytes());
            }
            e.push(1);
            format::put_field(&mut e, b"Bearer");
            e.extend_from_slice(&(u64::from(i) * 40).to_le_bytes());
            e.extend_from_slice(&40u32.to_le_bytes());
        }
        e
    }

    #[test]
    fn index_parser_accepts_valid_and_survives_garbage() {
        let good = valid_index();
        let (generation, offsets) = index_offsets(&good, 0..good.len(), 80).unwrap();
        assert_eq!((generation, offsets.len()), (7, 2));
        assert!(
            index_offsets(&good, 0..good.len(), 79).is_err(),
            "blob past the region"
        );
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..20_000 {
            let mut bad = good.clone();
            match round % 3 {
                0 => {
                    for _ in 0..1 + rng.next() % 4 {
                        let i = (rng.next() as usize) % bad.len();
                        bad[i] = rng.next() as u8;
                    }
                }
                1 => bad.truncate((rng.next() as usize) % good.len()),
                _ => {
                    let n = (rng.next() % 300) as usize;
                    bad = (0..n).map(|_| rng.next() as u8).collect();
                }
            }
            let Ok((_, offsets)) = index_offsets(&bad, 0..bad.len(), (rng.next() % 200) as usize)
            else {
                continue;
            };
            // What the validating pass accepted, both decoders read alike.
            for &off in &offsets {
                let (mut a, mut b) = (
                    Reader::new(&bad[off as usize..]),
                    Reader::new(&bad[off as usize..]),
                );
                let raw = decode_record(&mut a).expect("validated record");
                let key = decode_bytes(&mut b).expect("validated record").key;
                assert_eq!(a.pos(), b.pos());
                assert_eq!(key.host, raw.view.host.as_bytes());
                assert_eq!(key.username, raw.view.username.as_bytes());
            }
        }
    }

    #[test]
    fn index_parser_refuses_text_fields_that_are_not_utf8() {
        let good = valid_index();
        // Non-ASCII UTF-8 is text like any other.
        let mut accented = good.clone();
        let at = accented.windows(4).position(|w| w == b"user").unwrap();
        accented.splice(at..at + 4, "usé".bytes()); // same length (4 bytes)
        assert!(index_offsets(&accented, 0..accented.len(), 80).is_ok());
        // Each text field of the sample (protocol, host, username, authtype;
        // its path is empty) refuses a byte that is not UTF-8.
        for field in [&b"https"[..], b"example.com", b"user", b"Bearer"] {
            let mut bad = good.clone();
            let at = bad.windows(field.len()).position(|w| w == field).unwrap();
            bad[at] = 0xFF;
            assert!(
                index_offsets(&bad, 0..bad.len(), 80).is_err(),
                "accepted 0xFF in {:?}",
                String::from_utf8_lossy(field)
            );
        }
    }

    #[test]
    fn secret_parser_survives_garbage() {
        let mut rng = Rng(42);
        for _ in 0..5_000 {
            let n = (rng.next() % 64) as usize;
            let bytes: Vec<u8> = (0..n).map(|_| (rng.next() % 4) as u8).collect();
            let s = SecretBytes::from_slice(&bytes).unwrap();
            let _ = decode_secrets(&s);
        }
    }
}
