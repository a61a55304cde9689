//! Severity: CVSS v4.0, v3.x (and v2) base scores computed from the
//! vectors, falling back to the database's own severity field.

use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;

use crate::osv::{Affected, Record, SeverityEntry};

/// A vulnerability's level: gantry's one [`gantry_report::Severity`]
/// (`Unknown` < `Info` < `Low` < ... < `Critical`; vulnerabilities are
/// never `Info`).
pub use gantry_report::Severity as Level;

/// The level a database's own word names (`moderate`, `important`, ...).
pub fn level_from_word(word: &str) -> Option<Level> {
    match word.trim().to_ascii_lowercase().as_str() {
        "critical" => Some(Level::Critical),
        "high" | "important" => Some(Level::High),
        "moderate" | "medium" => Some(Level::Medium),
        "low" | "negligible" | "none" => Some(Level::Low),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Severity {
    pub level: Level,
    /// The CVSS base score, when a vector was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
}

impl Severity {
    pub const UNKNOWN: Severity = Severity {
        level: Level::Unknown,
        score: None,
        vector: None,
    };
}

/// The base score of a CVSS vector (`CVSS:4.0/...`, `CVSS:3.1/...`,
/// `CVSS:3.0/...` or a v2 vector).
pub fn cvss_score(vector: &str) -> Option<f64> {
    let parsed = cvss::Cvss::from_str(vector.trim()).ok()?;
    let score = parsed.score();
    score.is_finite().then_some(score)
}

fn vector_rank(kind: &str) -> u8 {
    match kind {
        "CVSS_V4" => 3,
        "CVSS_V3" => 2,
        "CVSS_V2" => 1,
        _ => 0,
    }
}

/// The severity of a record for one affected entry: the newest CVSS
/// version's vector that computes (record, then entry, then RustSec's
/// `database_specific.cvss`), else the database's own severity word.
pub fn of_record(record: &Record, affected: Option<&Affected>) -> Severity {
    let mut vectors: Vec<&SeverityEntry> = record
        .severity
        .iter()
        .chain(affected.into_iter().flat_map(|a| &a.severity))
        .collect();
    vectors.sort_by_key(|s| std::cmp::Reverse(vector_rank(&s.kind)));
    let extra = affected
        .and_then(|a| a.database_specific.as_ref())
        .and_then(|d| d.get("cvss"))
        .and_then(Value::as_str);
    let candidates = vectors
        .iter()
        .filter(|s| vector_rank(&s.kind) > 0)
        .map(|s| s.score.as_str())
        .chain(extra);
    for vector in candidates {
        if let Some(score) = cvss_score(vector) {
            return Severity {
                level: Level::from_cvss_score(score),
                score: Some(score),
                vector: Some(vector.to_string()),
            };
        }
    }
    let words = [
        record.database_specific.as_ref(),
        affected.and_then(|a| a.database_specific.as_ref()),
        affected.and_then(|a| a.ecosystem_specific.as_ref()),
    ];
    for w in words.into_iter().flatten() {
        if let Some(level) = w
            .get("severity")
            .and_then(Value::as_str)
            .and_then(level_from_word)
        {
            return Severity {
                level,
                score: None,
                vector: None,
            };
        }
    }
    // A severity entry of another type whose score is a bare number.
    for s in &record.severity {
        if let Ok(n) = s.score.trim().parse::<f64>()
            && (0.0..=10.0).contains(&n)
        {
            return Severity {
                level: Level::from_cvss_score(n),
                score: Some(n),
                vector: None,
            };
        }
    }
    Severity::UNKNOWN
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn computes_cvss_base_scores() {
        // Reference scores from FIRST's calculators.
        for (vector, score) in [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
            ("CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 6.2),
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N", 5.4),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                9.3,
            ),
            (
                "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                8.5,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:L/SC:N/SI:N/SA:N",
                6.9,
            ),
            ("AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5),
        ] {
            assert_eq!(cvss_score(vector), Some(score), "{vector}");
        }
        assert_eq!(cvss_score("CVSS:3.1/AV:X"), None);
        assert_eq!(Level::from_cvss_score(9.8), Level::Critical);
        assert_eq!(Level::from_cvss_score(7.0), Level::High);
        assert_eq!(Level::from_cvss_score(0.0), Level::Low);
    }

    #[test]
    fn falls_back_to_the_database_word() {
        let r: Record = serde_json::from_str(
            r#"{"id": "GHSA-x", "database_specific": {"severity": "MODERATE"}}"#,
        )
        .unwrap();
        assert_eq!(of_record(&r, None).level, Level::Medium);
        let r: Record = serde_json::from_str(r#"{"id": "PYSEC-x"}"#).unwrap();
        assert_eq!(of_record(&r, None), Severity::UNKNOWN);
    }
}
