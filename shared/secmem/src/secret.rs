//! The secret types: `SecretBytes` and `SecretString`.

use crate::alloc::{self, Region};
use crate::error::{Error, Result};
use secrecy::{ExposeSecret, ExposeSecretMut};
use std::fmt;

/// Bytes in locked, guarded memory, wiped on drop.
///
/// Capacity is fixed at creation; growing copies into a new allocation and
/// wipes the old one (never `realloc`). No `Clone`, `Display` or `Serialize`;
/// `Debug` prints a redaction. Read the bytes with [`ExposeSecret`].
pub struct SecretBytes {
    region: Region,
    len: usize,
}

impl SecretBytes {
    /// An empty secret that can hold `capacity` bytes without growing.
    pub fn with_capacity(capacity: usize) -> Result<Self> {
        Ok(SecretBytes {
            region: alloc::allocate(capacity)?,
            len: 0,
        })
    }

    /// `len` zero bytes, ready to be filled through `expose_secret_mut()`.
    pub fn zeroed(len: usize) -> Result<Self> {
        let mut s = Self::with_capacity(len)?;
        s.len = len;
        Ok(s)
    }

    /// Copies `bytes` in. The caller stays responsible for wiping its copy.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let mut s = Self::zeroed(bytes.len())?;
        s.expose_secret_mut().copy_from_slice(bytes);
        Ok(s)
    }

    /// `len` bytes from the operating system's CSPRNG, generated in place.
    pub fn random(len: usize) -> Result<Self> {
        let mut s = Self::zeroed(len)?;
        getrandom::getrandom(s.expose_secret_mut()).map_err(|_| Error::Random)?;
        Ok(s)
    }

    /// `len` zero bytes for a long-lived key, in a mapping of their own,
    /// right-aligned against a guard page: a read or write one byte past the
    /// end faults at once, and no other secret is near. Costs a page of locked
    /// memory (the pool's slots cost 16 bytes more than the secret), so use it
    /// for keys that live long (the vault key, a key-encryption key, the PAM
    /// login stash), the pool for short-lived buffers.
    pub fn guarded(len: usize) -> Result<Self> {
        Ok(SecretBytes {
            region: alloc::allocate_guarded(len)?,
            len,
        })
    }

    /// A guarded copy of `bytes` (see [`SecretBytes::guarded`]).
    pub fn guarded_from_slice(bytes: &[u8]) -> Result<Self> {
        let mut s = Self::guarded(bytes.len())?;
        s.expose_secret_mut().copy_from_slice(bytes);
        Ok(s)
    }

    /// `len` guarded bytes from the OS CSPRNG (see [`SecretBytes::guarded`]).
    pub fn guarded_random(len: usize) -> Result<Self> {
        let mut s = Self::guarded(len)?;
        getrandom::getrandom(s.expose_secret_mut()).map_err(|_| Error::Random)?;
        Ok(s)
    }

    /// Whether the bytes have a guarded mapping of their own.
    pub fn is_guarded(&self) -> bool {
        self.region.is_guarded()
    }

    /// Number of bytes held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no bytes are held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes that fit without growing.
    pub fn capacity(&self) -> usize {
        self.region.capacity()
    }

    /// Makes room for `additional` more bytes, by copy-and-wipe if needed.
    pub fn reserve(&mut self, additional: usize) -> Result<()> {
        let needed = self.len.checked_add(additional).ok_or(Error::TooLarge {
            requested: usize::MAX,
            max: alloc::MAX_SECRET_LEN,
        })?;
        if needed <= self.capacity() {
            return Ok(());
        }
        let new_cap = needed.max(self.capacity().saturating_mul(2)).max(32);
        let new_cap = new_cap.min(alloc::MAX_SECRET_LEN.max(needed));
        let mut region = if self.region.is_guarded() {
            alloc::allocate_guarded(new_cap)?
        } else {
            alloc::allocate(new_cap)?
        };
        region.bytes_mut()[..self.len].copy_from_slice(&self.region.bytes()[..self.len]);
        // The old region is wiped by its Drop.
        self.region = region;
        Ok(())
    }

    /// Appends one byte.
    pub fn push(&mut self, byte: u8) -> Result<()> {
        self.reserve(1)?;
        let len = self.len;
        self.region.bytes_mut()[len] = byte;
        self.len += 1;
        Ok(())
    }

    /// Appends bytes.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) -> Result<()> {
        self.reserve(bytes.len())?;
        let len = self.len;
        self.region.bytes_mut()[len..len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        Ok(())
    }

    /// Removes and wipes the last byte.
    pub fn pop(&mut self) -> Option<u8> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        let len = self.len;
        let b = self.region.bytes()[len];
        zeroize::Zeroize::zeroize(&mut self.region.bytes_mut()[len]);
        Some(b)
    }

    /// Shortens to `len` bytes, wiping the rest.
    pub fn truncate(&mut self, len: usize) {
        if len < self.len {
            let old = self.len;
            zeroize::Zeroize::zeroize(&mut self.region.bytes_mut()[len..old]);
            self.len = len;
        }
    }

    /// Wipes all bytes and sets the length to zero.
    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// Sets the length (up to capacity) after writing through [`Self::spare_capacity_mut`].
    pub fn set_len(&mut self, len: usize) {
        assert!(len <= self.capacity(), "set_len beyond capacity");
        if len < self.len {
            self.truncate(len);
        } else {
            self.len = len;
        }
    }

    /// The unused part of the allocation, zeroed, for reading input straight in.
    pub fn spare_capacity_mut(&mut self) -> &mut [u8] {
        let len = self.len;
        &mut self.region.bytes_mut()[len..]
    }

    /// An explicit copy into new secure memory (guarded if this one is).
    pub fn try_clone(&self) -> Result<Self> {
        if self.is_guarded() {
            Self::guarded_from_slice(self.expose_secret())
        } else {
            Self::from_slice(self.expose_secret())
        }
    }

    /// Constant-time equality of contents (length is not hidden).
    pub fn ct_eq(&self, other: &SecretBytes) -> bool {
        crate::ct::ct_eq(self.expose_secret(), other.expose_secret())
    }
}

