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
                    Some(last) if last.time == entry.record.timestamp && last.to == service.to => {
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
