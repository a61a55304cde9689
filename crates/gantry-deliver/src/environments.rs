//! `.gantry/environments.yml`: the environments jobs deploy to, with
//! GitHub's protection rules.
//!
//! ```yaml
//! environments:
//!   staging:
//!     deployment_branches: [main]
//!     vars: { REGION: eu-west-1 }
//!   production:
//!     deployment_branches: [main, "release/*", "tags/v*"]
//!     reviewers:                  # name → public key file, relative to .gantry/
//!       alice: keys/alice.pub
//!       bob: keys/bob.pub
//!     approvals_required: 1       # default 1 when reviewers are listed
//!     prevent_self_review: true   # default true
//!     wait_timer: 5               # minutes, 0 to 43200
//!     secrets:                    # by reference only, never a value
//!       DEPLOY_TOKEN: { env: PROD_DEPLOY_TOKEN }
//!       SSH_KEY: { file: /etc/gantry/prod.key }
//!     vars: { REGION: eu-central-1 }
//!     health_check:
//!       url: https://example.com/healthz
//!       expected_status: 200
//!       body: ok                  # or body_regex
//!       timeout: 5s
//!       retries: 5
//!       backoff: 1s
//!       deadline: 2m
//!     auto_rollback: true
//!     notifications:
//!       - { type: slack, url: https://hooks.slack.com/services/T/B/X }
//!     gates:                      # gantry-promote's gates
//!       freeze: { validator: window, timezone: Europe/Berlin, deny: ["Fri 16:00 - Mon 08:00"] }
//!     service: web                # the ledger keeps its deployments as web's evidence
//! ```
//!
//! Every problem of the file is reported at once, at file:line:col, by
//! gantry-promote's located reader; reviewers' keys and gates are read by
//! gantry-promote's own readers, so they mean what they mean there.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use regex::Regex;

use gantry_attest::keys::PublicKey;
use gantry_ledger::record::valid_segment;
use gantry_promote::config::{GateSpec, read_approvers, read_gates};
use gantry_promote::located::{Doc, Fields, Location, ProblemKind, Problems};
use gantry_workflow::SourceFile;
use gantry_workflow::yaml::{Node, NodeKind};

use crate::branches::{BranchPolicy, RefPattern};
use crate::health::{BodyMatch, HealthCheck, check_url, parse_duration};

/// The file, relative to the repository root.
pub const ENVIRONMENTS_FILE: &str = ".gantry/environments.yml";

/// The most the file may hold.
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// The longest `wait_timer`, in minutes (GitHub's: 30 days).
pub const MAX_WAIT_TIMER_MINUTES: usize = 43_200;

/// The most a secret file may hold.
pub const MAX_SECRET_BYTES: u64 = 1 << 20;

/// Where a secret's value comes from when a job needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable of the gantry process.
    Env(String),
    /// A file; relative paths are relative to the repository root.
    File(PathBuf),
}

use crate::notify::NotificationTarget;

/// One environment and its protection rules.
#[derive(Debug, Clone)]
pub struct Environment {
    pub name: String,
    /// Where its name is written.
    pub location: Location,
    pub deployment_branches: BranchPolicy,
    /// Where `deployment_branches` is written.
    pub branches_location: Option<Location>,
    /// Name → public key.
    pub reviewers: IndexMap<String, PublicKey>,
    /// 0 when no reviewers are listed.
    pub approvals_required: usize,
    pub prevent_self_review: bool,
    pub wait_timer: Duration,
    pub secrets: IndexMap<String, SecretSource>,
    pub vars: IndexMap<String, String>,
    pub health_check: Option<HealthCheck>,
    pub auto_rollback: bool,
    pub notifications: Vec<NotificationTarget>,
    pub gates: IndexMap<String, GateSpec>,
    /// The service this environment deploys: its deployments, approvals
    /// and health results are the ledger's evidence for that service.
    pub service: Option<String>,
}

impl Environment {
    /// An environment with no rules, as GitHub makes one a workflow names
    /// that nobody configured.
    pub fn unprotected(name: &str) -> Environment {
        Environment {
            name: name.to_string(),
            location: Location {
                file: ENVIRONMENTS_FILE.into(),
                line: 0,
                column: 0,
            },
            deployment_branches: BranchPolicy::All,
            branches_location: None,
            reviewers: IndexMap::new(),
            approvals_required: 0,
            prevent_self_review: true,
            wait_timer: Duration::ZERO,
            secrets: IndexMap::new(),
            vars: IndexMap::new(),
            health_check: None,
            auto_rollback: false,
            notifications: Vec::new(),
            gates: IndexMap::new(),
            service: None,
        }
    }
}

