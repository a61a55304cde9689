//! `gantry validate`: check workflow and action files.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use gantry_workflow::check::{FileToCheck, Summary, validate};
use gantry_workflow::{FileKind, ListError, ReadOptions, files_to_check};
use serde::Serialize;

use super::{CliError, display_path};
use crate::Outcome;
use crate::cli::{Format, ValidateArgs};
use crate::render;

/// The files named on the command line, or the repository's.
pub(super) fn files(root: &Path, paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    files_to_check(root, paths).map_err(|err| match err {
        ListError::Read { path, source } => CliError::Read { path, source },
        ListError::NotFound { path } => CliError::Read {
            path,
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
        },
        other => CliError::usage(other.to_string(), None),
    })
}

#[derive(Serialize)]
struct JsonReport {
    files: Vec<JsonFile>,
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonFile {
    path: String,
    kind: &'static str,
    valid: bool,
    diagnostics: Vec<render::JsonDiagnostic>,
}

#[derive(Serialize)]
struct JsonSummary {
    files: usize,
    valid: usize,
    errors: usize,
    warnings: usize,
}

impl From<Summary> for JsonSummary {
    fn from(s: Summary) -> Self {
        Self {
            files: s.files,
            valid: s.valid,
            errors: s.errors,
            warnings: s.warnings,
        }
    }
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

pub fn run(root: &Path, args: ValidateArgs) -> Result<Outcome, CliError> {
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
    let report = validate(&to_check(root, files), root, &ReadOptions::default());
    let summary = report.summary;
    let checked = &report.files;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let json = JsonReport {
                files: checked
                    .iter()
                    .map(|c| JsonFile {
                        path: c.diagnostics.source.name().to_string(),
                        kind: match c.kind {
                            FileKind::Workflow => "workflow",
                            FileKind::Action => "action",
                        },
                        valid: !c.diagnostics.has_errors(),
                        diagnostics: c
                            .diagnostics
                            .diagnostics
                            .iter()
                            .map(|d| render::diagnostic_json(&c.diagnostics, d))
                            .collect(),
                    })
                    .collect(),
                summary: summary.into(),
            };
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
