//! Approvals: an approver signs, with their own key, one evidence chain
//! record per service of a package (a DSSE envelope of an in-toto
//! statement about the package), and the records go into the ledger.
//!
//! An approval counts only when its approver is listed in
//! `.gantry/promotion.yml`, the envelope verifies with that approver's
//! public key, the approver did not create the package (with
//! `prevent_self_approval`, the default) and no earlier approval of the
//! same approver was counted. `approve` refuses up front what would never
//! count.

use gantry_attest::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, accepted_keys};
use gantry_attest::keys::{PrivateKey, PublicKey};
use gantry_ledger::Ledger;
use gantry_ledger::chain::{ChainEvidence, ChainRecord, ChainType};
use indexmap::IndexMap;
use serde::Serialize;

use crate::package::Package;
use crate::state::{ChainEntry, History};

/// What `gantry approve` asks for.
#[derive(Debug)]
pub struct ApproveRequest<'a> {
    pub package: &'a Package,
    pub approver: &'a str,
    pub key: &'a PrivateKey,
    pub comment: Option<String>,
    /// RFC 3339.
    pub time: String,
}

/// Who may approve, and how.
#[derive(Debug, Clone, Copy)]
pub struct ApproverRules<'a> {
    /// Name → public key.
    pub approvers: &'a IndexMap<String, PublicKey>,
    pub prevent_self_approval: bool,
}

/// What `gantry approve` recorded.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalReport {
    pub version: u32,
    pub package: String,
    pub approver: String,
    pub key_id: String,
    /// One record per service: (service, ledger entry).
    pub entries: Vec<(String, u64)>,
}

/// Why an approval was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApprovalError {
    #[error("`{name}` is not {role} in {file}{}", hint.as_ref().map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default())]
    UnknownApprover {
        name: String,
        hint: Option<String>,
        /// "an approver", "a reviewer of environment `production`".
        role: String,
        file: String,
    },
    #[error("no {what} listed in {file} (`{key}` maps names to public key files)")]
    NoApprovers {
        /// "approvers are", "reviewers of `production` are".
        what: String,
        key: &'static str,
        file: String,
    },
    #[error("the key {given} is not {name}'s: {file} lists {expected} for {name}")]
    WrongKey {
        name: String,
        given: String,
        expected: String,
        file: String,
    },
    #[error("{name} created package {package} and may not approve it (prevent_self_approval)")]
    SelfApproval { name: String, package: String },
    #[error("{name} already approved package {package} (ledger entry {entry})")]
    AlreadyApproved {
        name: String,
        package: String,
        entry: u64,
    },
    #[error(transparent)]
    Sign(#[from] gantry_attest::AttestError),
    #[error(transparent)]
    Ledger(#[from] gantry_ledger::LedgerError),
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
}

/// The approvals of a package that count for one service, and why the
/// others do not.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Approvals {
    /// (approver, time, comment), in ledger order.
    pub counted: Vec<CountedApproval>,
    /// Why each other approval record does not count.
    pub rejected: Vec<String>,
}

/// An approval that counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountedApproval {
    pub approver: String,
    pub time: String,
    pub comment: Option<String>,
    pub entry: u64,
}

/// The data of an approval record.
fn approval_data(
    package: &str,
    approver: &str,
    key_id: &str,
    comment: &Option<String>,
) -> serde_json::Value {
    serde_json::json!({
        "package": package,
        "approver": approver,
        "key_id": key_id,
        "comment": comment,
    })
}

/// Signs and records `request`'s approval, one chain record per service,
/// holding the services' locks.
pub fn approve(
    ledger: &Ledger,
    locks: &std::path::Path,
    rules: ApproverRules<'_>,
    request: &ApproveRequest<'_>,
) -> Result<ApprovalReport, ApprovalError> {
    let package = request.package;
    let name = request.approver;
    check_signer(rules.approvers, name, request.key, &Signers::PROMOTION)?;
    if rules.prevent_self_approval && package.created_by == name {
        return Err(ApprovalError::SelfApproval {
            name: name.to_string(),
            package: package.id.clone(),
        });
    }
    let services = package.service_names();
    let _locks = crate::lock::lock_services(locks, &services, |_| {})?;
    let history = History::build(&ledger.snapshot()?)?;
    for service in &services {
        let found = verified(&history, package, service, rules);
        if let Some(previous) = found.counted.iter().find(|a| a.approver == name) {
            return Err(ApprovalError::AlreadyApproved {
                name: name.to_string(),
                package: package.id.clone(),
                entry: previous.entry,
            });
        }
    }
    let mut entries = Vec::with_capacity(services.len());
    for service in &services {
        let record = ChainRecord {
            promotion_id: package.id.clone(),
            timestamp: request.time.clone(),
            service: service.clone(),
            previous_hash: history.head(service).to_string(),
            evidence: ChainEvidence {
                kind: ChainType::Approval,
                data: approval_data(&package.id, name, request.key.key_id(), &request.comment),
                signatures: vec![serde_json::json!({
                    "keyid": request.key.key_id(),
                    "signer": name,
                })],
            },
        };
        let statement = record.statement(&package.id);
        let envelope = sign_statement(statement.to_payload(), request.key)?;
        let version = package.content.version_of(service).unwrap_or_default();
        let entry = record
            .into_record(&package.id, version, &envelope)
            .to_canonical()?;
        entries.push((service.clone(), entry));
    }
    let refs: Vec<&[u8]> = entries.iter().map(|(_, e)| e.as_slice()).collect();
    let first = ledger.append_batch(&refs)?;
    Ok(ApprovalReport {
        version: 1,
        package: package.id.clone(),
        approver: name.to_string(),
        key_id: request.key.key_id().to_string(),
        entries: entries
            .into_iter()
            .enumerate()
            .map(|(i, (service, _))| (service, first + i as u64))
            .collect(),
    })
}

