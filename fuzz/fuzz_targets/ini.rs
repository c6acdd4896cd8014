//! The INI reader (`~/.aws/credentials`, `~/.aws/config`, `~/.pypirc`).
//! Never panics; every byte belongs to exactly one line, in order; every
//! range lies inside its line; an option's section and a continuation's
//! option point back to a line of that kind; keys are never empty.
#![no_main]

use keyward_protocols::ini::{parse, Kind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let lines = parse(data);
    let mut at = 0;
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l.full.start, at, "lines tile the file");
        assert!(l.text.start == l.full.start && l.text.end <= l.full.end);
        assert!(!data[l.text.clone()].contains(&b'\n'));
        at = l.full.end;
        let inside = |r: &std::ops::Range<usize>| r.start >= l.text.start && r.end <= l.text.end;
        match &l.kind {
            Kind::Section { name } => assert!(inside(name) && !name.is_empty()),
            Kind::Option {
                key,
                value,
                section,
            } => {
                assert!(inside(key) && inside(value) && !key.is_empty());
                assert!(*section < i);
                assert!(matches!(lines[*section].kind, Kind::Section { .. }));
            }
            Kind::Continuation { value, option } => {
                assert!(inside(value) && *option < i);
                assert!(matches!(lines[*option].kind, Kind::Option { .. }));
            }
            Kind::Blank | Kind::Comment | Kind::Invalid => {}
        }
    }
    assert_eq!(at, data.len(), "every byte is in a line");
});
