//! `keyward-gen`: writes keyward's man pages and shell completions at package
//! build time, from the same clap definitions the binaries parse with.
//!
//! ```text
//! keyward-gen man DIR          keyward.1, keyward-SUBCOMMAND.1, git-credential-keyward.1,
//!                              docker-credential-keyward.1, cargo-credential-keyward.1
//! keyward-gen completions DIR  keyward.bash, _keyward (zsh), keyward.fish
//! ```
//!
//! It is a separate, never-installed binary so the shipped programs carry no
//! generator code. `pam_keyward(8)` and `keyward.toml(5)` describe no command
//! line and are written by hand in `packaging/man/`. Set `SOURCE_DATE_EPOCH`
//! for a reproducible page date (the Makefile does, from the last commit).
#![forbid(unsafe_code)]

mod helpers;

use clap::Command;
use clap_mangen::roff::{bold, italic, roman, Inline, Roff};
use clap_mangen::Man;
use std::io::Write;
use std::path::{Path, PathBuf};

const USAGE: &str = "usage: keyward-gen man|completions DIR";

fn main() {
    if let Err(e) = run(std::env::args_os().skip(1).collect()) {
        eprintln!("keyward-gen: {e}");
        std::process::exit(1);
    }
}

fn run(args: Vec<std::ffi::OsString>) -> Result<(), String> {
    let [what, dir] = &args[..] else {
        return Err(USAGE.into());
    };
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let written = match what.to_str() {
        Some("man") => man_pages(&dir),
        Some("completions") => completions(&dir),
        _ => return Err(USAGE.into()),
    }
    .map_err(|e| format!("{}: {e}", dir.display()))?;
    for p in written {
        println!("{}", p.display());
    }
    Ok(())
}

/// Sections every page may add after clap's own.
#[derive(Debug, Default)]
pub(crate) struct Extra {
    /// (heading, paragraphs); a paragraph starting with `\t` is an indented example.
    pub sections: Vec<(&'static str, Vec<String>)>,
    /// (term, text) rows of the ENVIRONMENT section.
    pub environment: Vec<(&'static str, &'static str)>,
    /// (path, text) rows of the FILES section.
    pub files: Vec<(&'static str, &'static str)>,
    /// Pages for SEE ALSO, as `name(section)`.
    pub see_also: Vec<&'static str>,
}

fn man_pages(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut keyward = keyward_cli::command().disable_help_subcommand(true);
    keyward.build();
    let top = keyward_extra();
    write_tree(&keyward, &top, dir, &mut written)?;
    for (cmd, extra) in [
        helpers::git(),
        helpers::docker(),
        helpers::cargo(),
        helpers::terraform(),
        helpers::token_helper(),
    ] {
        let mut cmd = cmd.disable_help_subcommand(true);
        cmd.build();
        written.push(write_page(&cmd, &extra, dir)?);
    }
    Ok(written)
}

/// `keyward.1` and one page per subcommand, as git and cargo do
/// (`keyward-import-git.1`).
fn write_tree(
    cmd: &Command,
    extra: &Extra,
    dir: &Path,
    out: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    out.push(write_page(cmd, extra, dir)?);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let see_also = Extra {
            see_also: vec!["keyward(1)"],
            ..Extra::default()
        };
        write_tree(sub, &see_also, dir, out)?;
    }
    Ok(())
}

fn write_page(cmd: &Command, extra: &Extra, dir: &Path) -> std::io::Result<PathBuf> {
    let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name());
    let man = Man::new(cmd.clone())
        .title(name.to_uppercase())
        .manual("keyward manual")
        .source(format!("keyward {}", env!("CARGO_PKG_VERSION")))
        .date(page_date());
    let path = dir.join(man.get_filename());
    let mut buf = Vec::new();
    render(&man, cmd, extra, &mut buf)?;
    std::fs::File::create(&path)?.write_all(&buf)?;
    Ok(path)
}

fn render(man: &Man, cmd: &Command, extra: &Extra, w: &mut Vec<u8>) -> std::io::Result<()> {
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(w)?;
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(w)?;
    }
    let mut roff = Roff::new();
    for (heading, paragraphs) in &extra.sections {
        roff.control("SH", [*heading]);
        for p in paragraphs {
            paragraph(&mut roff, p);
        }
    }
    if let Some(help) = cmd.get_after_help() {
        exit_status(&mut roff, &help.to_string());
    }
    tagged(&mut roff, "ENVIRONMENT", &extra.environment);
    tagged(&mut roff, "FILES", &extra.files);
    if !extra.see_also.is_empty() {
        roff.control("SH", ["SEE ALSO"]);
        let mut line: Vec<Inline> = Vec::new();
        for (i, page) in extra.see_also.iter().enumerate() {
            let (name, section) = page.split_once('(').unwrap_or((page, ""));
            line.push(bold(name));
            let sep = if i + 1 < extra.see_also.len() {
                ", "
            } else {
                ""
            };
            line.push(roman(format!("({section}{sep}")));
        }
        roff.text(line);
    }
    roff.to_writer(w)?;
    if cmd.get_version().is_some() {
        man.render_version_section(w)?;
    }
    Ok(())
}

