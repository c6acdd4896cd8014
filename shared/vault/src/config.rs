//! Configuration (`/etc/keyward/keyward.toml`, then
//! `$XDG_CONFIG_HOME/keyward/config.toml`) and the vault path.

use crate::error::{Error, Result};
use crate::kdf::{KdfLimits, KdfParams};
use keyward_secmem::LockPolicy;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// System-wide configuration file, read first.
pub const SYSTEM_CONFIG: &str = "/etc/keyward/keyward.toml";

/// keyward's settings, after both configuration files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// How long `keyward unlock` keeps the vault key in the kernel keyring.
    pub unlock_timeout: Duration,
    /// scrypt parameters for new vaults and for `keyward passwd`.
    pub kdf: KdfParams,
    /// The file that set `[kdf]`, if one did.
    pub kdf_from: Option<PathBuf>,
    /// Floor and ceiling on scrypt costs (`[kdf_limits]`, system file only).
    pub kdf_limits: KdfLimits,
    /// The system file that set `[kdf_limits]`, if one did.
    pub kdf_limits_from: Option<PathBuf>,
    /// What to do when memory cannot be locked.
    pub memory_lock: LockPolicy,
    /// How to reach the TPM (`tpm2_tcti`, a libtss2 TCTI string; the last
    /// file that set it wins). `KEYWARD_TPM2_TCTI` overrides it for the CLI
    /// and the helpers (`keyward_tpm::Tcti::for_user`).
    pub tpm2_tcti: Option<String>,
    /// `tpm2_tcti` as the system file alone set it: the only one the PAM
    /// module's login helper honours (`keyward_tpm::Tcti::for_system`).
    pub tpm2_tcti_system: Option<String>,
    /// Vault path (`~` expanded); `KEYWARD_VAULT` and `--vault` override it.
    pub vault_path: Option<PathBuf>,
    /// Whether pam_keyward's `unlock` may unlock this vault at login and
    /// rewrap it when the login password changes (default `true`; `false`
    /// spares a user whose vault password differs one scrypt per login).
    pub login_unlock: bool,
    /// The audit trail (`audit`, `audit_syslog`, `audit_max_size`, `audit_keep`).
    pub audit: crate::AuditSettings,
    /// The host key behind host slots (`host_key`, system file only).
    pub host_key: PathBuf,
    /// Files that were read, in order.
    pub files: Vec<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            unlock_timeout: Duration::from_secs(15 * 60),
            kdf: KdfParams::default(),
            kdf_from: None,
            kdf_limits: KdfLimits::default(),
            kdf_limits_from: None,
            memory_lock: LockPolicy::BestEffort,
            tpm2_tcti: None,
            tpm2_tcti_system: None,
            vault_path: None,
            login_unlock: true,
            audit: crate::AuditSettings::default(),
            host_key: PathBuf::from(crate::host::DEFAULT_HOST_KEY),
            files: Vec::new(),
        }
    }
}

/// An XDG base directory from `var`, if it is set to an absolute path: the
/// XDG Base Directory specification says a relative one is invalid and must
/// be ignored (the default then applies).
fn xdg_dir(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|x| x.is_absolute())
}

