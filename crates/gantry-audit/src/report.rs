//! Auditing files as `gantry audit` does: read each file (bounded, as
//! UTF-8, through `gantry_workflow::read_source`), run the rules, keep the
//! findings at or above a severity, and compute the fixed text of files
//! whose findings carry fixes. This module reads the files it is given and
//! writes nothing: the caller writes fixed texts or shows them as diffs.

use std::path::PathBuf;
use std::sync::Arc;

use gantry_workflow::check::FileToCheck;
use gantry_workflow::{
    Diagnostic, FileDiagnostics, FileKind, Parsed, ReadOptions, SourceFile, Span, file_kind,
    read_action, read_source, read_workflow,
};
use serde::Serialize;

use crate::{Confidence, Config, Finding, Severity, Target, apply_fixes, audit};

/// How to audit.
#[derive(Debug, Clone, Copy)]
pub struct AuditOptions {
    /// Compute the fixed text of files with fixable findings.
    pub fix: bool,
    /// With `fix`: report the findings of the file as it is (the fixed text
    /// is shown, not written).
    pub dry_run: bool,
    /// Findings below this severity are left out.
    pub min_severity: Severity,
    pub read: ReadOptions,
}

impl Default for AuditOptions {
    fn default() -> Self {
        Self {
            fix: false,
            dry_run: false,
            min_severity: Severity::Low,
            read: ReadOptions::default(),
        }
    }
}

/// One audited file.
#[derive(Debug, Clone)]
pub struct AuditedFile {
    pub path: PathBuf,
    /// The text the findings point into: the fixed text when fixes are to
    /// be written, else the file as read.
    pub source: Arc<SourceFile>,
    pub findings: Vec<Finding>,
    /// With `fix`: the fixed text, which still reads without errors.
    pub fixed: Option<String>,
}

/// What `gantry audit` found.
#[derive(Debug, Clone, Default)]
pub struct AuditReport {
    pub files: Vec<AuditedFile>,
    /// Files that could not be read or have errors, with those errors.
    pub invalid: Vec<FileDiagnostics>,
    /// Files whose fixes were withheld because the result would not read.
    pub unfixable: Vec<FixRefused>,
}

/// A file whose fixes would have broken it.
#[derive(Debug, Clone)]
pub struct FixRefused {
    pub name: String,
    pub error: String,
}

impl AuditReport {
    /// How many findings are reported.
    pub fn findings(&self) -> usize {
        self.files.iter().map(|f| f.findings.len()).sum()
    }
}

/// A file's findings, or the errors that kept it from being read.
fn audit_text(
    name: String,
    text: String,
    kind: FileKind,
    config: &Config,
    options: &ReadOptions,
) -> Result<(Arc<SourceFile>, Vec<Finding>), FileDiagnostics> {
    let source = SourceFile::new(name, text);
    let findings = match kind {
        FileKind::Workflow => findings_of(read_workflow(source.clone(), options), |w| {
            audit(Target::Workflow(w), &source, config)
        }),
        FileKind::Action => findings_of(read_action(source.clone(), options), |a| {
            audit(Target::Action(a), &source, config)
        }),
    }?;
    Ok((source, findings))
}

/// The findings of a file read without errors, or its errors.
fn findings_of<T>(
    parsed: Parsed<T>,
    run: impl FnOnce(&T) -> Vec<Finding>,
) -> Result<Vec<Finding>, FileDiagnostics> {
    match parsed.value {
        Some(value) if !parsed.diagnostics.has_errors() => Ok(run(&value)),
        _ => Err(FileDiagnostics {
            source: parsed.diagnostics.source,
            diagnostics: parsed
                .diagnostics
                .diagnostics
                .into_iter()
                .filter(Diagnostic::is_error)
                .collect(),
        }),
    }
}

