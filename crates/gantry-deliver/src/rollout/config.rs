//! `.gantry/rollouts/NAME.yml`: where the router listens, the stable and
//! canary upstreams, the traffic provider, the strategy (Argo Rollouts'
//! `canary.steps` or `blueGreen`), the analysis and Flagger-style webhooks.
//!
//! ```yaml
//! listen: 127.0.0.1:8080
//! stable: http://127.0.0.1:9001
//! canary: http://127.0.0.1:9002
//! traffic: { provider: router }        # or haproxy, with runtimeApi, backend,
//!                                      # stableServer, canaryServer
//! strategy:
//!   canary:
//!     steps:
//!       - setWeight: 10
//!       - pause: { duration: 30s }
//!       - setWeight: 50
//!       - analysis: { count: 3 }
//!       - pause: {}                    # until `gantry rollout promote`
//!       - setWeight: 100
//! analysis:
//!   interval: 10s
//!   successRate: 0.99                  # or "99%"
//!   maxLatencyP99: 500ms
//!   minSamples: 20
//!   failureLimit: 0
//!   consecutiveErrorLimit: 4
//!   query: { address: http://127.0.0.1:9090, promql: "...", max: 0.01 }
//! webhooks:
//!   - { name: ready, type: pre-rollout, url: http://127.0.0.1:7000/ready }
//! ```
//!
//! Every problem is reported at file:line:col, all of them at once.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use gantry_promote::located::{Doc, Fields, ProblemKind, Problems};
use gantry_traffic::Upstream;
use gantry_workflow::SourceFile;
use gantry_workflow::yaml::{Node, NodeKind};

/// Where rollout files live, relative to the repository root.
pub const ROLLOUTS_DIR: &str = ".gantry/rollouts";
const MAX_CONFIG_BYTES: usize = 1 << 20;

/// One rollout, as its file declares it.
#[derive(Debug, Clone)]
pub struct RolloutConfig {
    pub name: String,
    /// The file read, relative to the repository root.
    pub file: String,
    /// The hex SHA-256 of the file's text: what evidence is about.
    pub digest: String,
    pub listen: SocketAddr,
    pub stable: Upstream,
    pub canary: Upstream,
    pub traffic: TrafficConfig,
    pub strategy: Strategy,
    /// Judged every interval while the canary gets traffic.
    pub analysis: Option<AnalysisConfig>,
    pub webhooks: Vec<Webhook>,
    /// Where the rollout's events are announced (Slack, Teams, webhooks).
    pub notifications: Vec<crate::notify::NotificationTarget>,
}

/// Which provider moves the traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrafficConfig {
    /// gantry's own router, listening at `listen`.
    Router,
    /// A running HAProxy driven through its runtime API.
    Haproxy {
        /// A unix socket path or `host:port`.
        runtime_api: String,
        backend: String,
        stable_server: String,
        canary_server: String,
    },
}

impl TrafficConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            TrafficConfig::Router => "router",
            TrafficConfig::Haproxy { .. } => "haproxy",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Strategy {
    Canary { steps: Vec<Step> },
    BlueGreen(BlueGreen),
}

/// One step of `strategy.canary.steps`.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Send this percentage of requests to the canary.
    SetWeight(u32),
    /// Wait this long, or (with `None`) until `gantry rollout promote`.
    Pause(Option<Duration>),
    /// Go on after `count` passing analysis intervals in a row.
    Analysis { count: u32 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct BlueGreen {
    /// A second listener that sends everything to the new version.
    pub preview_listen: Option<SocketAddr>,
    /// Switch once the pre-promotion analysis passed (Argo's default is
    /// `true`); with `false`, wait for `gantry rollout promote`.
    pub auto_promotion_enabled: bool,
    /// Wait this long before switching automatically.
    pub auto_promotion_seconds: Option<Duration>,
    /// Passing analysis intervals required before the switch.
    pub pre_promotion_analysis: Option<u32>,
}

/// How each interval is judged.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisConfig {
    pub interval: Duration,
    /// The lowest acceptable share of non-5xx answers (0 to 1).
    pub success_rate: Option<f64>,
    pub max_latency_p99: Option<Duration>,
    /// Fewer canary requests than this in an interval is inconclusive.
    pub min_samples: u64,
    /// Failed intervals tolerated; one more fails the analysis.
    pub failure_limit: u32,
    /// Measurement errors in a row tolerated; one more fails the analysis.
    pub consecutive_error_limit: u32,
    pub query: Option<PromQuery>,
    /// Load sent while the rollout runs, so that a quiet service still
    /// gives each interval samples.
    pub load: Option<LoadConfig>,
}

