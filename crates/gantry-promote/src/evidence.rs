//! The evidence of each service version in the ledger, and the built-in
//! checks over it.
//!
//! [`EvidenceIndex::build`] reads a ledger [`Snapshot`] once and groups the
//! records by the `service` and `version` they were appended with
//! (`gantry ledger append --service S --service-version V`). An entry is
//! the canonical JSON of an [`gantry_ledger::EvidenceRecord`], whose keys
//! are sorted: the envelope comes first and everything else after its
//! last `},"kind":"`. So only that short tail is searched for
//! `"service":"` and parsed; the envelope's bytes are kept as they are,
//! parsed only when a check reads it ([`IndexedRecord::envelope`]) and
//! verified from those exact bytes. Entries that are not evidence records
//! are skipped; they never count.
//!
//! A record counts only when it is *verified*: its DSSE envelope is signed
//! by one of the trusted keys (`trusted_keys` of `.gantry/promotion.yml`),
//! its payload is an in-toto statement of the record's predicate type, and
//! a built-in predicate is well-formed ([`gantry_attest::verify::verify`]).
//! With no trusted keys every check fails and says so. Where one record
//! decides (tests, audit, vulnerabilities) the newest verified record of
//! the kind wins. Every reason names the record (`#index` in the ledger),
//! what is wrong or missing, and how to make what is missing.
//!
//! A record's kind is the one its predicate type gives
//! ([`gantry_ledger::record::kind_for_predicate`]: `test-result`, `audit`,
//! `vulns`, `provenance`, `sbom`, `vsa`), or the kind it was appended with
//! for any other predicate type.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

use gantry_attest::keys::PublicKey;
use gantry_attest::statement::Statement;
use gantry_attest::verify::{Policy, verify};
use gantry_ledger::Snapshot;
use gantry_ledger::record::kind_for_predicate;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::outcome::Outcome;

/// How many findings or vulnerabilities a reason names before "and N more".
const SHOWN: usize = 5;
/// What canonical JSON writes before a record's service.
const SERVICE_KEY: &[u8] = b"\"service\":\"";
/// How a canonical evidence record starts.
const ENVELOPE_KEY: &[u8] = b"{\"envelope\":";
/// What ends the envelope of a canonical evidence record: its last
/// occurrence (nothing after the top-level `kind` holds an object
/// followed by a `kind` key, and no string can hold an unescaped quote).
const KIND_AFTER_ENVELOPE: &[u8] = b"},\"kind\":\"";

/// Why the index could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    #[error("failed to read the ledger: {0}")]
    Ledger(#[from] gantry_ledger::LedgerError),
}

/// One evidence record of a service version.
#[derive(Clone)]
pub struct IndexedRecord {
    /// The ledger entry index.
    pub index: u64,
    /// The kind its predicate type gives (or the recorded one).
    pub kind: String,
    pub predicate_type: String,
    /// When it was recorded, RFC 3339.
    pub time: String,
    /// The entry's bytes; the envelope is `entry[envelope]`.
    entry: Vec<u8>,
    envelope: Range<usize>,
    parsed: OnceLock<Value>,
    checked: OnceLock<Checked>,
}

/// A verification, and the trusted keys it was made with.
#[derive(Debug, Clone)]
struct Checked {
    keys: Vec<String>,
    result: Result<Verified, String>,
}

/// A record that verified: who signed it and what it says.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Key ids of the trusted keys that signed.
    pub signed_by: Vec<String>,
    pub statement: Statement,
}

impl std::fmt::Debug for IndexedRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexedRecord")
            .field("index", &self.index)
            .field("kind", &self.kind)
            .field("predicate_type", &self.predicate_type)
            .field("time", &self.time)
            .field("envelope_bytes", &self.envelope.len())
            .finish_non_exhaustive()
    }
}

impl IndexedRecord {
    /// The DSSE envelope's JSON bytes, as recorded.
    pub fn envelope_bytes(&self) -> &[u8] {
        self.entry.get(self.envelope.clone()).unwrap_or_default()
    }

    /// The DSSE envelope as recorded (parsed on first use; `null` when its
    /// bytes are not JSON).
    pub fn envelope(&self) -> &Value {
        self.parsed
            .get_or_init(|| serde_json::from_slice(self.envelope_bytes()).unwrap_or(Value::Null))
    }

    /// Verifies the envelope against `trusted` (once per key set): the
    /// signers and the statement, or why it does not count.
    pub fn verified(&self, trusted: &[PublicKey]) -> Result<Verified, String> {
        let keys: Vec<String> = trusted.iter().map(|k| k.key_id().to_string()).collect();
        if let Some(c) = self.checked.get()
            && c.keys == keys
        {
            return c.result.clone();
        }
        let result = self.verify_now(trusted);
        let _ = self.checked.set(Checked {
            keys,
            result: result.clone(),
        });
        result
    }

    fn verify_now(&self, trusted: &[PublicKey]) -> Result<Verified, String> {
        let bytes = self.envelope_bytes();
        let policy = Policy {
            keys: trusted.to_vec(),
            threshold: 1,
            predicate_type: Some(self.predicate_type.clone()),
            files: Vec::new(),
        };
        let report = verify(bytes, &policy);
        if let Some(failed) = report.checks.iter().find(|c| !c.passed) {
            let why = match failed.check {
                "signatures" => unsigned_why(bytes, trusted),
                other => format!("fails its {other} check: {}", failed.detail),
            };
            return Err(format!("{} record #{} {why}", self.kind, self.index));
        }
        match report.statement {
            Some(statement) if report.passed() => Ok(Verified {
                signed_by: report.accepted_keys,
                statement,
            }),
            _ => Err(format!(
                "{} record #{} holds no in-toto statement",
                self.kind, self.index
            )),
        }
    }
}

/// Why no trusted key signed an envelope, signature by signature.
fn unsigned_why(bytes: &[u8], trusted: &[PublicKey]) -> String {
    let Ok(envelope) = gantry_attest::Envelope::from_json(bytes) else {
        return "is not a DSSE envelope".into();
    };
    if envelope.signatures.is_empty() {
        return "is not signed".into();
    }
    let why: Vec<String> = envelope
        .verify(trusted)
        .iter()
        .map(|c| {
            let key = if c.keyid.is_empty() {
                "a key without keyid".to_string()
            } else {
                format!("key {}…", short(&c.keyid))
            };
            if c.keyid_known {
                format!("has a signature by trusted {key} that does not verify (the payload or the signature changed)")
            } else {
                format!("is signed by an untrusted {key}")
            }
        })
        .collect();
    why.join(" and ")
}

