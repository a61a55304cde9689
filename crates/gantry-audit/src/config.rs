//! `.gantry/audit.yml`: which rules run, at what severity, with which
//! settings, and which persona decides what is shown.
//!
//! ```yaml
//! persona: pedantic
//! rules:
//!   missing-timeout:
//!     default-minutes: 20
//!   unpinned-uses:
//!     policies:
//!       "actions/*": ref-pin
//!       "my-org/*": any
//!       "*": hash-pin
//!   self-hosted-runner:
//!     disable: true
//!   excessive-timeout:
//!     severity: high
//! ```

use std::sync::Arc;

use indexmap::IndexMap;
use serde::Deserialize;

use gantry_workflow::yaml::{self, Limits};
use gantry_workflow::{SourceFile, Span};

use crate::finding::{Confidence, Severity};

/// Who the report is for: decides which confidence levels and which
/// pedantic rules are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Persona {
    /// Medium and high confidence; no pedantic rules. The default.
    #[default]
    Regular,
    /// Also the pedantic rules (style and defence in depth).
    Pedantic,
    /// Everything, low-confidence findings included.
    Auditor,
}

impl Persona {
    pub fn parse(s: &str) -> Option<Persona> {
        match s {
            "regular" => Some(Persona::Regular),
            "pedantic" => Some(Persona::Pedantic),
            "auditor" => Some(Persona::Auditor),
            _ => None,
        }
    }

    /// Whether a finding of a rule is shown to this persona.
    pub fn shows(self, confidence: Confidence, pedantic_rule: bool) -> bool {
        match self {
            Persona::Regular => confidence >= Confidence::Medium && !pedantic_rule,
            Persona::Pedantic => confidence >= Confidence::Medium,
            Persona::Auditor => true,
        }
    }
}

/// The settings of one rule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RuleConfig {
    #[serde(default)]
    pub disable: bool,
    pub severity: Option<Severity>,
    /// The rule's own settings.
    #[serde(flatten)]
    pub settings: serde_json::Map<String, serde_json::Value>,
}

impl RuleConfig {
    /// A rule setting, deserialised; the default when absent.
    pub fn setting<T: serde::de::DeserializeOwned + Default>(
        &self,
        key: &str,
    ) -> Result<T, ConfigError> {
        match self.settings.get(key) {
            None => Ok(T::default()),
            Some(value) => serde_json::from_value(value.clone()).map_err(|e| ConfigError {
                message: format!("invalid value for `{key}`: {e}"),
                span: None,
            }),
        }
    }
}

/// The whole audit configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub persona: Persona,
    #[serde(default)]
    pub rules: IndexMap<String, RuleConfig>,
}

/// A problem in the configuration file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct ConfigError {
    pub message: String,
    pub span: Option<Span>,
}

impl Config {
    /// Reads `.gantry/audit.yml` text; `known_rules` are the rule ids that
    /// may be configured.
    pub fn parse(source: &Arc<SourceFile>, known_rules: &[&str]) -> Result<Config, ConfigError> {
        let node = yaml::parse(source, Limits::default()).map_err(|e| ConfigError {
            message: e.message.clone(),
            span: Some(e.span),
        })?;
        if matches!(node.kind, yaml::NodeKind::Null) {
            return Ok(Config::default());
        }
        let json = gantry_workflow::matrix::node_to_value(&node).to_json();
        let config: Config = serde_json::from_value(json).map_err(|e| ConfigError {
            message: format!("invalid audit configuration: {e}"),
            span: None,
        })?;
        for name in config.rules.keys() {
            if !known_rules.contains(&name.as_str()) {
                let span = node
                    .entry("rules")
                    .and_then(|(_, rules)| rules.entry(name))
                    .map(|(k, _)| k.span);
                let hint = gantry_workflow::did_you_mean(name, known_rules.iter().copied())
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                return Err(ConfigError {
                    message: format!("unknown rule `{name}`{hint}"),
                    span,
                });
            }
        }
        Ok(config)
    }

    /// The settings of a rule (defaults when not configured).
    pub fn rule(&self, id: &str) -> RuleConfig {
        self.rules.get(id).cloned().unwrap_or_default()
    }
}