/// `analysis.load`: requests per second, to `url` (the router by default).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadConfig {
    pub rate: f64,
    pub url: Option<String>,
}

/// A Prometheus instant query whose value must stay within a bound.
#[derive(Debug, Clone, PartialEq)]
pub struct PromQuery {
    pub address: String,
    pub promql: String,
    pub threshold: Threshold,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// The value must be at most this.
    Max(f64),
    /// The value must be at least this.
    Min(f64),
}

impl Threshold {
    pub fn holds(self, value: f64) -> bool {
        match self {
            Threshold::Max(max) => value <= max,
            Threshold::Min(min) => value >= min,
        }
    }
}

/// When a webhook is called (Flagger's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    /// Before any traffic moves; a refusal counts as a failed analysis.
    PreRollout,
    /// Before the last step (full promotion); waits until it says yes.
    ConfirmPromotion,
    /// Asked every interval; a yes rolls the canary back.
    Rollback,
}

impl HookKind {
    pub fn name(self) -> &'static str {
        match self {
            HookKind::PreRollout => "pre-rollout",
            HookKind::ConfirmPromotion => "confirm-promotion",
            HookKind::Rollback => "rollback",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub name: String,
    pub kind: HookKind,
    pub url: String,
    pub timeout: Duration,
    pub metadata: BTreeMap<String, String>,
}

/// Why a rollout file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RolloutConfigError {
    #[error(
        "invalid rollout name `{0}`: use letters, digits, `-`, `_` and `.`, not starting with `.`"
    )]
    Name(String),
    #[error("no rollout `{name}`: {dir}/{name}.yml does not exist")]
    NotFound { name: String, dir: &'static str },
    #[error("failed to read {file}: {message}")]
    Read { file: String, message: String },
    /// Problems in the file, every one of them.
    #[error(transparent)]
    Invalid(Problems),
}

impl RolloutConfig {
    /// Reads `<root>/.gantry/rollouts/NAME.yml` (or `.yaml`).
    pub fn load(root: &Path, name: &str) -> Result<RolloutConfig, RolloutConfigError> {
        let valid = !name.is_empty()
            && name.len() <= 128
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(RolloutConfigError::Name(name.to_string()));
        }
        for ext in ["yml", "yaml"] {
            let relative = format!("{ROLLOUTS_DIR}/{name}.{ext}");
            let path = gantry_fs::confine(root, Path::new(&relative)).map_err(|e| {
                RolloutConfigError::Read {
                    file: relative.clone(),
                    message: e.to_string(),
                }
            })?;
            if path.symlink_metadata().is_err() {
                continue;
            }
            let source = gantry_workflow::read_source(&path, relative.clone(), MAX_CONFIG_BYTES)
                .map_err(|e| RolloutConfigError::Read {
                    file: relative.clone(),
                    message: e.to_string(),
                })?;
            return RolloutConfig::parse(name, &source);
        }
        Err(RolloutConfigError::NotFound {
            name: name.to_string(),
            dir: ROLLOUTS_DIR,
        })
    }

    /// Reads a rollout file's text.
    pub fn parse(
        name: &str,
        source: &Arc<SourceFile>,
    ) -> Result<RolloutConfig, RolloutConfigError> {
        let mut reader = Reader {
            doc: Doc::new(source.clone()),
        };
        let config = reader.read(name);
        let mut problems = reader.doc.problems;
        if !problems.is_empty() {
            problems.sort_by(|a, b| a.location.cmp(&b.location));
            return Err(RolloutConfigError::Invalid(Problems(problems)));
        }
        config.ok_or(RolloutConfigError::Invalid(Problems(Vec::new())))
    }

    /// The canary weight at the end of a successful rollout.
    pub fn steps(&self) -> &[Step] {
        match &self.strategy {
            Strategy::Canary { steps } => steps,
            Strategy::BlueGreen(_) => &[],
        }
    }
}