/// `$XDG_CONFIG_HOME/keyward/config.toml`, else `~/.config/keyward/config.toml`.
pub fn user_config_path() -> Option<PathBuf> {
    if let Some(x) = xdg_dir("XDG_CONFIG_HOME") {
        return Some(x.join("keyward/config.toml"));
    }
    home().map(|h| h.join(".config/keyward/config.toml"))
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

impl Config {
    /// Reads `/etc/keyward/keyward.toml`, then the user's file; later values win.
    /// Missing files are fine; unreadable files, unknown keys and bad values are errors.
    pub fn load() -> Result<Config> {
        let mut files = vec![PathBuf::from(SYSTEM_CONFIG)];
        files.extend(user_config_path());
        Self::load_from(&files)
    }

    /// Reads the given files in order (missing ones are skipped). The first
    /// is the system file: only it may set `[kdf_limits]`.
    pub fn load_from(files: &[PathBuf]) -> Result<Config> {
        let mut c = Config::default();
        for (i, f) in files.iter().enumerate() {
            match std::fs::read_to_string(f) {
                Ok(text) => {
                    c.merge_in(f, &text, home().as_deref(), i == 0)?;
                    c.files.push(f.clone());
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(crate::error::io(f)(e)),
            }
        }
        Ok(c)
    }

    /// Reads `files` in order for the user whose home is `home`: `~/` in
    /// `vault_path` means `home`, whatever the process environment says (the
    /// PAM module runs in the caller's environment, not the user's).
    pub fn load_for_home(files: &[PathBuf], home: &Path) -> Result<Config> {
        let mut c = Config::default();
        for (i, f) in files.iter().enumerate() {
            match std::fs::read_to_string(f) {
                Ok(text) => {
                    c.merge_in(f, &text, Some(home), i == 0)?;
                    c.files.push(f.clone());
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(crate::error::io(f)(e)),
            }
        }
        Ok(c)
    }

    /// The vault path of the user whose home is `home`: `vault_path` from the
    /// configuration, else `HOME/.local/share/keyward/vault`. The environment
    /// (`KEYWARD_VAULT`, `XDG_DATA_HOME`) is not consulted.
    pub fn vault_path_in(&self, home: &Path) -> PathBuf {
        self.vault_path
            .clone()
            .unwrap_or_else(|| home.join(".local/share/keyward/vault"))
    }

    /// Applies the settings of one user file's text on top of `self`.
    pub fn merge(&mut self, file: &Path, text: &str) -> Result<()> {
        self.merge_in(file, text, home().as_deref(), false)
    }

    /// The scrypt parameters for a new or changed password: `[kdf]`, refused
    /// below the floor or above the ceiling of `[kdf_limits]`
    /// ([`Error::Config`] naming the file that set `[kdf]`).
    ///
    /// The test suite's escape: with `KEYWARD_INSECURE_TEST_KDF=1` in the
    /// environment, and no `[kdf_limits]` in the system file (an
    /// administrator's floor always holds), costs below the floor are
    /// accepted; the second value is then `true` and the caller warns on
    /// every use. `keyward doctor` flags every vault below the floor. The PAM
    /// module never honours it (it raises a user's `[kdf]` to the floor).
    pub fn kdf_for_new_password(&self) -> Result<(KdfParams, bool)> {
        let file = self
            .kdf_from
            .clone()
            .unwrap_or_else(|| PathBuf::from("(built-in default)"));
        let refuse = |why: String| Error::Config {
            file: file.clone(),
            key: "kdf".into(),
            why,
        };
        self.kdf_limits.check_ceiling(self.kdf).map_err(refuse)?;
        match self.kdf_limits.check_floor(self.kdf) {
            Ok(()) => Ok((self.kdf, false)),
            Err(_) if insecure_test_kdf() && self.kdf_limits_from.is_none() => Ok((self.kdf, true)),
            Err(why) => Err(refuse(format!(
                "{why}: raise log_n/r there (or remove [kdf]: the default is log_n=17 r=8 p=1)"
            ))),
        }
    }

    fn merge_in(
        &mut self,
        file: &Path,
        text: &str,
        home: Option<&Path>,
        system: bool,
    ) -> Result<()> {
        let err = |key: &str, why: String| Error::Config {
            file: file.to_path_buf(),
            key: key.to_string(),
            why,
        };
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            err(
                "(syntax)",
                e.message().lines().next().unwrap_or("").to_string(),
            )
        })?;
        for (key, value) in &table {
            match key.as_str() {
                "unlock_timeout" => {
                    let s = value
                        .as_str()
                        .ok_or_else(|| err(key, "expected a string like \"15m\"".into()))?;
                    self.unlock_timeout = parse_duration(s).map_err(|why| err(key, why))?;
                }
                "memory_lock" => {
                    let s = value.as_str().ok_or_else(|| {
                        err(key, "expected \"best-effort\" or \"required\"".into())
                    })?;
                    self.memory_lock = s.parse().map_err(|why| err(key, why))?;
                }
                "vault_path" => {
                    let s = value
                        .as_str()
                        .ok_or_else(|| err(key, "expected a path string".into()))?;
                    if s.is_empty() {
                        return Err(err(key, "empty path".into()));
                    }
                    self.vault_path = Some(expand_tilde(s, home).map_err(|why| err(key, why))?);
                }
                "tpm2_tcti" => {
                    let s = value.as_str().filter(|s| !s.is_empty()).ok_or_else(|| {
                        err(
                            key,
                            "expected a TCTI string like \"device:/dev/tpmrm0\"".into(),
                        )
                    })?;
                    self.tpm2_tcti = Some(s.to_string());
                    if system {
                        self.tpm2_tcti_system = Some(s.to_string());
                    }
                }
                "login_unlock" => {
                    self.login_unlock = value
                        .as_bool()
                        .ok_or_else(|| err(key, "expected true or false".into()))?;
                }
                "kdf" => {
                    let t = value
                        .as_table()
                        .ok_or_else(|| err(key, "expected a table [kdf]".into()))?;
                    let mut kdf = self.kdf;
                    for (k, v) in t {
                        let full = format!("kdf.{k}");
                        let n = v
                            .as_integer()
                            .ok_or_else(|| err(&full, "expected an integer".into()))?;
                        let bad = || err(&full, format!("{n} is out of range"));
                        match k.as_str() {
                            "log_n" => kdf.log_n = u8::try_from(n).map_err(|_| bad())?,
                            "r" => kdf.r = u32::try_from(n).map_err(|_| bad())?,
                            "p" => kdf.p = u32::try_from(n).map_err(|_| bad())?,
                            _ => return Err(err(&full, "unknown key".into())),
                        }
                    }
                    kdf.check().map_err(|why| err(key, why))?;
                    self.kdf = kdf;
                    self.kdf_from = Some(file.to_path_buf());
                }
                "host_key" if !system => {
                    return Err(err(
                        key,
                        format!("only the system configuration ({SYSTEM_CONFIG}) may set it"),
                    ));
                }
                "host_key" => {
                    let s = value
                        .as_str()
                        .filter(|s| s.starts_with('/'))
                        .ok_or_else(|| err(key, "expected an absolute path string".into()))?;
                    self.host_key = PathBuf::from(s);
                }
                "kdf_limits" if !system => {
                    return Err(err(
                        key,
                        format!("only the system configuration ({SYSTEM_CONFIG}) may set it"),
                    ));
                }
                "kdf_limits" => {
                    let t = value
                        .as_table()
                        .ok_or_else(|| err(key, "expected a table [kdf_limits]".into()))?;
                    let mut l = self.kdf_limits;
                    for (k, v) in t {
                        let full = format!("kdf_limits.{k}");
                        let n = v
                            .as_integer()
                            .ok_or_else(|| err(&full, "expected an integer".into()))?;
                        let bad = || err(&full, format!("{n} is out of range"));
                        match k.as_str() {
                            "min_log_n" => l.min_log_n = u8::try_from(n).map_err(|_| bad())?,
                            "min_r" => l.min_r = u32::try_from(n).map_err(|_| bad())?,
                            "max_memory_mib" => {
                                l.max_memory_mib = u64::try_from(n).map_err(|_| bad())?
                            }
                            "max_work_mib" => {
                                l.max_work_mib = u64::try_from(n).map_err(|_| bad())?
                            }
                            _ => return Err(err(&full, "unknown key".into())),
                        }
                    }
                    let (fl, fr) = crate::kdf::FLOOR;
                    if l.min_log_n < fl || l.min_r < fr {
                        return Err(err(
                            key,
                            format!("the floor can only be raised above log_n={fl} r={fr}"),
                        ));
                    }
                    if l.min_log_n > 22 || l.min_r > 32 {
                        return Err(err(
                            key,
                            "the floor is above what any vault may use (log_n 22, r 32)".into(),
                        ));
                    }
                    self.kdf_limits = l;
                    self.kdf_limits_from = Some(file.to_path_buf());
                }
                k if k.starts_with("audit") => {
                    self.audit.merge(k, value).map_err(|why| err(key, why))?;
                }
                _ => return Err(err(key, "unknown key".into())),
            }
        }
        Ok(())
    }

    /// The vault path: `KEYWARD_VAULT`, else `vault_path` from the
    /// configuration, else the XDG default.
    pub fn vault_path(&self) -> Result<PathBuf> {
        if let Some(p) = std::env::var_os("KEYWARD_VAULT").filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(p));
        }
        if let Some(p) = &self.vault_path {
            return Ok(p.clone());
        }
        xdg_vault_path()
    }
}