/// A paragraph; one starting with a tab is a literal example block.
fn paragraph(roff: &mut Roff, p: &str) {
    if let Some(example) = p.strip_prefix('\t') {
        roff.control("PP", [])
            .control("RS", ["4"])
            .control("nf", []);
        for line in example.split("\n\t") {
            roff.text([roman(line)]);
        }
        roff.control("fi", []).control("RE", []);
    } else {
        roff.control("PP", []).text([roman(p)]);
    }
}

fn tagged(roff: &mut Roff, heading: &str, rows: &[(&str, &str)]) {
    if rows.is_empty() {
        return;
    }
    roff.control("SH", [heading]);
    for (term, text) in rows {
        let term = if term.starts_with('/') || term.starts_with('~') || term.starts_with('$') {
            italic(*term)
        } else {
            bold(*term)
        };
        roff.control("TP", []).text([term]).text([roman(*text)]);
    }
}

/// The CLI's `after_help` is its exit-code table ("Exit codes:" then
/// "  N  meaning" lines); it becomes an EXIT STATUS section.
fn exit_status(roff: &mut Roff, help: &str) {
    let mut lines = help.lines();
    let Some(first) = lines.next() else { return };
    if first.trim() != "Exit codes:" {
        roff.control("SH", ["NOTES"]);
        for l in help.lines() {
            roff.text([roman(l)]).control("br", []);
        }
        return;
    }
    roff.control("SH", ["EXIT STATUS"]);
    for l in lines {
        let l = l.trim();
        let (code, meaning) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
        roff.control("TP", [])
            .text([bold(code)])
            .text([roman(meaning.trim())]);
    }
}

/// The date of the pages: `SOURCE_DATE_EPOCH` as YYYY-MM-DD, else today.
fn page_date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
        });
    keyward_cli::date::utc_date(secs)
}

fn keyward_extra() -> Extra {
    Extra {
        sections: vec![(
            "QUICK START",
            vec![
                "\tkeyward init\n\tkeyward unlock\n\tgit config --global credential.helper keyward\n\tgit clone https://forge.example/team/repo.git".into(),
                "Passwords are read from the terminal (echo off, into locked memory) or from --password-fd N; never from arguments or the environment. The unlocked vault key is kept in the user's kernel keyring (a user key named keyward:vault:ID, possessor-only, with a timeout), so git-credential-keyward(1) and docker-credential-keyward(1) do not ask again until it expires or keyward lock runs. pam_keyward(8) can do the unlock at login.".into(),
            ],
        )],
        environment: vec![
            ("KEYWARD_VAULT", "Vault file, instead of vault_path from the configuration."),
            ("XDG_DATA_HOME", "The default vault is $XDG_DATA_HOME/keyward/vault (else ~/.local/share/keyward/vault)."),
            ("XDG_CONFIG_HOME", "The user configuration is $XDG_CONFIG_HOME/keyward/config.toml (else ~/.config/keyward/config.toml)."),
            ("KEYWARD_SECMEM_BACKEND", "mlock forces the mmap+mlock secure-memory backend instead of memfd_secret(2)."),
            ("DOCKER_CONFIG", "Directory of docker's config.json for keyward import docker (default ~/.docker)."),
        ],
        files: vec![
            ("/etc/keyward/keyward.toml", "System configuration, read first; see keyward.toml(5)."),
            ("~/.config/keyward/config.toml", "User configuration, read second; a value there replaces the system one."),
            ("~/.local/share/keyward/vault", "The encrypted vault (mode 0600, in a directory only the user can write)."),
            ("/etc/keyward/shadow", "Password database of pam_keyward(8), managed with keyward pam."),
        ],
        see_also: vec![
            "git-credential-keyward(1)",
            "docker-credential-keyward(1)",
            "cargo-credential-keyward(1)",
            "pam_keyward(8)",
            "keyward.toml(5)",
            "keyrings(7)",
            "gitcredentials(7)",
        ],
    }
}

fn completions(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    use clap_complete::{generate_to, Shell};
    let mut cmd = keyward_cli::command();
    [Shell::Bash, Shell::Zsh, Shell::Fish]
        .into_iter()
        .map(|shell| generate_to(shell, &mut cmd, "keyward", dir))
        .collect()
}