/// Audits `files` in order.
pub fn audit_files(files: &[FileToCheck], config: &Config, options: &AuditOptions) -> AuditReport {
    let mut report = AuditReport::default();
    for file in files {
        let kind = file_kind(&file.path);
        let text = match read_source(&file.path, file.name.clone(), options.read.max_file_size) {
            Ok(source) => source.text().to_string(),
            Err(err) => {
                report
                    .invalid
                    .push(err.to_file_diagnostics(file.name.clone()));
                continue;
            }
        };
        let (mut source, mut findings) =
            match audit_text(file.name.clone(), text.clone(), kind, config, &options.read) {
                Ok(found) => found,
                Err(errors) => {
                    report.invalid.push(errors);
                    continue;
                }
            };
        let mut fixed = None;
        if options.fix && findings.iter().any(|f| f.fix.is_some()) {
            let (new_text, _) = apply_fixes(&text, &findings);
            // A fix must leave a file that still reads without errors.
            match audit_text(
                file.name.clone(),
                new_text.clone(),
                kind,
                config,
                &options.read,
            ) {
                Ok((fixed_source, remaining)) => {
                    if !options.dry_run {
                        source = fixed_source;
                        findings = remaining;
                    }
                    fixed = Some(new_text);
                }
                Err(errors) => report.unfixable.push(FixRefused {
                    name: file.name.clone(),
                    error: errors
                        .diagnostics
                        .first()
                        .map_or("unknown error".to_string(), |d| d.message.clone()),
                }),
            }
        }
        findings.retain(|f| f.severity >= options.min_severity);
        report.files.push(AuditedFile {
            path: file.path.clone(),
            source,
            findings,
            fixed,
        });
    }
    report
}

/// The version of the `audit --format json` document, raised when a field
/// changes meaning or goes away.
pub const AUDIT_DOCUMENT_VERSION: u32 = 1;

/// `gantry audit --format json`: every finding of every file, in file
/// order, and a summary.
#[derive(Debug, Serialize)]
pub struct AuditDocument<'a> {
    pub version: u32,
    pub findings: Vec<FindingDocument<'a>>,
    pub summary: AuditSummary,
}

/// How many files were audited and how many findings they have.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct AuditSummary {
    pub files: usize,
    pub findings: usize,
}

/// One finding of the JSON document.
#[derive(Debug, Serialize)]
pub struct FindingDocument<'a> {
    pub rule: &'a str,
    pub severity: Severity,
    pub confidence: Confidence,
    pub message: &'a str,
    pub path: &'a str,
    pub location: FindingLocation,
    pub label: &'a str,
    pub help: &'a str,
    pub fix: Option<FixDocument<'a>>,
    pub related: Vec<RelatedDocument<'a>>,
}

/// Where a finding is: 1-based lines and columns, and the byte range (the
/// same shape as a diagnostic's location).
pub type FindingLocation = gantry_workflow::DiagnosticLocation;

/// The fix a finding carries, by its title.
#[derive(Debug, Serialize)]
pub struct FixDocument<'a> {
    pub title: &'a str,
}

/// Another place that explains a finding.
#[derive(Debug, Serialize)]
pub struct RelatedDocument<'a> {
    pub line: usize,
    pub column: usize,
    pub label: &'a str,
}

/// A span of `source` as 1-based start and end lines and columns and its
/// byte range, as the JSON document and annotations give it.
pub fn finding_location(source: &SourceFile, span: Span) -> FindingLocation {
    FindingLocation::of(source, span)
}

impl<'a> FindingDocument<'a> {
    /// `finding` at its place in `source`.
    pub fn new(source: &'a SourceFile, finding: &'a Finding) -> Self {
        Self {
            rule: finding.rule,
            severity: finding.severity,
            confidence: finding.confidence,
            message: &finding.message,
            path: source.name(),
            location: finding_location(source, finding.span),
            label: &finding.label,
            help: &finding.help,
            fix: finding
                .fix
                .as_ref()
                .map(|fix| FixDocument { title: &fix.title }),
            related: finding
                .related
                .iter()
                .map(|(span, label)| {
                    let at = finding_location(source, *span);
                    RelatedDocument {
                        line: at.line,
                        column: at.column,
                        label,
                    }
                })
                .collect(),
        }
    }
}

impl AuditReport {
    /// The versioned `audit --format json` document of the audited files.
    pub fn document(&self) -> AuditDocument<'_> {
        AuditDocument {
            version: AUDIT_DOCUMENT_VERSION,
            findings: self
                .files
                .iter()
                .flat_map(|f| {
                    f.findings
                        .iter()
                        .map(|x| FindingDocument::new(&f.source, x))
                })
                .collect(),
            summary: AuditSummary {
                files: self.files.len(),
                findings: self.findings(),
            },
        }
    }
}