/// `KEYWARD_INSECURE_TEST_KDF=1`: see [`Config::kdf_for_new_password`].
fn insecure_test_kdf() -> bool {
    std::env::var_os("KEYWARD_INSECURE_TEST_KDF").is_some_and(|v| v == "1")
}

fn expand_tilde(s: &str, home: Option<&Path>) -> std::result::Result<PathBuf, String> {
    if let Some(rest) = s.strip_prefix("~/") {
        let h = home.ok_or("`~` used but HOME is not set")?;
        Ok(h.join(rest))
    } else if Path::new(s).is_absolute() {
        Ok(PathBuf::from(s))
    } else {
        Err("expected an absolute path or one starting with ~/".into())
    }
}

fn xdg_vault_path() -> Result<PathBuf> {
    if let Some(x) = xdg_dir("XDG_DATA_HOME") {
        return Ok(x.join("keyward/vault"));
    }
    home()
        .map(|h| h.join(".local/share/keyward/vault"))
        .ok_or_else(|| {
            Error::Invalid(
                "cannot find the vault: neither KEYWARD_VAULT, XDG_DATA_HOME nor HOME is set"
                    .into(),
            )
        })
}

/// `KEYWARD_VAULT`, else `$XDG_DATA_HOME/keyward/vault`, else
/// `~/.local/share/keyward/vault` (the configuration file is not read).
pub fn default_vault_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("KEYWARD_VAULT").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    xdg_vault_path()
}

