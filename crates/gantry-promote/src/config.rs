//! `.gantry/promotion.yml`: the compliance state machine, its gates, the
//! keys whose signatures count as evidence, and the approvers.
//!
//! ```yaml
//! states:                       # declaration order = rank (first = initial)
//!   sandbox:
//!     allowed_transitions: [compliance_ready]
//!     requirements: []
//!   compliance_ready:
//!     allowed_transitions: [compliant]
//!     requirements:
//!       - all_tests_passing               # a gate name (built-in or from gates:)
//!       - { gate: sast_clean, level: recommended }
//!       - dependencies_compliant
//!   compliant:
//!     allowed_transitions: [sandbox]
//!     requirements: [approved_promotion, evidence_collected]
//! gates:
//!   sast_clean: { type: blocking, severity: high }
//!   soak: { type: blocking, validator: soak_time, duration: 24h }
//!   freeze: { validator: window, timezone: Europe/Berlin, deny: ["Fri 16:00 - Mon 08:00"] }
//!   org_policy: { type: policy, policy: compliance }
//!   approved_promotion: { approvals_required: 2, approvers: [alice, bob, carol] }
//! trusted_keys: [keys/ci.pub]   # paths relative to .gantry/
//! approvers:
//!   alice: keys/alice.pub
//! approvals_required: 1         # default for approved_promotion
//! prevent_self_approval: true   # default true
//! ```
//!
//! No file is the seed's machine ([`PromotionConfig::seed_default`]); a
//! file without `states` keeps the seed's states. Every key of every
//! section is checked, and every problem of the file is reported at
//! file:line:col with a "did you mean" where one is close.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use jiff::{SignedDuration, SpanRelativeTo};
use serde::Serialize;

use gantry_attest::keys::PublicKey;
use gantry_ledger::record::{valid_kind, valid_segment};
use gantry_workflow::SourceFile;
use gantry_workflow::yaml::{Node, NodeKind};

use crate::catalog::Location;
use crate::located::{Doc, Fields, ProblemKind, Problems, suggest};
use crate::window::Window;

/// The file, relative to the repository root.
pub const PROMOTION_FILE: &str = ".gantry/promotion.yml";

/// The most `promotion.yml` may hold.
pub const MAX_CONFIG_BYTES: usize = 1 << 20;

/// The most a public key file may hold.
pub const MAX_KEY_BYTES: u64 = 64 << 10;

/// The checks gates can run; a gate named like one runs it by default.
pub const VALIDATORS: &[&str] = &[
    "all_tests_passing",
    "sast_clean",
    "audit_clean",
    "no_critical_vulns",
    "provenance_verified",
    "evidence_collected",
    "dependencies_compliant",
    "approved_promotion",
    "soak_time",
    "window",
    "policy",
];

/// Audit severities a threshold may name (info < low < medium < high).
pub const AUDIT_SEVERITIES: &[&str] = &["info", "low", "medium", "high"];

/// Vulnerability severities a threshold may name.
pub const VULN_SEVERITIES: &[&str] = &["none", "low", "medium", "high", "critical"];

/// The evidence `evidence_collected` asks for by default.
pub const DEFAULT_EVIDENCE_KINDS: &[&str] = &["sbom", "vulns", "provenance", "test-result"];

/// How long `soak_time` waits by default.
pub const DEFAULT_SOAK: SignedDuration = SignedDuration::from_hours(24);

/// How much a requirement matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// A fail blocks.
    Required,
    /// Skipped when the service has no evidence of the gate's kind.
    RequiredIfPresent,
    /// A fail is a warning and never blocks.
    Recommended,
}

impl Level {
    pub const NAMES: &[&str] = &["required", "required_if_present", "recommended"];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Required => "required",
            Level::RequiredIfPresent => "required_if_present",
            Level::Recommended => "recommended",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "required" => Some(Level::Required),
            "required_if_present" => Some(Level::RequiredIfPresent),
            "recommended" => Some(Level::Recommended),
            _ => None,
        }
    }
}

/// What kind of decision a gate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GateType {
    /// Decided by evidence.
    Blocking,
    /// Decided by people (approvals).
    Manual,
    /// Decided by a Rego policy.
    Policy,
}

impl GateType {
    pub const NAMES: &[&str] = &["blocking", "manual", "policy"];

    pub fn as_str(self) -> &'static str {
        match self {
            GateType::Blocking => "blocking",
            GateType::Manual => "manual",
            GateType::Policy => "policy",
        }
    }

    pub fn parse(s: &str) -> Option<GateType> {
        match s {
            "blocking" => Some(GateType::Blocking),
            "manual" => Some(GateType::Manual),
            "policy" => Some(GateType::Policy),
            _ => None,
        }
    }

    /// The type of a gate whose validator is `validator` when none is given.
    pub fn default_for(validator: &str) -> GateType {
        match validator {
            "approved_promotion" => GateType::Manual,
            "policy" => GateType::Policy,
            _ => GateType::Blocking,
        }
    }
}

