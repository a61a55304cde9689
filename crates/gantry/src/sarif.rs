//! SARIF 2.1.0 logs, for code-scanning upload: one run of gantry with its
//! rules and results.

use serde_json::{Value, json};

/// A rule as SARIF describes it.
pub struct SarifRule {
    pub id: String,
    pub title: String,
    pub description: String,
    pub help_markdown: String,
    pub level: &'static str,
    /// GitHub's `security-severity`: 0.0 to 10.0.
    pub security_severity: f32,
}

/// A region of a file: 1-based lines and columns.
#[derive(Clone, Copy)]
pub struct Region {
    pub start_line: usize,
    pub start_column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// A result of a rule at a place.
pub struct SarifResult {
    pub rule_id: String,
    pub level: &'static str,
    pub message: String,
    pub path: String,
    pub region: Option<Region>,
    pub related: Vec<(Region, String)>,
}

fn region(r: &Region) -> Value {
    json!({
        "startLine": r.start_line,
        "startColumn": r.start_column,
        "endLine": r.end_line,
        "endColumn": r.end_column,
    })
}

/// The SARIF log of one run.
pub fn log(rules: &[SarifRule], results: &[SarifResult]) -> Value {
    let rule_index = |id: &str| rules.iter().position(|r| r.id == id);
    let driver_rules: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": { "text": r.title },
                "fullDescription": { "text": r.description },
                "help": { "text": r.description, "markdown": r.help_markdown },
                "defaultConfiguration": { "level": r.level },
                "properties": {
                    "tags": ["security"],
                    "security-severity": format!("{:.1}", r.security_severity),
                },
            })
        })
        .collect();
    let sarif_results: Vec<Value> = results
        .iter()
        .map(|res| {
            let mut physical = json!({
                "artifactLocation": { "uri": res.path },
            });
            if let Some(r) = &res.region {
                physical["region"] = region(r);
            }
            let mut out = json!({
                "ruleId": res.rule_id,
                "level": res.level,
                "message": { "text": res.message },
                "locations": [{ "physicalLocation": physical }],
            });
            if let Some(i) = rule_index(&res.rule_id) {
                out["ruleIndex"] = json!(i);
            }
            if !res.related.is_empty() {
                out["relatedLocations"] = res
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, (r, text))| {
                        json!({
                            "id": i,
                            "message": { "text": text },
                            "physicalLocation": {
                                "artifactLocation": { "uri": res.path },
                                "region": region(r),
                            },
                        })
                    })
                    .collect();
            }
            out
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "gantry",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": driver_rules,
                },
            },
            "results": sarif_results,
        }],
    })
}