const TOP_KEYS: &[&str] = &[
    "listen",
    "stable",
    "canary",
    "traffic",
    "strategy",
    "analysis",
    "webhooks",
    "notifications",
];
const ROUTER_KEYS: &[&str] = &["provider"];
const HAPROXY_KEYS: &[&str] = &[
    "provider",
    "runtimeApi",
    "backend",
    "stableServer",
    "canaryServer",
];
const STRATEGY_KEYS: &[&str] = &["canary", "blueGreen"];
const CANARY_KEYS: &[&str] = &["steps"];
const STEP_KEYS: &[&str] = &["setWeight", "pause", "analysis"];
const BLUE_GREEN_KEYS: &[&str] = &[
    "previewListen",
    "autoPromotionEnabled",
    "autoPromotionSeconds",
    "prePromotionAnalysis",
];
const ANALYSIS_KEYS: &[&str] = &[
    "interval",
    "successRate",
    "maxLatencyP99",
    "minSamples",
    "failureLimit",
    "consecutiveErrorLimit",
    "query",
    "load",
];
const LOAD_KEYS: &[&str] = &["rate", "url"];
const QUERY_KEYS: &[&str] = &["address", "promql", "max", "min"];
const WEBHOOK_KEYS: &[&str] = &["name", "type", "url", "timeout", "metadata"];

struct Reader {
    doc: Doc,
}

impl Reader {
    fn read(&mut self, name: &str) -> Option<RolloutConfig> {
        let root = self.doc.parse()?;
        let top = self.doc.mapping(
            &root,
            "the rollout",
            TOP_KEYS,
            &["listen", "stable", "canary", "strategy"],
        )?;
        let listen = top.get("listen").and_then(|n| self.address(n, "listen"));
        let stable = top.get("stable").and_then(|n| self.upstream(n, "stable"));
        let canary = top.get("canary").and_then(|n| self.upstream(n, "canary"));
        let traffic = match top.get("traffic") {
            Some(node) => self.traffic(node),
            None => Some(TrafficConfig::Router),
        };
        let strategy = top.get("strategy").and_then(|n| self.strategy(n));
        let analysis = match top.get("analysis") {
            Some(node) => Some(self.analysis(node)?),
            None => None,
        };
        let webhooks = match top.get("webhooks") {
            Some(node) => self.webhooks(node)?,
            None => Vec::new(),
        };
        let notifications = match top.get("notifications") {
            Some(node) => crate::notify::read_targets(&mut self.doc, node, "notifications"),
            None => Vec::new(),
        };
        if analysis.is_none()
            && let Some(node) = top.get("strategy")
            && let Some(strategy) = &strategy
            && needs_analysis(strategy)
        {
            self.invalid(
                node,
                "`strategy`",
                "an analysis step",
                "an `analysis` block: an analysis step has nothing to judge without one",
            );
        }
        Some(RolloutConfig {
            name: name.to_string(),
            file: self.doc.text.name().to_string(),
            digest: {
                use sha2::Digest as _;
                let hash: [u8; 32] = sha2::Sha256::digest(self.doc.text.text().as_bytes()).into();
                hash.iter().map(|b| format!("{b:02x}")).collect()
            },
            listen: listen?,
            stable: stable?,
            canary: canary?,
            traffic: traffic?,
            strategy: strategy?,
            analysis,
            webhooks,
            notifications,
        })
    }

    fn invalid(&mut self, node: &Node, what: &str, value: &str, expected: &str) {
        self.doc.report(
            node.span,
            ProblemKind::InvalidValue {
                what: what.to_string(),
                value: value.to_string(),
                expected: expected.to_string(),
            },
            None,
        );
    }

    /// `127.0.0.1:8080`, `[::1]:8080`, or `:8080` for every address.
    fn address(&mut self, node: &Node, what: &str) -> Option<SocketAddr> {
        let text = self.doc.string(node, what)?;
        let parsed = match text.strip_prefix(':') {
            Some(port) => format!("0.0.0.0:{port}").parse(),
            None => text.parse(),
        };
        match parsed {
            Ok(address) => Some(address),
            Err(_) => {
                self.invalid(
                    node,
                    &format!("`{what}`"),
                    text,
                    "an address and port like 127.0.0.1:8080 or :8080",
                );
                None
            }
        }
    }

