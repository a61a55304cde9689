//! A scan report as SARIF 2.1.0 for code-scanning upload, through the one
//! writer in `gantry-report`: one rule per vulnerability (its preferred
//! id, with `security-severity` for GitHub's severity column), one result
//! per finding at its lockfile line.

use std::collections::BTreeMap;

use gantry_report::sarif::{self, Log, Rule, ToolInfo, UriBase};

use crate::scan::{Finding, FindingKind, Report};
use crate::severity::Level;

/// GitHub reads `security-severity` as a CVSS-like number.
fn security_severity(f: &Finding) -> f64 {
    f.severity.score.unwrap_or(match f.severity.level {
        Level::Critical => 9.0,
        Level::High => 7.0,
        Level::Medium => 4.0,
        Level::Low => 1.0,
        Level::Info | Level::Unknown => 0.0,
    })
}

/// The level SARIF shows: informational advisories are notes.
fn shown_level(f: &Finding) -> Level {
    match f.kind {
        FindingKind::Informational(_) => Level::Info,
        FindingKind::Vulnerability => f.severity.level,
    }
}

fn fingerprint(f: &Finding) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [f.id(), f.purl.as_str(), f.location.file.as_str()] {
        for b in part.bytes().chain([0]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn message(f: &Finding) -> String {
    let mut text = format!(
        "{} {} {} is affected by {}",
        f.ecosystem,
        f.package,
        f.version,
        f.ids.join(" / ")
    );
    match &f.kind {
        FindingKind::Informational(kind) => text.push_str(&format!(" ({kind})")),
        FindingKind::Vulnerability => {
            text.push_str(&format!(" ({}", f.severity.level));
            if let Some(s) = f.severity.score {
                text.push_str(&format!(" {s:.1}"));
            }
            text.push(')');
        }
    }
    if let Some(s) = &f.summary {
        text.push_str(&format!(": {s}"));
    }
    match &f.fixed {
        Some(v) => text.push_str(&format!(". Fixed in {v}.")),
        None => text.push_str(". No fixed version is known."),
    }
    text
}

impl Finding {
    /// This finding in the shared report model.
    pub fn to_report(&self) -> gantry_report::Finding {
        let mut out = gantry_report::Finding::new(
            self.id(),
            shown_level(self),
            message(self),
            gantry_report::Location::line(&self.location.file, self.location.line),
        );
        out.logical = Some(self.purl.clone());
        out.fingerprint = Some(fingerprint(self));
        let props = [
            ("package", serde_json::json!(self.package)),
            ("version", serde_json::json!(self.version)),
            ("purl", serde_json::json!(self.purl)),
            ("ids", serde_json::json!(self.ids)),
            ("severity", serde_json::json!(self.severity.level.as_str())),
            ("fixed", serde_json::json!(self.fixed)),
        ];
        out.properties = props.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        out
    }

    /// The rule this finding's advisory stands for.
    fn rule(&self) -> Rule {
        let mut tags = vec!["security".to_string(), "dependency".to_string()];
        match &self.kind {
            FindingKind::Informational(kind) => tags.push(kind.clone()),
            FindingKind::Vulnerability => tags.push("vulnerability".to_string()),
        }
        let summary = self
            .summary
            .clone()
            .unwrap_or_else(|| format!("vulnerability {}", self.id()));
        let mut help = format!("{summary}\n\nIds: {}.", self.ids.join(", "));
        if let Some(url) = &self.url {
            help.push_str(&format!(" Advisory: {url}"));
        }
        Rule {
            id: self.id().to_string(),
            name: Some(self.id().replace('-', "")),
            title: summary.clone(),
            description: summary,
            help_text: Some(help),
            help_markdown: None,
            help_uri: self.url.clone(),
            default_severity: shown_level(self),
            security_severity: security_severity(self),
            tags,
        }
    }
}

/// The SARIF log of a report. `tool_version` is gantry's.
pub fn write(report: &Report, tool_version: &str) -> Log {
    let all: Vec<&Finding> = report
        .findings
        .iter()
        .chain(&report.informational)
        .collect();
    let mut rules: BTreeMap<&str, Rule> = BTreeMap::new();
    for f in &all {
        rules.entry(f.id()).or_insert_with(|| f.rule());
    }
    let rules: Vec<Rule> = rules.into_values().collect();
    let findings: Vec<gantry_report::Finding> = all.iter().map(|f| f.to_report()).collect();
    let base = UriBase {
        id: "%SRCROOT%".into(),
        description: "the scanned folder".into(),
    };
    sarif::write(
        &ToolInfo::gantry(tool_version),
        &rules,
        &findings,
        Some(&base),
    )
}
