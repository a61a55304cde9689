//! Problems in the repository's promotion files (`.gantry/services/*.yml`,
//! `.gantry/promotion.yml`), each at file:line:col with a hint where one
//! is known, and the YAML walking helpers their readers share.
//!
//! Readers collect every problem of a file instead of stopping at the
//! first, so one run of `gantry services` names everything to fix.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use gantry_workflow::yaml::{self, Limits, Node, NodeKind};
use gantry_workflow::{Diagnostic, SourceFile, Span, did_you_mean};

/// Where something was written: a file relative to the repository root,
/// and a 1-based line and character column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl Location {
    /// Where byte offset `span.start` of `source` is.
    pub fn of(source: &SourceFile, span: Span) -> Location {
        let at = source.position(span.start);
        Location {
            file: source.name().to_string(),
            line: at.line,
            column: at.column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// What is wrong, without where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProblemKind {
    #[error("failed to read the file: {message}")]
    Read { message: String },
    #[error("{message}")]
    Yaml { message: String },
    #[error("{} must be {expected}, not {found}", quote(.what))]
    WrongType {
        what: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("unknown key `{key}` in {}", quote(.place))]
    UnknownKey { key: String, place: String },
    #[error("{} is missing the required key `{key}`", quote(.place))]
    MissingKey { key: String, place: String },
    #[error("duplicate key `{key}` in {} (first at {first})", quote(.place))]
    DuplicateKey {
        key: String,
        place: String,
        first: Location,
    },
    #[error("invalid {what} `{value}`: expected {expected}")]
    InvalidValue {
        what: String,
        value: String,
        expected: String,
    },
    #[error(
        "invalid {what} `{name}`: use letters, digits and `-_.+@`, at most 128 characters, not `.` or `..`"
    )]
    InvalidName { what: &'static str, name: String },
    #[error("service `{name}` is already defined at {first}")]
    DuplicateService { name: String, first: Location },
    #[error("`{name}` is listed twice in `{list}` (first at {first})")]
    DuplicateEntry {
        name: String,
        list: String,
        first: Location,
    },
    #[error("unknown service `{name}` in `{list}`")]
    UnknownDependency { name: String, list: String },
    #[error("service `{name}` depends on itself")]
    SelfDependency { name: String },
    #[error("unknown state `{name}` in `{place}`")]
    UnknownState { name: String, place: String },
    #[error("state `{name}` lists a transition to itself")]
    SelfTransition { name: String },
    #[error("`states` declares no state")]
    NoStates,
    #[error("unknown gate `{name}` in `{place}`: not in `gates` and not a built-in gate")]
    UnknownGate { name: String, place: String },
    #[error("unknown validator `{name}` for gate `{gate}`")]
    UnknownValidator { name: String, gate: String },
    #[error("gate `{gate}` is not a built-in gate, so it needs a `validator`")]
    MissingValidator { gate: String },
    #[error("unknown approver `{name}` in `{place}`")]
    UnknownApprover { name: String, place: String },
    #[error("`{place}` requires {required} approvals but names only {available} approvers")]
    TooFewApprovers {
        place: String,
        required: usize,
        available: usize,
    },
    #[error("invalid duration `{value}`: {reason}")]
    Duration { value: String, reason: String },
    #[error("invalid window: {reason}")]
    Window { reason: String },
    #[error("failed to read the public key `{path}`: {reason}")]
    Key { path: String, reason: String },
}

impl ProblemKind {
    /// A stable identifier of the kind, e.g. `unknown-key`.
    pub fn code(&self) -> &'static str {
        match self {
            ProblemKind::Read { .. } => "unreadable",
            ProblemKind::Yaml { .. } => "yaml",
            ProblemKind::WrongType { .. } => "wrong-type",
            ProblemKind::UnknownKey { .. } => "unknown-key",
            ProblemKind::MissingKey { .. } => "missing-key",
            ProblemKind::DuplicateKey { .. } => "duplicate-key",
            ProblemKind::InvalidValue { .. } => "invalid-value",
            ProblemKind::InvalidName { .. } => "invalid-name",
            ProblemKind::DuplicateService { .. } => "duplicate-service",
            ProblemKind::DuplicateEntry { .. } => "duplicate-entry",
            ProblemKind::UnknownDependency { .. } => "unknown-dependency",
            ProblemKind::SelfDependency { .. } => "self-dependency",
            ProblemKind::UnknownState { .. } => "unknown-state",
            ProblemKind::SelfTransition { .. } => "self-transition",
            ProblemKind::NoStates => "no-states",
            ProblemKind::UnknownGate { .. } => "unknown-gate",
            ProblemKind::UnknownValidator { .. } => "unknown-validator",
            ProblemKind::MissingValidator { .. } => "missing-validator",
            ProblemKind::UnknownApprover { .. } => "unknown-approver",
            ProblemKind::TooFewApprovers { .. } => "too-few-approvers",
            ProblemKind::Duration { .. } => "invalid-duration",
            ProblemKind::Window { .. } => "invalid-window",
            ProblemKind::Key { .. } => "invalid-key",
        }
    }
}

