//! Uniformity (chi-squared at p = 0.001), entropy arithmetic and refusals,
//! and the embedded word list.

use super::*;

/// Upper 0.001 quantile of the chi-squared distribution with `df` degrees
/// of freedom (Wilson–Hilferty; within 1 % for df ≥ 15).
fn chi2_critical_p001(df: usize) -> f64 {
    let k = df as f64;
    let z = 3.090_232_306; // standard normal upper 0.001 quantile
    let c = 2.0 / (9.0 * k);
    k * (1.0 - c + z * c.sqrt()).powi(3)
}

/// Pearson's statistic for `counts` against a uniform distribution.
fn chi2(counts: &[u64]) -> f64 {
    let n: u64 = counts.iter().sum();
    let e = n as f64 / counts.len() as f64;
    counts.iter().map(|&o| (o as f64 - e).powi(2) / e).sum()
}

fn assert_uniform(what: &str, counts: &[u64]) {
    let stat = chi2(counts);
    let crit = chi2_critical_p001(counts.len() - 1);
    assert!(
        stat < crit,
        "{what}: chi-squared {stat:.1} ≥ {crit:.1} (p < 0.001): not uniform"
    );
}

fn symbol_counts(charset: Charset, length: usize, rounds: usize) -> Vec<u64> {
    let alphabet = charset.alphabet().unwrap();
    let mut counts = vec![0u64; alphabet.len()];
    for _ in 0..rounds {
        let s = generate(charset, length, true).unwrap();
        assert_eq!(s.len(), length);
        for b in s.expose_secret() {
            let i = alphabet.iter().position(|a| a == b).expect("in alphabet");
            counts[i] += 1;
        }
    }
    counts
}

#[test]
fn characters_are_uniform() {
    for c in [
        Charset::Alnum,
        Charset::Ascii,
        Charset::Hex,
        Charset::Base32,
    ] {
        // About 1,000 expected per symbol.
        let rounds = c.symbols() * 1000 / 32;
        assert_uniform(c.name(), &symbol_counts(c, 32, rounds));
    }
}

#[test]
fn words_are_uniform() {
    let list = words();
    let mut counts = vec![0u64; WORD_COUNT];
    // 20 expected per word.
    for _ in 0..WORD_COUNT * 20 / 10 {
        let s = generate(Charset::Words, 10, false).unwrap();
        let text = std::str::from_utf8(s.expose_secret()).unwrap();
        let parts: Vec<&str> = text.split(' ').collect();
        assert_eq!(parts.len(), 10, "ten words, split back unambiguously");
        for w in parts {
            counts[list.binary_search(&w).expect("a list word")] += 1;
        }
    }
    assert_uniform("words", &counts);
}

/// The test above would catch modulo bias: the same counting over a sampler
/// that reduces bytes modulo 62 (256 = 4 × 62 + 8, so the first 8 symbols
/// come up 5/4 as often) fails it.
#[test]
fn the_uniformity_check_catches_modulo_bias() {
    let mut counts = vec![0u64; 62];
    for _ in 0..2000 {
        let bytes = SecretBytes::random(32).unwrap();
        for b in bytes.expose_secret() {
            counts[usize::from(*b) % 62] += 1;
        }
    }
    assert!(chi2(&counts) > chi2_critical_p001(61) * 2.0);
}

#[test]
fn critical_values_match_tables() {
    // Upper 0.001 quantiles (regularized incomplete gamma, bisection).
    for (df, table) in [
        (15, 37.697),
        (31, 61.098),
        (61, 100.888),
        (93, 140.893),
        (7775, 8166.057),
    ] {
        let got = chi2_critical_p001(df);
        assert!((got - table).abs() / table < 0.01, "df {df}: {got}");
    }
}

#[test]
fn entropy_and_refusals() {
    assert!((Charset::Alnum.bits_per_symbol() - 5.954).abs() < 0.001);
    assert!((Charset::Ascii.bits_per_symbol() - 6.555).abs() < 0.001);
    assert!((Charset::Words.bits_per_symbol() - 12.925).abs() < 0.001);
    assert_eq!(Charset::Hex.bits_per_symbol(), 4.0);
    assert_eq!(Charset::Base32.bits_per_symbol(), 5.0);
    for (c, min) in [
        (Charset::Alnum, 14),
        (Charset::Ascii, 13),
        (Charset::Hex, 20),
        (Charset::Base32, 16),
        (Charset::Words, 7),
    ] {
        assert_eq!(min_length(c), min, "{}", c.name());
        assert!(generate(c, min, false).is_ok());
        let e = generate(c, min - 1, false).unwrap_err();
        assert!(matches!(e, Error::Weak { need, .. } if need == min));
        assert!(generate(c, min - 1, true).is_ok(), "--weak");
        assert!(entropy_bits(c, c.default_length()) >= 80.0);
    }
    assert!(matches!(
        generate(Charset::Hex, 0, true),
        Err(Error::Length)
    ));
    assert!(matches!(
        generate(Charset::Hex, MAX_LENGTH + 1, true),
        Err(Error::Length)
    ));
}

#[test]
fn the_word_list_is_the_eff_large_list() {
    use sha2::Digest;
    let w = words();
    assert_eq!(w.len(), WORD_COUNT);
    assert_eq!((w[0], w[WORD_COUNT - 1]), ("abacus", "zoom"));
    assert!(w.windows(2).all(|p| p[0] < p[1]), "sorted, no duplicates");
    assert!(w
        .iter()
        .all(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')));
    let digest = sha2::Sha256::digest(WORDLIST.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "6d557f0693958fb5e650b68b5bee585eb82cf4da32965505c789e924743bc522"
    );
}