    fn upstream(&mut self, node: &Node, what: &str) -> Option<Upstream> {
        let text = self.doc.string(node, what)?;
        match Upstream::parse(text) {
            Ok(upstream) => Some(upstream),
            Err(e) => {
                let reason = match e {
                    gantry_traffic::RouterError::Upstream { reason, .. } => reason,
                    _ => "an http:// URL",
                };
                self.invalid(node, &format!("`{what}`"), text, reason);
                None
            }
        }
    }

    fn text(&mut self, fields: &Fields<'_>, key: &str, place: &str) -> Option<String> {
        let node = fields.get(key)?;
        let text = self.doc.string(node, &format!("{place}.{key}"))?;
        if text.trim().is_empty() {
            self.invalid(
                node,
                &format!("`{place}.{key}`"),
                text,
                "a non-empty string",
            );
            return None;
        }
        Some(text.to_string())
    }

    fn traffic(&mut self, node: &Node) -> Option<TrafficConfig> {
        let provider = match node.entry("provider") {
            Some((_, value)) => self.doc.string(value, "traffic.provider")?,
            None => "router",
        };
        match provider {
            "router" => {
                self.doc.mapping(node, "traffic", ROUTER_KEYS, &[])?;
                Some(TrafficConfig::Router)
            }
            "haproxy" => {
                let required = &["runtimeApi", "backend", "stableServer", "canaryServer"];
                let fields = self.doc.mapping(node, "traffic", HAPROXY_KEYS, required)?;
                let runtime_api = self.text(&fields, "runtimeApi", "traffic");
                let backend = self.text(&fields, "backend", "traffic");
                let stable_server = self.text(&fields, "stableServer", "traffic");
                let canary_server = self.text(&fields, "canaryServer", "traffic");
                Some(TrafficConfig::Haproxy {
                    runtime_api: runtime_api?,
                    backend: backend?,
                    stable_server: stable_server?,
                    canary_server: canary_server?,
                })
            }
            other => {
                let at = node.entry("provider").map_or(node, |(_, v)| v);
                self.invalid(at, "`traffic.provider`", other, "`router` or `haproxy`");
                None
            }
        }
    }

    fn strategy(&mut self, node: &Node) -> Option<Strategy> {
        let fields = self.doc.mapping(node, "strategy", STRATEGY_KEYS, &[])?;
        match (fields.get("canary"), fields.get("blueGreen")) {
            (Some(canary), None) => {
                let canary =
                    self.doc
                        .mapping(canary, "strategy.canary", CANARY_KEYS, &["steps"])?;
                let steps_node = canary.get("steps")?;
                let items = self.doc.sequence(steps_node, "strategy.canary.steps")?;
                let mut steps = Vec::new();
                let mut ok = true;
                for item in items {
                    match self.step(item) {
                        Some(step) => steps.push(step),
                        None => ok = false,
                    }
                }
                if ok && steps.is_empty() {
                    self.invalid(
                        steps_node,
                        "`strategy.canary.steps`",
                        "[]",
                        "at least one step",
                    );
                    return None;
                }
                ok.then_some(Strategy::Canary { steps })
            }
            (None, Some(blue_green)) => self.blue_green(blue_green).map(Strategy::BlueGreen),
            _ => {
                self.invalid(
                    node,
                    "`strategy`",
                    "",
                    "exactly one of `canary` and `blueGreen`",
                );
                None
            }
        }
    }

    fn step(&mut self, node: &Node) -> Option<Step> {
        let place = "a step of strategy.canary.steps";
        let fields = self.doc.mapping(node, place, STEP_KEYS, &[])?;
        let entries: Vec<_> = fields.iter().collect();
        let written = matches!(&node.kind, NodeKind::Map(pairs) if !pairs.is_empty());
        if entries.is_empty() && written {
            // Its one key was unknown, and said so.
            return None;
        }
        let [(key, _, value)] = entries.as_slice() else {
            self.invalid(
                node,
                "step",
                "",
                "exactly one of `setWeight`, `pause`, `analysis`",
            );
            return None;
        };
        match *key {
            "setWeight" => {
                let weight = self.doc.count(value, "setWeight", 0)?;
                if weight > 100 {
                    self.invalid(
                        value,
                        "`setWeight`",
                        &weight.to_string(),
                        "a percentage from 0 to 100",
                    );
                    return None;
                }
                u32::try_from(weight).ok().map(Step::SetWeight)
            }
            "pause" => {
                if matches!(value.kind, NodeKind::Null) {
                    return Some(Step::Pause(None));
                }
                let pause = self.doc.mapping(value, "pause", &["duration"], &[])?;
                match pause.get("duration") {
                    Some(duration) => Some(Step::Pause(Some(self.duration(duration, "duration")?))),
                    None => Some(Step::Pause(None)),
                }
            }
            _ => Some(Step::Analysis {
                count: self.analysis_count(value, "analysis")?,
            }),
        }
    }

