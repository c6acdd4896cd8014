//! The PCRs a sealed key is bound to (SHA-256 bank).

use std::fmt;
use std::str::FromStr;
use tss_esapi::interface_types::algorithm::HashingAlgorithm;
use tss_esapi::structures::{PcrSelectionList, PcrSelectionListBuilder, PcrSlot};

/// A set of PCR indices, 0 to 23 (a bit mask; empty: not bound to PCRs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PcrList(u32);

/// PCR indices a TPM 2.0 PC client has.
pub const PCR_COUNT: u32 = 24;

impl PcrList {
    /// No PCRs.
    pub const NONE: PcrList = PcrList(0);

    /// From a bit mask (bit n: PCR n); `None` when a bit above 23 is set.
    pub fn from_mask(mask: u32) -> Option<PcrList> {
        (mask >> PCR_COUNT == 0).then_some(PcrList(mask))
    }

    /// The bit mask.
    pub fn mask(self) -> u32 {
        self.0
    }

    /// Whether no PCR is selected.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The PCR indices, ascending.
    pub fn indices(self) -> impl Iterator<Item = u32> {
        (0..PCR_COUNT).filter(move |i| self.0 & (1 << i) != 0)
    }

    pub(crate) fn selection(self) -> tss_esapi::Result<PcrSelectionList> {
        let slots = self
            .indices()
            .map(|i| PcrSlot::try_from(1u32 << i))
            .collect::<tss_esapi::Result<Vec<_>>>()?;
        PcrSelectionListBuilder::new()
            .with_selection(HashingAlgorithm::Sha256, &slots)
            .build()
    }
}

/// `7`, `0,7`, `0+2+7` (systemd-cryptenroll's form), or empty for none.
impl FromStr for PcrList {
    type Err = String;

    fn from_str(s: &str) -> Result<PcrList, String> {
        let mut mask = 0u32;
        for part in s.split([',', '+']).map(str::trim) {
            if part.is_empty() && s.trim().is_empty() {
                continue;
            }
            let n: u32 = part
                .parse()
                .ok()
                .filter(|n| *n < PCR_COUNT)
                .ok_or_else(|| {
                    format!("bad PCR list {s:?}: expected numbers 0 to 23 separated by , or +")
                })?;
            mask |= 1 << n;
        }
        Ok(PcrList(mask))
    }
}

/// `0+7`, or `none`.
impl fmt::Display for PcrList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let mut first = true;
        for i in self.indices() {
            if !first {
                f.write_str("+")?;
            }
            first = false;
            write!(f, "{i}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        assert_eq!("".parse::<PcrList>().unwrap(), PcrList::NONE);
        assert_eq!("7".parse::<PcrList>().unwrap().mask(), 1 << 7);
        let l: PcrList = "0, 7+2".parse().unwrap();
        assert_eq!(l.to_string(), "0+2+7");
        assert!("24".parse::<PcrList>().is_err());
        assert!("0,,7".parse::<PcrList>().is_err());
        assert!("x".parse::<PcrList>().is_err());
        assert!("-1".parse::<PcrList>().is_err());
        assert_eq!(PcrList::from_mask(1 << 24), None);
        assert_eq!(PcrList::NONE.to_string(), "none");
    }
}