/// Where signers are listed and what they are called, for messages.
#[derive(Debug, Clone)]
pub struct Signers<'a> {
    /// "an approver", "a reviewer of environment `production`".
    pub role: &'a str,
    /// "approvers are", "reviewers of `production` are".
    pub plural: &'a str,
    /// The key that lists them: `approvers:`.
    pub key: &'static str,
    /// The file that lists them.
    pub file: &'a str,
}

impl Signers<'static> {
    /// The approvers of `.gantry/promotion.yml`.
    pub const PROMOTION: Signers<'static> = Signers {
        role: "an approver",
        plural: "approvers are",
        key: "approvers:",
        file: ".gantry/promotion.yml",
    };
}

/// Refuses up front a signature that would never count: nobody is listed,
/// `name` is not listed, or `key` is not the one listed for `name`. Gives
/// the listed public key.
pub fn check_signer<'k>(
    listed: &'k IndexMap<String, PublicKey>,
    name: &str,
    key: &PrivateKey,
    signers: &Signers<'_>,
) -> Result<&'k PublicKey, ApprovalError> {
    if listed.is_empty() {
        return Err(ApprovalError::NoApprovers {
            what: signers.plural.to_string(),
            key: signers.key,
            file: signers.file.to_string(),
        });
    }
    let Some(expected) = listed.get(name) else {
        return Err(ApprovalError::UnknownApprover {
            name: name.to_string(),
            hint: gantry_workflow::did_you_mean(name, listed.keys().map(String::as_str))
                .map(str::to_string),
            role: signers.role.to_string(),
            file: signers.file.to_string(),
        });
    };
    if expected != key.public_key() {
        return Err(ApprovalError::WrongKey {
            name: name.to_string(),
            given: key.key_id().to_string(),
            expected: expected.key_id().to_string(),
            file: signers.file.to_string(),
        });
    }
    Ok(expected)
}

/// Signs an in-toto statement's payload into a DSSE envelope.
pub fn sign_statement(payload: Vec<u8>, key: &PrivateKey) -> Result<Envelope, ApprovalError> {
    Ok(Envelope::sign(IN_TOTO_PAYLOAD_TYPE, payload, &[key])?)
}

/// Whether `envelope` holds an in-toto statement signed by `key`.
pub fn signed_by(envelope: &Envelope, key: &PublicKey) -> bool {
    envelope.payload_type == IN_TOTO_PAYLOAD_TYPE
        && !accepted_keys(&envelope.verify(std::slice::from_ref(key))).is_empty()
}

/// The approvals of `package` for `service` that count, checking each
/// record's signature against its approver's key.
pub fn verified(
    history: &History,
    package: &Package,
    service: &str,
    rules: ApproverRules<'_>,
) -> Approvals {
    let mut found = Approvals::default();
    // An approval is for one move: once the service's version has moved
    // (promoted, or demoted and promoted again), earlier approvals are spent.
    let moved = package
        .content
        .services
        .iter()
        .find(|s| s.name == service)
        .and_then(|s| history.placement(service, &s.version))
        .map(|p| p.entry);
    for entry in history
        .of_promotion(&package.id)
        .filter(|e| e.record.service == service && e.record.evidence.kind == ChainType::Approval)
    {
        if let Some(moved) = moved.filter(|m| entry.index < *m) {
            found.rejected.push(format!(
                "ledger entry {}: spent by the move recorded in entry {moved}; an approval counts for one promotion",
                entry.index
            ));
            continue;
        }
        match check(entry, package, rules, &found.counted) {
            Ok(counted) => found.counted.push(counted),
            Err(why) => found
                .rejected
                .push(format!("ledger entry {}: {why}", entry.index)),
        }
    }
    found
}

fn check(
    entry: &ChainEntry,
    package: &Package,
    rules: ApproverRules<'_>,
    counted: &[CountedApproval],
) -> Result<CountedApproval, String> {
    let data = &entry.record.evidence.data;
    let text = |key: &str| data.get(key).and_then(serde_json::Value::as_str);
    let approver = text("approver").ok_or("the approval names no approver")?;
    if text("package") != Some(package.id.as_str()) {
        return Err(format!("{approver}'s approval is about another package"));
    }
    let key = rules
        .approvers
        .get(approver)
        .ok_or_else(|| format!("{approver} is not an approver in .gantry/promotion.yml"))?;
    let envelope = serde_json::to_vec(&entry.envelope)
        .ok()
        .and_then(|bytes| Envelope::from_json(&bytes).ok())
        .ok_or_else(|| format!("{approver}'s approval is not a DSSE envelope"))?;
    if !signed_by(&envelope, key) {
        return Err(format!(
            "{approver}'s approval is not signed by {approver}'s key {}",
            key.key_id()
        ));
    }
    if rules.prevent_self_approval && package.created_by == approver {
        return Err(format!(
            "{approver} created the package and may not approve it (prevent_self_approval)"
        ));
    }
    if let Some(first) = counted.iter().find(|c| c.approver == approver) {
        return Err(format!(
            "{approver} approved already (entry {}); an approver counts once",
            first.entry
        ));
    }
    Ok(CountedApproval {
        approver: approver.to_string(),
        time: entry.record.timestamp.clone(),
        comment: text("comment").map(str::to_string),
        entry: entry.index,
    })
}