/// The check a gate runs, with its settings.
#[derive(Debug, Clone)]
pub enum Check {
    AllTestsPassing,
    SastClean {
        severity: String,
    },
    AuditClean {
        severity: String,
    },
    NoCriticalVulns {
        severity: String,
    },
    ProvenanceVerified,
    EvidenceCollected {
        kinds: Vec<String>,
    },
    DependenciesCompliant,
    ApprovedPromotion {
        required: usize,
        approvers: Vec<String>,
    },
    SoakTime {
        duration: SignedDuration,
    },
    Window(Window),
    Policy {
        policy: String,
    },
}

impl Check {
    /// The validator's name.
    pub fn validator(&self) -> &'static str {
        match self {
            Check::AllTestsPassing => "all_tests_passing",
            Check::SastClean { .. } => "sast_clean",
            Check::AuditClean { .. } => "audit_clean",
            Check::NoCriticalVulns { .. } => "no_critical_vulns",
            Check::ProvenanceVerified => "provenance_verified",
            Check::EvidenceCollected { .. } => "evidence_collected",
            Check::DependenciesCompliant => "dependencies_compliant",
            Check::ApprovedPromotion { .. } => "approved_promotion",
            Check::SoakTime { .. } => "soak_time",
            Check::Window(_) => "window",
            Check::Policy { .. } => "policy",
        }
    }
}

/// A gate: a name, a type and the check it runs.
#[derive(Debug, Clone)]
pub struct GateSpec {
    pub name: String,
    pub gate_type: GateType,
    pub check: Check,
}

/// One requirement of a state: a gate, and how much it matters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub gate: String,
    pub level: Level,
    /// Where it is written; `None` for the seed default.
    pub location: Option<Location>,
}

/// One state of the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateSpec {
    pub name: String,
    /// The states a service in this state may move to.
    pub allowed_transitions: Vec<String>,
    /// What a service must meet to enter this state.
    pub requirements: Vec<Requirement>,
}

/// A trusted public key and the path it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedKey {
    /// As written, relative to `.gantry/`.
    pub path: String,
    pub key: PublicKey,
}

/// The whole promotion configuration.
#[derive(Debug, Clone)]
pub struct PromotionConfig {
    /// In declaration order; never empty.
    pub states: Vec<StateSpec>,
    /// The gates configured under `gates:`.
    pub gates: IndexMap<String, GateSpec>,
    pub trusted_keys: Vec<NamedKey>,
    pub approvers: IndexMap<String, PublicKey>,
    pub approvals_required: usize,
    pub prevent_self_approval: bool,
    /// The file read, relative to the root; `None` for the seed default.
    pub file: Option<String>,
}

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("{} leads out of the repository: {source}", path.display())]
    Escape {
        path: PathBuf,
        source: gantry_fs::Escape,
    },
    #[error("failed to read {PROMOTION_FILE}: {message}")]
    Read { message: String },
    /// Problems in the file, every one of them.
    #[error(transparent)]
    Invalid(Problems),
}

