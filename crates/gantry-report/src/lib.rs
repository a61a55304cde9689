//! The report model every gantry checker shares: one [`Severity`], one
//! [`Location`], one [`Finding`], and a typed SARIF 2.1.0 model with the
//! one writer ([`sarif::write`]) that `gantry audit` and `gantry scan`
//! both use.
//!
//! A checker keeps its own domain types (an audit rule's finding with
//! spans and fixes, a vulnerability with its ids and fixed version) and
//! converts them into these for output; this crate depends on nothing of
//! gantry's, so every crate can use it.
//!
//! ```
//! use gantry_report::{Finding, Location, Severity, sarif};
//!
//! let finding = Finding::new("unpinned-uses", Severity::High, "pin the action", Location::line("ci.yml", 7));
//! let rule = sarif::Rule::new("unpinned-uses", "Unpinned action", "Actions should be pinned to a commit.");
//! let log = sarif::write(&sarif::ToolInfo::gantry("0.1.0"), &[rule], &[finding], None);
//! let json = serde_json::to_value(&log).unwrap();
//! assert_eq!(json["version"], "2.1.0");
//! assert_eq!(json["runs"][0]["results"][0]["level"], "error");
//! assert_eq!(json["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"], 7);
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub mod sarif;

/// How much a finding matters, lowest first. `Unknown` is a finding whose
/// source gives no usable rating (a vulnerability without a score or a
/// word); what a gate does with it is the checker's policy, and display
/// says "unknown".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Unknown,
    Info,
    Low,
    Medium,
    High,
    Critical,
}

/// A word that names no [`Severity`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSeverity(pub String);

impl std::fmt::Display for UnknownSeverity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown severity `{}` (expected one of: unknown, info, low, medium, high, critical)",
            self.0
        )
    }
}

impl std::error::Error for UnknownSeverity {}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 6] = [
        Severity::Unknown,
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lower-case name, as JSON and the command line write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The severity of a CVSS base score, by the CVSS qualitative bands
    /// (none and low are both `Low`).
    pub fn from_cvss_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else {
            Severity::Low
        }
    }

    /// The SARIF result level: error for high and critical, warning for
    /// medium, note below.
    pub fn sarif_level(self) -> sarif::Level {
        match self {
            Severity::Critical | Severity::High => sarif::Level::Error,
            Severity::Medium => sarif::Level::Warning,
            Severity::Low | Severity::Info | Severity::Unknown => sarif::Level::Note,
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = UnknownSeverity;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let word = s.trim().to_ascii_lowercase();
        Severity::ALL
            .into_iter()
            .find(|l| l.as_str() == word)
            .ok_or_else(|| UnknownSeverity(s.to_string()))
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a finding is: a file (relative to what was checked,
/// `/`-separated), a 1-based line and, where known, 1-based columns, an
/// end, and the byte span.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_column: Option<usize>,
    /// Byte offsets `[start, end)` in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<(usize, usize)>,
}

impl Location {
    /// A whole line of a file.
    pub fn line(file: impl Into<String>, line: usize) -> Location {
        Location {
            file: file.into(),
            line,
            column: None,
            end_line: None,
            end_column: None,
            span: None,
        }
    }

    /// A region from (line, column) to (end line, end column) and its
    /// byte span.
    pub fn region(
        file: impl Into<String>,
        start: (usize, usize),
        end: (usize, usize),
        span: (usize, usize),
    ) -> Location {
        Location {
            file: file.into(),
            line: start.0,
            column: Some(start.1),
            end_line: Some(end.0),
            end_column: Some(end.1),
            span: Some(span),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column {
            Some(c) => write!(f, "{}:{}:{}", self.file, self.line, c),
            None => write!(f, "{}:{}", self.file, self.line),
        }
    }
}

/// Another place that explains a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Related {
    pub location: Location,
    pub message: String,
}

/// One problem a checker found, as every output format sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule (an audit rule's id, a vulnerability's preferred id).
    pub rule_id: String,
    pub severity: Severity,
    pub message: String,
    pub location: Location,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
    /// The thing at fault by name (a package's purl), where it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logical: Option<String>,
    /// A stable identity across runs, for code scanning to track.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Checker-specific facts (package, version, ids, fixed version).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, serde_json::Value>,
}

impl Finding {
    pub fn new(
        rule_id: impl Into<String>,
        severity: Severity,
        message: impl Into<String>,
        location: Location,
    ) -> Finding {
        Finding {
            rule_id: rule_id.into(),
            severity,
            message: message.into(),
            location,
            related: Vec::new(),
            logical: None,
            fingerprint: None,
            properties: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn severities_order_parse_and_print() {
        assert!(Severity::Unknown < Severity::Info);
        assert!(Severity::High < Severity::Critical);
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>(), Ok(s));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!(" HIGH ".parse::<Severity>(), Ok(Severity::High));
        let e = "severe".parse::<Severity>().unwrap_err();
        assert!(e.to_string().contains("`severe`"), "{e}");
    }

    #[test]
    fn cvss_bands() {
        assert_eq!(Severity::from_cvss_score(9.0), Severity::Critical);
        assert_eq!(Severity::from_cvss_score(8.9), Severity::High);
        assert_eq!(Severity::from_cvss_score(4.0), Severity::Medium);
        assert_eq!(Severity::from_cvss_score(0.0), Severity::Low);
    }
}
