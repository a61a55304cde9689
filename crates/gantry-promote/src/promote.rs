//! Promotion: a package's services, in dependency order, through one
//! transition of the compliance state machine. Every gate of the target
//! state is evaluated for every service (so a refusal names every missing
//! piece); the package moves only when every service passes, and then all
//! its services move in one ledger append. Each evaluated service leaves a
//! `promotion` (the request) and a `validation` (the gates, the digest of
//! their input, the decision) record in its evidence chain, blocked or not;
//! `--dry-run` records nothing.
//!
//! [`decide`] is the whole decision as a pure function of the workspace,
//! the recorded state, the evidence and the time; [`promote`] adds the
//! locks, the reading and the recording around it.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use gantry_ledger::Ledger;
use gantry_ledger::chain::{ChainEvidence, ChainRecord, ChainType};
use serde::Serialize;
use sha2::Digest as _;

use crate::approval::{self, ApproverRules};
use crate::catalog::{Catalog, CatalogError, ComplianceMode, Service};
use crate::config::{Check, ConfigError, GateSpec, GateType, Level, PromotionConfig};
use crate::evidence::{self, EvidenceIndex};
use crate::outcome::{GateResult, Outcome};
use crate::package::{Package, PackageError, PackageStore};
use crate::policy::{Policies, PolicyError};
use crate::state::History;

/// The version of the JSON documents of this module.
pub const REPORT_VERSION: u32 = 1;

/// A repository's promotion configuration: catalog, state machine and
/// gates, policies.
#[derive(Debug)]
pub struct Workspace {
    pub root: PathBuf,
    pub catalog: Catalog,
    pub config: PromotionConfig,
    pub policies: Policies,
}

impl Workspace {
    /// Reads `.gantry/services/`, `.gantry/promotion.yml` and
    /// `.gantry/policies/` under `root`.
    pub fn load(root: &Path) -> Result<Workspace, PromoteError> {
        Ok(Workspace {
            root: root.to_path_buf(),
            catalog: Catalog::load(root)?,
            config: PromotionConfig::load(root)?,
            policies: Policies::load(root)?,
        })
    }

    /// The approver rules of the configuration.
    pub fn approver_rules(&self) -> ApproverRules<'_> {
        ApproverRules {
            approvers: &self.config.approvers,
            prevent_self_approval: self.config.prevent_self_approval,
        }
    }

    fn trusted(&self) -> Vec<gantry_attest::keys::PublicKey> {
        self.config
            .trusted_keys
            .iter()
            .map(|k| k.key.clone())
            .collect()
    }
}

/// Where promotion state is kept: the ledger, the packages, the locks.
#[derive(Debug, Clone, Copy)]
pub struct Stores<'a> {
    pub ledger: &'a Ledger,
    pub packages: &'a PackageStore,
    pub locks: &'a Path,
}

/// What `gantry promote` asks for.
#[derive(Debug, Clone)]
pub struct PromoteRequest {
    /// A package id or a prefix of one.
    pub package: String,
    /// The target state; by default the next state after the least
    /// advanced service's.
    pub to: Option<String>,
    pub dry_run: bool,
    pub requested_by: String,
    pub now: jiff::Timestamp,
}

/// The decision about a whole package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Every service moved (or, with nothing to do, already had).
    Promoted,
    /// A required gate failed.
    Blocked,
    /// Nothing failed, but something is still awaited (approval, window,
    /// soak time).
    Pending,
}

/// The decision about one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceDecision {
    Promoted,
    Blocked,
    Pending,
    /// Passed every gate, but held back because another service of the
    /// package did not.
    Ready,
    /// Already in the target state.
    Unchanged,
}

/// One gate's evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct GateReport {
    pub name: String,
    #[serde(rename = "type")]
    pub gate_type: GateType,
    pub level: Level,
    pub result: GateResult,
    pub reason: String,
}

/// One service's evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceReport {
    pub service: String,
    pub version: String,
    pub from: String,
    pub to: String,
    pub decision: ServiceDecision,
    pub gates: Vec<GateReport>,
    /// `sha256:` digest of the canonical JSON of the gates' input document.
    pub input_digest: String,
}