impl PromotionConfig {
    /// Reads `<root>/.gantry/promotion.yml`; no such file is the seed's
    /// machine. Key files are read relative to `<root>/.gantry/`.
    pub fn load(root: &Path) -> Result<PromotionConfig, ConfigError> {
        let relative = Path::new(PROMOTION_FILE);
        let path = gantry_fs::confine(root, relative).map_err(|source| ConfigError::Escape {
            path: relative.to_path_buf(),
            source,
        })?;
        match path.symlink_metadata() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(PromotionConfig::seed_default());
            }
            _ => {}
        }
        let source = gantry_workflow::read_source(&path, PROMOTION_FILE, MAX_CONFIG_BYTES)
            .map_err(|e| ConfigError::Read {
                message: e.to_string(),
            })?;
        PromotionConfig::parse(&source, &root.join(".gantry"))
    }

    /// Reads the configuration `source`; key files are read relative to
    /// `keys_dir` (and may not leave it).
    pub fn parse(
        source: &Arc<SourceFile>,
        keys_dir: &Path,
    ) -> Result<PromotionConfig, ConfigError> {
        let mut reader = Reader {
            doc: Doc::new(source.clone()),
            keys_dir,
        };
        let config = reader.read();
        if !reader.doc.problems.is_empty() {
            let mut problems = reader.doc.problems;
            problems.sort_by(|a, b| a.location.cmp(&b.location));
            return Err(ConfigError::Invalid(Problems(problems)));
        }
        match config {
            Some(mut config) => {
                config.file = Some(source.name().to_string());
                Ok(config)
            }
            // A reader that gives up always says why.
            None => Err(ConfigError::Invalid(Problems(Vec::new()))),
        }
    }

    /// The seed's machine: sandbox → compliance_ready → compliant, and
    /// compliant → sandbox; no gates configured, no keys, no approvers.
    pub fn seed_default() -> PromotionConfig {
        PromotionConfig {
            states: seed_states(),
            gates: IndexMap::new(),
            trusted_keys: Vec::new(),
            approvers: IndexMap::new(),
            approvals_required: 1,
            prevent_self_approval: true,
            file: None,
        }
    }

    pub fn state(&self, name: &str) -> Option<&StateSpec> {
        self.states.iter().find(|s| s.name == name)
    }

    /// A state's position in declaration order (0 = initial).
    pub fn rank(&self, name: &str) -> Option<usize> {
        self.states.iter().position(|s| s.name == name)
    }

    /// The first state.
    pub fn initial(&self) -> &StateSpec {
        // `states` is never empty: `parse` refuses that and the seed has three.
        &self.states[0]
    }

    /// The gate called `name`: configured, or the built-in of that name with
    /// its defaults (`window` and `policy` need settings, so only when
    /// configured).
    pub fn gate(&self, name: &str) -> Option<GateSpec> {
        if let Some(gate) = self.gates.get(name) {
            return Some(gate.clone());
        }
        let approvers: Vec<String> = self.approvers.keys().cloned().collect();
        let check = default_check(name, self.approvals_required, &approvers)?;
        Some(GateSpec {
            name: name.to_string(),
            gate_type: GateType::default_for(name),
            check,
        })
    }
}

fn seed_states() -> Vec<StateSpec> {
    let state = |name: &str, to: &str, requirements: &[&str]| StateSpec {
        name: name.to_string(),
        allowed_transitions: vec![to.to_string()],
        requirements: requirements
            .iter()
            .map(|gate| Requirement {
                gate: gate.to_string(),
                level: Level::Required,
                location: None,
            })
            .collect(),
    };
    vec![
        state("sandbox", "compliance_ready", &[]),
        state(
            "compliance_ready",
            "compliant",
            &["all_tests_passing", "sast_clean", "dependencies_compliant"],
        ),
        state(
            "compliant",
            "sandbox",
            &["approved_promotion", "evidence_collected"],
        ),
    ]
}

/// The built-in check `validator` with its default settings; `None` for an
/// unknown name and for those without defaults (`window`, `policy`).
fn default_check(
    validator: &str,
    approvals_required: usize,
    approvers: &[String],
) -> Option<Check> {
    Some(match validator {
        "all_tests_passing" => Check::AllTestsPassing,
        "sast_clean" => Check::SastClean {
            severity: "high".into(),
        },
        "audit_clean" => Check::AuditClean {
            severity: "high".into(),
        },
        "no_critical_vulns" => Check::NoCriticalVulns {
            severity: "critical".into(),
        },
        "provenance_verified" => Check::ProvenanceVerified,
        "evidence_collected" => Check::EvidenceCollected {
            kinds: DEFAULT_EVIDENCE_KINDS
                .iter()
                .map(|k| k.to_string())
                .collect(),
        },
        "dependencies_compliant" => Check::DependenciesCompliant,
        "approved_promotion" => Check::ApprovedPromotion {
            required: approvals_required,
            approvers: approvers.to_vec(),
        },
        "soak_time" => Check::SoakTime {
            duration: DEFAULT_SOAK,
        },
        _ => return None,
    })
}

/// Parses a duration: `24h`, `90m`, `2d`, `1h30m`, `1w`, or ISO 8601
/// (`PT24H`). Days are 24 hours; years and months have no fixed length and
/// are refused, as are negative durations.
pub fn parse_duration(text: &str) -> Result<SignedDuration, String> {
    let span: jiff::Span = text
        .trim()
        .parse()
        .map_err(|e: jiff::Error| e.to_string())?;
    if span.get_years() != 0 || span.get_months() != 0 {
        return Err(
            "years and months have no fixed length; use weeks, days, hours or minutes".into(),
        );
    }
    let duration = span
        .to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|e| e.to_string())?;
    if duration.is_negative() {
        return Err("a duration cannot be negative".into());
    }
    Ok(duration)
}

/// Reads `node`, a mapping of gate names to gate settings as under
/// `gates:` of `promotion.yml`, into `doc` (problems are added to it).
/// Another file that offers gates (`.gantry/environments.yml`) reads them
/// with this, so a gate means the same everywhere. Approval gates count
/// `approvers` (key files relative to `keys_dir`).
pub fn read_gates(
    doc: &mut Doc,
    node: &Node,
    keys_dir: &Path,
    approvals_required: usize,
    approvers: &[String],
) -> IndexMap<String, GateSpec> {
    with_reader(doc, keys_dir, |r| {
        r.gates(node, approvals_required, approvers)
    })
}

