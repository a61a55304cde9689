//! Checking files as `gantry validate` does: read each file (bounded, as
//! UTF-8), validate it, and check its local references (`uses: ./...`)
//! against the repository that holds it.
//!
//! The repository of a file is found from the file, not from where the
//! command started: the nearest folder above it holding `.github` or `.git`
//! ([`repository_root`]), as GitHub resolves `./` from the repository the
//! workflow belongs to. Files that no repository holds use the caller's
//! root.

use std::path::{Path, PathBuf};

use crate::calls::{CallPolicy, LocalResolver, check_calls};
use crate::diagnostic::{Diagnostic, DiagnosticDocument, FileDiagnostics};
use crate::discover::{FileKind, file_kind};
use crate::file::read_source;
use crate::lint::{LintSettings, LocalActions, lint_action, lint_workflow};
use crate::local::{is_local, repository_root, resolve_local};
use crate::model::{Action, JobKind, Runs, Step, StepAction, Workflow};
use crate::read::{Parsed, ReadOptions, read_action, read_workflow};

/// One file to check: where it is and the name to report it by.
#[derive(Debug, Clone)]
pub struct FileToCheck {
    pub path: PathBuf,
    pub name: String,
}

/// The checks of one file.
#[derive(Debug, Clone)]
pub struct CheckedFile {
    pub kind: FileKind,
    pub diagnostics: FileDiagnostics,
}

impl CheckedFile {
    pub fn errors(&self) -> usize {
        self.diagnostics
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.diagnostics.len() - self.errors()
    }

    pub fn is_valid(&self) -> bool {
        self.errors() == 0
    }
}

/// Counts over all checked files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub files: usize,
    pub valid: usize,
    pub errors: usize,
    pub warnings: usize,
}

/// What `gantry validate` found.
#[derive(Debug, Clone)]
pub struct ValidateReport {
    pub files: Vec<CheckedFile>,
    pub summary: Summary,
    /// What was not checked, and why (shellcheck not installed).
    pub notes: Vec<String>,
}

impl ValidateReport {
    pub fn has_errors(&self) -> bool {
        self.summary.errors > 0
    }

    /// The versioned `validate --format json` document.
    pub fn document(&self) -> ValidateDocument<'_> {
        ValidateDocument {
            version: VALIDATE_DOCUMENT_VERSION,
            files: self
                .files
                .iter()
                .map(|c| CheckedFileDocument {
                    path: c.diagnostics.source.name(),
                    kind: match c.kind {
                        FileKind::Workflow => "workflow",
                        FileKind::Action => "action",
                    },
                    valid: !c.diagnostics.has_errors(),
                    diagnostics: c
                        .diagnostics
                        .diagnostics
                        .iter()
                        .map(|d| c.diagnostics.document(d))
                        .collect(),
                })
                .collect(),
            summary: self.summary,
            notes: &self.notes,
        }
    }
}

/// The version of the `validate --format json` document, raised when a
/// field changes meaning or goes away.
pub const VALIDATE_DOCUMENT_VERSION: u32 = 1;

/// `gantry validate --format json`: every checked file with its
/// diagnostics, and the counts.
#[derive(Debug, serde::Serialize)]
pub struct ValidateDocument<'a> {
    pub version: u32,
    pub files: Vec<CheckedFileDocument<'a>>,
    pub summary: Summary,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub notes: &'a [String],
}

/// One checked file of the JSON document.
#[derive(Debug, serde::Serialize)]
pub struct CheckedFileDocument<'a> {
    pub path: &'a str,
    pub kind: &'static str,
    pub valid: bool,
    pub diagnostics: Vec<DiagnosticDocument<'a>>,
}

/// Reads a workflow file; an unreadable file is a `Parsed` without a value
/// whose one diagnostic says why (with the byte offset of invalid UTF-8).
pub fn read_workflow_file(path: &Path, name: String, options: &ReadOptions) -> Parsed<Workflow> {
    match read_source(path, name.clone(), options.max_file_size) {
        Ok(source) => read_workflow(source, options),
        Err(err) => Parsed {
            value: None,
            diagnostics: err.to_file_diagnostics(name),
        },
    }
}

