//! What an audit reports: findings with a severity, a confidence, a place
//! and, for the mechanical ones, a fix.

use gantry_workflow::{SourceFile, Span};
use serde::{Deserialize, Serialize};

/// How much harm a finding can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|l| l.name() == s)
    }
}

/// How sure the rule is that the finding is real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn name(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// One text edit: replace `span` (empty to insert) with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub text: String,
}

impl Edit {
    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Self {
            span: Span::point(at),
            text: text.into(),
        }
    }

    pub fn replace(span: Span, text: impl Into<String>) -> Self {
        Self {
            span,
            text: text.into(),
        }
    }
}

/// A safe, mechanical change that resolves a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// What the fix does, in a few words.
    pub title: String,
    pub edits: Vec<Edit>,
}

/// A problem found by a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The rule's id, e.g. `template-injection`.
    pub rule: &'static str,
    pub severity: Severity,
    pub confidence: Confidence,
    /// What is wrong here.
    pub message: String,
    /// The key or value at fault.
    pub span: Span,
    /// A label for the span.
    pub label: String,
    /// Other places that explain the finding, with their labels.
    pub related: Vec<(Span, String)>,
    /// How to fix it by hand.
    pub help: String,
    /// A fix gantry can apply.
    pub fix: Option<Fix>,
}

impl From<Severity> for gantry_report::Severity {
    fn from(s: Severity) -> Self {
        match s {
            Severity::Info => gantry_report::Severity::Info,
            Severity::Low => gantry_report::Severity::Low,
            Severity::Medium => gantry_report::Severity::Medium,
            Severity::High => gantry_report::Severity::High,
        }
    }
}

/// A span of `source` as a report location: 1-based lines and columns
/// (an empty span still covers one column) and the byte span.
pub fn report_location(source: &SourceFile, span: Span) -> gantry_report::Location {
    let start = source.position(span.start);
    let end_offset = span.end.max(span.start);
    let end = source.position(end_offset);
    let end_column = end.column.max(if end.line == start.line {
        start.column + 1
    } else {
        1
    });
    gantry_report::Location::region(
        source.name().replace('\\', "/"),
        (start.line, start.column),
        (end.line, end_column),
        (span.start, end_offset),
    )
}

impl Finding {
    /// This finding in the shared report model, at its place in `source`.
    pub fn to_report(&self, source: &SourceFile) -> gantry_report::Finding {
        let mut out = gantry_report::Finding::new(
            self.rule,
            self.severity.into(),
            self.message.clone(),
            report_location(source, self.span),
        );
        out.related = self
            .related
            .iter()
            .map(|(span, label)| gantry_report::Related {
                location: report_location(source, *span),
                message: label.clone(),
            })
            .collect();
        out
    }
}