/// Reads `node`, a mapping of names to public key files relative to
/// `keys_dir` (as `approvers:` is) written at `place`, into `doc`.
pub fn read_approvers(
    doc: &mut Doc,
    node: &Node,
    place: &str,
    keys_dir: &Path,
) -> IndexMap<String, PublicKey> {
    with_reader(doc, keys_dir, |r| r.approvers(node, place))
}

/// Runs `f` on a reader of `doc`'s file, keeping the problems it finds.
fn with_reader<T>(doc: &mut Doc, keys_dir: &Path, f: impl FnOnce(&mut Reader<'_>) -> T) -> T {
    let taken = std::mem::replace(doc, Doc::new(doc.text.clone()));
    let mut reader = Reader {
        doc: taken,
        keys_dir,
    };
    let out = f(&mut reader);
    *doc = reader.doc;
    out
}

const TOP_KEYS: &[&str] = &[
    "states",
    "gates",
    "trusted_keys",
    "approvers",
    "approvals_required",
    "prevent_self_approval",
];
const STATE_KEYS: &[&str] = &["allowed_transitions", "requirements"];
const REQUIREMENT_KEYS: &[&str] = &["gate", "level"];

/// The settings a validator takes, besides `type` and `validator`.
/// The string keys of a mapping, in order; nothing for anything else.
fn keys_of(node: &Node) -> Vec<String> {
    match &node.kind {
        NodeKind::Map(pairs) => {
            let mut keys: Vec<String> = Vec::new();
            for (k, _) in pairs {
                if let Some(k) = k.as_str()
                    && !keys.iter().any(|x| x == k)
                {
                    keys.push(k.to_string());
                }
            }
            keys
        }
        _ => Vec::new(),
    }
}

fn settings_of(validator: &str) -> &'static [&'static str] {
    match validator {
        "sast_clean" | "audit_clean" | "no_critical_vulns" => &["severity"],
        "evidence_collected" => &["kinds"],
        "approved_promotion" => &["approvals_required", "approvers"],
        "soak_time" => &["duration"],
        "window" => &["timezone", "allow", "deny"],
        "policy" => &["policy"],
        _ => &[],
    }
}

/// The evidence kinds gantry records, for "did you mean".
const KNOWN_KINDS: &[&str] = &["sbom", "vulns", "provenance", "test-result", "audit", "vsa"];

/// What a gate's check is read from.
struct GateFields<'f, 'n> {
    /// `gates.NAME`, for messages.
    place: &'f str,
    /// The gate's name in the file.
    key_node: &'f Node,
    fields: &'f Fields<'n>,
    /// The top-level default of `approved_promotion`.
    approvals_required: usize,
    /// Every approver declared.
    approvers: &'f [String],
}

struct Reader<'a> {
    doc: Doc,
    keys_dir: &'a Path,
}

