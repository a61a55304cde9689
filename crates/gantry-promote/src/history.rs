//! `gantry promotions [ID]`: the promotion history the evidence chain
//! holds. A promotion is the journey of one package (its id is the
//! package's); each `gantry promote` of it is an attempt, and approvals
//! belong to it too.

use std::collections::BTreeMap;

use gantry_ledger::chain::ChainType;
use serde::Serialize;

use crate::state::{ChainEntry, History};

/// `gantry promotions`.
#[derive(Debug, Clone, Serialize)]
pub struct PromotionsReport {
    pub version: u32,
    /// Newest activity last.
    pub promotions: Vec<PromotionSummary>,
}

/// One package's promotion history.
#[derive(Debug, Clone, Serialize)]
pub struct PromotionSummary {
    /// The package id.
    pub id: String,
    pub services: Vec<String>,
    pub attempts: Vec<Attempt>,
    pub approvals: Vec<ApprovalSummary>,
    /// The time of the newest record.
    pub last: String,
}

/// One `gantry promote` of a package.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub time: String,
    pub to: String,
    /// `promoted`, `blocked` or `pending`.
    pub decision: String,
    pub services: Vec<AttemptService>,
}

/// One service of an attempt.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptService {
    pub service: String,
    pub version: String,
    pub from: String,
    pub to: String,
    pub decision: String,
    /// The validation record's ledger entry.
    pub entry: u64,
}

/// An approval record (as recorded; whether it counts is the gate's
/// business).
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalSummary {
    pub approver: String,
    pub time: String,
    pub service: String,
    pub entry: u64,
}

/// `gantry promotions ID`: every chain record of one promotion.
#[derive(Debug, Clone, Serialize)]
pub struct PromotionDetail {
    pub version: u32,
    pub summary: PromotionSummary,
    pub records: Vec<ChainEntry>,
}

/// Why a promotion could not be shown.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    #[error("no promotion `{0}`; `gantry promotions` lists them")]
    NotFound(String),
    #[error("`{prefix}` matches {count} promotions; give more of the id")]
    Ambiguous { prefix: String, count: usize },
}

fn text<'a>(entry: &'a ChainEntry, key: &str) -> &'a str {
    entry
        .record
        .evidence
        .data
        .get(key)
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
}

fn summarize(id: &str, entries: &[&ChainEntry]) -> PromotionSummary {
    let mut attempts: Vec<Attempt> = Vec::new();
    let mut approvals = Vec::new();
    let mut services: Vec<String> = Vec::new();
    for entry in entries {
        if !services.contains(&entry.record.service) {
            services.push(entry.record.service.clone());
        }
        match entry.record.evidence.kind {
            ChainType::Validation => {
                let service = AttemptService {
                    service: entry.record.service.clone(),
                    version: entry.version.clone(),
                    from: text(entry, "from").to_string(),
                    to: text(entry, "to").to_string(),
                    decision: text(entry, "decision").to_string(),
                    entry: entry.index,
                };
                let decision = text(entry, "package_decision").to_string();
                match attempts.last_mut() {
                    // An attempt names each service once and has one
                    // decision: timestamps are whole seconds, so two
                    // attempts in one second share a time and a target.
                    Some(last)
                        if last.time == entry.record.timestamp
                            && last.to == service.to
                            && last.decision == decision
                            && !last.services.iter().any(|s| s.service == service.service) =>
                    {
                        last.services.push(service);
                    }
                    _ => attempts.push(Attempt {
                        time: entry.record.timestamp.clone(),
                        to: service.to.clone(),
                        decision,
                        services: vec![service],
                    }),
                }
            }
            ChainType::Approval => approvals.push(ApprovalSummary {
                approver: text(entry, "approver").to_string(),
                time: entry.record.timestamp.clone(),
                service: entry.record.service.clone(),
                entry: entry.index,
            }),
            ChainType::Promotion => {}
        }
    }
    services.sort();
    PromotionSummary {
        id: id.to_string(),
        services,
        attempts,
        approvals,
        last: entries
            .last()
            .map(|e| e.record.timestamp.clone())
            .unwrap_or_default(),
    }
}

fn grouped(history: &History) -> BTreeMap<&str, Vec<&ChainEntry>> {
    let mut by_id: BTreeMap<&str, Vec<&ChainEntry>> = BTreeMap::new();
    for entry in history.entries() {
        by_id
            .entry(entry.record.promotion_id.as_str())
            .or_default()
            .push(entry);
    }
    by_id
}

/// Every promotion, the one with the newest activity last.
pub fn list(history: &History) -> PromotionsReport {
    let mut promotions: Vec<PromotionSummary> = grouped(history)
        .into_iter()
        .map(|(id, entries)| summarize(id, &entries))
        .collect();
    promotions.sort_by(|a, b| (&a.last, &a.id).cmp(&(&b.last, &b.id)));
    PromotionsReport {
        version: 1,
        promotions,
    }
}