/// One problem of a file: what, where, and how to fix it when known.
#[derive(Clone, thiserror::Error)]
#[error("{location}: {kind}{}", hint_suffix(.hint))]
pub struct Problem {
    pub kind: ProblemKind,
    pub location: Location,
    /// The bytes of `text` the problem is about.
    pub span: Span,
    /// "did you mean `service-b`?", or the values that are accepted.
    pub hint: Option<String>,
    /// The file, for source snippets.
    pub text: Arc<SourceFile>,
}

/// A place in backticks (`service.spec`), or as it is when it is words
/// ("the file", "an entry of dependencies.runtime").
fn quote(place: &str) -> String {
    if place.contains(' ') {
        place.to_string()
    } else {
        format!("`{place}`")
    }
}

impl fmt::Debug for Problem {
    // The file's text is left out: it can be long, and the location says
    // where the problem is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Problem")
            .field("kind", &self.kind)
            .field("location", &self.location)
            .field("span", &self.span)
            .field("hint", &self.hint)
            .finish_non_exhaustive()
    }
}

fn hint_suffix(hint: &Option<String>) -> String {
    hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default()
}

impl Problem {
    /// The problem as a diagnostic, to render with its source line.
    pub fn to_diagnostic(&self) -> Diagnostic {
        // A file that could not be read has no text to point into.
        let span = (!self.text.text().is_empty()).then_some(self.span);
        let mut d = Diagnostic::error(self.kind.code(), span, self.kind.to_string());
        if let Some(hint) = &self.hint {
            d = d.with_hint(hint.clone());
        }
        d
    }
}

/// Every problem found, in file order.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct Problems(pub Vec<Problem>);

/// "did you mean `x`?" for the closest candidate.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    did_you_mean(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The entries of a mapping whose keys were checked.
pub struct Fields<'n> {
    entries: Vec<(&'n str, &'n Node, &'n Node)>,
}

impl<'n> Fields<'n> {
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| *v)
    }

    /// The entries in source order: key text, key node, value.
    pub fn iter(&self) -> impl Iterator<Item = (&'n str, &'n Node, &'n Node)> + '_ {
        self.entries.iter().copied()
    }
}

/// One file being read: its text and the problems found so far.
pub struct Doc {
    pub text: Arc<SourceFile>,
    pub problems: Vec<Problem>,
}

impl Doc {
    pub fn new(text: Arc<SourceFile>) -> Doc {
        Doc {
            text,
            problems: Vec::new(),
        }
    }

    pub fn location(&self, span: Span) -> Location {
        Location::of(&self.text, span)
    }

    pub fn report(&mut self, span: Span, kind: ProblemKind, hint: Option<String>) {
        self.problems.push(Problem {
            location: self.location(span),
            kind,
            span,
            hint,
            text: self.text.clone(),
        });
    }

    /// The document's tree; `None` (with the problem recorded) when the
    /// text is not YAML.
    pub fn parse(&mut self) -> Option<Node> {
        match yaml::parse(&self.text, Limits::default()) {
            Ok(node) => Some(node),
            Err(e) => {
                self.report(
                    e.span,
                    ProblemKind::Yaml {
                        message: e.message.clone(),
                    },
                    None,
                );
                None
            }
        }
    }

    pub fn wrong_type(&mut self, node: &Node, what: &str, expected: &'static str) {
        self.report(
            node.span,
            ProblemKind::WrongType {
                what: what.to_string(),
                expected,
                found: article(node),
            },
            None,
        );
    }