/// Every environment of a repository.
#[derive(Debug, Clone, Default)]
pub struct Environments {
    pub environments: IndexMap<String, Environment>,
    /// The file read; `None` when there is none.
    pub file: Option<String>,
}

/// Why the environments could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvironmentsError {
    #[error("{ENVIRONMENTS_FILE} leads out of the repository: {source}")]
    Escape { source: gantry_fs::Escape },
    #[error("failed to read {ENVIRONMENTS_FILE}: {message}")]
    Read { message: String },
    /// Problems in the file, every one of them.
    #[error(transparent)]
    Invalid(Problems),
}

/// Why an environment secret has no value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    #[error("secret `{name}` of environment `{environment}` comes from ${var}, which is not set")]
    MissingVar {
        environment: String,
        name: String,
        var: String,
    },
    #[error("secret `{name}` of environment `{environment}`: failed to read {}: {message}", path.display())]
    File {
        environment: String,
        name: String,
        path: PathBuf,
        message: String,
    },
}

impl Environments {
    /// Reads `<root>/.gantry/environments.yml`; no file is no
    /// environments (a job's environment is then unprotected).
    pub fn load(root: &Path) -> Result<Environments, EnvironmentsError> {
        let relative = Path::new(ENVIRONMENTS_FILE);
        let path = gantry_fs::confine(root, relative)
            .map_err(|source| EnvironmentsError::Escape { source })?;
        if let Err(e) = path.symlink_metadata()
            && e.kind() == std::io::ErrorKind::NotFound
        {
            return Ok(Environments::default());
        }
        let source = gantry_workflow::read_source(&path, ENVIRONMENTS_FILE, MAX_FILE_BYTES)
            .map_err(|e| EnvironmentsError::Read {
                message: e.to_string(),
            })?;
        Environments::parse(&source, &root.join(".gantry"))
    }

    /// Reads `source`; key files are read relative to `keys_dir`.
    pub fn parse(
        source: &Arc<SourceFile>,
        keys_dir: &Path,
    ) -> Result<Environments, EnvironmentsError> {
        let mut reader = Reader {
            doc: Doc::new(source.clone()),
            keys_dir,
        };
        let environments = reader.read();
        if !reader.doc.problems.is_empty() {
            let mut problems = reader.doc.problems;
            problems.sort_by(|a, b| a.location.cmp(&b.location));
            return Err(EnvironmentsError::Invalid(Problems(problems)));
        }
        Ok(Environments {
            environments,
            file: Some(source.name().to_string()),
        })
    }

    /// The environment `name`, or an unprotected one when none is
    /// configured by that name (as GitHub creates it on first use).
    /// Names compare case-insensitively, as GitHub's do.
    pub fn get(&self, name: &str) -> Environment {
        self.find(name)
            .cloned()
            .unwrap_or_else(|| Environment::unprotected(name))
    }

    /// The environment configured as `name` (case-insensitively), if any.
    pub fn find(&self, name: &str) -> Option<&Environment> {
        self.environments
            .values()
            .find(|e| e.name.eq_ignore_ascii_case(name))
    }

    /// Whether environment `name` declares secret `secret`.
    pub fn declares_secret(&self, name: &str, secret: &str) -> bool {
        self.environments
            .values()
            .filter(|e| e.name.eq_ignore_ascii_case(name))
            .any(|e| e.secrets.keys().any(|k| k.eq_ignore_ascii_case(secret)))
    }
}

impl Environment {
    /// The values of the environment's secrets, read now; relative files
    /// are under `root`.
    pub fn secret_values(&self, root: &Path) -> Result<IndexMap<String, String>, SecretError> {
        let mut out = IndexMap::new();
        for (name, source) in &self.secrets {
            let value = match source {
                SecretSource::Env(var) => {
                    std::env::var(var).map_err(|_| SecretError::MissingVar {
                        environment: self.name.clone(),
                        name: name.clone(),
                        var: var.clone(),
                    })?
                }
                SecretSource::File(path) => {
                    let full = if path.is_absolute() {
                        path.clone()
                    } else {
                        root.join(path)
                    };
                    let text =
                        gantry_fs::read_text_bounded(&full, MAX_SECRET_BYTES).map_err(|e| {
                            SecretError::File {
                                environment: self.name.clone(),
                                name: name.clone(),
                                path: full.clone(),
                                message: e.to_string(),
                            }
                        })?;
                    // A file's final newline is not part of the secret.
                    text.strip_suffix('\n').unwrap_or(&text).to_string()
                }
            };
            out.insert(name.clone(), value);
        }
        Ok(out)
    }
}