/// The fields after the envelope the index needs; the rest is skipped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntryFields {
    kind: String,
    predicate_type: String,
    time: String,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    version: Option<String>,
}

/// Every service version's evidence records, from one ledger snapshot.
#[derive(Debug, Default)]
pub struct EvidenceIndex {
    by_version: HashMap<String, HashMap<String, Vec<IndexedRecord>>>,
}

impl EvidenceIndex {
    /// Reads every entry of `snapshot` once.
    pub fn build(snapshot: &Snapshot) -> Result<EvidenceIndex, EvidenceError> {
        let mut index = EvidenceIndex::default();
        snapshot.for_each_entry(|i, bytes| {
            index.add(i, bytes);
            Ok::<(), EvidenceError>(())
        })?;
        Ok(index)
    }

    /// Adds entry `index` when it is evidence of a service version.
    pub fn add(&mut self, index: u64, entry: &[u8]) {
        if !entry.starts_with(ENVELOPE_KEY) {
            return;
        }
        let Some(end) = rfind(entry, KIND_AFTER_ENVELOPE) else {
            return;
        };
        // `{` + `"kind":"…",…}`: the record without its envelope.
        let Some(rest) = entry.get(end + 2..) else {
            return;
        };
        if !contains(rest, SERVICE_KEY) {
            return;
        }
        let mut tail = Vec::with_capacity(rest.len() + 1);
        tail.push(b'{');
        tail.extend_from_slice(rest);
        let Ok(fields) = serde_json::from_slice::<EntryFields>(&tail) else {
            return;
        };
        let (Some(service), Some(version)) = (fields.service, fields.version) else {
            return;
        };
        let kind = match kind_for_predicate(&fields.predicate_type) {
            "attestation" => fields.kind,
            known => known.to_string(),
        };
        self.by_version
            .entry(service)
            .or_default()
            .entry(version)
            .or_default()
            .push(IndexedRecord {
                index,
                kind,
                predicate_type: fields.predicate_type,
                time: fields.time,
                envelope: ENVELOPE_KEY.len()..end + 1,
                entry: entry.to_vec(),
                parsed: OnceLock::new(),
                checked: OnceLock::new(),
            });
    }

    /// The records of `service` at `version`, oldest first.
    pub fn records(&self, service: &str, version: &str) -> &[IndexedRecord] {
        self.by_version
            .get(service)
            .and_then(|v| v.get(version))
            .map_or(&[], Vec::as_slice)
    }

    /// The records of `service` at `version`, with their names for reasons.
    pub fn evidence<'a>(&'a self, service: &'a str, version: &'a str) -> Evidence<'a> {
        Evidence {
            service,
            version,
            records: self.records(service, version),
        }
    }

    /// The versions of `service` that have evidence, in no order.
    pub fn versions(&self, service: &str) -> impl Iterator<Item = &str> {
        self.by_version
            .get(service)
            .into_iter()
            .flat_map(|v| v.keys().map(String::as_str))
    }
}

/// The evidence of one service version.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    pub service: &'a str,
    pub version: &'a str,
    /// Oldest first.
    pub records: &'a [IndexedRecord],
}

impl Evidence<'_> {
    /// Whether any record (verified or not) is of `kind`.
    pub fn has_kind(&self, kind: &str) -> bool {
        self.records.iter().any(|r| r.kind == kind)
    }

    /// The newest record of `kind` that verifies, or every reason none
    /// does (as one sentence), with how to make one.
    fn newest_verified(
        &self,
        kind: &str,
        trusted: &[PublicKey],
    ) -> Result<(&IndexedRecord, Verified), String> {
        let mut why = Vec::new();
        for record in self.records.iter().rev().filter(|r| r.kind == kind) {
            match record.verified(trusted) {
                Ok(v) => return Ok((record, v)),
                Err(reason) => why.push(reason),
            }
        }
        Err(self.missing(kind, &why))
    }

    /// "no signed KIND for S V (reasons): how to make one".
    fn missing(&self, kind: &str, why: &[String]) -> String {
        let mut text = format!("no signed {kind} for {} {}", self.service, self.version);
        if !why.is_empty() {
            text.push_str(&format!(" ({})", why.join("; ")));
        }
        text.push_str(": ");
        text.push_str(&self.how_to(kind));
        text
    }

    /// The commands that make and record evidence of `kind`.
    fn how_to(&self, kind: &str) -> String {
        let make = match kind {
            "test-result" => {
                "`gantry attest -t test-result -p junit.xml -s ARTIFACT -k KEY -o tests.dsse.json`"
            }
            "audit" => {
                "`gantry audit --format json > audit.json`, `gantry attest -t audit -p audit.json -s ARTIFACT -k KEY -o audit.dsse.json`"
            }
            "vulns" => {
                "`gantry scan --format json > vulns.json`, `gantry attest -t vulns -p vulns.json -s ARTIFACT -k KEY -o vulns.dsse.json`"
            }
            "sbom" => {
                "`gantry sbom -o sbom.json`, `gantry attest -t cyclonedx -p sbom.json -s ARTIFACT -k KEY -o sbom.dsse.json`"
            }
            "provenance" => {
                "`gantry run --attest --key KEY` (provenance of every uploaded artifact) or `gantry attest -t slsa-provenance --workflow WORKFLOW -s ARTIFACT -k KEY -o provenance.dsse.json`"
            }
            _ => {
                "`gantry attest -t PREDICATE-TYPE -p PREDICATE -s ARTIFACT -k KEY -o evidence.dsse.json`"
            }
        };
        format!(
            "{make} then `gantry ledger append ENVELOPE --service {} --service-version {}`, signed by a key in trusted_keys",
            self.service, self.version
        )
    }
}

const NO_TRUSTED_KEYS: &str = "no trusted_keys in .gantry/promotion.yml: no signature can count as evidence (add the public keys of the signers that evidence must come from)";