/// Reads an action file, as [`read_workflow_file`] does a workflow.
pub fn read_action_file(path: &Path, name: String, options: &ReadOptions) -> Parsed<Action> {
    match read_source(path, name.clone(), options.max_file_size) {
        Ok(source) => read_action(source, options),
        Err(err) => Parsed {
            value: None,
            diagnostics: err.to_file_diagnostics(name),
        },
    }
}

/// Checks one file. `fallback_root` is the repository of a file that no
/// repository holds; `lint` sets the checks beyond GitHub's own.
pub fn check_file(
    file: &FileToCheck,
    fallback_root: &Path,
    options: &ReadOptions,
    lint: &LintSettings,
) -> CheckedFile {
    let kind = file_kind(&file.path);
    let root = repository_root(&file.path).unwrap_or_else(|| fallback_root.to_path_buf());
    let diagnostics = match kind {
        FileKind::Action => {
            let mut parsed = read_action_file(&file.path, file.name.clone(), options);
            if let Some(action) = &parsed.value
                && let Some(Runs::Composite { steps }) = &action.runs
            {
                local_step_refs(steps, &root, &mut parsed.diagnostics.diagnostics);
            }
            if let Some(action) = &parsed.value {
                let found = lint_action(action, lint, &LocalActions::new(&root));
                parsed.diagnostics.diagnostics.extend(found);
            }
            parsed.diagnostics
        }
        FileKind::Workflow => {
            let mut parsed = read_workflow_file(&file.path, file.name.clone(), options);
            if let Some(workflow) = &parsed.value {
                for job in workflow.jobs.values() {
                    if let JobKind::Steps(steps) = &job.kind {
                        local_step_refs(&steps.steps, &root, &mut parsed.diagnostics.diagnostics);
                    }
                }
                if !parsed.has_errors() {
                    let resolver = LocalResolver::new(&root);
                    let policy = CallPolicy {
                        default_permissions: lint.default_token_permissions,
                        ..CallPolicy::default()
                    };
                    let calls = check_calls(workflow, &resolver, &policy);
                    parsed.diagnostics.diagnostics.extend(calls);
                }
                let found = lint_workflow(workflow, lint, &LocalActions::new(&root));
                parsed.diagnostics.diagnostics.extend(found);
            }
            parsed.diagnostics
        }
    };
    CheckedFile { kind, diagnostics }
}

/// Refuses step `uses: ./...` that resolve outside `root`.
fn local_step_refs(steps: &[Step], root: &Path, out: &mut Vec<Diagnostic>) {
    for step in steps {
        match &step.action {
            StepAction::Uses { uses, .. } if is_local(&uses.value) => {
                if let Err(err) = resolve_local(root, &uses.value) {
                    out.push(
                        Diagnostic::error("local-ref-escapes", uses.span, err.to_string())
                            .with_label("outside the repository")
                            .with_hint(err.hint()),
                    );
                }
            }
            StepAction::Parallel(inner) => local_step_refs(inner, root, out),
            _ => {}
        }
    }
}

/// Checks files on all cores, keeping their order.
pub fn validate(
    files: &[FileToCheck],
    fallback_root: &Path,
    options: &ReadOptions,
    lint: &LintSettings,
) -> ValidateReport {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len().max(1));
    let chunk = files.len().div_ceil(threads).max(1);
    let checked: Vec<CheckedFile> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|f| check_file(f, fallback_root, options, lint))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut summary = Summary {
        files: checked.len(),
        ..Summary::default()
    };
    for c in &checked {
        summary.errors += c.errors();
        summary.warnings += c.warnings();
        summary.valid += usize::from(c.is_valid());
    }
    ValidateReport {
        files: checked,
        summary,
        notes: Vec::new(),
    }
}
