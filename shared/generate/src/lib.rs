//! keyward-generate: random secrets made from the operating system's CSPRNG
//! straight into locked memory, for `keyward generate`.
//!
//! Guarantees:
//! - Every symbol is drawn uniformly from its alphabet by **rejection
//!   sampling**: a random byte (or, for words, a random 16-bit number) that
//!   falls in the incomplete last round of the alphabet is thrown away, so
//!   there is no modulo bias. The random bytes, the secret being built and
//!   the result live only in [`SecretBytes`] (locked, guarded, wiped on drop).
//! - [`entropy_bits`] is exact: `length × log2(alphabet size)`, because the
//!   symbols are independent and uniform. [`generate`] refuses less than
//!   [`MIN_BITS`] unless asked for a weak secret.
//!
//! Non-goals: it does not check a secret against a site's password rules,
//! and it cannot keep the terminal, a pipe or the program that receives the
//! secret from copying it.
//!
//! Alphabets and their entropy per symbol:
//!
//! | charset | symbols | bits per symbol |
//! | --- | --- | --- |
//! | `alnum` | `A-Z a-z 0-9` (62) | 5.954 |
//! | `ascii` | printable ASCII without space, `!`..`~` (94) | 6.555 |
//! | `hex` | `0-9 a-f` (16) | 4 |
//! | `base32` | RFC 4648 `A-Z 2-7` (32) | 5 |
//! | `words` | the EFF large word list (7,776 words), joined by spaces | 12.925 |
//!
//! The word list is embedded in the binary (`src/eff_large_wordlist.txt`,
//! CC BY 3.0 US, see `src/LICENSE-wordlist.md`); nothing is read at run time.
//! Its words hold only `a-z` and `-`, never a space, so a passphrase splits
//! back into its words unambiguously.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use keyward_secmem::{ExposeSecret, SecretBytes};

/// The least entropy [`generate`] accepts without `allow_weak`.
pub const MIN_BITS: f64 = 80.0;

/// Longest secret, in symbols (characters, or words).
pub const MAX_LENGTH: usize = 1024;

/// The EFF large word list, one word per line, in its published order.
const WORDLIST: &str = include_str!("eff_large_wordlist.txt");

/// Number of words in the list (6^5: five dice).
pub const WORD_COUNT: usize = 7776;

/// What a secret is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// `A-Z a-z 0-9`.
    Alnum,
    /// Printable ASCII without space.
    Ascii,
    /// `0-9 a-f`.
    Hex,
    /// RFC 4648 base32 `A-Z 2-7`.
    Base32,
    /// Words of the EFF large word list, separated by spaces.
    Words,
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const ASCII: &[u8] = b"!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

impl Charset {
    /// Parses `alnum`, `ascii`, `hex`, `base32` or `words`.
    pub fn parse(s: &str) -> Option<Charset> {
        Some(match s {
            "alnum" => Charset::Alnum,
            "ascii" => Charset::Ascii,
            "hex" => Charset::Hex,
            "base32" => Charset::Base32,
            "words" => Charset::Words,
            _ => return None,
        })
    }

    /// The name [`Charset::parse`] takes.
    pub fn name(self) -> &'static str {
        match self {
            Charset::Alnum => "alnum",
            Charset::Ascii => "ascii",
            Charset::Hex => "hex",
            Charset::Base32 => "base32",
            Charset::Words => "words",
        }
    }

    /// The characters, for the character sets (`None` for words).
    pub fn alphabet(self) -> Option<&'static [u8]> {
        match self {
            Charset::Alnum => Some(ALNUM),
            Charset::Ascii => Some(ASCII),
            Charset::Hex => Some(HEX),
            Charset::Base32 => Some(BASE32),
            Charset::Words => None,
        }
    }

    /// How many symbols one draw chooses from.
    pub fn symbols(self) -> usize {
        self.alphabet().map_or(WORD_COUNT, <[u8]>::len)
    }

    /// Entropy of one symbol: log2 of [`Charset::symbols`].
    pub fn bits_per_symbol(self) -> f64 {
        (self.symbols() as f64).log2()
    }

    /// The default length: the shortest with at least 128 bits (characters)
    /// or 90 bits (words: 7 words, 90.5 bits, still short enough to type).
    pub fn default_length(self) -> usize {
        match self {
            Charset::Words => 7,
            c => (128.0 / c.bits_per_symbol()).ceil() as usize,
        }
    }
}