/// The validators of the gates an environment may have.
pub const GATE_VALIDATORS: &[&str] = &["window"];

const TOP_KEYS: &[&str] = &["environments"];
const ENV_KEYS: &[&str] = &[
    "deployment_branches",
    "reviewers",
    "approvals_required",
    "prevent_self_review",
    "wait_timer",
    "secrets",
    "vars",
    "health_check",
    "auto_rollback",
    "notifications",
    "gates",
    "service",
];
const HEALTH_KEYS: &[&str] = &[
    "url",
    "expected_status",
    "body",
    "body_regex",
    "timeout",
    "retries",
    "backoff",
    "deadline",
];

struct Reader<'a> {
    doc: Doc,
    keys_dir: &'a Path,
}

impl Reader<'_> {
    fn report(&mut self, node: &Node, kind: ProblemKind, hint: Option<String>) {
        self.doc.report(node.span, kind, hint);
    }

    fn invalid(
        &mut self,
        node: &Node,
        what: &str,
        value: &str,
        expected: &str,
        hint: Option<String>,
    ) {
        self.report(
            node,
            ProblemKind::InvalidValue {
                what: format!("`{what}`"),
                value: value.to_string(),
                expected: expected.to_string(),
            },
            hint,
        );
    }

    fn read(&mut self) -> IndexMap<String, Environment> {
        let mut out = IndexMap::new();
        let Some(root) = self.doc.parse() else {
            return out;
        };
        if matches!(root.kind, NodeKind::Null) {
            return out;
        }
        let Some(top) = self
            .doc
            .mapping(&root, "environments.yml", TOP_KEYS, &["environments"])
        else {
            return out;
        };
        let Some(node) = top.get("environments") else {
            return out;
        };
        if matches!(node.kind, NodeKind::Null) {
            return out;
        }
        let Some(fields) = self.doc.named_mapping(node, "environments") else {
            return out;
        };
        for (name, key_node, value) in fields.iter() {
            if !valid_segment(name) {
                self.report(
                    key_node,
                    ProblemKind::InvalidName {
                        what: "environment name",
                        name: name.to_string(),
                    },
                    None,
                );
                continue;
            }
            if let Some(first) = out
                .values()
                .find(|e: &&Environment| e.name.eq_ignore_ascii_case(name))
            {
                let first = first.location.clone();
                self.report(
                    key_node,
                    ProblemKind::DuplicateEntry {
                        name: name.to_string(),
                        list: "environments (names ignore case)".into(),
                        first,
                    },
                    None,
                );
                continue;
            }
            if let Some(env) = self.environment(name, key_node, value) {
                out.insert(name.to_string(), env);
            }
        }
        out
    }

    fn environment(&mut self, name: &str, key_node: &Node, node: &Node) -> Option<Environment> {
        let place = format!("environments.{name}");
        let mut env = Environment::unprotected(name);
        env.location = self.doc.location(key_node.span);
        if matches!(node.kind, NodeKind::Null) {
            return Some(env);
        }
        let fields = self.doc.mapping(node, &place, ENV_KEYS, &[])?;
        let before = self.doc.problems.len();
        if let Some(n) = fields.get("deployment_branches") {
            env.branches_location = Some(self.doc.location(n.span));
            env.deployment_branches = self.branches(n, &place);
        }
        if let Some(n) = fields.get("reviewers") {
            env.reviewers = read_approvers(
                &mut self.doc,
                n,
                &format!("{place}.reviewers"),
                self.keys_dir,
            );
        }
        env.approvals_required = match fields.get("approvals_required") {
            None => usize::from(!env.reviewers.is_empty()),
            Some(n) => {
                let what = format!("{place}.approvals_required");
                let count = self.doc.count(n, &what, 0).unwrap_or(0);
                let listed = fields.get("reviewers").map(count_keys).unwrap_or(0);
                if count > listed {
                    self.report(
                        n,
                        ProblemKind::TooFewApprovers {
                            place: what,
                            required: count,
                            available: listed,
                        },
                        Some("list reviewers with their public keys under `reviewers:`".into()),
                    );
                }
                count
            }
        };
        if let Some(n) = fields.get("prevent_self_review") {
            env.prevent_self_review = self
                .doc
                .boolean(n, &format!("{place}.prevent_self_review"))
                .unwrap_or(true);
        }
        if let Some(n) = fields.get("wait_timer") {
            let what = format!("{place}.wait_timer");
            if let Some(minutes) = self.doc.count(n, &what, 0) {
                if minutes > MAX_WAIT_TIMER_MINUTES {
                    self.invalid(
                        n,
                        &what,
                        &minutes.to_string(),
                        "at most 43200 minutes (30 days)",
                        None,
                    );
                } else {
                    env.wait_timer = Duration::from_secs(minutes as u64 * 60);
                }
            }
        }
        if let Some(n) = fields.get("secrets") {
            env.secrets = self.secrets(n, &format!("{place}.secrets"));
        }
        if let Some(n) = fields.get("vars") {
            env.vars = self.vars(n, &format!("{place}.vars"));
        }
        if let Some(n) = fields.get("health_check") {
            env.health_check = self.health_check(n, &format!("{place}.health_check"));
        }
        if let Some(n) = fields.get("auto_rollback") {
            env.auto_rollback = self
                .doc
                .boolean(n, &format!("{place}.auto_rollback"))
                .unwrap_or(false);
        }
        if let Some(n) = fields.get("notifications") {
            env.notifications = self.notifications(n, &format!("{place}.notifications"));
        }
        if let Some(n) = fields.get("service") {
            let what = format!("{place}.service");
            if let Some(service) = self.doc.string(n, &what) {
                if gantry_ledger::record::valid_segment(service) {
                    env.service = Some(service.to_string());
                } else {
                    self.invalid(
                        n,
                        &what,
                        service,
                        "a service name (letters, digits, `-`, `_`, `.`, `+`, `@`; at most 128)",
                        Some("the name the service has in .gantry/services/".into()),
                    );
                }
            }
        }
        if let Some(n) = fields.get("gates") {
            let approvers: Vec<String> = env.reviewers.keys().cloned().collect();
            env.gates = read_gates(
                &mut self.doc,
                n,
                self.keys_dir,
                env.approvals_required.max(1),
                &approvers,
            );
            // A deployment is not a package: only gates that a run can
            // decide by themselves apply.
            for gate in env.gates.values() {
                if !GATE_VALIDATORS.contains(&gate.check.validator()) {
                    let at = n.entry(&gate.name).map_or(n, |(k, _)| k);
                    self.invalid(
                        at,
                        &format!("{place}.gates.{}", gate.name),
                        gate.check.validator(),
                        &format!(
                            "a gate a deployment can decide: {}",
                            GATE_VALIDATORS.join(", ")
                        ),
                        Some(
                            "gates about a package's evidence belong in .gantry/promotion.yml"
                                .into(),
                        ),
                    );
                }
            }
        }
        (self.doc.problems.len() == before).then_some(env)
    }

    /// A list of patterns, or GitHub's policy as its API gives it:
    /// `{ protected_branches: false, custom_branch_policies: [{ name, type }] }`.
    fn branches(&mut self, node: &Node, place: &str) -> BranchPolicy {
        let what = format!("{place}.deployment_branches");
        if !matches!(node.kind, NodeKind::Map(_)) {
            return self.patterns(node, &what);
        }
        let Some(f) = self.doc.mapping(
            node,
            &what,
            &["protected_branches", "custom_branch_policies"],
            &[],
        ) else {
            return BranchPolicy::All;
        };
        if let Some(n) = f.get("protected_branches")
            && self.doc.boolean(n, &format!("{what}.protected_branches")) == Some(true)
        {
            self.invalid(
                n,
                &format!("{what}.protected_branches"),
                "true",
                "false: gantry knows no branch protection",
                Some("list the branches under `custom_branch_policies`".into()),
            );
        }
        match f.get("custom_branch_policies") {
            Some(n) => self.patterns(n, &format!("{what}.custom_branch_policies")),
            None => BranchPolicy::All,
        }
    }

    /// Patterns: `main`, `tags/v*`, or `{ name: "v*", type: tag }`.
    fn patterns(&mut self, node: &Node, what: &str) -> BranchPolicy {
        let what = what.to_string();
        let Some(items) = self.doc.sequence(node, &what) else {
            return BranchPolicy::All;
        };
        let mut patterns: Vec<RefPattern> = Vec::new();
        for item in items {
            let written;
            let text = if let NodeKind::Map(_) = item.kind {
                let entry = format!("an entry of {what}");
                let Some(f) = self.doc.mapping(item, &entry, &["name", "type"], &["name"]) else {
                    continue;
                };
                let Some(name) = f
                    .get("name")
                    .and_then(|n| self.doc.string(n, &format!("{entry}.name")))
                else {
                    continue;
                };
                let kind = match f.get("type") {
                    None => "branch",
                    Some(t) => match self.doc.string(t, &format!("{entry}.type")) {
                        Some(k @ ("branch" | "tag")) => k,
                        Some(other) => {
                            let other = other.to_string();
                            self.invalid(
                                t,
                                &format!("{entry}.type"),
                                &other,
                                "branch or tag",
                                None,
                            );
                            continue;
                        }
                        None => continue,
                    },
                };
                written = if kind == "tag" {
                    format!("tags/{name}")
                } else {
                    name.to_string()
                };
                written.as_str()
            } else {
                match self.doc.string(item, &format!("an entry of {what}")) {
                    Some(text) => text,
                    None => continue,
                }
            };
            let location = self.doc.location(item.span);
            if let Some(first) = patterns.iter().find(|p| p.text == text) {
                let first = first.location.clone();
                self.report(
                    item,
                    ProblemKind::DuplicateEntry {
                        name: text.to_string(),
                        list: what.clone(),
                        first,
                    },
                    None,
                );
                continue;
            }
            match RefPattern::new(text, location) {
                Ok(p) => patterns.push(p),
                Err(reason) => self.invalid(
                    item,
                    &what,
                    text,
                    &format!("a branch pattern or `tags/` and a tag pattern ({reason})"),
                    None,
                ),
            }
        }
        BranchPolicy::Patterns(patterns)
    }

    fn secrets(&mut self, node: &Node, place: &str) -> IndexMap<String, SecretSource> {
        let mut out = IndexMap::new();
        if matches!(node.kind, NodeKind::Null) {
            return out;
        }
        let Some(fields) = self.doc.named_mapping(node, place) else {
            return out;
        };
        for (name, key_node, value) in fields.iter() {
            if !valid_variable(name) {
                self.invalid(
                    key_node,
                    place,
                    name,
                    "a secret name: letters, digits and `_`, not starting with a digit or GITHUB_",
                    None,
                );
                continue;
            }
            let what = format!("{place}.{name}");
            if value.is_scalar() {
                // Never echo what was written: it may be the secret.
                self.report(
                    value,
                    ProblemKind::WrongType {
                        what,
                        expected: "a reference `{ env: VAR }` or `{ file: PATH }`",
                        found: "a value written in the file",
                    },
                    Some("secrets are never written in environments.yml; name where gantry reads them".into()),
                );
                continue;
            }
            let Some(f) = self.doc.mapping(value, &what, &["env", "file"], &[]) else {
                continue;
            };
            match (f.get("env"), f.get("file")) {
                (Some(v), None) => {
                    if let Some(var) = self.doc.string(v, &format!("{what}.env")) {
                        out.insert(name.to_string(), SecretSource::Env(var.to_string()));
                    }
                }
                (None, Some(v)) => {
                    if let Some(path) = self.doc.string(v, &format!("{what}.file")) {
                        out.insert(name.to_string(), SecretSource::File(PathBuf::from(path)));
                    }
                }
                _ => self.report(
                    value,
                    ProblemKind::MissingKey {
                        key: "env` or `file".into(),
                        place: what,
                    },
                    Some("give exactly one of `env:` and `file:`".into()),
                ),
            }
        }
        out
    }

    fn vars(&mut self, node: &Node, place: &str) -> IndexMap<String, String> {
        let mut out = IndexMap::new();
        if matches!(node.kind, NodeKind::Null) {
            return out;
        }
        let Some(fields) = self.doc.named_mapping(node, place) else {
            return out;
        };
        for (name, key_node, value) in fields.iter() {
            if !valid_variable(name) {
                self.invalid(
                    key_node,
                    place,
                    name,
                    "a variable name: letters, digits and `_`, not starting with a digit or GITHUB_",
                    None,
                );
                continue;
            }
            match value.scalar_text() {
                Some(text) => {
                    out.insert(name.to_string(), text);
                }
                None => self
                    .doc
                    .wrong_type(value, &format!("{place}.{name}"), "a string"),
            }
        }
        out
    }

    fn duration(&mut self, fields: &Fields<'_>, key: &str, place: &str, into: &mut Duration) {
        let Some(n) = fields.get(key) else { return };
        let text = match &n.kind {
            NodeKind::Number(_) => n.scalar_text().unwrap_or_default(),
            _ => match self.doc.string(n, &format!("{place}.{key}")) {
                Some(t) => t.to_string(),
                None => return,
            },
        };
        match parse_duration(&text) {
            Ok(d) => *into = d,
            Err(reason) => self.report(
                n,
                ProblemKind::Duration {
                    value: text,
                    reason,
                },
                Some("write it like 5s, 500ms, 2m or 1h30m".into()),
            ),
        }
    }

    fn health_check(&mut self, node: &Node, place: &str) -> Option<HealthCheck> {
        let fields = self.doc.mapping(node, place, HEALTH_KEYS, &["url"])?;
        let url_node = fields.get("url")?;
        let url = self
            .doc
            .string(url_node, &format!("{place}.url"))?
            .to_string();
        if let Err(reason) = check_url(&url) {
            self.invalid(
                url_node,
                &format!("{place}.url"),
                &url,
                "an http or https URL",
                Some(reason),
            );
            return None;
        }
        let mut check = HealthCheck::new(url);
        if let Some(n) = fields.get("expected_status") {
            let what = format!("{place}.expected_status");
            if let Some(status) = self.doc.count(n, &what, 100) {
                match u16::try_from(status) {
                    Ok(s) if s <= 599 => check.expected_status = s,
                    _ => self.invalid(
                        n,
                        &what,
                        &status.to_string(),
                        "an HTTP status code from 100 to 599",
                        None,
                    ),
                }
            }
        }
        match (fields.get("body"), fields.get("body_regex")) {
            (Some(_), Some(n)) => self.report(
                n,
                ProblemKind::InvalidValue {
                    what: format!("`{place}`"),
                    value: "body and body_regex".into(),
                    expected: "one of `body` (a substring) and `body_regex`".into(),
                },
                None,
            ),
            (Some(n), None) => {
                if let Some(text) = self.doc.string(n, &format!("{place}.body")) {
                    check.body = Some(BodyMatch::Contains(text.to_string()));
                }
            }
            (None, Some(n)) => {
                if let Some(text) = self.doc.string(n, &format!("{place}.body_regex")) {
                    match Regex::new(text) {
                        Ok(re) => check.body = Some(BodyMatch::Regex(re)),
                        Err(e) => self.invalid(
                            n,
                            &format!("{place}.body_regex"),
                            text,
                            "a regular expression",
                            Some(e.to_string()),
                        ),
                    }
                }
            }
            (None, None) => {}
        }
        self.duration(&fields, "timeout", place, &mut check.timeout);
        self.duration(&fields, "backoff", place, &mut check.backoff);
        self.duration(&fields, "deadline", place, &mut check.deadline);
        if let Some(n) = fields.get("retries")
            && let Some(r) = self.doc.count(n, &format!("{place}.retries"), 0)
        {
            check.retries = u32::try_from(r).unwrap_or(u32::MAX);
        }
        if check.timeout.is_zero()
            && let Some(n) = fields.get("timeout")
        {
            self.invalid(n, &format!("{place}.timeout"), "0", "more than zero", None);
        }
        Some(check)
    }

    fn notifications(&mut self, node: &Node, place: &str) -> Vec<NotificationTarget> {
        crate::notify::read_targets(&mut self.doc, node, place)
    }
}

/// The number of string keys of a mapping.
fn count_keys(node: &Node) -> usize {
    match &node.kind {
        NodeKind::Map(pairs) => pairs.iter().filter(|(k, _)| k.as_str().is_some()).count(),
        _ => 0,
    }
}

/// A secret or variable name as GitHub allows them.
fn valid_variable(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.to_ascii_uppercase().starts_with("GITHUB_")
}