/// What `gantry promote` decided (and, unless a dry run, recorded).
#[derive(Debug, Clone, Serialize)]
pub struct PromotionReport {
    pub version: u32,
    pub package: String,
    pub decision: Decision,
    pub to: String,
    pub dry_run: bool,
    /// In promotion order.
    pub services: Vec<ServiceReport>,
    /// The ledger entries written (none for a dry run or nothing to do).
    pub recorded: Vec<u64>,
    /// Said when there was nothing to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Why a promotion could not be decided.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PromoteError {
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error(transparent)]
    Evidence(#[from] crate::evidence::EvidenceError),
    #[error(transparent)]
    Ledger(#[from] gantry_ledger::LedgerError),
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
    #[error(transparent)]
    Order(#[from] crate::order::CycleError),
    #[error("unknown state `{name}`; the states are {known}{}", hint.as_ref().map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default())]
    UnknownState {
        name: String,
        known: String,
        hint: Option<String>,
    },
    #[error("package {package} names service `{service}`, which is not in .gantry/services")]
    ServiceGone { package: String, service: String },
    #[error("failed to make canonical JSON: {0}")]
    Canonical(String),
    #[error("another promotion or approval of `{service}` is in progress")]
    Busy { service: String },
}

/// Decides and, unless `dry_run`, records the promotion of a package.
/// `on_wait` is told of each service lock another promotion holds.
pub fn promote(
    workspace: &Workspace,
    stores: Stores<'_>,
    request: &PromoteRequest,
    mut on_wait: impl FnMut(&str),
) -> Result<PromotionReport, PromoteError> {
    promote_locked(workspace, stores, request, |dir, touched| {
        Ok(crate::lock::lock_services(dir, touched, &mut on_wait)?)
    })
}

/// [`promote`] without waiting: [`PromoteError::Busy`] when another
/// promotion or approval holds a lock of a service it touches.
pub fn try_promote(
    workspace: &Workspace,
    stores: Stores<'_>,
    request: &PromoteRequest,
) -> Result<PromotionReport, PromoteError> {
    promote_locked(
        workspace,
        stores,
        request,
        |dir, touched| match crate::lock::try_lock_services(dir, touched)? {
            crate::lock::Taken::Held(locks) => Ok(locks),
            crate::lock::Taken::Busy(service) => Err(PromoteError::Busy { service }),
        },
    )
}

fn promote_locked(
    workspace: &Workspace,
    stores: Stores<'_>,
    request: &PromoteRequest,
    lock: impl FnOnce(&Path, &[String]) -> Result<crate::lock::ServiceLocks, PromoteError>,
) -> Result<PromotionReport, PromoteError> {
    let package = stores.packages.get(&request.package)?;
    for service in package.service_names() {
        if workspace.catalog.get(&service).is_none() {
            return Err(PromoteError::ServiceGone {
                package: package.id.clone(),
                service,
            });
        }
    }
    // The target is fixed before waiting for the locks: a promotion that
    // waited for another of the same package then finds it done.
    let to = match &request.to {
        Some(to) => {
            known_state(&workspace.config, to)?;
            to.clone()
        }
        None => {
            let history = History::build(&stores.ledger.snapshot()?)?;
            let least = least_state(workspace, &history, &package);
            match next_state(&workspace.config, &least) {
                Some(next) => next,
                None => return Ok(nothing_to_do(&package, &least, request.dry_run)),
            }
        }
    };
    let mut touched: BTreeSet<String> = BTreeSet::new();
    for name in package.service_names() {
        if let Some(service) = workspace.catalog.get(&name) {
            touched.extend(service.dependencies.iter().map(|d| d.name.clone()));
        }
        touched.insert(name);
    }
    let touched: Vec<String> = touched.into_iter().collect();
    let _locks = lock(stores.locks, &touched)?;
    let (history, evidence) = read_ledger(&stores.ledger.snapshot()?)?;
    let mut report = decide(workspace, &history, &evidence, &package, &to, request.now)?;
    report.dry_run = request.dry_run;
    if report
        .services
        .iter()
        .all(|s| s.decision == ServiceDecision::Unchanged)
    {
        report.message = Some(format!(
            "nothing to do: every service of the package is already {to}"
        ));
        return Ok(report);
    }
    if !request.dry_run {
        report.recorded = record(stores.ledger, &history, &package, &report, request)?;
    }
    Ok(report)
}

/// The recorded state and the evidence index, in one pass over the ledger.
pub fn read_ledger(
    snapshot: &gantry_ledger::Snapshot,
) -> Result<(History, EvidenceIndex), PromoteError> {
    let mut history = History::new(snapshot.size());
    let mut evidence = EvidenceIndex::default();
    snapshot.for_each_entry(|index, bytes| {
        evidence.add(index, bytes);
        history.add(index, bytes).map_err(PromoteError::from)
    })?;
    Ok((history, evidence))
}

fn nothing_to_do(package: &Package, state: &str, dry_run: bool) -> PromotionReport {
    PromotionReport {
        version: REPORT_VERSION,
        package: package.id.clone(),
        decision: Decision::Promoted,
        to: state.to_string(),
        dry_run,
        services: Vec::new(),
        recorded: Vec::new(),
        message: Some(format!(
            "nothing to do: the package is in {state}, which has no later state to move to; name one with --to"
        )),
    }
}

fn known_state(config: &PromotionConfig, name: &str) -> Result<(), PromoteError> {
    if config.state(name).is_some() {
        return Ok(());
    }
    let names: Vec<&str> = config.states.iter().map(|s| s.name.as_str()).collect();
    Err(PromoteError::UnknownState {
        name: name.to_string(),
        known: names.join(", "),
        hint: gantry_workflow::did_you_mean(name, names.iter().copied()).map(str::to_string),
    })
}

/// The state `version` of `service` is in.
pub fn current_state(
    workspace: &Workspace,
    history: &History,
    service: &str,
    version: &str,
) -> String {
    history
        .placement(service, version)
        .map(|p| p.state.clone())
        .unwrap_or_else(|| workspace.config.initial().name.clone())
}

/// The state of the package's least advanced service (declaration
/// order); the first state for a package without services.
fn least_state(workspace: &Workspace, history: &History, package: &Package) -> String {
    let config = &workspace.config;
    package
        .content
        .services
        .iter()
        .map(|s| current_state(workspace, history, &s.name, &s.version))
        .min_by_key(|state| config.rank(state).unwrap_or(usize::MAX))
        .unwrap_or_else(|| config.initial().name.clone())
}

/// The default target from `state`: its first allowed transition to a
/// later state (declaration order).
fn next_state(config: &PromotionConfig, state: &str) -> Option<String> {
    let rank = config.rank(state)?;
    config
        .state(state)?
        .allowed_transitions
        .iter()
        .filter(|t| config.rank(t).is_some_and(|r| r > rank))
        .min_by_key(|t| config.rank(t))
        .cloned()
}

/// The decision, without locks or recording.
pub fn decide(
    workspace: &Workspace,
    history: &History,
    evidence: &EvidenceIndex,
    package: &Package,
    to: &str,
    now: jiff::Timestamp,
) -> Result<PromotionReport, PromoteError> {
    let names = package.service_names();
    let order = crate::order::promotion_order(&workspace.catalog, &names)?;
    let trusted = workspace.trusted();
    // Where each service of the package would be after this promotion.
    let mut earlier: HashMap<String, ServiceDecision> = HashMap::new();
    let mut services = Vec::with_capacity(order.len());
    for name in &order {
        let Some(service) = workspace.catalog.get(name) else {
            return Err(PromoteError::ServiceGone {
                package: package.id.clone(),
                service: name.clone(),
            });
        };
        let version = package.content.version_of(name).unwrap_or_default();
        let from = current_state(workspace, history, name, version);
        let context = Context {
            workspace,
            history,
            package,
            service,
            version,
            from: &from,
            to,
            now,
            evidence: evidence.evidence(name, version),
            trusted: &trusted,
            earlier: &earlier,
        };
        let report = context.evaluate()?;
        earlier.insert(name.clone(), report.decision);
        services.push(report);
    }
    let decision = if services
        .iter()
        .any(|s| s.decision == ServiceDecision::Blocked)
    {
        Decision::Blocked
    } else if services
        .iter()
        .any(|s| s.decision == ServiceDecision::Pending)
    {
        Decision::Pending
    } else {
        Decision::Promoted
    };
    if decision == Decision::Promoted {
        for s in &mut services {
            if s.decision == ServiceDecision::Ready {
                s.decision = ServiceDecision::Promoted;
            }
        }
    }
    Ok(PromotionReport {
        version: REPORT_VERSION,
        package: package.id.clone(),
        decision,
        to: to.to_string(),
        dry_run: false,
        services,
        recorded: Vec::new(),
        message: None,
    })
}

/// What one service's gates see.
struct Context<'a> {
    workspace: &'a Workspace,
    history: &'a History,
    package: &'a Package,
    service: &'a Service,
    version: &'a str,
    from: &'a str,
    to: &'a str,
    now: jiff::Timestamp,
    evidence: evidence::Evidence<'a>,
    trusted: &'a [gantry_attest::keys::PublicKey],
    /// The decisions about the services earlier in this promotion.
    earlier: &'a HashMap<String, ServiceDecision>,
}

impl Context<'_> {
    fn evaluate(&self) -> Result<ServiceReport, PromoteError> {
        let config = &self.workspace.config;
        let input = self.input();
        let input_digest = digest(&input)?;
        let mut report = ServiceReport {
            service: self.service.name.clone(),
            version: self.version.to_string(),
            from: self.from.to_string(),
            to: self.to.to_string(),
            decision: ServiceDecision::Ready,
            gates: Vec::new(),
            input_digest,
        };
        if self.from == self.to {
            report.decision = ServiceDecision::Unchanged;
            return Ok(report);
        }
        let allowed = config
            .state(self.from)
            .map(|s| s.allowed_transitions.clone())
            .unwrap_or_default();
        if !allowed.iter().any(|t| t == self.to) {
            report.gates.push(GateReport {
                name: "transition".into(),
                gate_type: GateType::Blocking,
                level: Level::Required,
                result: GateResult::Fail,
                reason: format!(
                    "{} → {} is not an allowed transition; from {} the allowed ones are: {}",
                    self.from,
                    self.to,
                    self.from,
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        allowed.join(", ")
                    }
                ),
            });
            report.decision = ServiceDecision::Blocked;
            return Ok(report);
        }
        if self.service.compliance_mode == ComplianceMode::Sandbox
            && self.to != config.initial().name
        {
            report.gates.push(GateReport {
                name: "compliance_mode".into(),
                gate_type: GateType::Blocking,
                level: Level::Required,
                result: GateResult::Fail,
                reason: format!(
                    "{} has compliance_mode sandbox and stays in {}; set compliance_mode: compliant in its service file to promote it",
                    self.service.name,
                    config.initial().name
                ),
            });
        }
        let requirements = config
            .state(self.to)
            .map(|s| s.requirements.clone())
            .unwrap_or_default();
        for requirement in &requirements {
            let Some(gate) = config.gate(&requirement.gate) else {
                report.gates.push(GateReport {
                    name: requirement.gate.clone(),
                    gate_type: GateType::Blocking,
                    level: requirement.level,
                    result: GateResult::Fail,
                    reason: format!("no gate `{}` is defined", requirement.gate),
                });
                continue;
            };
            let outcome = self.gate(&gate, requirement.level, &input);
            report.gates.push(GateReport {
                name: gate.name.clone(),
                gate_type: gate.gate_type,
                level: requirement.level,
                result: outcome.result,
                reason: outcome.reason,
            });
        }
        let blocks = |g: &GateReport| g.level != Level::Recommended;
        report.decision = if report
            .gates
            .iter()
            .any(|g| g.result == GateResult::Fail && blocks(g))
        {
            ServiceDecision::Blocked
        } else if report
            .gates
            .iter()
            .any(|g| g.result == GateResult::Pending && blocks(g))
        {
            ServiceDecision::Pending
        } else {
            ServiceDecision::Ready
        };
        Ok(report)
    }

    /// The record kind an evidence gate reads, for `required_if_present`.
    fn kind_of(check: &Check) -> Option<&'static str> {
        match check {
            Check::AllTestsPassing => Some("test-result"),
            Check::SastClean { .. } | Check::AuditClean { .. } => Some("audit"),
            Check::NoCriticalVulns { .. } => Some("vulns"),
            Check::ProvenanceVerified => Some("provenance"),
            _ => None,
        }
    }

    fn gate(&self, gate: &GateSpec, level: Level, input: &serde_json::Value) -> Outcome {
        if level == Level::RequiredIfPresent
            && let Some(kind) = Self::kind_of(&gate.check)
            && !self.evidence.has_kind(kind)
        {
            return Outcome::skipped(format!(
                "no {kind} evidence for {} {} (required only if present)",
                self.service.name, self.version
            ));
        }
        let records = &self.evidence;
        let trusted = self.trusted;
        match &gate.check {
            Check::AllTestsPassing => evidence::all_tests_passing(records, trusted),
            Check::SastClean { severity } | Check::AuditClean { severity } => {
                evidence::audit_clean(records, trusted, severity)
            }
            Check::NoCriticalVulns { severity } => {
                evidence::no_vulns_at_or_above(records, trusted, severity)
            }
            Check::ProvenanceVerified => {
                let artifacts: Vec<(String, String)> = self
                    .package
                    .content
                    .artifacts_of(&self.service.name)
                    .map(|a| (a.name.clone(), a.sha256.clone()))
                    .collect();
                evidence::provenance_verified(records, trusted, &artifacts)
            }
            Check::EvidenceCollected { kinds } => {
                evidence::evidence_collected(records, trusted, kinds)
            }
            Check::DependenciesCompliant => self.dependencies_compliant(),
            Check::ApprovedPromotion {
                required,
                approvers,
            } => self.approved(*required, approvers),
            Check::SoakTime { duration } => self.soak(*duration),
            Check::Window(window) => window.check(self.now),
            Check::Policy { policy } => self.workspace.policies.evaluate(policy, input),
        }
    }

    /// Where dependency `name` stands for this promotion: the target when
    /// it moves earlier in this promotion, else the most advanced recorded
    /// state of any of its versions.
    fn dependency_state(&self, name: &str) -> Option<String> {
        if matches!(
            self.earlier.get(name),
            Some(ServiceDecision::Ready | ServiceDecision::Unchanged)
        ) {
            return Some(self.to.to_string());
        }
        let config = &self.workspace.config;
        self.history
            .versions_by_state(name)
            .into_iter()
            .map(|(state, _)| state)
            .max_by_key(|state| config.rank(state))
    }

    fn dependencies_compliant(&self) -> Outcome {
        let config = &self.workspace.config;
        let Some(needed) = config.rank(self.to) else {
            return Outcome::fail(format!("unknown state {}", self.to));
        };
        let mut missing = Vec::new();
        let mut waiting = Vec::new();
        let mut notes = Vec::new();
        for dep in &self.service.dependencies {
            // A dependency moving in this same promotion decides with it.
            match self.earlier.get(&dep.name) {
                Some(ServiceDecision::Blocked) if !dep.optional => {
                    missing.push(format!("{} is blocked in this promotion", dep.name));
                    continue;
                }
                Some(ServiceDecision::Pending) if !dep.optional => {
                    waiting.push(format!("{} is waiting in this promotion", dep.name));
                    continue;
                }
                _ => {}
            }
            let state = self.dependency_state(&dep.name);
            let ok = state
                .as_deref()
                .and_then(|s| config.rank(s))
                .is_some_and(|r| r >= needed);
            let shown =
                state.unwrap_or_else(|| format!("{} (never promoted)", config.initial().name));
            if ok {
                continue;
            }
            let line = format!("{} is {shown}", dep.name);
            if dep.optional {
                notes.push(format!("{line} (optional)"));
            } else {
                missing.push(line);
            }
        }
        let what = format!("{} or later", self.to);
        if !missing.is_empty() {
            return Outcome::fail(format!(
                "dependencies not yet {what}: {}{}",
                missing.join(", "),
                if notes.is_empty() {
                    String::new()
                } else {
                    format!("; also {}", notes.join(", "))
                }
            ));
        }
        if !waiting.is_empty() {
            return Outcome::pending(format!(
                "dependencies not yet {what}: {}",
                waiting.join(", ")
            ));
        }
        if self.service.dependencies.is_empty() {
            return Outcome::pass("no dependencies");
        }
        Outcome::pass(if notes.is_empty() {
            format!("every dependency is {what}")
        } else {
            format!("every required dependency is {what}; {}", notes.join(", "))
        })
    }

    fn approved(&self, required: usize, approvers: &[String]) -> Outcome {
        let found = approval::verified(
            self.history,
            self.package,
            &self.service.name,
            self.workspace.approver_rules(),
        );
        let counted: Vec<&str> = found
            .counted
            .iter()
            .filter(|a| approvers.is_empty() || approvers.contains(&a.approver))
            .map(|a| a.approver.as_str())
            .collect();
        let rejected = if found.rejected.is_empty() {
            String::new()
        } else {
            format!("; not counted: {}", found.rejected.join("; "))
        };
        if counted.len() >= required.max(1) {
            return Outcome::pass(format!(
                "approved by {} ({} of {} required){rejected}",
                counted.join(", "),
                counted.len(),
                required.max(1)
            ));
        }
        let waiting: Vec<&str> = approvers
            .iter()
            .map(String::as_str)
            .filter(|a| !counted.contains(a))
            .filter(|a| {
                !(self.workspace.config.prevent_self_approval && *a == self.package.created_by)
            })
            .collect();
        Outcome::pending(format!(
            "{} of {} approvals{}; waiting for {}: `gantry approve {} --as NAME --key KEY`{rejected}",
            counted.len(),
            required.max(1),
            if counted.is_empty() {
                String::new()
            } else {
                format!(" ({})", counted.join(", "))
            },
            if waiting.is_empty() {
                "an approver".to_string()
            } else {
                waiting.join(" or ")
            },
            short(&self.package.id),
        ))
    }

    fn soak(&self, duration: jiff::SignedDuration) -> Outcome {
        let since = self
            .history
            .placement(&self.service.name, self.version)
            .map(|p| p.since.clone())
            .unwrap_or_else(|| self.package.created_at.clone());
        let Ok(since) = since.parse::<jiff::Timestamp>() else {
            return Outcome::fail(format!(
                "the time {since} it entered {} is not RFC 3339",
                self.from
            ));
        };
        let soaked = self.now.duration_since(since);
        if soaked >= duration {
            return Outcome::pass(format!(
                "in {} since {since} ({:#} ≥ {duration:#})",
                self.from,
                round(soaked)
            ));
        }
        Outcome::pending(format!(
            "in {} since {since}, {:#} of {duration:#}; passes at {}",
            self.from,
            round(soaked),
            since.checked_add(duration).unwrap_or(since)
        ))
    }

    /// The policy input document (documented in the README).
    fn input(&self) -> serde_json::Value {
        let config = &self.workspace.config;
        let approvals = approval::verified(
            self.history,
            self.package,
            &self.service.name,
            self.workspace.approver_rules(),
        );
        let dependencies: Vec<serde_json::Value> = self
            .service
            .dependencies
            .iter()
            .map(|d| {
                serde_json::json!({
                    "name": d.name,
                    "kind": d.kind.as_str(),
                    "optional": d.optional,
                    "state": self.dependency_state(&d.name)
                        .unwrap_or_else(|| config.initial().name.clone()),
                })
            })
            .collect();
        serde_json::json!({
            "package": {
                "id": self.package.id,
                "version": self.package.content.version,
                "services": self.package.content.services,
                "artifacts": self.package.content.artifacts,
                "created_by": self.package.created_by,
                "created_at": self.package.created_at,
            },
            "service": {
                "name": self.service.name,
                "version": self.version,
                "api_version": self.service.api_version,
                "compliance_mode": self.service.compliance_mode.as_str(),
            },
            "transition": { "from": self.from, "to": self.to },
            "evidence": evidence::summaries(&self.evidence, self.trusted),
            "approvals": approvals.counted,
            "dependencies": dependencies,
            "time": self.now.to_string(),
        })
    }
}

