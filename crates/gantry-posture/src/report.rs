//! The assessment as a typed report, its JSON document and its SARIF
//! findings.

use std::path::PathBuf;

use serde::Serialize;

use crate::checks::CHECKS;
use crate::model::{CheckResult, Level};

/// The version of the `posture --format json` document, raised when a
/// field changes meaning or goes away.
pub const POSTURE_DOCUMENT_VERSION: u32 = 1;

/// A finished assessment.
#[derive(Debug, Clone)]
pub struct Posture {
    pub path: PathBuf,
    /// The risk-weighted aggregate, `None` when no check concluded.
    pub score: Option<f64>,
    pub checks: Vec<CheckResult>,
    /// Whether the folder is a git work tree.
    pub git: bool,
}

/// `gantry posture --format json`.
#[derive(Debug, Serialize)]
pub struct PostureDocument<'a> {
    pub version: u32,
    /// The aggregate, rounded to one decimal as Scorecard shows it.
    pub score: Option<f64>,
    pub checks: &'a [CheckResult],
}

impl Posture {
    pub fn document(&self) -> PostureDocument<'_> {
        PostureDocument {
            version: POSTURE_DOCUMENT_VERSION,
            score: self.score.map(|s| (s * 10.0).round() / 10.0),
            checks: &self.checks,
        }
    }

    /// Every reason that cost points, as a finding of its check's rule.
    /// A reason without a file points at the top folder's file the check
    /// looks for first, so each result has a location.
    pub fn findings(&self) -> Vec<gantry_report::Finding> {
        let mut out = Vec::new();
        for check in &self.checks {
            let Some(score) = check.score else { continue };
            for r in check.reasons.iter().filter(|r| r.level == Level::Warn) {
                let file = r.file.clone().unwrap_or_else(|| ".".to_string());
                let mut message = r.message.clone();
                if let Some(fix) = &r.remediation {
                    message.push_str(": ");
                    message.push_str(fix);
                }
                let mut f = gantry_report::Finding::new(
                    check.name,
                    severity(check.risk),
                    message,
                    gantry_report::Location::line(file, r.line.unwrap_or(0)),
                );
                f.properties
                    .insert("checkScore".into(), serde_json::Value::from(score));
                out.push(f);
            }
        }
        out
    }

    /// Each check as a SARIF rule.
    pub fn sarif_rules() -> Vec<gantry_report::sarif::Rule> {
        CHECKS
            .iter()
            .map(|c| {
                let m = c.meta();
                let mut rule = gantry_report::sarif::Rule::new(m.name, m.name, m.description);
                rule.help_markdown = Some(format!(
                    "{}\n\n**Remediation**: {}",
                    m.description, m.remediation
                ));
                rule.help_uri = Some(m.doc_url());
                rule.default_severity = severity(m.risk);
                rule.security_severity = match m.risk {
                    crate::Risk::Critical => 9.0,
                    crate::Risk::High => 7.5,
                    crate::Risk::Medium => 5.0,
                    crate::Risk::Low => 2.5,
                };
                rule.tags = vec!["security".into(), "supply-chain".into()];
                rule
            })
            .collect()
    }

    /// The SARIF log, by gantry-report's one writer.
    pub fn sarif(&self, version: &str) -> gantry_report::sarif::Log {
        gantry_report::sarif::write(
            &gantry_report::sarif::ToolInfo::gantry(version),
            &Posture::sarif_rules(),
            &self.findings(),
            Some(&gantry_report::sarif::UriBase {
                id: "%SRCROOT%".into(),
                description: "the assessed checkout".into(),
            }),
        )
    }
}

fn severity(risk: crate::Risk) -> gantry_report::Severity {
    match risk {
        crate::Risk::Critical => gantry_report::Severity::Critical,
        crate::Risk::High => gantry_report::Severity::High,
        crate::Risk::Medium => gantry_report::Severity::Medium,
        crate::Risk::Low => gantry_report::Severity::Low,
    }
}
