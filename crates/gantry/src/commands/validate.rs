//! `gantry validate`: check workflow and action files.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gantry_audit::shellcheck::{self, Shellcheck};
use gantry_workflow::check::{FileToCheck, validate};
use gantry_workflow::config::{CONFIG_FILE, ProjectConfig, TokenDefault};
use gantry_workflow::lint::LintSettings;
use gantry_workflow::{ListError, ReadOptions, files_to_check};

use super::{CliError, display_path};
use crate::Outcome;
use crate::cli::{Format, TokenPermissions, ValidateArgs};
use crate::render;

/// The files named on the command line, or the repository's.
pub(super) fn files(root: &Path, paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    files_to_check(root, &super::repo_paths(root, paths)).map_err(|err| match err {
        ListError::Read { path, source } => CliError::Read { path, source },
        ListError::NotFound { path } => CliError::Read {
            path,
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
        },
        other => CliError::usage(other.to_string(), None),
    })
}

/// The files to check, each named relative to `root` when inside it.
pub(super) fn to_check(root: &Path, files: Vec<PathBuf>) -> Vec<FileToCheck> {
    files
        .into_iter()
        .map(|path| FileToCheck {
            name: display_path(root, &path),
            path,
        })
        .collect()
}

pub fn run(
    root: &Path,
    home: &gantry_store::Home,
    args: ValidateArgs,
) -> Result<Outcome, CliError> {
    let files = files(root, &args.paths)?;
    if files.is_empty() && args.paths.is_empty() {
        return Err(CliError::usage(
            format!("no workflow or action files found under {}", root.display()),
            Some(
                "workflows live in .github/workflows/*.yml; pass files or folders to check others"
                    .to_string(),
            ),
        ));
    }
    let config = ProjectConfig::read(root).map_err(|e| {
        CliError::usage(e.to_string(), Some(format!("fix or remove {CONFIG_FILE}")))
    })?;
    let mut lint = LintSettings::from_config(&config);
    // `with:` of marketplace actions is checked against their action.yml
    // when the store has them.
    lint.actions = Some(Arc::new(gantry_actions::ActionStore::new(home.actions())));
    if let Some(access) = args.default_token_permissions {
        lint.default_token_permissions = Some(match access {
            TokenPermissions::Read => TokenDefault::Read,
            TokenPermissions::Write => TokenDefault::Write,
        });
    }
    let mut notes = Vec::new();
    match Shellcheck::find() {
        Some(checker) => lint.scripts = Some(Arc::new(checker)),
        None => notes.push(shellcheck::NOT_INSTALLED.to_string()),
    }
    let mut report = validate(&to_check(root, files), root, &ReadOptions::default(), &lint);
    report.notes = notes;
    let summary = report.summary;
    let checked = &report.files;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let json = report.document();
            serde_json::to_writer_pretty(&mut stdout, &json).map_err(std::io::Error::from)?;
            writeln!(stdout)?;
        }
        Format::Human => {
            let colored = render::color(std::io::stdout().is_terminal());
            for c in checked {
                for d in &c.diagnostics.diagnostics {
                    write!(
                        stdout,
                        "{}",
                        render::diagnostic_human(&c.diagnostics.source, d, colored)
                    )?;
                }
            }
            for note in &report.notes {
                writeln!(stdout, "note: {note}")?;
            }
            let plural =
                |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
            writeln!(
                stdout,
                "{}: {} valid, {}, {}",
                plural(summary.files, "file"),
                summary.valid,
                plural(summary.errors, "error"),
                plural(summary.warnings, "warning"),
            )?;
        }
    }
    Ok(if report.has_errors() {
        Outcome::Failure
    } else {
        Outcome::Success
    })
}