    /// `{}` (one interval) or `{count: N}`.
    fn analysis_count(&mut self, node: &Node, place: &str) -> Option<u32> {
        if matches!(node.kind, NodeKind::Null) {
            return Some(1);
        }
        let fields = self.doc.mapping(node, place, &["count"], &[])?;
        match fields.get("count") {
            Some(count) => u32::try_from(self.doc.count(count, "count", 1)?).ok(),
            None => Some(1),
        }
    }

    fn blue_green(&mut self, node: &Node) -> Option<BlueGreen> {
        let fields = self
            .doc
            .mapping(node, "strategy.blueGreen", BLUE_GREEN_KEYS, &[])?;
        let preview_listen = match fields.get("previewListen") {
            Some(n) => Some(self.address(n, "previewListen")?),
            None => None,
        };
        let auto_promotion_enabled = match fields.get("autoPromotionEnabled") {
            Some(n) => self.doc.boolean(n, "autoPromotionEnabled")?,
            None => true,
        };
        let auto_promotion_seconds = match fields.get("autoPromotionSeconds") {
            Some(n) => Some(self.duration(n, "autoPromotionSeconds")?),
            None => None,
        };
        let pre_promotion_analysis = match fields.get("prePromotionAnalysis") {
            Some(n) => Some(self.analysis_count(n, "prePromotionAnalysis")?),
            None => None,
        };
        Some(BlueGreen {
            preview_listen,
            auto_promotion_enabled,
            auto_promotion_seconds,
            pre_promotion_analysis,
        })
    }

    /// A number of seconds, or a text like `30s`, `500ms`, `5m`, `1h30m`.
    fn duration(&mut self, node: &Node, what: &str) -> Option<Duration> {
        let parsed = match &node.kind {
            NodeKind::Number(n) if *n >= 0.0 && n.is_finite() && *n <= 1e9 => {
                Ok(Duration::from_secs_f64(*n))
            }
            NodeKind::String(text) => parse_duration(text),
            _ => {
                self.doc.wrong_type(node, what, "a duration like 30s");
                return None;
            }
        };
        match parsed {
            Ok(duration) => Some(duration),
            Err(reason) => {
                let value = node.scalar_text().unwrap_or_default();
                self.doc
                    .report(node.span, ProblemKind::Duration { value, reason }, None);
                None
            }
        }
    }

    fn analysis(&mut self, node: &Node) -> Option<AnalysisConfig> {
        let fields = self.doc.mapping(node, "analysis", ANALYSIS_KEYS, &[])?;
        let interval = match fields.get("interval") {
            Some(n) => {
                let interval = self.duration(n, "interval")?;
                if interval < Duration::from_millis(10) {
                    self.invalid(n, "`interval`", "", "at least 10ms");
                    return None;
                }
                interval
            }
            None => Duration::from_secs(10),
        };
        let success_rate = match fields.get("successRate") {
            Some(n) => Some(self.rate(n)?),
            None => None,
        };
        let max_latency_p99 = match fields.get("maxLatencyP99") {
            Some(n) => Some(self.duration(n, "maxLatencyP99")?),
            None => None,
        };
        let number = |me: &mut Reader, key: &str, default: usize, min: usize| match fields.get(key)
        {
            Some(n) => me.doc.count(n, key, min),
            None => Some(default),
        };
        let min_samples = number(self, "minSamples", 10, 0)?;
        let failure_limit = number(self, "failureLimit", 0, 0)?;
        let consecutive_error_limit = number(self, "consecutiveErrorLimit", 4, 0)?;
        let query = match fields.get("query") {
            Some(n) => Some(self.query(n)?),
            None => None,
        };
        let load = match fields.get("load") {
            Some(n) => Some(self.load(n)?),
            None => None,
        };
        if success_rate.is_none() && max_latency_p99.is_none() && query.is_none() {
            self.invalid(
                node,
                "`analysis`",
                "",
                "at least one of `successRate`, `maxLatencyP99` and `query`",
            );
            return None;
        }
        Some(AnalysisConfig {
            interval,
            success_rate,
            max_latency_p99,
            min_samples: min_samples as u64,
            failure_limit: u32::try_from(failure_limit).ok()?,
            consecutive_error_limit: u32::try_from(consecutive_error_limit).ok()?,
            query,
            load,
        })
    }

