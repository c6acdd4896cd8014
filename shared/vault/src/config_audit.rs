//! The audit-trail settings of the configuration (`audit`, `audit_syslog`,
//! `audit_max_size`, `audit_keep`); the log itself is `keyward-audit`.

/// How keyward's audit trail behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditSettings {
    /// `audit`: record every use of a record (default `true`).
    pub enabled: bool,
    /// `audit_syslog`: also send one line per use to syslog (default `false`).
    pub syslog: bool,
    /// `audit_max_size`: rotate the log when it would grow past this many
    /// bytes (default 1 MiB; at least 4096).
    pub max_size: u64,
    /// `audit_keep`: rotated files kept (`vault.audit.1` …; default 4, 1..=100).
    pub keep: u32,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            enabled: true,
            syslog: false,
            max_size: 1 << 20,
            keep: 4,
        }
    }
}

impl AuditSettings {
    /// Applies one `audit*` key; `Err` says why the value is refused.
    pub(crate) fn merge(&mut self, key: &str, value: &toml::Value) -> Result<(), String> {
        let int = || value.as_integer().ok_or("expected an integer".to_string());
        let boolean = || value.as_bool().ok_or("expected true or false".to_string());
        match key {
            "audit" => self.enabled = boolean()?,
            "audit_syslog" => self.syslog = boolean()?,
            "audit_max_size" => {
                self.max_size = u64::try_from(int()?)
                    .ok()
                    .filter(|n| *n >= 4096)
                    .ok_or("expected a number of bytes, at least 4096")?;
            }
            "audit_keep" => {
                self.keep = u32::try_from(int()?)
                    .ok()
                    .filter(|n| (1..=100).contains(n))
                    .ok_or("expected 1..=100")?;
            }
            _ => return Err("unknown key".into()),
        }
        Ok(())
    }
}
