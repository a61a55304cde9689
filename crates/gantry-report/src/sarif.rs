//! SARIF 2.1.0, typed: the parts of the OASIS schema gantry writes (log,
//! run, tool and driver, rules with help and properties, results with
//! physical and logical locations, related locations and fingerprints),
//! and [`write`], the one writer every command's `--format sarif` uses.
//!
//! Field names and order follow the specification; what is empty or
//! absent is left out, as the schema allows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Finding, Location as ReportLocation, Severity};

/// The schema URI written into every log.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The SARIF version written.
pub const VERSION: &str = "2.1.0";

/// `sarifLog`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Log {
    #[serde(rename = "$schema")]
    pub schema: String,
    pub version: String,
    pub runs: Vec<Run>,
}

/// `run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub tool: Tool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub original_uri_base_ids: BTreeMap<String, ArtifactLocation>,
    pub results: Vec<SarifResult>,
}

/// `tool`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub driver: ToolComponent,
}

/// `toolComponent`: the driver and its rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolComponent {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub information_uri: Option<String>,
    #[serde(default)]
    pub rules: Vec<ReportingDescriptor>,
}

/// `reportingDescriptor`: a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportingDescriptor {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_description: Option<Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_description: Option<Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<MultiformatMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_configuration: Option<ReportingConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<PropertyBag>,
}

/// `message` (plain text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub text: String,
}

impl Message {
    pub fn new(text: impl Into<String>) -> Message {
        Message { text: text.into() }
    }
}

/// `multiformatMessageString`: text with an optional Markdown form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiformatMessage {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
}

/// `reportingConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportingConfiguration {
    pub level: Level,
}

/// A result's `level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    None,
    Note,
    Warning,
    Error,
}

/// `propertyBag`: tags first, then named properties.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PropertyBag {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(flatten)]
    pub values: BTreeMap<String, Value>,
}

/// `result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult {
    pub rule_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_index: Option<usize>,
    pub level: Level,
    pub message: Message,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_locations: Vec<Location>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub partial_fingerprints: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<PropertyBag>,
}

/// `location`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_location: Option<PhysicalLocation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logical_locations: Vec<LogicalLocation>,
}

/// `physicalLocation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

/// `artifactLocation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactLocation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri_base_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Message>,
}

/// `region`: 1-based lines and columns, 0-based byte offsets.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_column: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_column: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byte_offset: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byte_length: Option<usize>,
}

/// `logicalLocation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogicalLocation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fully_qualified_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// The tool a log is from.
#[derive(Debug, Clone)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
    pub information_uri: Option<String>,
}

impl ToolInfo {
    /// gantry at `version`.
    pub fn gantry(version: &str) -> ToolInfo {
        ToolInfo {
            name: "gantry".into(),
            version: version.into(),
            information_uri: None,
        }
    }
}

/// A rule as a checker describes it.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    /// The rule's `name`; the id when `None`.
    pub name: Option<String>,
    pub title: String,
    pub description: String,
    /// Help as text; the description when `None`.
    pub help_text: Option<String>,
    pub help_markdown: Option<String>,
    pub help_uri: Option<String>,
    pub default_severity: Severity,
    /// GitHub's `security-severity` (0.0 to 10.0), written with one
    /// decimal.
    pub security_severity: f64,
    pub tags: Vec<String>,
}

impl Rule {
    /// A rule with a title and description, high by default.
    pub fn new(id: &str, title: &str, description: &str) -> Rule {
        Rule {
            id: id.into(),
            name: None,
            title: title.into(),
            description: description.into(),
            help_text: None,
            help_markdown: None,
            help_uri: None,
            default_severity: Severity::High,
            security_severity: 7.0,
            tags: vec!["security".into()],
        }
    }