fn short(id: &str) -> &str {
    id.get(..16).unwrap_or(id)
}

fn signers(v: &Verified) -> String {
    v.signed_by
        .iter()
        .map(|k| short(k))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The test-result gate: the newest verified test result has `result`
/// PASSED or WARNED (the reason counts the warnings) and no failed tests.
pub fn all_tests_passing(evidence: &Evidence<'_>, trusted: &[PublicKey]) -> Outcome {
    if trusted.is_empty() {
        return Outcome::fail(NO_TRUSTED_KEYS);
    }
    let (record, v) = match evidence.newest_verified("test-result", trusted) {
        Ok(found) => found,
        Err(reason) => return Outcome::fail(reason),
    };
    let p = &v.statement.predicate;
    let result = p.get("result").and_then(Value::as_str).unwrap_or("");
    let failed = strings(p.get("failedTests"));
    let passed = strings(p.get("passedTests")).len();
    let warned = strings(p.get("warnedTests")).len();
    let at = format!(
        "test-result record #{} (signed by {})",
        record.index,
        signers(&v)
    );
    if result == "FAILED" || !failed.is_empty() {
        let mut names: Vec<&str> = failed.iter().take(SHOWN).copied().collect();
        if failed.len() > SHOWN {
            names.push("…");
        }
        return Outcome::fail(format!(
            "{at}: result {result}, {} failed test(s): {}",
            failed.len(),
            names.join(", ")
        ));
    }
    if result != "PASSED" && result != "WARNED" {
        return Outcome::fail(format!(
            "{at}: `result` is `{result}`, not PASSED, WARNED or FAILED"
        ));
    }
    Outcome::pass(format!(
        "{at}: {result}, {passed} passed, {warned} warned, 0 failed"
    ))
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Audit severities, lowest first (`critical` above gantry's own four).
const AUDIT_LEVELS: [&str; 5] = ["info", "low", "medium", "high", "critical"];
/// Vulnerability severities, lowest first.
const VULN_LEVELS: [&str; 5] = ["none", "low", "medium", "high", "critical"];

fn rank(levels: &[&str], word: &str) -> Option<usize> {
    let word = word.trim().to_ascii_lowercase();
    let word = match word.as_str() {
        "moderate" => "medium",
        "negligible" => "none",
        "informational" | "note" => "info",
        "important" => "high",
        other => other,
    };
    levels.iter().position(|l| *l == word)
}

/// One finding of an audit predicate: rule, place, severity.
struct AuditFinding {
    rule: String,
    place: String,
    severity: String,
}

/// The findings of `gantry audit --format json` output or a SARIF log.
fn audit_findings(p: &Value) -> Vec<AuditFinding> {
    if let Some(findings) = p.get("findings").and_then(Value::as_array) {
        return findings
            .iter()
            .map(|f| {
                let text = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                let line = f
                    .get("location")
                    .and_then(|l| l.get("line"))
                    .and_then(Value::as_u64);
                let path = text("path");
                AuditFinding {
                    rule: text("rule"),
                    place: match line {
                        Some(line) => format!("{path}:{line}"),
                        None => path,
                    },
                    severity: text("severity"),
                }
            })
            .collect();
    }
    let mut out = Vec::new();
    for run in p
        .get("runs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for r in run
            .get("results")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let location = r
                .get("locations")
                .and_then(|l| l.get(0))
                .and_then(|l| l.get("physicalLocation"));
            let path = location
                .and_then(|l| l.get("artifactLocation"))
                .and_then(|a| a.get("uri"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let line = location
                .and_then(|l| l.get("region"))
                .and_then(|r| r.get("startLine"))
                .and_then(Value::as_u64);
            // A severity word in the result's properties, else the level.
            let severity = r
                .get("properties")
                .and_then(|p| p.get("severity"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| {
                    match r.get("level").and_then(Value::as_str).unwrap_or("warning") {
                        "error" => "high",
                        "warning" => "medium",
                        "note" => "low",
                        _ => "info",
                    }
                    .to_string()
                });
            out.push(AuditFinding {
                rule: r
                    .get("ruleId")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                place: match line {
                    Some(line) => format!("{path}:{line}"),
                    None => path.to_string(),
                },
                severity,
            });
        }
    }
    out
}

/// The audit gate (`sast_clean`, `audit_clean`): the newest verified audit
/// has no finding at or above `severity` (info < low < medium < high; an
/// unknown word in a finding counts as high).
pub fn audit_clean(evidence: &Evidence<'_>, trusted: &[PublicKey], severity: &str) -> Outcome {
    if trusted.is_empty() {
        return Outcome::fail(NO_TRUSTED_KEYS);
    }
    let Some(threshold) = rank(&AUDIT_LEVELS, severity) else {
        return Outcome::fail(format!(
            "unknown audit severity `{severity}` (expected one of: {})",
            AUDIT_LEVELS.join(", ")
        ));
    };
    let (record, v) = match evidence.newest_verified("audit", trusted) {
        Ok(found) => found,
        Err(reason) => return Outcome::fail(reason),
    };
    let findings = audit_findings(&v.statement.predicate);
    let high = rank(&AUDIT_LEVELS, "high").unwrap_or(3);
    let blocking: Vec<&AuditFinding> = findings
        .iter()
        .filter(|f| rank(&AUDIT_LEVELS, &f.severity).unwrap_or(high) >= threshold)
        .collect();
    let at = format!("audit record #{} (signed by {})", record.index, signers(&v));
    if blocking.is_empty() {
        return Outcome::pass(format!(
            "{at}: no finding at or above {severity} ({} below)",
            findings.len()
        ));
    }
    let mut named: Vec<String> = blocking
        .iter()
        .take(SHOWN)
        .map(|f| format!("{} at {} ({})", f.rule, f.place, f.severity))
        .collect();
    if blocking.len() > SHOWN {
        named.push(format!("and {} more", blocking.len() - SHOWN));
    }
    Outcome::fail(format!(
        "{at}: {} finding(s) at or above {severity}: {}",
        blocking.len(),
        named.join(", ")
    ))
}

/// The severity of one vulnerability of an in-toto vulns predicate: the
/// highest of its `severity` entries, each a CVSS score (`7.5`), a CVSS
/// vector (`CVSS:3.1/…`) or a word (`HIGH`, `moderate`); none that reads
/// counts as high.
fn vuln_severity(result: &Value) -> (usize, String) {
    let high = rank(&VULN_LEVELS, "high").unwrap_or(3);
    let mut best: Option<(usize, String)> = None;
    let entries: Vec<&Value> = match result.get("severity") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    for entry in entries {
        let score = match entry {
            Value::Object(o) => o.get("score").or_else(|| o.get("severity")),
            other => Some(other),
        };
        let level = match score {
            Some(Value::Number(n)) => n.as_f64().map(band),
            Some(Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(band)
                .or_else(|| {
                    cvss_score(s)
                        .map(band)
                        .or_else(|| rank(&VULN_LEVELS, s).filter(|_| s != "unknown"))
                }),
            _ => None,
        };
        if let Some(level) = level
            && best.as_ref().is_none_or(|(b, _)| level > *b)
        {
            best = Some((level, VULN_LEVELS[level].to_string()));
        }
    }
    best.unwrap_or((high, "unknown, counted as high".to_string()))
}

fn cvss_score(vector: &str) -> Option<f64> {
    use std::str::FromStr;
    let score = cvss::Cvss::from_str(vector.trim()).ok()?.score();
    score.is_finite().then_some(score)
}

/// The CVSS qualitative band of a base score.
fn band(score: f64) -> usize {
    if score >= 9.0 {
        4
    } else if score >= 7.0 {
        3
    } else if score >= 4.0 {
        2
    } else if score > 0.0 {
        1
    } else {
        0
    }
}

/// The vulnerability gate (`no_critical_vulns`): the newest verified vulns
/// predicate lists no vulnerability at or above `severity` (none < low <
/// medium < high < critical).
pub fn no_vulns_at_or_above(
    evidence: &Evidence<'_>,
    trusted: &[PublicKey],
    severity: &str,
) -> Outcome {
    if trusted.is_empty() {
        return Outcome::fail(NO_TRUSTED_KEYS);
    }
    let Some(threshold) = rank(&VULN_LEVELS, severity) else {
        return Outcome::fail(format!(
            "unknown vulnerability severity `{severity}` (expected one of: {})",
            VULN_LEVELS.join(", ")
        ));
    };
    let (record, v) = match evidence.newest_verified("vulns", trusted) {
        Ok(found) => found,
        Err(reason) => return Outcome::fail(reason),
    };
    let results: &[Value] = v
        .statement
        .predicate
        .get("scanner")
        .and_then(|s| s.get("result"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let blocking: Vec<(String, String)> = results
        .iter()
        .filter_map(|r| {
            let (level, word) = vuln_severity(r);
            (level >= threshold).then(|| {
                let id = r.get("id").and_then(Value::as_str).unwrap_or("(no id)");
                (id.to_string(), word)
            })
        })
        .collect();
    let at = format!("vulns record #{} (signed by {})", record.index, signers(&v));
    if blocking.is_empty() {
        return Outcome::pass(format!(
            "{at}: no vulnerability at or above {severity} ({} listed)",
            results.len()
        ));
    }
    let mut named: Vec<String> = blocking
        .iter()
        .take(SHOWN)
        .map(|(id, word)| format!("{id} ({word})"))
        .collect();
    if blocking.len() > SHOWN {
        named.push(format!("and {} more", blocking.len() - SHOWN));
    }
    Outcome::fail(format!(
        "{at}: {} vulnerability(ies) at or above {severity}: {}",
        blocking.len(),
        named.join(", ")
    ))
}

/// The provenance gate: every artifact of the package (name, SHA-256 hex)
/// is a subject, by digest, of SLSA provenance signed by a trusted key.
/// With no artifacts, some verified provenance must exist.
pub fn provenance_verified(
    evidence: &Evidence<'_>,
    trusted: &[PublicKey],
    artifacts: &[(String, String)],
) -> Outcome {
    if trusted.is_empty() {
        return Outcome::fail(NO_TRUSTED_KEYS);
    }
    let mut why = Vec::new();
    let mut verified: Vec<(&IndexedRecord, Verified)> = Vec::new();
    for record in evidence.records.iter().filter(|r| r.kind == "provenance") {
        match record.verified(trusted) {
            Ok(v) => verified.push((record, v)),
            Err(reason) => why.push(reason),
        }
    }
    if verified.is_empty() {
        return Outcome::fail(evidence.missing("provenance", &why));
    }
    let covering = |digest: &str| {
        verified.iter().find(|(_, v)| {
            v.statement.subject.iter().any(|s| {
                s.sha256_hex()
                    .is_some_and(|h| h.eq_ignore_ascii_case(digest))
            })
        })
    };
    let mut missing = Vec::new();
    let mut used = Vec::new();
    for (name, digest) in artifacts {
        match covering(digest) {
            Some((record, _)) => used.push(record.index),
            None => missing.push(format!(
                "{name} (sha256 {})",
                short(&digest.to_ascii_lowercase())
            )),
        }
    }
    used.sort_unstable();
    used.dedup();
    if !missing.is_empty() {
        let records: Vec<String> = verified
            .iter()
            .map(|(r, _)| format!("#{}", r.index))
            .collect();
        return Outcome::fail(format!(
            "no verified provenance of {} {} has as subject: {} (verified provenance records: {}); {}",
            evidence.service,
            evidence.version,
            missing.join(", "),
            records.join(", "),
            evidence.how_to("provenance")
        ));
    }
    if artifacts.is_empty() {
        let (record, v) = &verified[verified.len() - 1];
        return Outcome::pass(format!(
            "provenance record #{} (signed by {}); the package lists no artifact digests to match",
            record.index,
            signers(v)
        ));
    }
    let records: Vec<String> = used.iter().map(|i| format!("#{i}")).collect();
    Outcome::pass(format!(
        "all {} artifact(s) are subjects of verified provenance ({})",
        artifacts.len(),
        records.join(", ")
    ))
}

/// The evidence-collected gate: a verified record of each of `kinds`.
pub fn evidence_collected(
    evidence: &Evidence<'_>,
    trusted: &[PublicKey],
    kinds: &[String],
) -> Outcome {
    if trusted.is_empty() {
        return Outcome::fail(NO_TRUSTED_KEYS);
    }
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for kind in kinds {
        match evidence.newest_verified(kind, trusted) {
            Ok((record, _)) => found.push(format!("{kind} #{}", record.index)),
            Err(reason) => missing.push(reason),
        }
    }
    if missing.is_empty() {
        Outcome::pass(format!("verified evidence: {}", found.join(", ")))
    } else {
        Outcome::fail(missing.join("; "))
    }
}

/// The policy input's `evidence`: every record of the service version,
/// oldest first, whether it verifies, who signed it and a summary of its
/// predicate.
pub fn summaries(evidence: &Evidence<'_>, trusted: &[PublicKey]) -> Vec<Value> {
    evidence
        .records
        .iter()
        .map(|r| {
            let checked = r.verified(trusted);
            let mut doc = json!({
                "index": r.index,
                "kind": r.kind,
                "predicate_type": r.predicate_type,
                "time": r.time,
                "verified": checked.is_ok(),
                "signed_by": checked.as_ref().map(|v| v.signed_by.clone()).unwrap_or_default(),
                "summary": checked.as_ref().map(|v| summary(&r.kind, &v.statement)).unwrap_or_else(|_| json!({})),
            });
            if let (Err(reason), Some(o)) = (&checked, doc.as_object_mut()) {
                o.insert("reason".into(), Value::from(reason.as_str()));
            }
            doc
        })
        .collect()
}

fn summary(kind: &str, statement: &Statement) -> Value {
    let p = &statement.predicate;
    match kind {
        "test-result" => json!({
            "result": p.get("result").and_then(Value::as_str).unwrap_or(""),
            "passed": strings(p.get("passedTests")).len(),
            "warned": strings(p.get("warnedTests")).len(),
            "failed": strings(p.get("failedTests")).len(),
        }),
        "audit" => {
            let findings = audit_findings(p);
            let mut by = serde_json::Map::new();
            for f in &findings {
                let word = rank(&AUDIT_LEVELS, &f.severity).map_or("unknown", |i| AUDIT_LEVELS[i]);
                let n = by.get(word).and_then(Value::as_u64).unwrap_or(0);
                by.insert(word.into(), Value::from(n + 1));
            }
            json!({"findings": findings.len(), "by_severity": by})
        }
        "vulns" => {
            let results: &[Value] = p
                .get("scanner")
                .and_then(|s| s.get("result"))
                .and_then(Value::as_array)
                .map_or(&[], Vec::as_slice);
            let mut by = serde_json::Map::new();
            for r in results {
                let (level, _) = vuln_severity(r);
                let n = by
                    .get(VULN_LEVELS[level])
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                by.insert(VULN_LEVELS[level].into(), Value::from(n + 1));
            }
            json!({"vulnerabilities": results.len(), "by_severity": by})
        }
        "provenance" => json!({
            "build_type": p.pointer("/buildDefinition/buildType").cloned().unwrap_or(Value::Null),
            "builder": p.pointer("/runDetails/builder/id").cloned().unwrap_or(Value::Null),
            "subjects": statement.subject.iter().map(|s| json!({"name": s.name, "sha256": s.sha256_hex()})).collect::<Vec<_>>(),
        }),
        "sbom" => {
            let components = p
                .get("components")
                .or_else(|| p.get("packages"))
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            json!({"components": components})
        }
        _ => json!({}),
    }
}

/// Where the last `needle` in `haystack` starts.
fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let last = haystack.len().checked_sub(needle.len())?;
    (0..=last)
        .rev()
        .find(|&i| haystack[i..].starts_with(needle))
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let mut at = 0;
    while let Some(offset) = haystack[at..].iter().position(|&b| b == first) {
        let start = at + offset + 1;
        if haystack[start..].starts_with(rest) {
            return true;
        }
        at = start;
    }
    false
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::GateResult;
    use gantry_attest::keys::PrivateKey;
    use gantry_attest::predicate::{AUDIT, CYCLONEDX, TEST_RESULT, VULNS};
    use gantry_attest::provenance::PROVENANCE_V1;
    use gantry_attest::{Subject, attest};
    use gantry_ledger::Ledger;
    use gantry_ledger::report::{AppendRequest, append_envelope};

    const APP_SHA: &str = "aa00000000000000000000000000000000000000000000000000000000000001";
    const LIB_SHA: &str = "bb00000000000000000000000000000000000000000000000000000000000002";

    fn key(seed: u8) -> PrivateKey {
        PrivateKey::ed25519_from_seed(&[seed; 32]).unwrap()
    }

    /// A ledger in a temp dir, and helpers to append signed evidence.
    struct Fixture {
        _dir: tempfile::TempDir,
        ledger: Ledger,
    }

    impl Fixture {
        fn new() -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            let ledger = Ledger::create_or_open(&dir.path().join("ledger")).unwrap();
            Fixture { _dir: dir, ledger }
        }

        fn envelope(
            predicate_type: &str,
            predicate: Value,
            subjects: &[(&str, &str)],
            by: &PrivateKey,
        ) -> String {
            let subject = subjects
                .iter()
                .map(|(name, sha)| Subject::sha256(*name, *sha))
                .collect();
            let statement = Statement::new(subject, predicate_type, predicate);
            attest(&statement, &[by]).unwrap().to_json()
        }

        /// Appends evidence for service-a 1.2.0 (or another), returns its index.
        fn add(&self, service: &str, version: &str, envelope: &str) -> u64 {
            let request = AppendRequest {
                service: Some(service.into()),
                version: Some(version.into()),
                time: "2026-12-06T21:00:00Z".into(),
                ..AppendRequest::default()
            };
            append_envelope(&self.ledger, envelope.as_bytes(), &request)
                .unwrap()
                .index
        }

        fn signed(&self, predicate_type: &str, predicate: Value, by: &PrivateKey) -> u64 {
            let e = Self::envelope(predicate_type, predicate, &[("dist/app", APP_SHA)], by);
            self.add("service-a", "1.2.0", &e)
        }

        fn index(&self) -> EvidenceIndex {
            EvidenceIndex::build(&self.ledger.snapshot().unwrap()).unwrap()
        }
    }

    fn tests(result: &str, failed: &[&str]) -> Value {
        json!({"result": result, "passedTests": ["a", "b"], "warnedTests": [], "failedTests": failed})
    }

    fn trusted() -> Vec<PublicKey> {
        vec![key(1).public_key().clone()]
    }

    #[test]
    fn newest_verified_test_result_decides() {
        let f = Fixture::new();
        f.signed(TEST_RESULT, tests("FAILED", &["t.bad"]), &key(1));
        let good = f.signed(TEST_RESULT, tests("PASSED", &[]), &key(1));
        // A newer failing result by an untrusted key does not count.
        f.signed(TEST_RESULT, tests("FAILED", &["t.worse"]), &key(2));
        let index = f.index();
        let ev = index.evidence("service-a", "1.2.0");
        assert_eq!(ev.records.len(), 3);
        let o = all_tests_passing(&ev, &trusted());
        assert_eq!(o.result, GateResult::Pass, "{o:?}");
        assert!(
            o.reason
                .starts_with(&format!("test-result record #{good} (signed by ")),
            "{o:?}"
        );
        assert!(
            o.reason.ends_with("PASSED, 2 passed, 0 warned, 0 failed"),
            "{o:?}"
        );

        let bad = f.signed(TEST_RESULT, tests("FAILED", &["t.one", "t.two"]), &key(1));
        let index = f.index();
        let o = all_tests_passing(&index.evidence("service-a", "1.2.0"), &trusted());
        assert_eq!(o.result, GateResult::Fail);
        assert!(
            o.reason.starts_with(&format!("test-result record #{bad}")),
            "{o:?}"
        );
        assert!(
            o.reason
                .ends_with("result FAILED, 2 failed test(s): t.one, t.two"),
            "{o:?}"
        );
    }

    #[test]
    fn missing_evidence_says_how_to_make_it_with_the_real_flags() {
        let f = Fixture::new();
        let index = f.index();
        let o = all_tests_passing(&index.evidence("service-a", "1.2.0"), &trusted());
        assert_eq!(o.result, GateResult::Fail);
        assert_eq!(
            o.reason,
            "no signed test-result for service-a 1.2.0: `gantry attest -t test-result -p junit.xml -s ARTIFACT -k KEY -o tests.dsse.json` then `gantry ledger append ENVELOPE --service service-a --service-version 1.2.0`, signed by a key in trusted_keys"
        );
    }

    #[test]
    fn untrusted_and_tampered_signatures_never_count() {
        let f = Fixture::new();
        let untrusted = f.signed(TEST_RESULT, tests("PASSED", &[]), &key(2));
        // Trusted, but the signature no longer matches the payload.
        let e = Fixture::envelope(
            TEST_RESULT,
            tests("PASSED", &[]),
            &[("dist/app", APP_SHA)],
            &key(1),
        );
        let mut v: Value = serde_json::from_str(&e).unwrap();
        let sig = v["signatures"][0]["sig"].as_str().unwrap().to_string();
        let flipped = if sig.starts_with('A') { "B" } else { "A" };
        v["signatures"][0]["sig"] = Value::from(format!("{flipped}{}", &sig[1..]));
        let tampered = f.add("service-a", "1.2.0", &v.to_string());
        let index = f.index();
        let o = all_tests_passing(&index.evidence("service-a", "1.2.0"), &trusted());
        assert_eq!(o.result, GateResult::Fail);
        let untrusted_id = short(key(2).key_id()).to_string();
        assert!(
            o.reason.contains(&format!(
                "test-result record #{untrusted} is signed by an untrusted key {untrusted_id}…"
            )),
            "{o:?}"
        );
        assert!(
            o.reason.contains(&format!(
                "test-result record #{tampered} has a signature by trusted key"
            )),
            "{o:?}"
        );
        assert!(o.reason.contains("does not verify"), "{o:?}");
    }

    #[test]
    fn no_trusted_keys_fails_every_evidence_gate() {
        let f = Fixture::new();
        f.signed(TEST_RESULT, tests("PASSED", &[]), &key(1));
        let index = f.index();
        let ev = index.evidence("service-a", "1.2.0");
        for o in [
            all_tests_passing(&ev, &[]),
            audit_clean(&ev, &[], "high"),
            no_vulns_at_or_above(&ev, &[], "critical"),
            provenance_verified(&ev, &[], &[]),
            evidence_collected(&ev, &[], &["test-result".into()]),
        ] {
            assert_eq!(o.result, GateResult::Fail);
            assert!(
                o.reason
                    .starts_with("no trusted_keys in .gantry/promotion.yml"),
                "{o:?}"
            );
        }
    }

    #[test]
    fn a_record_whose_envelope_is_of_another_predicate_type_never_counts() {
        // The record says test-result; the signed statement is an SBOM.
        let f = Fixture::new();
        let e = Fixture::envelope(
            CYCLONEDX,
            json!({"bomFormat": "CycloneDX", "specVersion": "1.6"}),
            &[("dist/app", APP_SHA)],
            &key(1),
        );
        let record = gantry_ledger::EvidenceRecord {
            kind: "test-result".into(),
            subjects: vec![],
            predicate_type: TEST_RESULT.into(),
            envelope: serde_json::from_str(&e).unwrap(),
            time: "2026-12-06T21:00:00Z".into(),
            service: Some("service-a".into()),
            version: Some("1.2.0".into()),
            promotion: None,
        };
        let i = f.ledger.append(&record.to_canonical().unwrap()).unwrap();
        let index = f.index();
        let o = all_tests_passing(&index.evidence("service-a", "1.2.0"), &trusted());
        assert_eq!(o.result, GateResult::Fail);
        assert!(
            o.reason.contains(&format!(
                "test-result record #{i} fails its predicate-type check"
            )),
            "{o:?}"
        );
    }

    #[test]
    fn audit_findings_at_or_above_the_severity_fail() {
        let f = Fixture::new();
        let audit = json!({
            "version": 1,
            "findings": [
                {"rule": "unpinned-uses", "severity": "high", "message": "m", "path": ".github/workflows/ci.yml", "location": {"line": 7, "column": 9}},
                {"rule": "excessive-permissions", "severity": "medium", "message": "m", "path": ".github/workflows/ci.yml", "location": {"line": 3, "column": 1}},
                {"rule": "template-injection", "severity": "low", "message": "m", "path": "a.yml", "location": {"line": 1, "column": 1}}
            ],
            "summary": {"files": 2, "findings": 3}
        });
        let i = f.signed(AUDIT, audit, &key(1));
        let index = f.index();
        let ev = index.evidence("service-a", "1.2.0");
        let o = audit_clean(&ev, &trusted(), "high");
        assert_eq!(o.result, GateResult::Fail);
        assert!(o.reason.starts_with(&format!("audit record #{i}")), "{o:?}");
        assert!(
            o.reason.ends_with(
                "1 finding(s) at or above high: unpinned-uses at .github/workflows/ci.yml:7 (high)"
            ),
            "{o:?}"
        );
        let o = audit_clean(&ev, &trusted(), "medium");
        assert!(
            o.reason.contains("2 finding(s) at or above medium"),
            "{o:?}"
        );
        assert_eq!(
            audit_clean(&ev, &trusted(), "critical").result,
            GateResult::Pass
        );
        assert!(
            audit_clean(&ev, &trusted(), "severe")
                .reason
                .contains("unknown audit severity")
        );

        // SARIF: the level decides when no severity word is given.
        let sarif = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "gantry"}}, "results": [
            {"ruleId": "unpinned-uses", "level": "error", "locations": [{"physicalLocation": {"artifactLocation": {"uri": "ci.yml"}, "region": {"startLine": 4}}}]},
            {"ruleId": "x", "level": "note"}
        ]}]});
        let j = f.signed(AUDIT, sarif, &key(1));
        let index = f.index();
        let o = audit_clean(&index.evidence("service-a", "1.2.0"), &trusted(), "high");
        assert!(o.reason.starts_with(&format!("audit record #{j}")), "{o:?}");
        assert!(
            o.reason.ends_with("unpinned-uses at ci.yml:4 (high)"),
            "{o:?}"
        );
    }

    #[test]
    fn vulnerability_severities_from_scores_vectors_and_words() {
        let f = Fixture::new();
        let vulns = json!({"scanner": {"uri": "pkg:github/gantry", "result": [
            {"id": "CVE-1", "severity": [{"method": "nvd", "score": "9.8"}]},
            {"id": "CVE-2", "severity": [{"method": "cvss_v3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]},
            {"id": "GHSA-3", "severity": [{"method": "ghsa", "score": "moderate"}]},
            {"id": "CVE-4"},
            {"id": "CVE-5", "severity": [{"method": "nvd", "score": "3.1"}, {"method": "vendor", "score": "HIGH"}]}
        ]}});
        let i = f.signed(VULNS, vulns, &key(1));
        let index = f.index();
        let ev = index.evidence("service-a", "1.2.0");
        let o = no_vulns_at_or_above(&ev, &trusted(), "critical");
        assert_eq!(o.result, GateResult::Fail);
        assert!(o.reason.starts_with(&format!("vulns record #{i}")), "{o:?}");
        assert!(
            o.reason.ends_with(
                "2 vulnerability(ies) at or above critical: CVE-1 (critical), CVE-2 (critical)"
            ),
            "{o:?}"
        );
        let o = no_vulns_at_or_above(&ev, &trusted(), "high");
        assert!(
            o.reason.ends_with("4 vulnerability(ies) at or above high: CVE-1 (critical), CVE-2 (critical), CVE-4 (unknown, counted as high), CVE-5 (high)"),
            "{o:?}"
        );
        let clean = json!({"scanner": {"uri": "x", "result": []}});
        f.signed(VULNS, clean, &key(1));
        let index = f.index();
        let o = no_vulns_at_or_above(&index.evidence("service-a", "1.2.0"), &trusted(), "low");
        assert_eq!(o.result, GateResult::Pass, "{o:?}");
    }

    fn provenance() -> Value {
        json!({
            "buildDefinition": {"buildType": "https://gantry.dev/buildtypes/workflow-run/v1", "externalParameters": {}},
            "runDetails": {"builder": {"id": "https://gantry.dev/builders/local/v1"}}
        })
    }

    #[test]
    fn provenance_must_cover_every_package_artifact() {
        let f = Fixture::new();
        let a = f.signed(PROVENANCE_V1, provenance(), &key(1));
        let artifacts = vec![
            ("dist/app".to_string(), APP_SHA.to_string()),
            // The package may write its digest in upper case.
            ("dist/lib".to_string(), LIB_SHA.to_uppercase()),
        ];
        let index = f.index();
        let o = provenance_verified(
            &index.evidence("service-a", "1.2.0"),
            &trusted(),
            &artifacts,
        );
        assert_eq!(o.result, GateResult::Fail);
        assert!(
            o.reason.starts_with(&format!(
                "no verified provenance of service-a 1.2.0 has as subject: dist/lib (sha256 bb00000000000000) (verified provenance records: #{a})"
            )),
            "{o:?}"
        );
        // The lib built elsewhere, by an untrusted key: still missing.
        let e = Fixture::envelope(
            PROVENANCE_V1,
            provenance(),
            &[("dist/lib", LIB_SHA)],
            &key(2),
        );
        f.add("service-a", "1.2.0", &e);
        let index = f.index();
        let o = provenance_verified(
            &index.evidence("service-a", "1.2.0"),
            &trusted(),
            &artifacts,
        );
        assert_eq!(o.result, GateResult::Fail, "{o:?}");
        let e = Fixture::envelope(
            PROVENANCE_V1,
            provenance(),
            &[("dist/lib", LIB_SHA)],
            &key(1),
        );
        let b = f.add("service-a", "1.2.0", &e);
        let index = f.index();
        let o = provenance_verified(
            &index.evidence("service-a", "1.2.0"),
            &trusted(),
            &artifacts,
        );
        assert_eq!(o.result, GateResult::Pass, "{o:?}");
        assert_eq!(
            o.reason,
            format!("all 2 artifact(s) are subjects of verified provenance (#{a}, #{b})")
        );
    }

    #[test]
    fn evidence_collected_names_each_missing_kind() {
        let f = Fixture::new();
        let sbom = f.signed(
            CYCLONEDX,
            json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{}, {}]}),
            &key(1),
        );
        f.signed(
            VULNS,
            json!({"scanner": {"uri": "x", "result": []}}),
            &key(2),
        );
        let index = f.index();
        let ev = index.evidence("service-a", "1.2.0");
        let kinds: Vec<String> = ["sbom", "vulns", "provenance"].map(String::from).to_vec();
        let o = evidence_collected(&ev, &trusted(), &kinds);
        assert_eq!(o.result, GateResult::Fail);
        assert!(
            o.reason.starts_with(
                "no signed vulns for service-a 1.2.0 (vulns record #1 is signed by an untrusted key"
            ),
            "{o:?}"
        );
        assert!(
            o.reason
                .contains("; no signed provenance for service-a 1.2.0: `gantry run --attest"),
            "{o:?}"
        );
        assert!(!o.reason.contains("no signed sbom"), "{o:?}");
        let o = evidence_collected(&ev, &trusted(), &kinds[..1]);
        assert_eq!(o.result, GateResult::Pass);
        assert_eq!(o.reason, format!("verified evidence: sbom #{sbom}"));
    }

    #[test]
    fn index_keeps_service_versions_apart_and_skips_other_entries() {
        let f = Fixture::new();
        f.signed(TEST_RESULT, tests("PASSED", &[]), &key(1));
        let e = Fixture::envelope(
            TEST_RESULT,
            tests("FAILED", &["x"]),
            &[("dist/app", APP_SHA)],
            &key(1),
        );
        f.add("service-a", "1.3.0", &e);
        f.add("service-b", "1.2.0", &e);
        // Not a record at all, and a record of no service.
        f.ledger.append(b"{\"hello\":\"service\"}").unwrap();
        f.ledger.append(b"\"service\":\"x\" but not JSON").unwrap();
        let no_service = AppendRequest {
            time: "2026-12-06T21:00:00Z".into(),
            ..AppendRequest::default()
        };
        append_envelope(&f.ledger, e.as_bytes(), &no_service).unwrap();
        let index = f.index();
        assert_eq!(index.records("service-a", "1.2.0").len(), 1);
        assert_eq!(index.records("service-a", "1.3.0").len(), 1);
        assert_eq!(index.records("service-b", "1.2.0")[0].index, 2);
        assert!(index.records("service-c", "1.2.0").is_empty());
        let mut versions: Vec<&str> = index.versions("service-a").collect();
        versions.sort_unstable();
        assert_eq!(versions, ["1.2.0", "1.3.0"]);
        let r = &index.records("service-a", "1.2.0")[0];
        assert_eq!(
            (r.kind.as_str(), r.predicate_type.as_str()),
            ("test-result", TEST_RESULT)
        );
        assert_eq!(r.time, "2026-12-06T21:00:00Z");
    }

    #[test]
    fn summaries_describe_every_record_for_the_policy_input() {
        let f = Fixture::new();
        f.signed(TEST_RESULT, tests("PASSED", &[]), &key(1));
        f.signed(VULNS, json!({"scanner": {"uri": "x", "result": [{"id": "CVE-1", "severity": [{"method": "nvd", "score": "7.5"}]}]}}), &key(2));
        f.signed(PROVENANCE_V1, provenance(), &key(1));
        let index = f.index();
        let s = summaries(&index.evidence("service-a", "1.2.0"), &trusted());
        assert_eq!(s.len(), 3);
        assert_eq!(s[0]["kind"], "test-result");
        assert_eq!(s[0]["verified"], true);
        assert_eq!(s[0]["signed_by"], json!([key(1).key_id()]));
        assert_eq!(
            s[0]["summary"],
            json!({"result": "PASSED", "passed": 2, "warned": 0, "failed": 0})
        );
        assert_eq!(s[1]["verified"], false);
        assert!(s[1]["reason"].as_str().unwrap().contains("untrusted key"));
        assert_eq!(s[1]["summary"], json!({}));
        assert_eq!(
            s[2]["summary"]["subjects"],
            json!([{"name": "dist/app", "sha256": APP_SHA}])
        );
        assert_eq!(
            s[2]["summary"]["builder"],
            "https://gantry.dev/builders/local/v1"
        );
    }

    #[test]
    fn envelope_bytes_are_exactly_the_recorded_envelope() {
        let f = Fixture::new();
        // An envelope with an extra object holding `kind`, as DSSE allows.
        let e = Fixture::envelope(
            TEST_RESULT,
            tests("PASSED", &[]),
            &[("dist/app", APP_SHA)],
            &key(1),
        );
        let mut v: Value = serde_json::from_str(&e).unwrap();
        v["extra"] = json!({"kind": "x", "service": "other"});
        let i = f.add("service-a", "1.2.0", &v.to_string());
        let index = f.index();
        let r = &index.records("service-a", "1.2.0")[0];
        assert_eq!(r.index, i);
        assert_eq!(r.envelope(), &v);
        let (entry, _) = f.ledger.snapshot().unwrap().entry(i).unwrap();
        let record = gantry_ledger::EvidenceRecord::from_canonical(&entry).unwrap();
        assert_eq!(
            r.envelope_bytes(),
            serde_json_canonicalizer::to_vec(&record.envelope).unwrap()
        );
        assert_eq!(
            all_tests_passing(&index.evidence("service-a", "1.2.0"), &trusted()).result,
            GateResult::Pass
        );
        assert!(index.records("other", "1.2.0").is_empty());
    }

    #[test]
    fn byte_search_finds_the_service_key_anywhere() {
        assert!(contains(br#"{"a":1,"service":"x"}"#, SERVICE_KEY));
        assert!(!contains(br#"{"a":1,"service":1}"#, SERVICE_KEY));
        assert!(!contains(b"", SERVICE_KEY));
        assert!(contains(br#""""service":""#, SERVICE_KEY));
        assert_eq!(rfind(b"abcabc", b"bc"), Some(4));
        assert_eq!(rfind(b"ab", b"abc"), None);
        assert_eq!(rfind(b"xabc", b"abc"), Some(1));
    }
}
