//! `gantry validate`: check workflow and action files.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use gantry_workflow::calls::{CallPolicy, LocalResolver, check_calls};
use gantry_workflow::{
    Diagnostic, FileDiagnostics, FileKind, ReadOptions, SourceFile, discover, file_kind,
    read_action, read_workflow,
};
use serde::Serialize;

use super::{CliError, display_path};
use crate::Outcome;
use crate::cli::{Format, ValidateArgs};
use crate::render;

/// The checks of one file.
pub struct Checked {
    pub kind: FileKind,
    pub diagnostics: FileDiagnostics,
}

/// Reads and checks one file; unreadable files become a diagnostic.
pub fn check_file(root: &Path, path: &Path, options: &ReadOptions) -> Checked {
    let kind = file_kind(path);
    let name = display_path(root, path);
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(err) => {
                return unreadable(
                    kind,
                    name,
                    format!(
                        "the file is not UTF-8 text (invalid byte at offset {})",
                        err.utf8_error().valid_up_to()
                    ),
                );
            }
        },
        Err(err) => return unreadable(kind, name, format!("failed to read the file: {err}")),
    };
    let source = SourceFile::new(name, text);
    match kind {
        FileKind::Action => Checked {
            kind,
            diagnostics: read_action(source, options).diagnostics,
        },
        FileKind::Workflow => {
            let mut parsed = read_workflow(source, options);
            if let Some(workflow) = &parsed.value
                && !parsed.has_errors()
            {
                let resolver = LocalResolver::new(root);
                let calls = check_calls(workflow, &resolver, &CallPolicy::default());
                parsed.diagnostics.diagnostics.extend(calls);
            }
            Checked {
                kind,
                diagnostics: parsed.diagnostics,
            }
        }
    }
}

fn unreadable(kind: FileKind, name: String, message: String) -> Checked {
    Checked {
        kind,
        diagnostics: FileDiagnostics {
            source: SourceFile::new(name, ""),
            diagnostics: vec![Diagnostic::error("unreadable", None, message)],
        },
    }
}

/// The files named on the command line, or the repository's.
pub(super) fn files(root: &Path, paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let read_dir = |dir: &Path| -> Result<Vec<PathBuf>, CliError> {
        let mut found = discover(dir).map_err(|source| CliError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        // A folder of workflows named directly.
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let p = entry.path();
                if p.is_file()
                    && matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"))
                    && !found.contains(&p)
                {
                    found.push(p);
                }
            }
        }
        found.sort();
        Ok(found)
    };
    if paths.is_empty() {
        return read_dir(root);
    }
    let mut out = Vec::new();
    for path in paths {
        let path = if path.is_absolute() {
            path.clone()
        } else {
            root.join(path)
        };
        if path.is_dir() {
            out.extend(read_dir(&path)?);
        } else if path.is_file() {
            out.push(path);
        } else {
            return Err(CliError::Read {
                path,
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such file or directory",
                ),
            });
        }
    }
    Ok(out)
}

/// Checks files on all cores, keeping their order.
pub fn check_all(root: &Path, files: &[PathBuf], options: &ReadOptions) -> Vec<Checked> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len().max(1));
    let chunk = files.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|f| check_file(root, f, options))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

#[derive(Serialize)]
struct JsonReport {
    files: Vec<JsonFile>,
    summary: Summary,
}

#[derive(Serialize)]
struct JsonFile {
    path: String,
    kind: &'static str,
    valid: bool,
    diagnostics: Vec<render::JsonDiagnostic>,
}

#[derive(Serialize, Default)]
struct Summary {
    files: usize,
    valid: usize,
    errors: usize,
    warnings: usize,
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
    let checked = check_all(root, &files, &ReadOptions::default());
    let mut summary = Summary {
        files: checked.len(),
        ..Summary::default()
    };
    for c in &checked {
        let errors = c
            .diagnostics
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .count();
        summary.errors += errors;
        summary.warnings += c.diagnostics.diagnostics.len() - errors;
        summary.valid += usize::from(errors == 0);
    }
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let report = JsonReport {
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
                summary,
            };
            let errors = report.summary.errors;
            serde_json::to_writer_pretty(&mut stdout, &report).map_err(std::io::Error::from)?;
            writeln!(stdout)?;
            return Ok(if errors > 0 {
                Outcome::Failure
            } else {
                Outcome::Success
            });
        }
        Format::Human => {
            let colored = render::color(std::io::stdout().is_terminal());
            for c in &checked {
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
    Ok(if summary.errors > 0 {
        Outcome::Failure
    } else {
        Outcome::Success
    })
}
