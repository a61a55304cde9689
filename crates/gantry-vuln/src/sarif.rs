//! SARIF 2.1.0 for code-scanning upload: one rule per vulnerability (its
//! preferred id, with `security-severity` for GitHub's severity column),
//! one result per finding at its lockfile line.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::scan::{Finding, FindingKind, Report};
use crate::severity::Level;

fn level(f: &Finding) -> &'static str {
    match (&f.kind, f.severity.level) {
        (FindingKind::Informational(_), _) => "note",
        (_, Level::Critical | Level::High) => "error",
        (_, Level::Medium) => "warning",
        _ => "note",
    }
}

/// GitHub reads `security-severity` as a CVSS-like number.
fn security_severity(f: &Finding) -> String {
    let score = f.severity.score.unwrap_or(match f.severity.level {
        Level::Critical => 9.0,
        Level::High => 7.0,
        Level::Medium => 4.0,
        Level::Low => 1.0,
        Level::Unknown => 0.0,
    });
    format!("{score:.1}")
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

/// The SARIF log of a report. `tool_version` is gantry's.
pub fn write(report: &Report, tool_version: &str) -> Value {
    let all: Vec<&Finding> = report
        .findings
        .iter()
        .chain(&report.informational)
        .collect();
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    for f in &all {
        rules.entry(f.id()).or_insert_with(|| {
            let mut tags = vec!["security".to_string(), "dependency".to_string()];
            if let FindingKind::Informational(kind) = &f.kind {
                tags.push(kind.clone());
            } else {
                tags.push("vulnerability".to_string());
            }
            let summary = f
                .summary
                .clone()
                .unwrap_or_else(|| format!("vulnerability {}", f.id()));
            let mut help = format!("{summary}\n\nIds: {}.", f.ids.join(", "));
            if let Some(url) = &f.url {
                help.push_str(&format!(" Advisory: {url}"));
            }
            let mut rule = json!({
                "id": f.id(),
                "name": f.id().replace('-', ""),
                "shortDescription": {"text": summary},
                "fullDescription": {"text": summary},
                "help": {"text": help},
                "defaultConfiguration": {"level": level(f)},
                "properties": {
                    "tags": tags,
                    "security-severity": security_severity(f),
                },
            });
            if let Some(url) = &f.url {
                rule["helpUri"] = json!(url);
            }
            rule
        });
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let results: Vec<Value> = all
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.id(),
                "ruleIndex": index.get(f.id()).copied().unwrap_or(0),
                "level": level(f),
                "message": {"text": message(f)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.location.file, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": f.location.line.max(1)},
                    }
                }],
                "partialFingerprints": {"gantryFinding/v1": fingerprint(f)},
                "properties": {
                    "package": f.package,
                    "version": f.version,
                    "purl": f.purl,
                    "ids": f.ids,
                    "severity": f.severity.level.as_str(),
                    "fixed": f.fixed,
                },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "gantry",
                "version": tool_version,
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "the scanned folder"}}},
            "results": results,
        }]
    })
}
