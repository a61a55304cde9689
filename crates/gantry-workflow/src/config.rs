//! The settings of `.gantry/config.yml` that workflow checks read:
//!
//! ```yaml
//! runner-labels: [gpu, linux-arm-big]   # labels of the team's own runners
//! default-token-permissions: write      # the repository's GITHUB_TOKEN default
//! ```
//!
//! Other keys belong to other commands and are left alone here.

use std::path::Path;

use crate::file::{FileError, read_source};
use crate::source::{SourceFile, Span};
use crate::yaml::{self, Limits, Node, NodeKind};

/// Where the project configuration is, relative to the repository root.
pub const CONFIG_FILE: &str = ".gantry/config.yml";

/// What the repository's `GITHUB_TOKEN` may do when a workflow does not
/// say (the repository's "Workflow permissions" setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenDefault {
    /// Read access to contents and packages (GitHub's default for new
    /// repositories and organisations).
    Read,
    /// Read and write access to every scope.
    Write,
}

impl std::str::FromStr for TokenDefault {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(TokenDefault::Read),
            "write" => Ok(TokenDefault::Write),
            other => Err(ConfigError::TokenDefault {
                value: other.to_string(),
                at: None,
            }),
        }
    }
}

/// The checks' part of `.gantry/config.yml`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectConfig {
    /// Runner labels to accept besides GitHub's own.
    pub runner_labels: Vec<String>,
    /// The repository's default token permissions, when known.
    pub default_token_permissions: Option<TokenDefault>,
}

/// Why `.gantry/config.yml` cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("failed to read {path}: {source}")]
    Read { path: String, source: FileError },
    #[error("failed to parse {path} at line {line}: {message}")]
    Yaml {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path} at line {line}: `{key}` must be {expected}")]
    Shape {
        path: String,
        line: usize,
        key: &'static str,
        expected: &'static str,
    },
    #[error(
        "default token permissions must be `read` or `write`, not `{value}`{}",
        at.as_ref().map(|a| format!(" ({a})")).unwrap_or_default()
    )]
    TokenDefault { value: String, at: Option<String> },
}

impl ProjectConfig {
    /// Reads `.gantry/config.yml` under `root`; no file is the default.
    pub fn read(root: &Path) -> Result<ProjectConfig, ConfigError> {
        let path = root.join(CONFIG_FILE);
        if !path.exists() {
            return Ok(ProjectConfig::default());
        }
        let source = read_source(&path, CONFIG_FILE.to_string(), 1024 * 1024).map_err(|e| {
            ConfigError::Read {
                path: CONFIG_FILE.to_string(),
                source: e,
            }
        })?;
        ProjectConfig::parse(&source)
    }

    /// Reads the checks' keys of a configuration text.
    pub fn parse(source: &SourceFile) -> Result<ProjectConfig, ConfigError> {
        let path = source.name().to_string();
        let line = |span: Span| source.position(span.start).line;
        let node = yaml::parse(source, Limits::default()).map_err(|e| ConfigError::Yaml {
            path: path.clone(),
            line: line(e.span),
            message: e.message,
        })?;
        let mut config = ProjectConfig::default();
        if matches!(node.kind, NodeKind::Null) {
            return Ok(config);
        }
        let shape = |key: &'static str, expected: &'static str, at: &Node| ConfigError::Shape {
            path: path.clone(),
            line: line(at.span),
            key,
            expected,
        };
        if !matches!(node.kind, NodeKind::Map(_)) {
            return Err(shape("(top level)", "a mapping", &node));
        }
        if let Some((_, labels)) = node.entry("runner-labels") {
            let expected = "a list of labels";
            match &labels.kind {
                NodeKind::Seq(items) => {
                    for item in items {
                        let label = item
                            .as_str()
                            .ok_or_else(|| shape("runner-labels", expected, item))?;
                        config.runner_labels.push(label.to_string());
                    }
                }
                NodeKind::Null => {}
                _ => return Err(shape("runner-labels", expected, labels)),
            }
        }
        if let Some((_, value)) = node.entry("default-token-permissions") {
            let text = value
                .as_str()
                .ok_or_else(|| shape("default-token-permissions", "`read` or `write`", value))?;
            let parsed: TokenDefault = text.parse().map_err(|_| ConfigError::TokenDefault {
                value: text.to_string(),
                at: Some(format!("{path} line {}", line(value.span))),
            })?;
            config.default_token_permissions = Some(parsed);
        }
        Ok(config)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ProjectConfig, ConfigError> {
        ProjectConfig::parse(&SourceFile::new(CONFIG_FILE, text))
    }

    #[test]
    fn reads_labels_and_token_default_and_leaves_other_keys() {
        let config =
            parse("container-engine: podman\nrunner-labels: [gpu, big]\ndefault-token-permissions: write\n")
                .unwrap();
        assert_eq!(config.runner_labels, vec!["gpu", "big"]);
        assert_eq!(config.default_token_permissions, Some(TokenDefault::Write));
        assert_eq!(parse("").unwrap(), ProjectConfig::default());
    }

    #[test]
    fn bad_values_say_what_and_where() {
        let err = parse("runner-labels: gpu\n").unwrap_err().to_string();
        assert!(
            err.contains("line 1") && err.contains("a list of labels"),
            "{err}"
        );
        let err = parse("a: 1\ndefault-token-permissions: admin\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`admin`") && err.contains("line 2"), "{err}");
    }
}
