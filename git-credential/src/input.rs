//! One bounded reader of secret input into locked memory, for the git
//! helper's request, the docker helper's stdin and the files `keyward import`
//! reads: the buffer grows by doubling (copy, then wipe the old one) up to a
//! limit and is never longer than it.

use keyward_secmem::SecretBytes;

/// Why [`read_bounded`] stopped. Never carries input bytes.
#[derive(Debug)]
pub enum ReadError {
    /// More than [`Limits::max`] bytes.
    TooLarge,
    /// The read itself failed.
    Io(std::io::Error),
    /// Locked memory could not be had.
    Memory(keyward_secmem::Error),
}

impl From<keyward_secmem::Error> for ReadError {
    fn from(e: keyward_secmem::Error) -> Self {
        ReadError::Memory(e)
    }
}

/// Sizes for [`read_bounded`].
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// First capacity of the buffer.
    pub initial: usize,
    /// Most bytes accepted.
    pub max: usize,
    /// With `max` bytes read, read one more byte to tell "exactly `max`" (fine)
    /// from "more" ([`ReadError::TooLarge`]). Off where that read could block
    /// on a client that waits for an answer (the git protocol).
    pub probe_at_max: bool,
}

fn read_retrying(
    read: &mut impl FnMut(&mut [u8]) -> std::io::Result<usize>,
    into: &mut [u8],
) -> Result<usize, ReadError> {
    loop {
        match read(into) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadError::Io(e)),
        }
    }
}

/// Reads with `read` into locked memory until it returns 0 or `done` (called
/// after each chunk with the buffer and the length before the chunk) says the
/// input is complete; `done` may truncate the buffer.
pub fn read_bounded(
    mut read: impl FnMut(&mut [u8]) -> std::io::Result<usize>,
    limits: Limits,
    mut done: impl FnMut(&mut SecretBytes, usize) -> bool,
) -> Result<SecretBytes, ReadError> {
    let mut buf = SecretBytes::with_capacity(limits.initial.min(limits.max))?;
    loop {
        if buf.len() >= limits.max {
            if !limits.probe_at_max {
                return Err(ReadError::TooLarge);
            }
            // Full: one more byte means too much.
            let mut probe = [0u8; 1];
            let n = read_retrying(&mut read, &mut probe)?;
            zeroize::Zeroize::zeroize(&mut probe);
            return if n == 0 {
                Ok(buf)
            } else {
                Err(ReadError::TooLarge)
            };
        }
        if buf.len() == buf.capacity() {
            buf.reserve(buf.capacity().max(1).min(limits.max - buf.len()))?;
        }
        let old = buf.len();
        let room = (limits.max - old).min(buf.capacity() - old);
        let n = read_retrying(&mut read, &mut buf.spare_capacity_mut()[..room])?;
        if n == 0 {
            return Ok(buf);
        }
        buf.set_len(old + n);
        if done(&mut buf, old) {
            return Ok(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_secmem::ExposeSecret;

    fn limits(max: usize, probe_at_max: bool) -> Limits {
        Limits {
            initial: 2,
            max,
            probe_at_max,
        }
    }

    #[test]
    fn reads_to_the_end_within_the_limit() {
        let data = b"0123456789";
        let mut src = &data[..];
        let b = read_bounded(
            |x| std::io::Read::read(&mut src, x),
            limits(10, true),
            |_, _| false,
        )
        .unwrap();
        assert_eq!(b.expose_secret(), data);
        let mut src = &data[..];
        let e = read_bounded(
            |x| std::io::Read::read(&mut src, x),
            limits(9, true),
            |_, _| false,
        );
        assert!(matches!(e, Err(ReadError::TooLarge)));
        let mut src = &data[..];
        let e = read_bounded(
            |x| std::io::Read::read(&mut src, x),
            limits(10, false),
            |_, _| false,
        );
        assert!(matches!(e, Err(ReadError::TooLarge)));
    }

    #[test]
    fn done_stops_early_and_may_truncate() {
        let mut src = &b"ab\n\nrest"[..];
        let b = read_bounded(
            |x| std::io::Read::read(&mut src, &mut x[..1]),
            limits(100, false),
            |buf, _| {
                let end = buf.expose_secret().ends_with(b"\n\n");
                if end {
                    buf.truncate(buf.len() - 1);
                }
                end
            },
        )
        .unwrap();
        assert_eq!(b.expose_secret(), b"ab\n");
    }
}