    /// `load: { rate: 50/s, url: http://127.0.0.1:8080/ }`.
    fn load(&mut self, node: &Node) -> Option<LoadConfig> {
        let fields = self
            .doc
            .mapping(node, "analysis.load", LOAD_KEYS, &["rate"])?;
        let rate_node = fields.get("rate")?;
        let text = match &rate_node.kind {
            NodeKind::Number(n) => n.to_string(),
            _ => self
                .doc
                .string(rate_node, "analysis.load.rate")?
                .to_string(),
        };
        let rate = match gantry_traffic::load::parse_rate(&text) {
            Ok(r) if r > 0.0 => r,
            _ => {
                self.invalid(
                    rate_node,
                    "`analysis.load.rate`",
                    &text,
                    "a rate such as 50/s",
                );
                return None;
            }
        };
        let url = match fields.get("url") {
            Some(n) => {
                let url = self.doc.string(n, "analysis.load.url")?.to_string();
                if !url.starts_with("http://") {
                    self.invalid(n, "`analysis.load.url`", &url, "an http:// URL");
                    return None;
                }
                Some(url)
            }
            None => None,
        };
        Some(LoadConfig { rate, url })
    }

    /// `0.99` or `"99%"`.
    fn rate(&mut self, node: &Node) -> Option<f64> {
        let value = match &node.kind {
            NodeKind::Number(n) => Some(*n),
            NodeKind::String(text) => text
                .trim()
                .strip_suffix('%')
                .and_then(|p| p.trim().parse::<f64>().ok())
                .map(|p| p / 100.0),
            _ => None,
        };
        match value {
            Some(rate) if (0.0..=1.0).contains(&rate) => Some(rate),
            _ => {
                let text = node.scalar_text().unwrap_or_default();
                self.invalid(
                    node,
                    "`successRate`",
                    &text,
                    "a share from 0 to 1 (0.99) or a percentage (\"99%\")",
                );
                None
            }
        }
    }

    fn query(&mut self, node: &Node) -> Option<PromQuery> {
        let fields =
            self.doc
                .mapping(node, "analysis.query", QUERY_KEYS, &["address", "promql"])?;
        let address = self.text(&fields, "address", "analysis.query");
        if let (Some(address), Some(n)) = (&address, fields.get("address"))
            && !(address.starts_with("http://") || address.starts_with("https://"))
        {
            self.invalid(
                n,
                "`analysis.query.address`",
                address,
                "an http:// or https:// URL of Prometheus",
            );
            return None;
        }
        let promql = self.text(&fields, "promql", "analysis.query");
        let bound = |me: &mut Reader, key: &str| -> Option<Option<f64>> {
            match fields.get(key) {
                Some(n) => match n.kind {
                    NodeKind::Number(v) if v.is_finite() => Some(Some(v)),
                    _ => {
                        me.doc
                            .wrong_type(n, &format!("analysis.query.{key}"), "a number");
                        None
                    }
                },
                None => Some(None),
            }
        };
        let max = bound(self, "max")?;
        let min = bound(self, "min")?;
        let threshold = match (max, min) {
            (Some(max), None) => Threshold::Max(max),
            (None, Some(min)) => Threshold::Min(min),
            _ => {
                self.invalid(
                    node,
                    "`analysis.query`",
                    "",
                    "exactly one of `max` and `min`",
                );
                return None;
            }
        };
        Some(PromQuery {
            address: address?.trim_end_matches('/').to_string(),
            promql: promql?,
            threshold,
        })
    }

    fn webhooks(&mut self, node: &Node) -> Option<Vec<Webhook>> {
        let items = self.doc.sequence(node, "webhooks")?;
        let mut hooks = Vec::new();
        let mut ok = true;
        for item in items {
            match self.webhook(item) {
                Some(hook) => hooks.push(hook),
                None => ok = false,
            }
        }
        ok.then_some(hooks)
    }