fn round(d: jiff::SignedDuration) -> jiff::SignedDuration {
    jiff::SignedDuration::from_secs(d.as_secs())
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn digest(value: &serde_json::Value) -> Result<String, PromoteError> {
    let bytes = serde_json_canonicalizer::to_vec(value)
        .map_err(|e| PromoteError::Canonical(e.to_string()))?;
    let hash = sha2::Sha256::digest(&bytes);
    Ok(format!(
        "sha256:{}",
        hash.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// Appends the request and validation records of every evaluated
/// service, linked into each service's chain, in one ledger append.
fn record(
    ledger: &Ledger,
    history: &History,
    package: &Package,
    report: &PromotionReport,
    request: &PromoteRequest,
) -> Result<Vec<u64>, PromoteError> {
    let time = request.now.to_string();
    let mut heads: HashMap<String, String> = HashMap::new();
    let mut entries: Vec<Vec<u8>> = Vec::new();
    let records_of = |service: &ServiceReport| -> Vec<(ChainType, serde_json::Value)> {
        vec![
            (
                ChainType::Promotion,
                serde_json::json!({
                    "package": package.id,
                    "service": service.service,
                    "version": service.version,
                    "from": service.from,
                    "target_state": service.to,
                    "requested_by": request.requested_by,
                    "evidence_refs": package.content.evidence.iter()
                        .map(|e| format!("sha256:{}", e.sha256)).collect::<Vec<_>>(),
                }),
            ),
            (
                ChainType::Validation,
                serde_json::json!({
                    "package": package.id,
                    "version": service.version,
                    "from": service.from,
                    "to": service.to,
                    "decision": match service.decision {
                        ServiceDecision::Promoted => "promoted",
                        ServiceDecision::Blocked => "blocked",
                        ServiceDecision::Pending => "pending",
                        ServiceDecision::Ready => "held",
                        ServiceDecision::Unchanged => "unchanged",
                    },
                    "package_decision": report.decision,
                    "input_digest": service.input_digest,
                    "gates": service.gates,
                }),
            ),
        ]
    };
    for service in report
        .services
        .iter()
        .filter(|s| s.decision != ServiceDecision::Unchanged)
    {
        for (kind, data) in records_of(service) {
            let previous = heads
                .get(&service.service)
                .cloned()
                .unwrap_or_else(|| history.head(&service.service).to_string());
            let chain = ChainRecord {
                promotion_id: package.id.clone(),
                timestamp: time.clone(),
                service: service.service.clone(),
                previous_hash: previous,
                evidence: ChainEvidence {
                    kind,
                    data,
                    signatures: Vec::new(),
                },
            };
            let envelope = gantry_attest::dsse::Envelope {
                payload_type: gantry_attest::dsse::IN_TOTO_PAYLOAD_TYPE.to_string(),
                payload: chain.statement(&package.id).to_payload(),
                signatures: Vec::new(),
            };
            let entry = chain
                .into_record(&package.id, &service.version, &envelope)
                .to_canonical()?;
            heads.insert(
                service.service.clone(),
                gantry_ledger::chain::entry_hash(&entry),
            );
            entries.push(entry);
        }
    }
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    let first = ledger.append_batch(&refs)?;
    Ok((first..first + entries.len() as u64).collect())
}