impl ExposeSecret<[u8]> for SecretBytes {
    fn expose_secret(&self) -> &[u8] {
        &self.region.bytes()[..self.len]
    }
}

impl ExposeSecretMut<[u8]> for SecretBytes {
    fn expose_secret_mut(&mut self) -> &mut [u8] {
        let len = self.len;
        &mut self.region.bytes_mut()[..len]
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([REDACTED {} bytes])", self.len)
    }
}

/// UTF-8 text in locked, guarded memory, wiped on drop.
pub struct SecretString {
    bytes: SecretBytes,
}

impl SecretString {
    /// Takes ownership of locked bytes that hold UTF-8. On failure the bytes are
    /// wiped (dropped) and only the fact of invalid UTF-8 is reported.
    pub fn from_bytes(bytes: SecretBytes) -> Result<Self> {
        if std::str::from_utf8(bytes.expose_secret()).is_err() {
            return Err(Error::InvalidUtf8);
        }
        Ok(SecretString { bytes })
    }

    /// Copies `s` into locked memory. The caller stays responsible for its copy.
    pub fn from_str_copy(s: &str) -> Result<Self> {
        Ok(SecretString {
            bytes: SecretBytes::from_slice(s.as_bytes())?,
        })
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The UTF-8 bytes.
    pub fn as_secret_bytes(&self) -> &SecretBytes {
        &self.bytes
    }

    /// Gives back the bytes.
    pub fn into_secret_bytes(self) -> SecretBytes {
        self.bytes
    }

    /// An explicit copy into new secure memory.
    pub fn try_clone(&self) -> Result<Self> {
        Ok(SecretString {
            bytes: self.bytes.try_clone()?,
        })
    }

    /// Constant-time equality of contents (length is not hidden).
    pub fn ct_eq(&self, other: &SecretString) -> bool {
        self.bytes.ct_eq(&other.bytes)
    }
}

impl ExposeSecret<str> for SecretString {
    fn expose_secret(&self) -> &str {
        // Checked in every constructor; the bytes are never mutated afterwards.
        std::str::from_utf8(self.bytes.expose_secret()).unwrap_or("")
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc::LAST_FREED;

    fn last_freed_is_zero(len: usize) -> bool {
        LAST_FREED.with(|l| {
            let l = l.borrow();
            l.len() == len && l.iter().all(|&b| b == 0)
        })
    }

    #[test]
    fn dropping_a_secret_wipes_its_slot() {
        let s = SecretBytes::from_slice(b"correct horse battery staple").unwrap();
        let cap = s.capacity();
        drop(s);
        assert!(last_freed_is_zero(cap));
    }

    #[test]
    fn panic_unwinding_wipes_the_secret() {
        let r = std::panic::catch_unwind(|| {
            let s = SecretBytes::from_slice(&[0xC3; 64]).unwrap();
            assert_eq!(s.len(), 64);
            panic!("error path while a secret is alive");
        });
        assert!(r.is_err());
        assert!(last_freed_is_zero(64), "secret not wiped during unwinding");
    }

    #[test]
    fn growing_copies_and_wipes_the_old_buffer() {
        let mut s = SecretBytes::with_capacity(16).unwrap();
        s.extend_from_slice(b"0123456789abcdef").unwrap();
        s.push(b'!').unwrap();
        assert!(last_freed_is_zero(16), "old buffer not wiped on growth");
        assert_eq!(s.expose_secret(), b"0123456789abcdef!");
        assert!(s.capacity() >= 17);
    }

    #[test]
    fn debug_is_redacted_and_string_checks_utf8() {
        let s = SecretString::from_str_copy("hunter2").unwrap();
        assert_eq!(format!("{s:?}"), "SecretString([REDACTED])");
        let b = SecretBytes::from_slice(b"hunter2").unwrap();
        assert!(!format!("{b:?}").contains("hunter2"));
        let bad = SecretBytes::from_slice(&[0xff, 0xfe]).unwrap();
        assert!(matches!(
            SecretString::from_bytes(bad),
            Err(Error::InvalidUtf8)
        ));
        let r = SecretBytes::random(32).unwrap();
        assert_eq!(r.len(), 32);
        assert!(r.expose_secret().iter().any(|&x| x != 0));
    }
}
