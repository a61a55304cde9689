//! What posture reports: one result per check, each reason with its file
//! and what to change, and the risk-weighted aggregate.

use serde::Serialize;

/// The highest score a check gives.
pub const MAX_SCORE: u8 = 10;

/// How much harm a low score of a check signals, as Scorecard ranks its
/// checks; the aggregate weighs each check by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Low,
    Medium,
    High,
    Critical,
}

impl Risk {
    /// Scorecard's weight of the risk in the aggregate.
    pub fn weight(self) -> f64 {
        match self {
            Risk::Critical => 10.0,
            Risk::High => 7.5,
            Risk::Medium => 5.0,
            Risk::Low => 2.5,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Risk::Critical => "critical",
            Risk::High => "high",
            Risk::Medium => "medium",
            Risk::Low => "low",
        }
    }
}

/// Whether a reason cost points or only informs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Points were lost because of this.
    Warn,
    /// What was found that counts (or did not matter).
    Info,
}

/// One thing a check found: where, what, and what to change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    pub level: Level,
    /// The file at fault (relative to the checked folder, `/`-separated),
    /// or the file to create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line in `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
    /// What to change to get the points back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
}

impl Reason {
    /// A reason that cost points.
    pub fn warn(message: impl Into<String>) -> Reason {
        Reason {
            level: Level::Warn,
            file: None,
            line: None,
            message: message.into(),
            remediation: None,
        }
    }

    /// A reason that informs.
    pub fn info(message: impl Into<String>) -> Reason {
        Reason {
            level: Level::Info,
            ..Reason::warn(message)
        }
    }

    pub fn at(mut self, file: impl Into<String>, line: Option<usize>) -> Reason {
        self.file = Some(file.into());
        self.line = line.filter(|l| *l > 0);
        self
    }

    pub fn fix(mut self, remediation: impl Into<String>) -> Reason {
        self.remediation = Some(remediation.into());
        self
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    /// Scorecard's name of the check (`Token-Permissions`).
    pub name: &'static str,
    /// 0 to 10, or `None` when the checkout cannot answer (inconclusive).
    pub score: Option<u8>,
    pub risk: Risk,
    /// One line: why this score.
    pub summary: String,
    /// What was found, each with its file and what to change.
    pub reasons: Vec<Reason>,
    /// How gantry answers it offline, when that differs from Scorecard
    /// (a stand-in for an API-only check).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
}

impl CheckResult {
    pub fn scored(meta: &CheckMeta, score: u8, summary: impl Into<String>) -> CheckResult {
        CheckResult {
            name: meta.name,
            score: Some(score.min(MAX_SCORE)),
            risk: meta.risk,
            summary: summary.into(),
            reasons: Vec::new(),
            note: meta.note,
        }
    }

    pub fn inconclusive(meta: &CheckMeta, summary: impl Into<String>) -> CheckResult {
        CheckResult {
            score: None,
            ..CheckResult::scored(meta, 0, summary)
        }
    }

    pub fn with(mut self, reasons: Vec<Reason>) -> CheckResult {
        self.reasons = reasons;
        self
    }
}

/// What a check is.
#[derive(Debug, Clone, Copy)]
pub struct CheckMeta {
    pub name: &'static str,
    pub risk: Risk,
    /// What the check looks for, one sentence.
    pub description: &'static str,
    /// What to do for a low score, one sentence.
    pub remediation: &'static str,
    /// How the offline answer differs from Scorecard's, if it does.
    pub note: Option<&'static str>,
}

impl CheckMeta {
    /// Scorecard's documentation of the check.
    pub fn doc_url(&self) -> String {
        format!(
            "https://github.com/ossf/scorecard/blob/main/docs/checks.md#{}",
            self.name.to_ascii_lowercase()
        )
    }
}

/// Scorecard's aggregate: the mean of the conclusive checks' scores
/// weighted by their risk, or `None` when every check is inconclusive.
pub fn aggregate(checks: &[CheckResult]) -> Option<f64> {
    let (mut total, mut weight) = (0.0, 0.0);
    for c in checks {
        if let Some(score) = c.score {
            total += c.risk.weight() * f64::from(score);
            weight += c.risk.weight();
        }
    }
    (weight > 0.0).then(|| total / weight)
}