/// The embedded word list, parsed once.
pub fn words() -> &'static [&'static str] {
    static WORDS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| WORDLIST.lines().collect())
}

/// `length × log2(symbols)`.
pub fn entropy_bits(charset: Charset, length: usize) -> f64 {
    length as f64 * charset.bits_per_symbol()
}

/// Why a secret was not generated. No message holds a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Fewer bits than [`MIN_BITS`] without `allow_weak`.
    #[error(
        "{length} {unit} of {charset} give {bits:.1} bits of entropy, less than {min:.0}: \
         ask for at least {need} (--length {need}), or pass --weak if the other side cannot take more"
    )]
    Weak {
        /// The length asked for.
        length: usize,
        /// `characters` or `words`.
        unit: &'static str,
        /// The charset's name.
        charset: &'static str,
        /// Its entropy.
        bits: f64,
        /// [`MIN_BITS`].
        min: f64,
        /// The shortest length with [`MIN_BITS`].
        need: usize,
    },
    /// Zero, or more than [`MAX_LENGTH`].
    #[error("--length must be 1..={MAX_LENGTH}")]
    Length,
    /// Locked memory or the CSPRNG failed.
    #[error(transparent)]
    Secmem(#[from] keyward_secmem::Error),
}

/// A stream of uniform numbers below `n` (`n ≤ 65536`), by rejection
/// sampling over random bytes kept in locked memory.
struct Draws {
    pool: SecretBytes,
    pos: usize,
}

impl Draws {
    const BATCH: usize = 256;

    fn new() -> Result<Self, Error> {
        Ok(Draws {
            pool: SecretBytes::random(Self::BATCH)?,
            pos: 0,
        })
    }

    fn byte(&mut self) -> Result<u8, Error> {
        if self.pos == self.pool.len() {
            self.pool = SecretBytes::random(Self::BATCH)?;
            self.pos = 0;
        }
        let b = self.pool.expose_secret()[self.pos];
        self.pos += 1;
        Ok(b)
    }

    /// A uniform number in `0..n`: one byte when `n ≤ 256`, else two.
    fn below(&mut self, n: usize) -> Result<usize, Error> {
        let (range, two) = if n <= 256 {
            (256, false)
        } else {
            (65536, true)
        };
        // The largest multiple of n that fits: draws at or above it are rejected.
        let limit = range - range % n;
        loop {
            let mut v = usize::from(self.byte()?);
            if two {
                v = v << 8 | usize::from(self.byte()?);
            }
            if v < limit {
                return Ok(v % n);
            }
        }
    }
}

/// The shortest length with at least [`MIN_BITS`].
pub fn min_length(charset: Charset) -> usize {
    (MIN_BITS / charset.bits_per_symbol()).ceil() as usize
}

/// A random secret of `length` symbols of `charset`, in locked memory.
/// Refuses fewer than [`MIN_BITS`] bits unless `allow_weak`.
pub fn generate(charset: Charset, length: usize, allow_weak: bool) -> Result<SecretBytes, Error> {
    if length == 0 || length > MAX_LENGTH {
        return Err(Error::Length);
    }
    let bits = entropy_bits(charset, length);
    if bits < MIN_BITS && !allow_weak {
        return Err(Error::Weak {
            length,
            unit: if charset == Charset::Words {
                "words"
            } else {
                "characters"
            },
            charset: charset.name(),
            bits,
            min: MIN_BITS,
            need: min_length(charset),
        });
    }
    let mut draws = Draws::new()?;
    match charset.alphabet() {
        Some(alphabet) => {
            let mut out = SecretBytes::with_capacity(length)?;
            for _ in 0..length {
                out.push(alphabet[draws.below(alphabet.len())?])?;
            }
            Ok(out)
        }
        None => {
            let words = words();
            let longest = words.iter().map(|w| w.len()).max().unwrap_or(0);
            let mut out = SecretBytes::with_capacity(length * (longest + 1))?;
            for i in 0..length {
                if i > 0 {
                    out.push(b' ')?;
                }
                out.extend_from_slice(words[draws.below(words.len())?].as_bytes())?;
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests;