impl Reader<'_> {
    fn report(&mut self, node: &Node, kind: ProblemKind, hint: Option<String>) {
        self.doc.report(node.span, kind, hint);
    }

    fn read(&mut self) -> Option<PromotionConfig> {
        let root = self.doc.parse()?;
        if matches!(root.kind, NodeKind::Null) {
            return Some(PromotionConfig::seed_default());
        }
        let top = self.doc.mapping(&root, "promotion.yml", TOP_KEYS, &[])?;
        // Names are checked against what is declared, also when a
        // declaration has its own problem, so that one mistake is one
        // problem.
        let approver_names = top.get("approvers").map(keys_of).unwrap_or_default();
        let gate_names = top.get("gates").map(keys_of).unwrap_or_default();
        let approvers = top
            .get("approvers")
            .map(|n| self.approvers(n, "approvers"))
            .unwrap_or_default();
        let approvals_required = match top.get("approvals_required") {
            None => 1,
            Some(n) => {
                let count = self.doc.count(n, "approvals_required", 1).unwrap_or(1);
                if !approver_names.is_empty() && count > approver_names.len() {
                    self.report(
                        n,
                        ProblemKind::TooFewApprovers {
                            place: "approvals_required".into(),
                            required: count,
                            available: approver_names.len(),
                        },
                        None,
                    );
                }
                count
            }
        };
        let prevent_self_approval = top
            .get("prevent_self_approval")
            .and_then(|n| self.doc.boolean(n, "prevent_self_approval"))
            .unwrap_or(true);
        let gates = top
            .get("gates")
            .map(|n| self.gates(n, approvals_required, &approver_names))
            .unwrap_or_default();
        let states = match top.get("states") {
            None => seed_states(),
            Some(n) => self.states(n, &gate_names),
        };
        let trusted_keys = top
            .get("trusted_keys")
            .map(|n| self.trusted_keys(n))
            .unwrap_or_default();
        if states.is_empty() {
            // Reported by `states`; nothing usable to return.
            return None;
        }
        Some(PromotionConfig {
            states,
            gates,
            trusted_keys,
            approvers,
            approvals_required,
            prevent_self_approval,
            file: None,
        })
    }

    /// A public key file named relative to `.gantry/`.
    fn key(&mut self, node: &Node, what: &str) -> Option<(String, PublicKey)> {
        let path = self.doc.string(node, what)?.to_string();
        let read = gantry_fs::confine(self.keys_dir, Path::new(&path))
            .map_err(|e| e.to_string())
            .and_then(|full| {
                gantry_fs::read_text_bounded(&full, MAX_KEY_BYTES).map_err(|e| match e {
                    gantry_fs::ReadError::Io { source, .. } => source.to_string(),
                    other => other.to_string(),
                })
            })
            .and_then(|text| PublicKey::from_pem(&text).map_err(|e| e.to_string()));
        match read {
            Ok(key) => Some((path, key)),
            Err(reason) => {
                self.report(node, ProblemKind::Key { path, reason }, None);
                None
            }
        }
    }

    fn approvers(&mut self, node: &Node, place: &str) -> IndexMap<String, PublicKey> {
        let mut out = IndexMap::new();
        if matches!(node.kind, NodeKind::Null) {
            return out;
        }
        let Some(fields) = self.doc.named_mapping(node, place) else {
            return out;
        };
        for (name, key_node, value) in fields.iter() {
            if !valid_segment(name) {
                self.report(
                    key_node,
                    ProblemKind::InvalidName {
                        what: "approver name",
                        name: name.to_string(),
                    },
                    None,
                );
                continue;
            }
            if let Some((_, key)) = self.key(value, &format!("{place}.{name}")) {
                out.insert(name.to_string(), key);
            }
        }
        out
    }

    fn trusted_keys(&mut self, node: &Node) -> Vec<NamedKey> {
        let mut out: Vec<(NamedKey, Location)> = Vec::new();
        let Some(items) = self.doc.sequence(node, "trusted_keys") else {
            return Vec::new();
        };
        for item in items {
            if let Some(text) = item.as_str()
                && let Some((_, first)) = out.iter().find(|(k, _)| k.path == text)
            {
                let first = first.clone();
                self.report(
                    item,
                    ProblemKind::DuplicateEntry {
                        name: text.to_string(),
                        list: "trusted_keys".into(),
                        first,
                    },
                    None,
                );
                continue;
            }
            if let Some((path, key)) = self.key(item, "an entry of trusted_keys") {
                out.push((NamedKey { path, key }, self.doc.location(item.span)));
            }
        }
        out.into_iter().map(|(k, _)| k).collect()
    }

    fn gates(
        &mut self,
        node: &Node,
        approvals_required: usize,
        approvers: &[String],
    ) -> IndexMap<String, GateSpec> {
        let mut out = IndexMap::new();
        if matches!(node.kind, NodeKind::Null) {
            return out;
        }
        let Some(fields) = self.doc.named_mapping(node, "gates") else {
            return out;
        };
        for (name, key_node, value) in fields.iter() {
            if let Some(gate) = self.gate(name, key_node, value, approvals_required, approvers) {
                out.insert(name.to_string(), gate);
            }
        }
        out
    }

    fn gate(
        &mut self,
        name: &str,
        key_node: &Node,
        node: &Node,
        approvals_required: usize,
        approvers: &[String],
    ) -> Option<GateSpec> {
        let place = format!("gates.{name}");
        if !valid_segment(name) {
            self.report(
                key_node,
                ProblemKind::InvalidName {
                    what: "gate name",
                    name: name.to_string(),
                },
                None,
            );
            return None;
        }
        // The validator decides which settings are allowed, so read it first.
        let validator = match node.entry("validator") {
            Some((_, v)) => {
                let text = self.doc.string(v, &format!("{place}.validator"))?;
                if !VALIDATORS.contains(&text) {
                    let hint = suggest(text, VALIDATORS.iter().copied())
                        .or_else(|| Some(format!("validators: {}", VALIDATORS.join(", "))));
                    self.report(
                        v,
                        ProblemKind::UnknownValidator {
                            name: text.to_string(),
                            gate: name.to_string(),
                        },
                        hint,
                    );
                    return None;
                }
                text.to_string()
            }
            None if VALIDATORS.contains(&name) => name.to_string(),
            // `{ type: policy, policy: compliance }` runs the policy check.
            None if node
                .entry("type")
                .and_then(|(_, t)| t.as_str())
                .is_some_and(|t| t == "policy") =>
            {
                "policy".to_string()
            }
            None => {
                let hint = Some(
                    match gantry_workflow::did_you_mean(name, VALIDATORS.iter().copied()) {
                        Some(v) => format!("add `validator: {v}`?"),
                        None => format!("add `validator:` with one of: {}", VALIDATORS.join(", ")),
                    },
                );
                self.report(
                    key_node,
                    ProblemKind::MissingValidator {
                        gate: name.to_string(),
                    },
                    hint,
                );
                return None;
            }
        };
        let mut keys = vec!["type", "validator"];
        keys.extend_from_slice(settings_of(&validator));
        let required: &[&str] = match validator.as_str() {
            "window" => &["timezone"],
            "policy" => &["policy"],
            _ => &[],
        };
        let fields = if matches!(node.kind, NodeKind::Null) {
            // `gates: { sast_clean: }`: the built-in with its defaults.
            if !required.is_empty() {
                self.doc.mapping(node, &place, &keys, required);
                return None;
            }
            None
        } else {
            Some(self.doc.mapping(node, &place, &keys, required)?)
        };
        let gate_type = match fields.as_ref().and_then(|f| f.get("type")) {
            None => GateType::default_for(&validator),
            Some(n) => {
                let text = self.doc.string(n, &format!("{place}.type"))?;
                match GateType::parse(text) {
                    Some(t) => t,
                    None => {
                        self.invalid(n, &format!("{place}.type"), text, GateType::NAMES);
                        return None;
                    }
                }
            }
        };
        let check = match fields {
            None => default_check(&validator, approvals_required, approvers)?,
            Some(fields) => self.check(
                &GateFields {
                    place: &place,
                    key_node,
                    fields: &fields,
                    approvals_required,
                    approvers,
                },
                &validator,
            )?,
        };
        Some(GateSpec {
            name: name.to_string(),
            gate_type,
            check,
        })
    }

    fn invalid(&mut self, node: &Node, what: &str, value: &str, expected: &[&str]) {
        let hint = suggest(value, expected.iter().copied());
        self.report(
            node,
            ProblemKind::InvalidValue {
                what: format!("`{what}`"),
                value: value.to_string(),
                expected: expected.join(", "),
            },
            hint,
        );
    }

    /// A severity threshold among `allowed`.
    fn severity(
        &mut self,
        fields: &Fields<'_>,
        place: &str,
        default: &str,
        allowed: &[&str],
    ) -> Option<String> {
        let Some(node) = fields.get("severity") else {
            return Some(default.to_string());
        };
        let what = format!("{place}.severity");
        let text = self.doc.string(node, &what)?;
        if !allowed.contains(&text) {
            self.invalid(node, &what, text, allowed);
            return None;
        }
        Some(text.to_string())
    }

    /// A list of strings, each once.
    fn strings(&mut self, node: &Node, what: &str) -> Option<Vec<(String, Node)>> {
        let items = self.doc.sequence(node, what)?;
        let mut out: Vec<(String, Node)> = Vec::new();
        let mut ok = true;
        for item in items {
            let Some(text) = self.doc.string(item, &format!("an entry of {what}")) else {
                ok = false;
                continue;
            };
            if let Some((_, first)) = out.iter().find(|(t, _)| t == text) {
                let first = self.doc.location(first.span);
                self.report(
                    item,
                    ProblemKind::DuplicateEntry {
                        name: text.to_string(),
                        list: what.to_string(),
                        first,
                    },
                    None,
                );
                ok = false;
                continue;
            }
            out.push((text.to_string(), item.clone()));
        }
        ok.then_some(out)
    }

    fn check(&mut self, g: &GateFields<'_, '_>, validator: &str) -> Option<Check> {
        Some(match validator {
            "sast_clean" => Check::SastClean {
                severity: self.severity(g.fields, g.place, "high", AUDIT_SEVERITIES)?,
            },
            "audit_clean" => Check::AuditClean {
                severity: self.severity(g.fields, g.place, "high", AUDIT_SEVERITIES)?,
            },
            "no_critical_vulns" => Check::NoCriticalVulns {
                severity: self.severity(g.fields, g.place, "critical", VULN_SEVERITIES)?,
            },
            "evidence_collected" => self.evidence_collected(g)?,
            "approved_promotion" => self.approved_promotion(g)?,
            "soak_time" => self.soak_time(g)?,
            "window" => self.window(g)?,
            "policy" => self.policy(g)?,
            other => default_check(other, g.approvals_required, g.approvers)?,
        })
    }

    fn evidence_collected(&mut self, g: &GateFields<'_, '_>) -> Option<Check> {
        let Some(n) = g.fields.get("kinds") else {
            return default_check("evidence_collected", 1, &[]);
        };
        let kinds = self.strings(n, &format!("{}.kinds", g.place))?;
        let mut ok = true;
        for (kind, node) in &kinds {
            if !valid_kind(kind) {
                ok = false;
                self.report(
                    node,
                    ProblemKind::InvalidValue {
                        what: "evidence kind".into(),
                        value: kind.clone(),
                        expected: "lower-case letters, digits and dashes".into(),
                    },
                    suggest(kind, KNOWN_KINDS.iter().copied()),
                );
            }
        }
        ok.then(|| Check::EvidenceCollected {
            kinds: kinds.into_iter().map(|(k, _)| k).collect(),
        })
    }

    fn approved_promotion(&mut self, g: &GateFields<'_, '_>) -> Option<Check> {
        let listed = match g.fields.get("approvers") {
            None => None,
            Some(n) => {
                let what = format!("{}.approvers", g.place);
                let names = self.strings(n, &what)?;
                let mut ok = true;
                for (name, node) in &names {
                    if !g.approvers.contains(name) {
                        ok = false;
                        let hint = suggest(name, g.approvers.iter().map(String::as_str)).or_else(
                            || Some("approvers are listed under `approvers:` with their public keys".into()),
                        );
                        self.report(
                            node,
                            ProblemKind::UnknownApprover {
                                name: name.clone(),
                                place: what.clone(),
                            },
                            hint,
                        );
                    }
                }
                if !ok {
                    return None;
                }
                Some(names.into_iter().map(|(n, _)| n).collect::<Vec<_>>())
            }
        };
        let required = match g.fields.get("approvals_required") {
            None => g.approvals_required,
            Some(n) => self
                .doc
                .count(n, &format!("{}.approvals_required", g.place), 1)?,
        };
        let explicit = listed.is_some();
        let approvers = listed.unwrap_or_else(|| g.approvers.to_vec());
        if (explicit || !approvers.is_empty()) && required > approvers.len() {
            let at = g.fields.get("approvals_required").unwrap_or(g.key_node);
            self.report(
                at,
                ProblemKind::TooFewApprovers {
                    place: g.place.to_string(),
                    required,
                    available: approvers.len(),
                },
                None,
            );
            return None;
        }
        Some(Check::ApprovedPromotion {
            required,
            approvers,
        })
    }

    fn soak_time(&mut self, g: &GateFields<'_, '_>) -> Option<Check> {
        let Some(n) = g.fields.get("duration") else {
            return Some(Check::SoakTime {
                duration: DEFAULT_SOAK,
            });
        };
        let text = self.doc.string(n, &format!("{}.duration", g.place))?;
        match parse_duration(text) {
            Ok(duration) => Some(Check::SoakTime { duration }),
            Err(reason) => {
                self.report(
                    n,
                    ProblemKind::Duration {
                        value: text.to_string(),
                        reason,
                    },
                    Some("write it like 24h, 90m, 2d or 1h30m".into()),
                );
                None
            }
        }
    }

    fn window(&mut self, g: &GateFields<'_, '_>) -> Option<Check> {
        let tz_node = g.fields.get("timezone")?;
        let tz = self
            .doc
            .string(tz_node, &format!("{}.timezone", g.place))?
            .to_string();
        let mut list = |key: &str| -> Option<Vec<String>> {
            match g.fields.get(key) {
                None => Some(Vec::new()),
                Some(n) => self
                    .strings(n, &format!("{}.{key}", g.place))
                    .map(|v| v.into_iter().map(|(s, _)| s).collect()),
            }
        };
        let allow = list("allow");
        let deny = list("deny");
        let (allow, deny) = (allow?, deny?);
        match Window::parse(&tz, &allow, &deny) {
            Ok(window) => Some(Check::Window(window)),
            Err(e) => {
                self.report(
                    g.key_node,
                    ProblemKind::Window {
                        reason: e.to_string(),
                    },
                    None,
                );
                None
            }
        }
    }

    fn policy(&mut self, g: &GateFields<'_, '_>) -> Option<Check> {
        let n = g.fields.get("policy")?;
        let policy = self.doc.string(n, &format!("{}.policy", g.place))?;
        if !valid_segment(policy) || policy.ends_with(".rego") {
            self.report(
                n,
                ProblemKind::InvalidValue {
                    what: format!("`{}.policy`", g.place),
                    value: policy.to_string(),
                    expected:
                        "the stem of a file in .gantry/policies/ (`compliance` for compliance.rego)"
                            .into(),
                },
                None,
            );
            return None;
        }
        Some(Check::Policy {
            policy: policy.to_string(),
        })
    }

    fn states(&mut self, node: &Node, gates: &[String]) -> Vec<StateSpec> {
        let Some(fields) = self.doc.named_mapping(node, "states") else {
            return Vec::new();
        };
        let names: Vec<&str> = fields.iter().map(|(n, _, _)| n).collect();
        if names.is_empty() {
            self.report(node, ProblemKind::NoStates, None);
            return Vec::new();
        }
        let mut gate_names: Vec<&str> = gates.iter().map(String::as_str).collect();
        for v in VALIDATORS {
            if !gate_names.contains(v) && default_check(v, 1, &[]).is_some() {
                gate_names.push(v);
            }
        }
        let mut out = Vec::new();
        for (name, key_node, value) in fields.iter() {
            if !valid_segment(name) {
                self.report(
                    key_node,
                    ProblemKind::InvalidName {
                        what: "state name",
                        name: name.to_string(),
                    },
                    None,
                );
                continue;
            }
            let place = format!("states.{name}");
            let state_fields = if matches!(value.kind, NodeKind::Null) {
                None
            } else {
                match self.doc.mapping(value, &place, STATE_KEYS, &[]) {
                    Some(f) => Some(f),
                    None => continue,
                }
            };
            let transitions = state_fields
                .as_ref()
                .and_then(|f| f.get("allowed_transitions"))
                .map(|n| self.transitions(n, name, &place, &names))
                .unwrap_or_default();
            let requirements = state_fields
                .as_ref()
                .and_then(|f| f.get("requirements"))
                .map(|n| self.requirements(n, &place, &gate_names))
                .unwrap_or_default();
            out.push(StateSpec {
                name: name.to_string(),
                allowed_transitions: transitions,
                requirements,
            });
        }
        out
    }

    fn transitions(
        &mut self,
        node: &Node,
        state: &str,
        place: &str,
        states: &[&str],
    ) -> Vec<String> {
        let what = format!("{place}.allowed_transitions");
        let Some(items) = self.strings(node, &what) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (target, item) in items {
            if target == state {
                self.report(
                    &item,
                    ProblemKind::SelfTransition {
                        name: state.to_string(),
                    },
                    None,
                );
            } else if !states.contains(&target.as_str()) {
                let hint = suggest(&target, states.iter().copied())
                    .or_else(|| Some(format!("states: {}", states.join(", "))));
                self.report(
                    &item,
                    ProblemKind::UnknownState {
                        name: target,
                        place: what.clone(),
                    },
                    hint,
                );
            } else {
                out.push(target);
            }
        }
        out
    }

    fn requirements(&mut self, node: &Node, place: &str, gates: &[&str]) -> Vec<Requirement> {
        let what = format!("{place}.requirements");
        let Some(items) = self.doc.sequence(node, &what) else {
            return Vec::new();
        };
        let mut out: Vec<(Requirement, Node)> = Vec::new();
        for item in items {
            let (gate_node, level) = match &item.kind {
                NodeKind::Map(_) => {
                    let Some(fields) = self.doc.mapping(
                        item,
                        &format!("an entry of {what}"),
                        REQUIREMENT_KEYS,
                        &["gate"],
                    ) else {
                        continue;
                    };
                    let level = match fields.get("level") {
                        None => Some(Level::Required),
                        Some(n) => self.doc.string(n, "level").and_then(|text| {
                            let level = Level::parse(text);
                            if level.is_none() {
                                self.invalid(n, "level", text, Level::NAMES);
                            }
                            level
                        }),
                    };
                    let (Some(gate), Some(level)) = (fields.get("gate"), level) else {
                        continue;
                    };
                    (gate, level)
                }
                _ => (item, Level::Required),
            };
            let Some(gate) = self.doc.string(gate_node, &format!("an entry of {what}")) else {
                continue;
            };
            if !gates.contains(&gate) {
                let hint = suggest(gate, gates.iter().copied()).or_else(|| {
                    Some(if gate == "window" || gate == "policy" {
                        format!("configure `{gate}` under `gates:` with its settings")
                    } else {
                        format!("gates: {}", gates.join(", "))
                    })
                });
                self.report(
                    gate_node,
                    ProblemKind::UnknownGate {
                        name: gate.to_string(),
                        place: what.clone(),
                    },
                    hint,
                );
                continue;
            }
            if let Some((_, first)) = out.iter().find(|(r, _)| r.gate == gate) {
                let first = self.doc.location(first.span);
                self.report(
                    gate_node,
                    ProblemKind::DuplicateEntry {
                        name: gate.to_string(),
                        list: what.clone(),
                        first,
                    },
                    None,
                );
                continue;
            }
            out.push((
                Requirement {
                    gate: gate.to_string(),
                    level,
                    location: Some(self.doc.location(gate_node.span)),
                },
                gate_node.clone(),
            ));
        }
        out.into_iter().map(|(r, _)| r).collect()
    }
}
