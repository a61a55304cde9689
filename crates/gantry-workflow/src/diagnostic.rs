//! Problems found in a file, each pointing at the text it is about.

use std::sync::Arc;

use serde::Serialize;

use crate::source::{Position, SourceFile, Span};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

/// A problem in a workflow or action file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable identifier of the kind of problem, e.g. `unknown-key`.
    pub code: &'static str,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The text the problem is about. `None` for problems of the whole file
    /// (such as its size).
    pub span: Option<Span>,
    /// A short label shown under the span.
    pub label: Option<String>,
    /// How to fix it, when known.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(
        code: &'static str,
        span: impl Into<Option<Span>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: message.into(),
            span: span.into(),
            label: None,
            hint: None,
        }
    }

    pub fn warning(
        code: &'static str,
        span: impl Into<Option<Span>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, span, message)
        }
    }

    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The diagnostics of one file, together with the file they point into.
#[derive(Debug, Clone)]
pub struct FileDiagnostics {
    pub source: Arc<SourceFile>,
    pub diagnostics: Vec<Diagnostic>,
}

impl FileDiagnostics {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Where a diagnostic starts, if it has a span.
    pub fn position(&self, diagnostic: &Diagnostic) -> Option<Position> {
        diagnostic.span.map(|s| self.source.position(s.start))
    }

    /// `diagnostic`, one of this file's, as JSON documents give it.
    pub fn document<'a>(&self, diagnostic: &'a Diagnostic) -> DiagnosticDocument<'a> {
        DiagnosticDocument {
            severity: match diagnostic.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            code: diagnostic.code,
            message: &diagnostic.message,
            location: diagnostic
                .span
                .map(|span| DiagnosticLocation::of(&self.source, span)),
            label: diagnostic.label.as_deref(),
            hint: diagnostic.hint.as_deref(),
        }
    }
}

/// A diagnostic in the stable JSON format (`validate --format json`).
#[derive(Debug, Serialize)]
pub struct DiagnosticDocument<'a> {
    pub severity: &'static str,
    pub code: &'static str,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<DiagnosticLocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<&'a str>,
}

/// Where a diagnostic points: 1-based lines and character columns, and the
/// byte range.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DiagnosticLocation {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub start_byte: usize,
    pub end_byte: usize,
}

impl DiagnosticLocation {
    /// Where `span` is in `source`.
    pub fn of(source: &crate::SourceFile, span: crate::Span) -> Self {
        let start = source.position(span.start);
        let end = source.position(span.end);
        DiagnosticLocation {
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            start_byte: span.start,
            end_byte: span.end,
        }
    }
}

/// The known word closest to `word`, for "did you mean" hints.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&word.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words_only() {
        let keys = ["runs-on", "needs", "steps", "timeout-minutes"];
        assert_eq!(did_you_mean("run-on", keys), Some("runs-on"));
        assert_eq!(did_you_mean("step", keys), Some("steps"));
        assert_eq!(did_you_mean("container", keys), None);
    }
}