    fn descriptor(&self) -> ReportingDescriptor {
        let mut values = BTreeMap::new();
        values.insert(
            "security-severity".into(),
            Value::String(format!("{:.1}", self.security_severity)),
        );
        ReportingDescriptor {
            id: self.id.clone(),
            name: Some(self.name.clone().unwrap_or_else(|| self.id.clone())),
            short_description: Some(Message::new(&self.title)),
            full_description: Some(Message::new(&self.description)),
            help: Some(MultiformatMessage {
                text: self
                    .help_text
                    .clone()
                    .unwrap_or_else(|| self.description.clone()),
                markdown: self.help_markdown.clone(),
            }),
            help_uri: self.help_uri.clone(),
            default_configuration: Some(ReportingConfiguration {
                level: self.default_severity.sarif_level(),
            }),
            properties: Some(PropertyBag {
                tags: self.tags.clone(),
                values,
            }),
        }
    }
}

/// A `uriBaseId` that every file of the log is relative to.
#[derive(Debug, Clone)]
pub struct UriBase {
    /// E.g. `%SRCROOT%`.
    pub id: String,
    pub description: String,
}

/// The `physicalLocation` of a report location.
fn physical(location: &ReportLocation, base: Option<&UriBase>) -> PhysicalLocation {
    let (byte_offset, byte_length) = match location.span {
        Some((start, end)) => (Some(start), Some(end.saturating_sub(start))),
        None => (None, None),
    };
    PhysicalLocation {
        artifact_location: ArtifactLocation {
            uri: Some(location.file.replace('\\', "/")),
            uri_base_id: base.map(|b| b.id.clone()),
            description: None,
        },
        region: Some(Region {
            start_line: Some(location.line.max(1)),
            start_column: location.column,
            end_line: location.end_line,
            end_column: location.end_column,
            byte_offset,
            byte_length,
        }),
    }
}

/// The one SARIF writer: a log of one run of `tool` with `rules` and a
/// result per finding (its rule's index when the rule is listed).
pub fn write(tool: &ToolInfo, rules: &[Rule], findings: &[Finding], base: Option<&UriBase>) -> Log {
    let index: BTreeMap<&str, usize> = rules
        .iter()
        .enumerate()
        .rev()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let results = findings
        .iter()
        .map(|f| SarifResult {
            rule_id: f.rule_id.clone(),
            rule_index: index.get(f.rule_id.as_str()).copied(),
            level: f.severity.sarif_level(),
            message: Message::new(&f.message),
            locations: vec![Location {
                id: None,
                message: None,
                physical_location: Some(physical(&f.location, base)),
                logical_locations: f
                    .logical
                    .iter()
                    .map(|name| LogicalLocation {
                        name: None,
                        fully_qualified_name: Some(name.clone()),
                        kind: Some("package".into()),
                    })
                    .collect(),
            }],
            related_locations: f
                .related
                .iter()
                .enumerate()
                .map(|(i, r)| Location {
                    id: Some(i),
                    message: Some(Message::new(&r.message)),
                    physical_location: Some(physical(&r.location, base)),
                    logical_locations: Vec::new(),
                })
                .collect(),
            partial_fingerprints: f
                .fingerprint
                .iter()
                .map(|p| ("gantryFinding/v1".to_string(), p.clone()))
                .collect(),
            properties: (!f.properties.is_empty()).then(|| PropertyBag {
                tags: Vec::new(),
                values: f.properties.clone(),
            }),
        })
        .collect();
    let original_uri_base_ids = base
        .map(|b| {
            (
                b.id.clone(),
                ArtifactLocation {
                    uri: None,
                    uri_base_id: None,
                    description: Some(Message::new(&b.description)),
                },
            )
        })
        .into_iter()
        .collect();
    Log {
        schema: SCHEMA.into(),
        version: VERSION.into(),
        runs: vec![Run {
            tool: Tool {
                driver: ToolComponent {
                    name: tool.name.clone(),
                    version: Some(tool.version.clone()),
                    information_uri: tool.information_uri.clone(),
                    rules: rules.iter().map(Rule::descriptor).collect(),
                },
            },
            original_uri_base_ids,
            results,
        }],
    }
}

/// A log as pretty JSON with a final newline.
pub fn to_string_pretty(log: &Log) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(log)?;
    text.push('\n');
    Ok(text)
}