    /// A mapping whose keys are all in `keys` and which holds every key of
    /// `required`. Unknown and duplicate keys are reported (the first of
    /// duplicates is kept); `None` when `node` is not a mapping.
    pub fn mapping<'n>(
        &mut self,
        node: &'n Node,
        place: &str,
        keys: &[&str],
        required: &[&str],
    ) -> Option<Fields<'n>> {
        let fields = self.entries(node, place, Some(keys))?;
        for key in required {
            if !fields.entries.iter().any(|(k, _, _)| k == key) {
                self.report(
                    Span::point(node.span.start),
                    ProblemKind::MissingKey {
                        key: key.to_string(),
                        place: place.to_string(),
                    },
                    None,
                );
            }
        }
        Some(fields)
    }

    /// A mapping whose keys are names chosen by the user (states, gates,
    /// approvers): duplicates and non-string keys are reported.
    pub fn named_mapping<'n>(&mut self, node: &'n Node, place: &str) -> Option<Fields<'n>> {
        self.entries(node, place, None)
    }

    /// The string-keyed entries of a mapping, each key once; with `keys`,
    /// only those keys (any other is reported with a "did you mean").
    fn entries<'n>(
        &mut self,
        node: &'n Node,
        place: &str,
        keys: Option<&[&str]>,
    ) -> Option<Fields<'n>> {
        let NodeKind::Map(pairs) = &node.kind else {
            self.wrong_type(node, place, "a mapping");
            return None;
        };
        let mut entries: Vec<(&'n str, &'n Node, &'n Node)> = Vec::new();
        for (key, value) in pairs {
            let Some(name) = key.as_str() else {
                self.wrong_type(key, &format!("a key of `{place}`"), "a string");
                continue;
            };
            if let Some((_, first, _)) = entries.iter().find(|(k, _, _)| *k == name) {
                let first = self.location(first.span);
                self.report(
                    key.span,
                    ProblemKind::DuplicateKey {
                        key: name.to_string(),
                        place: place.to_string(),
                        first,
                    },
                    None,
                );
                continue;
            }
            if let Some(keys) = keys
                && !keys.contains(&name)
            {
                let hint = suggest(name, keys.iter().copied())
                    .or_else(|| Some(format!("expected one of: {}", keys.join(", "))));
                self.report(
                    key.span,
                    ProblemKind::UnknownKey {
                        key: name.to_string(),
                        place: place.to_string(),
                    },
                    hint,
                );
                continue;
            }
            entries.push((name, key, value));
        }
        Some(Fields { entries })
    }

    /// A string scalar.
    pub fn string<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n str> {
        match node.as_str() {
            Some(s) => Some(s),
            None => {
                self.wrong_type(node, what, "a string");
                None
            }
        }
    }

    /// The items of a sequence; null (an empty value) is an empty list.
    pub fn sequence<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [Node]> {
        match &node.kind {
            NodeKind::Seq(items) => Some(items),
            NodeKind::Null => Some(&[]),
            _ => {
                self.wrong_type(node, what, "a list");
                None
            }
        }
    }

    /// A boolean scalar.
    pub fn boolean(&mut self, node: &Node, what: &str) -> Option<bool> {
        match node.kind {
            NodeKind::Bool(b) => Some(b),
            _ => {
                self.wrong_type(node, what, "`true` or `false`");
                None
            }
        }
    }

    /// A whole number of at least `min`.
    pub fn count(&mut self, node: &Node, what: &str, min: usize) -> Option<usize> {
        match node.kind {
            NodeKind::Number(n) if n.fract() == 0.0 && n >= min as f64 && n <= u32::MAX as f64 => {
                // In range and whole: the conversion is exact.
                Some(n as usize)
            }
            NodeKind::Number(n) => {
                self.report(
                    node.span,
                    ProblemKind::InvalidValue {
                        what: format!("`{what}`"),
                        value: yaml::format_number(n),
                        expected: format!("a whole number of at least {min}"),
                    },
                    None,
                );
                None
            }
            _ => {
                self.wrong_type(node, what, "a number");
                None
            }
        }
    }
}

/// "a mapping", "null", ...: the type of a node as a message names it.
fn article(node: &Node) -> &'static str {
    match node.kind {
        NodeKind::Null => "empty",
        NodeKind::Bool(_) => "a boolean",
        NodeKind::Number(_) => "a number",
        NodeKind::String(_) => "a string",
        NodeKind::Seq(_) => "a list",
        NodeKind::Map(_) => "a mapping",
    }
}