    fn webhook(&mut self, node: &Node) -> Option<Webhook> {
        let place = "a webhook";
        let fields = self
            .doc
            .mapping(node, place, WEBHOOK_KEYS, &["name", "type", "url"])?;
        let name = self.text(&fields, "name", "webhook");
        let kind_node = fields.get("type")?;
        let kind_text = self.doc.string(kind_node, "webhook.type")?;
        let kind = match kind_text {
            "pre-rollout" => HookKind::PreRollout,
            "confirm-promotion" => HookKind::ConfirmPromotion,
            "rollback" => HookKind::Rollback,
            other => {
                self.invalid(
                    kind_node,
                    "`webhook.type`",
                    other,
                    "`pre-rollout`, `confirm-promotion` or `rollback`",
                );
                return None;
            }
        };
        let url = self.text(&fields, "url", "webhook");
        if let (Some(url), Some(n)) = (&url, fields.get("url"))
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            self.invalid(n, "`webhook.url`", url, "an http:// or https:// URL");
            return None;
        }
        let timeout = match fields.get("timeout") {
            Some(n) => self.duration(n, "timeout")?,
            None => Duration::from_secs(10),
        };
        let mut metadata = BTreeMap::new();
        if let Some(n) = fields.get("metadata") {
            let entries = self.doc.named_mapping(n, "webhook.metadata")?;
            for (key, _, value) in entries.iter() {
                let value = self.doc.string(value, &format!("metadata.{key}"))?;
                metadata.insert(key.to_string(), value.to_string());
            }
        }
        Some(Webhook {
            name: name?,
            kind,
            url: url?,
            timeout,
            metadata,
        })
    }
}

fn needs_analysis(strategy: &Strategy) -> bool {
    match strategy {
        Strategy::Canary { steps } => steps.iter().any(|s| matches!(s, Step::Analysis { .. })),
        Strategy::BlueGreen(bg) => bg.pre_promotion_analysis.is_some(),
    }
}