/// One promotion, by id or a unique prefix of it.
pub fn show(history: &History, id: &str) -> Result<PromotionDetail, HistoryError> {
    let id = id
        .strip_prefix("sha256:")
        .unwrap_or(id)
        .to_ascii_lowercase();
    let groups = grouped(history);
    let matches: Vec<(&str, &Vec<&ChainEntry>)> = groups
        .iter()
        .filter(|(known, _)| known.starts_with(id.as_str()))
        .map(|(k, v)| (*k, v))
        .collect();
    match matches.as_slice() {
        [(found, entries)] => Ok(PromotionDetail {
            version: 1,
            summary: summarize(found, entries),
            records: entries.iter().map(|e| (*e).clone()).collect(),
        }),
        [] => Err(HistoryError::NotFound(id)),
        many => Err(HistoryError::Ambiguous {
            prefix: id,
            count: many.len(),
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use gantry_ledger::Ledger;
    use gantry_ledger::chain::{ChainEvidence, ChainRecord};

    const PACKAGE: &str = "ab00000000000000000000000000000000000000000000000000000000000001";

    /// Appends, in one batch, a request and a validation for each service,
    /// all at `time`, as `gantry promote` records them.
    fn attempt(ledger: &Ledger, time: &str, services: &[&str], decision: &str) {
        let history = History::build(&ledger.snapshot().unwrap()).unwrap();
        let mut heads: BTreeMap<String, String> = BTreeMap::new();
        let mut entries = Vec::new();
        for service in services {
            for kind in [ChainType::Promotion, ChainType::Validation] {
                let previous = heads
                    .get(*service)
                    .cloned()
                    .unwrap_or_else(|| history.head(service).to_string());
                let chain = ChainRecord {
                    promotion_id: PACKAGE.into(),
                    timestamp: time.into(),
                    service: (*service).into(),
                    previous_hash: previous,
                    evidence: ChainEvidence {
                        kind,
                        data: serde_json::json!({
                            "package": PACKAGE, "version": "1.0.0", "from": "sandbox",
                            "to": "compliance_ready", "target_state": "compliance_ready",
                            "decision": decision, "package_decision": decision,
                        }),
                        signatures: Vec::new(),
                    },
                };
                let envelope = gantry_attest::dsse::Envelope {
                    payload_type: gantry_attest::dsse::IN_TOTO_PAYLOAD_TYPE.to_string(),
                    payload: chain.statement(PACKAGE).to_payload(),
                    signatures: Vec::new(),
                };
                let entry = chain
                    .into_record(PACKAGE, "1.0.0", &envelope)
                    .to_canonical()
                    .unwrap();
                heads.insert(
                    (*service).to_string(),
                    gantry_ledger::chain::entry_hash(&entry),
                );
                entries.push(entry);
            }
        }
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        ledger.append_batch(&refs).unwrap();
    }

    fn attempts(ledger: &Ledger) -> Vec<(String, Vec<String>)> {
        let history = History::build(&ledger.snapshot().unwrap()).unwrap();
        let report = list(&history);
        assert_eq!(report.promotions.len(), 1);
        report.promotions[0]
            .attempts
            .iter()
            .map(|a| {
                (
                    a.decision.clone(),
                    a.services.iter().map(|s| s.service.clone()).collect(),
                )
            })
            .collect()
    }

    fn owned(decision: &str, services: &[&str]) -> (String, Vec<String>) {
        (
            decision.to_string(),
            services.iter().map(|s| s.to_string()).collect(),
        )
    }

    #[test]
    fn two_promotions_of_a_package_in_one_second_are_two_attempts() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::create_or_open(&dir.path().join("ledger")).unwrap();
        let time = "2026-12-06T23:06:08Z";
        attempt(&ledger, time, &["db", "api"], "blocked");
        attempt(&ledger, time, &["db", "api"], "promoted");
        assert_eq!(
            attempts(&ledger),
            [
                owned("blocked", &["db", "api"]),
                owned("promoted", &["db", "api"])
            ]
        );
    }

    #[test]
    fn attempts_in_one_second_with_one_decision_stay_apart() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::create_or_open(&dir.path().join("ledger")).unwrap();
        let time = "2026-12-06T23:06:08Z";
        // Two blocked attempts, then one of a single service, each its own
        // batch.
        attempt(&ledger, time, &["db", "api"], "blocked");
        attempt(&ledger, time, &["db", "api"], "blocked");
        attempt(&ledger, time, &["api"], "blocked");
        assert_eq!(
            attempts(&ledger),
            [
                owned("blocked", &["db", "api"]),
                owned("blocked", &["db", "api"]),
                owned("blocked", &["api"]),
            ]
        );
    }
}
