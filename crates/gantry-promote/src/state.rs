//! The recorded state: what the ledger's evidence chain says about each
//! service. The ledger is the only record of promotions; this module reads
//! it back in one pass. A service's version is in the state the newest
//! `validation` record with decision `promoted` moved it to, and in the
//! first state until one did.

use std::collections::{BTreeMap, HashMap};

use gantry_ledger::Snapshot;
use gantry_ledger::chain::{CHAIN_PREDICATE, ChainLinks, ChainRecord, ChainType};
use gantry_ledger::record::EvidenceRecord;
use serde::Serialize;

/// One chain record, where it is in the ledger.
#[derive(Debug, Clone, Serialize)]
pub struct ChainEntry {
    /// The ledger entry index.
    pub index: u64,
    /// The service version the record is about.
    pub version: String,
    pub record: ChainRecord,
    /// The DSSE envelope holding it (approvals are signed by the approver).
    #[serde(skip)]
    pub envelope: serde_json::Value,
}

/// Where a service's version stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placement {
    pub state: String,
    /// When it entered the state (RFC 3339).
    pub since: String,
    /// The ledger entry that moved it there.
    pub entry: u64,
}

/// Why the recorded state could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    #[error(transparent)]
    Ledger(#[from] gantry_ledger::LedgerError),
    #[error("ledger entry {index}: {reason}; `gantry ledger verify` says more")]
    Record { index: u64, reason: String },
}

/// The evidence chain of every service, as the ledger holds it.
#[derive(Debug, Default)]
pub struct History {
    entries: Vec<ChainEntry>,
    links: ChainLinks,
    /// (service, version) → where it is.
    placements: HashMap<(String, String), Placement>,
    /// service → state → newest version there.
    by_state: HashMap<String, BTreeMap<String, (String, u64)>>,
    /// Size of the ledger read.
    size: u64,
}

impl History {
    /// Reads every chain record of the snapshot, in log order. Entries that
    /// are not chain records are skipped without being parsed.
    pub fn build(snapshot: &Snapshot) -> Result<History, StateError> {
        let mut history = History::new(snapshot.size());
        snapshot.for_each_entry(|index, bytes| history.add(index, bytes))?;
        Ok(history)
    }

    /// An empty history of a ledger of `size` entries, to [`History::add`]
    /// them to.
    pub fn new(size: u64) -> History {
        History {
            size,
            ..History::default()
        }
    }

    /// Adds entry `index` when it is a chain record. The records are
    /// canonical JSON, so a chain record always holds the predicate URI
    /// verbatim: other entries are skipped unparsed.
    pub fn add(&mut self, index: u64, bytes: &[u8]) -> Result<(), StateError> {
        if memchr::memmem::find(bytes, CHAIN_PREDICATE.as_bytes()).is_none() {
            return Ok(());
        }
        let record = EvidenceRecord::from_canonical(bytes).map_err(|e| StateError::Record {
            index,
            reason: e.to_string(),
        })?;
        let Some(chain) = ChainRecord::from_record(&record).map_err(|e| StateError::Record {
            index,
            reason: e.to_string(),
        })?
        else {
            return Ok(());
        };
        self.links.advance(&chain.service, bytes);
        self.push(ChainEntry {
            index,
            version: record.version.clone().unwrap_or_default(),
            record: chain,
            envelope: record.envelope,
        });
        Ok(())
    }

    fn push(&mut self, entry: ChainEntry) {
        if entry.record.evidence.kind == ChainType::Validation
            && entry
                .record
                .evidence
                .data
                .get("decision")
                .and_then(|d| d.as_str())
                == Some("promoted")
            && let Some(to) = entry
                .record
                .evidence
                .data
                .get("to")
                .and_then(|d| d.as_str())
        {
            let service = entry.record.service.clone();
            self.placements.insert(
                (service.clone(), entry.version.clone()),
                Placement {
                    state: to.to_string(),
                    since: entry.record.timestamp.clone(),
                    entry: entry.index,
                },
            );
            self.by_state
                .entry(service)
                .or_default()
                .insert(to.to_string(), (entry.version.clone(), entry.index));
        }
        self.entries.push(entry);
    }

    /// The ledger size this history was read at.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Where `version` of `service` is, if a promotion ever moved it.
    pub fn placement(&self, service: &str, version: &str) -> Option<&Placement> {
        self.placements
            .get(&(service.to_string(), version.to_string()))
    }

    /// For each state, the newest version of `service` that entered it (a
    /// version counts in one state only: the one it is in now).
    pub fn versions_by_state(&self, service: &str) -> Vec<(String, String)> {
        let Some(states) = self.by_state.get(service) else {
            return Vec::new();
        };
        states
            .iter()
            .filter(|(state, (version, _))| {
                self.placement(service, version)
                    .is_some_and(|p| &p.state == *state)
            })
            .map(|(state, (version, _))| (state.clone(), version.clone()))
            .collect()
    }

    /// The hash the next chain record of `service` names as
    /// `previous_hash`.
    pub fn head(&self, service: &str) -> &str {
        self.links.head(service)
    }

    /// Every chain record, in log order.
    pub fn entries(&self) -> &[ChainEntry] {
        &self.entries
    }

    /// The chain records of one promotion (a package's id), in log order.
    pub fn of_promotion<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a ChainEntry> + 'a {
        self.entries
            .iter()
            .filter(move |e| e.record.promotion_id == id)
    }
}