/// `30s`, `500ms`, `5m`, `1h30m`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        if seconds >= 0.0 && seconds.is_finite() && seconds <= 1e9 {
            return Ok(Duration::from_secs_f64(seconds));
        }
        return Err("expected a positive number of seconds".into());
    }
    let duration = gantry_promote::config::parse_duration(text)?;
    duration
        .try_into()
        .map_err(|_| "a duration cannot be negative".to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn parse(text: &str) -> Result<RolloutConfig, RolloutConfigError> {
        RolloutConfig::parse("web", &SourceFile::new(".gantry/rollouts/web.yml", text))
    }

    fn problems(text: &str) -> Vec<String> {
        match parse(text) {
            Err(RolloutConfigError::Invalid(p)) => p.0.iter().map(|p| p.to_string()).collect(),
            other => panic!("expected problems, got {other:?}"),
        }
    }

    const GOOD: &str = "\
listen: 127.0.0.1:8080
stable: http://127.0.0.1:9001
canary: http://127.0.0.1:9002
strategy:
  canary:
    steps:
      - setWeight: 10
      - pause: {duration: 30s}
      - setWeight: 50
      - analysis: {count: 3}
      - pause: {}
      - setWeight: 100
analysis:
  interval: 500ms
  successRate: 99%
  maxLatencyP99: 250ms
  minSamples: 20
  failureLimit: 1
  query: {address: 'http://127.0.0.1:9090/', promql: 'up', min: 1}
webhooks:
  - {name: ready, type: pre-rollout, url: 'http://127.0.0.1:7000/', metadata: {team: web}}
";

    #[test]
    fn a_canary_rollout_reads_into_typed_settings() {
        let config = parse(GOOD).unwrap();
        assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.traffic, TrafficConfig::Router);
        assert_eq!(
            config.steps(),
            &[
                Step::SetWeight(10),
                Step::Pause(Some(Duration::from_secs(30))),
                Step::SetWeight(50),
                Step::Analysis { count: 3 },
                Step::Pause(None),
                Step::SetWeight(100),
            ]
        );
        let analysis = config.analysis.unwrap();
        assert_eq!(analysis.interval, Duration::from_millis(500));
        assert_eq!(analysis.success_rate, Some(0.99));
        assert_eq!(analysis.max_latency_p99, Some(Duration::from_millis(250)));
        assert_eq!(analysis.min_samples, 20);
        assert_eq!(analysis.failure_limit, 1);
        assert_eq!(analysis.consecutive_error_limit, 4);
        let query = analysis.query.unwrap();
        assert_eq!(query.address, "http://127.0.0.1:9090");
        assert_eq!(query.threshold, Threshold::Min(1.0));
        assert_eq!(config.webhooks[0].kind, HookKind::PreRollout);
        assert_eq!(config.webhooks[0].metadata["team"], "web");
    }

    #[test]
    fn an_haproxy_traffic_block_and_a_blue_green_strategy_read() {
        let config = parse(
            "listen: ':8080'\nstable: http://a:1\ncanary: http://b:2\n\
             traffic: {provider: haproxy, runtimeApi: /run/haproxy.sock, backend: web, \
             stableServer: blue, canaryServer: green}\n\
             strategy:\n  blueGreen: {previewListen: '127.0.0.1:8081', autoPromotionEnabled: false, \
             prePromotionAnalysis: {count: 2}}\n\
             analysis: {successRate: 0.95}\n",
        )
        .unwrap();
        assert_eq!(config.listen, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(
            config.traffic,
            TrafficConfig::Haproxy {
                runtime_api: "/run/haproxy.sock".into(),
                backend: "web".into(),
                stable_server: "blue".into(),
                canary_server: "green".into(),
            }
        );
        let Strategy::BlueGreen(bg) = config.strategy else {
            panic!("not blue-green");
        };
        assert!(!bg.auto_promotion_enabled);
        assert_eq!(bg.pre_promotion_analysis, Some(2));
        assert_eq!(bg.preview_listen, Some("127.0.0.1:8081".parse().unwrap()));
    }

    #[test]
    fn problems_are_reported_at_their_line_and_column() {
        let found = problems(
            "listen: nowhere\nstable: https://a:1\ncanary: http://b:2\n\
             strategy:\n  canary:\n    steps:\n      - setWeight: 150\n      - pasue: {}\n\
             analysis:\n  interval: soon\n  successRate: 2\n",
        );
        let expected = [
            ".gantry/rollouts/web.yml:1:9: invalid `listen` `nowhere`",
            ".gantry/rollouts/web.yml:2:9: invalid `stable` `https://a:1`",
            ".gantry/rollouts/web.yml:7:20: invalid `setWeight` `150`",
            ".gantry/rollouts/web.yml:8:9: unknown key `pasue`",
            ".gantry/rollouts/web.yml:10:13: invalid duration `soon`",
        ];
        for (want, got) in expected.iter().zip(&found) {
            assert!(
                got.starts_with(want),
                "{got:?} does not start with {want:?}"
            );
        }
        assert!(found[3].contains("did you mean `pause`?"), "{}", found[3]);
        assert_eq!(found.len(), expected.len(), "{found:#?}");
    }

    #[test]
    fn an_analysis_step_without_an_analysis_block_is_refused() {
        let found = problems(
            "listen: 127.0.0.1:1\nstable: http://a:1\ncanary: http://b:2\n\
             strategy: {canary: {steps: [{analysis: {}}]}}\n",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains(":4:11:"), "{}", found[0]);
        assert!(found[0].contains("an `analysis` block"), "{}", found[0]);
    }

    #[test]
    fn missing_keys_and_unknown_providers_are_named() {
        let found = problems("listen: 127.0.0.1:1\ntraffic: {provider: nginx}\n");
        assert!(
            found
                .iter()
                .any(|p| p.contains("missing the required key `stable`")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|p| p
                .starts_with(".gantry/rollouts/web.yml:2:21: invalid `traffic.provider` `nginx`")),
            "{found:?}"
        );
    }

    #[test]
    fn rollout_names_cannot_leave_the_rollouts_folder() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["../x", ".hidden", "a/b", ""] {
            assert!(
                matches!(
                    RolloutConfig::load(dir.path(), bad),
                    Err(RolloutConfigError::Name(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            RolloutConfig::load(dir.path(), "web"),
            Err(RolloutConfigError::NotFound { .. })
        ));
    }
}