/// Parses `90`, `90s`, `15m`, `2h`, `1d` (also combined: `1h30m`).
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let bad = || format!("bad duration {s:?} (expected e.g. \"90s\", \"15m\", \"2h\", \"1d\")");
    let s = s.trim();
    if s.is_empty() {
        return Err(bad());
    }
    if let Ok(n) = s.parse::<u64>() {
        return Ok(Duration::from_secs(n));
    }
    let mut total: u64 = 0;
    let mut num: Option<u64> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(
                num.unwrap_or(0)
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(d)))
                    .ok_or_else(bad)?,
            );
        } else {
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86400,
                _ => return Err(bad()),
            };
            let n = num.take().ok_or_else(bad)?;
            total = n
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(bad)?;
        }
    }
    if num.is_some() {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

/// Formats a duration as `1h 02m 03s`, `4m 05s` or `6s`.
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h}h {m:02}m {sec:02}s")
    } else if m > 0 {
        format!("{m}m {sec:02}s")
    } else {
        format!("{sec}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("15x").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("5m3").is_err());
        assert_eq!(format_duration(Duration::from_secs(3723)), "1h 02m 03s");
    }

    #[test]
    fn merge_and_errors() {
        let mut c = Config::default();
        let f = Path::new("/x/config.toml");
        c.merge(
            f,
            "unlock_timeout = \"5m\"\nmemory_lock = \"required\"\n[kdf]\nlog_n = 10\nr = 8\np = 1\n",
        )
        .unwrap();
        assert_eq!(c.unlock_timeout, Duration::from_secs(300));
        assert_eq!(c.memory_lock, LockPolicy::Required);
        assert_eq!(c.kdf.log_n, 10);
        let e = c
            .merge(f, "unlock_timout = \"5m\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "/x/config.toml: unlock_timout: unknown key");
        let e = c.merge(f, "[kdf]\nlog_n = 40\n").unwrap_err().to_string();
        assert!(
            e.starts_with("/x/config.toml: kdf: log_n 40 out of range"),
            "{e}"
        );
        let e = c
            .merge(f, "memory_lock = \"maybe\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/x/config.toml: memory_lock: unknown memory lock policy"),
            "{e}"
        );
        let e = c.merge(f, "[kdf]\nsalt = 1\n").unwrap_err().to_string();
        assert_eq!(e, "/x/config.toml: kdf.salt: unknown key");
        c.merge(f, "login_unlock = false\n").unwrap();
        assert!(!c.login_unlock);
        let e = c.merge(f, "login_unlock = 1\n").unwrap_err().to_string();
        assert_eq!(e, "/x/config.toml: login_unlock: expected true or false");
    }

    #[test]
    fn kdf_floor_and_limits() {
        let f = Path::new("/x/config.toml");
        let mut c = Config::default();
        assert_eq!(
            c.kdf_for_new_password().unwrap(),
            (KdfParams::default(), false)
        );
        c.merge(f, "[kdf]\nlog_n = 14\n").unwrap();
        let e = c.kdf_for_new_password().unwrap_err().to_string();
        assert!(
            e.starts_with(
                "/x/config.toml: kdf: scrypt log_n=14 r=8 p=1 is below the floor log_n=15 r=8"
            ),
            "{e}"
        );
        c.merge(f, "[kdf]\nlog_n = 15\nr = 4\n").unwrap();
        assert!(c.kdf_for_new_password().is_err());
        // A user's file may not set the limits; the system file may raise the floor only.
        let e = c
            .merge(f, "[kdf_limits]\nmin_log_n = 10\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("only the system configuration"), "{e}");
        let sys = Path::new(SYSTEM_CONFIG);
        let e = c
            .merge_in(sys, "[kdf_limits]\nmin_log_n = 10\n", None, true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("can only be raised"), "{e}");
        c.merge_in(
            sys,
            "[kdf_limits]\nmin_log_n = 18\nmax_memory_mib = 256\n",
            None,
            true,
        )
        .unwrap();
        c.merge(f, "[kdf]\nlog_n = 17\nr = 8\n").unwrap();
        assert!(c
            .kdf_for_new_password()
            .unwrap_err()
            .to_string()
            .contains("floor log_n=18"));
        c.merge(f, "[kdf]\nlog_n = 19\n").unwrap();
        let e = c.kdf_for_new_password().unwrap_err().to_string();
        assert!(
            e.contains("512 MiB of memory, above the ceiling of 256 MiB"),
            "{e}"
        );
    }

    #[test]
    fn tpm2_tcti_remembers_what_the_system_file_said() {
        let mut c = Config::default();
        let sys = Path::new(SYSTEM_CONFIG);
        c.merge_in(sys, "tpm2_tcti = \"device:/dev/tpm0\"\n", None, true)
            .unwrap();
        c.merge(
            Path::new("/home/u/config.toml"),
            "tpm2_tcti = \"swtpm:host=127.0.0.1,port=2321\"\n",
        )
        .unwrap();
        assert_eq!(
            c.tpm2_tcti.as_deref(),
            Some("swtpm:host=127.0.0.1,port=2321")
        );
        assert_eq!(c.tpm2_tcti_system.as_deref(), Some("device:/dev/tpm0"));
        let e = c
            .merge(Path::new("/u.toml"), "tpm2_tcti = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("tpm2_tcti"), "{e}");
    }

    #[test]
    fn load_for_home_ignores_the_environment() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("c.toml");
        std::fs::write(&f, "vault_path = \"~/v/vault\"\nunlock_timeout = \"2h\"\n").unwrap();
        let home = Path::new("/home/alice");
        let c = Config::load_for_home(&[f, d.path().join("missing")], home).unwrap();
        assert_eq!(c.vault_path_in(home), PathBuf::from("/home/alice/v/vault"));
        assert_eq!(c.unlock_timeout, Duration::from_secs(7200));
        let c = Config::load_for_home(&[], home).unwrap();
        assert_eq!(
            c.vault_path_in(home),
            PathBuf::from("/home/alice/.local/share/keyward/vault")
        );
    }
}

#[cfg(test)]
mod shipped {
    use super::*;

    /// The commented default in `config/keyward.toml` parses and says exactly the defaults.
    #[test]
    fn shipped_config_is_the_default() {
        let text = include_str!("../../../config/keyward.toml");
        let mut c = Config::default();
        c.merge(Path::new("config/keyward.toml"), text).unwrap();
        assert_eq!(c.kdf_from, Some(PathBuf::from("config/keyward.toml")));
        c.kdf_from = None;
        assert_eq!(c, Config::default());
        // The commented [kdf_limits] is valid in the system file, as shipped.
        let limits = text
            .split("# [kdf_limits]")
            .nth(1)
            .unwrap()
            .lines()
            .map(|l| l.strip_prefix("# ").unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        let mut sys = Config::default();
        sys.merge_in(
            Path::new(SYSTEM_CONFIG),
            &format!("[kdf_limits]{limits}"),
            None,
            true,
        )
        .unwrap();
        assert_eq!(sys.kdf_limits, KdfLimits::default());
        // The commented-out setting is valid when uncommented.
        let uncommented = text.replace("# vault_path = \"~/", "vault_path = \"/home/someone/");
        c.merge(Path::new("x"), &uncommented).unwrap();
        assert_eq!(
            c.vault_path,
            Some(PathBuf::from("/home/someone/.local/share/keyward/vault"))
        );
    }
}
