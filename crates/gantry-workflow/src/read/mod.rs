//! Reading YAML nodes into the typed model, with diagnostics.
//!
//! The reader never stops at the first problem: like GitHub's parser it
//! reports every problem it can find, each at the key or value it is about,
//! and builds as much of the model as it can. The shared helpers here check
//! the shape of values (mapping, sequence, string, number, boolean or
//! expression) and the expressions inside strings; `workflow.rs` and
//! `action.rs` know the keys.

mod action;
mod workflow;

use std::sync::Arc;

use gantry_expr::Allowed;

pub use action::read_action;
pub use workflow::read_workflow;

use crate::contexts::Place;
use crate::diagnostic::{Diagnostic, FileDiagnostics, did_you_mean};
use crate::model::{Env, EnvValue, OrExpr, Spanned, Text};
use crate::numbers::{MaxParallel, RangeError, TimeoutMinutes};
use crate::source::{SourceFile, Span};
use crate::yaml::{self, Node, NodeKind};

/// Limits on what a file may hold.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Largest file, in bytes.
    pub max_file_size: usize,
    /// Deepest nesting of mappings and sequences.
    pub max_depth: usize,
    /// Most jobs a workflow may define (after expanding static matrices).
    pub max_jobs: Option<usize>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            max_file_size: 1024 * 1024,
            max_depth: 50,
            max_jobs: None,
        }
    }
}

/// The result of reading a file: the model (when the file could be read at
/// all) and every diagnostic.
#[derive(Debug, Clone)]
pub struct Parsed<T> {
    pub value: Option<T>,
    pub diagnostics: FileDiagnostics,
}

impl<T> Parsed<T> {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.has_errors()
    }
}

/// Parses the YAML of `source` under the size and depth limits.
fn load(source: &SourceFile, options: &ReadOptions) -> Result<Node, Diagnostic> {
    if source.text().len() > options.max_file_size {
        return Err(Diagnostic::error(
            "file-too-large",
            None,
            format!(
                "The maximum file size of {} characters has been exceeded",
                options.max_file_size
            ),
        )
        .with_hint("split the workflow into reusable workflows or composite actions"));
    }
    let limits = yaml::Limits {
        max_depth: options.max_depth,
        ..yaml::Limits::default()
    };
    yaml::parse(source, limits).map_err(|err| {
        let code = match err.kind {
            yaml::YamlErrorKind::Tag => "yaml-tag",
            yaml::YamlErrorKind::Limit => "limit",
            _ => "yaml-syntax",
        };
        Diagnostic::error(code, err.span, err.message).with_label("here")
    })
}

/// The state of reading one file.
struct Reader {
    source: Arc<SourceFile>,
    diagnostics: Vec<Diagnostic>,
    /// Reading a composite action: steps see the action's contexts and
    /// `run` steps must name their `shell`.
    in_action: bool,
}

/// How an unknown key is reported.
const UNKNOWN_KEY: &str = "unknown-key";

impl Reader {
    fn new(source: Arc<SourceFile>) -> Self {
        Self {
            source,
            diagnostics: Vec::new(),
            in_action: false,
        }
    }

    fn finish<T>(self, value: Option<T>) -> Parsed<T> {
        let mut diagnostics = self.diagnostics;
        diagnostics.sort_by_key(|d| d.span.map(|s| s.start));
        diagnostics.dedup();
        Parsed {
            value,
            diagnostics: FileDiagnostics {
                source: self.source,
                diagnostics,
            },
        }
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn error(&mut self, code: &'static str, span: Span, message: impl Into<String>) {
        self.push(Diagnostic::error(code, span, message));
    }

    /// "Unexpected value": a value of the wrong type or not among the
    /// accepted ones, with what was expected as the label.
    fn unexpected(&mut self, node: &Node, expected: &str) {
        let shown = node.scalar_text();
        let message = match (&node.kind, shown) {
            (NodeKind::Seq(_), _) => "A sequence was not expected".to_string(),
            (NodeKind::Map(_), _) => "A mapping was not expected".to_string(),
            (_, Some(text)) => format!("Unexpected value '{text}'"),
            (_, None) => "Unexpected value".to_string(),
        };
        self.push(
            Diagnostic::error("invalid-value", node.span, message)
                .with_label(format!("expected {expected}")),
        );
    }

    /// The span of the text `range` (bytes of the value) of a scalar, when
    /// the scalar is written as-is on one line (plain, or quoted without
    /// escapes); otherwise the whole node.
    fn value_span(&self, node: &Node, value: &str, range: std::ops::Range<usize>) -> Span {
        let written = self.source.slice(node.span);
        let inner = match written.as_bytes().first() {
            Some(b'\'' | b'"') if written.len() >= 2 => (1, &written[1..written.len() - 1]),
            _ => (0, written),
        };
        if inner.1 == value && !value.contains('\n') && range.end <= value.len() {
            let start = node.span.start + inner.0;
            Span::new(
                start + range.start,
                start + range.end.max(range.start + 1).min(value.len()),
            )
        } else {
            node.span
        }
    }

    /// Reports a missing key of the mapping `node`, pointing at its first
    /// key (where GitHub reports it).
    fn missing_in(&mut self, node: &Node, key: &str) {
        let span = match &node.kind {
            NodeKind::Map(pairs) => pairs.first().map_or(node.span, |(k, _)| k.span),
            _ => node.span,
        };
        self.missing(span, key);
    }

    fn missing(&mut self, span: Span, key: &str) {
        self.push(
            Diagnostic::error(
                "missing-key",
                span,
                format!("Required property is missing: {key}"),
            )
            .with_hint(format!("add `{key}:` here")),
        );
    }

    /// The pairs of a mapping (`None`, with a diagnostic, if it is not one).
    fn mapping<'n>(&mut self, node: &'n Node, expected: &str) -> Option<&'n [(Node, Node)]> {
        match &node.kind {
            NodeKind::Map(pairs) => Some(pairs),
            NodeKind::String(s) if s.contains("${{") => {
                self.expression_not_allowed(node);
                None
            }
            _ => {
                self.unexpected(node, expected);
                None
            }
        }
    }

    fn expression_not_allowed(&mut self, node: &Node) {
        self.push(
            Diagnostic::error(
                "expression-not-allowed",
                node.span,
                "A template expression is not allowed in this context",
            )
            .with_hint("write a literal value here; expressions are evaluated only in some keys"),
        );
    }

    /// The items of a sequence.
    fn sequence<'n>(&mut self, node: &'n Node, expected: &str) -> Option<&'n [Node]> {
        match &node.kind {
            NodeKind::Seq(items) => Some(items),
            NodeKind::String(s) if s.contains("${{") => {
                self.expression_not_allowed(node);
                None
            }
            _ => {
                self.unexpected(node, expected);
                None
            }
        }
    }

    /// The keys of a mapping whose keys are fixed words: every key must be
    /// a string among `known`, once. Returns the accepted pairs.
    fn keys<'n>(
        &mut self,
        pairs: &'n [(Node, Node)],
        known: &[&str],
    ) -> Vec<(&'n str, &'n Node, &'n Node)> {
        self.keys_with(pairs, known, false)
    }

    /// Like [`Reader::keys`] for mappings GitHub reads loosely (action
    /// metadata): unknown keys are warnings.
    fn keys_lenient<'n>(
        &mut self,
        pairs: &'n [(Node, Node)],
        known: &[&str],
    ) -> Vec<(&'n str, &'n Node, &'n Node)> {
        self.keys_with(pairs, known, true)
    }

    fn keys_with<'n>(
        &mut self,
        pairs: &'n [(Node, Node)],
        known: &[&str],
        lenient: bool,
    ) -> Vec<(&'n str, &'n Node, &'n Node)> {
        let mut out: Vec<(&'n str, &'n Node, &'n Node)> = Vec::new();
        for (key, value) in pairs {
            let Some(name) = self.key_name(key) else {
                continue;
            };
            if !known.contains(&name) {
                let mut d = if lenient {
                    Diagnostic::warning(
                        UNKNOWN_KEY,
                        key.span,
                        format!("'{name}' is not a known key and is ignored"),
                    )
                } else {
                    Diagnostic::error(UNKNOWN_KEY, key.span, format!("Unexpected value '{name}'"))
                }
                .with_label("unknown key");
                if let Some(near) = did_you_mean(name, known.iter().copied()) {
                    d = d.with_hint(format!("did you mean `{near}`?"));
                } else {
                    d = d.with_hint(format!("expected one of: {}", known.join(", ")));
                }
                self.push(d);
                continue;
            }
            if out.iter().any(|(k, _, _)| *k == name) {
                self.push(
                    Diagnostic::error(
                        "duplicate-key",
                        key.span,
                        format!("'{name}' is already defined"),
                    )
                    .with_hint("remove one of the two definitions"),
                );
                continue;
            }
            out.push((name, key, value));
        }
        out
    }

    /// A mapping key as a string; null, collection and expression keys are
    /// reported.
    fn key_name<'n>(&mut self, key: &'n Node) -> Option<&'n str> {
        match &key.kind {
            NodeKind::String(s) if s.contains("${{") => {
                self.expression_not_allowed(key);
                None
            }
            NodeKind::String(s) if !s.is_empty() => Some(s.as_str()),
            _ => {
                self.unexpected(key, "a key");
                None
            }
        }
    }

    /// Keys of a mapping whose keys are names chosen by the author (env
    /// variables, job ids, inputs): strings, unique (case-insensitively when
    /// `ignore_case`).
    fn names<'n>(
        &mut self,
        pairs: &'n [(Node, Node)],
        ignore_case: bool,
    ) -> Vec<(Spanned<String>, &'n Node)> {
        let mut out: Vec<(Spanned<String>, &'n Node)> = Vec::new();
        for (key, value) in pairs {
            let Some(name) = key
                .scalar_text()
                .filter(|_| !matches!(key.kind, NodeKind::Null))
            else {
                self.unexpected(key, "a name");
                continue;
            };
            let same = |a: &str| {
                if ignore_case {
                    a.eq_ignore_ascii_case(&name)
                } else {
                    a == name
                }
            };
            if out.iter().any(|(k, _)| same(&k.value)) {
                self.push(
                    Diagnostic::error(
                        "duplicate-key",
                        key.span,
                        format!("'{name}' is already defined"),
                    )
                    .with_hint("remove one of the two definitions"),
                );
                continue;
            }
            out.push((Spanned::new(name, key.span), value));
        }
        out
    }

    /// A scalar as text. Numbers and booleans become their text, as GitHub
    /// coerces them; null and collections are errors. Expressions are checked
    /// against `place`; `None` forbids them.
    fn text(&mut self, node: &Node, place: Option<Place>) -> Option<Text> {
        let text = match &node.kind {
            NodeKind::Null | NodeKind::Seq(_) | NodeKind::Map(_) => {
                self.unexpected(node, "a string");
                return None;
            }
            _ => node.scalar_text()?,
        };
        self.check_expressions(node, &text, place);
        Some(Spanned::new(text, node.span))
    }

    /// Like [`Reader::text`], but the empty string is an error too.
    fn non_empty_text(&mut self, node: &Node, place: Option<Place>) -> Option<Text> {
        if node.scalar_text().is_some_and(|s| s.is_empty()) {
            self.unexpected(node, "a non-empty string");
            return None;
        }
        self.text(node, place)
    }

    /// Checks the `${{ }}` expressions in a string value.
    fn check_expressions(&mut self, node: &Node, text: &str, place: Option<Place>) {
        if !text.contains("${{") {
            return;
        }
        let Some(place) = place else {
            self.expression_not_allowed(node);
            return;
        };
        // The common case: one parse that checks the place's contexts.
        // Values naming the `insert` directive take the slower path below.
        let allowed = place.allowed();
        if !text.contains("insert") {
            if let Err(err) = gantry_expr::parse_template_with(text, allowed) {
                self.push(
                    Diagnostic::error("expression", node.span, err.to_string())
                        .with_label("in this value"),
                );
            }
            return;
        }
        let template = match gantry_expr::parse_template(text) {
            Ok(t) => t,
            Err(err) => {
                self.push(
                    Diagnostic::error("expression", node.span, err.to_string())
                        .with_label("in this value"),
                );
                return;
            }
        };
        let single = template.is_single_expression();
        for expr in template.expressions() {
            if expr.trim().eq_ignore_ascii_case("insert") {
                if !single {
                    self.push(Diagnostic::error(
                        "expression",
                        node.span,
                        "The directive 'insert' is not allowed in this context. Directives are not supported for expressions that are embedded within a string. Directives are only supported when the entire value is an expression.",
                    ));
                }
                continue;
            }
            self.check_expression(node, expr, allowed);
        }
    }

    fn check_expression(&mut self, node: &Node, expr: &str, allowed: &Allowed) {
        if let Err(err) = gantry_expr::parse(expr, allowed) {
            self.push(
                Diagnostic::error("expression", node.span, err.to_string())
                    .with_label("in this expression"),
            );
        }
    }

    /// An `if:` condition, with or without `${{ }}`.
    fn condition(&mut self, node: &Node, place: Place) -> Option<Text> {
        let text = match &node.kind {
            NodeKind::Seq(_) | NodeKind::Map(_) => {
                self.unexpected(node, "a condition");
                return None;
            }
            _ => node.scalar_text()?,
        };
        if let Err(err) = gantry_expr::parse_condition(&text, place.allowed()) {
            self.push(
                Diagnostic::error("expression", node.span, err.to_string())
                    .with_label("in this condition"),
            );
        }
        Some(Spanned::new(text, node.span))
    }

    /// A boolean, or a string that is one expression.
    fn bool_or_expr(&mut self, node: &Node, place: Option<Place>) -> Option<Spanned<OrExpr<bool>>> {
        match &node.kind {
            NodeKind::Bool(b) => Some(Spanned::new(OrExpr::Value(*b), node.span)),
            NodeKind::String(s) if place.is_some() && is_expression(s) => {
                self.check_expressions(node, s, place);
                Some(Spanned::new(OrExpr::Expr(s.clone()), node.span))
            }
            _ => {
                self.unexpected(node, "a boolean");
                None
            }
        }
    }

    /// A plain boolean.
    fn boolean(&mut self, node: &Node) -> Option<Spanned<bool>> {
        match &node.kind {
            NodeKind::Bool(b) => Some(Spanned::new(*b, node.span)),
            _ => {
                self.unexpected(node, "a boolean");
                None
            }
        }
    }

    /// A number, or a string that is one expression.
    fn number_or_expr(
        &mut self,
        node: &Node,
        place: Option<Place>,
    ) -> Option<Spanned<OrExpr<f64>>> {
        match &node.kind {
            NodeKind::Number(n) => Some(Spanned::new(OrExpr::Value(*n), node.span)),
            NodeKind::String(s) if place.is_some() && is_expression(s) => {
                let before = self.diagnostics.len();
                self.check_expressions(node, s, place);
                if self.diagnostics.len() > before {
                    // GitHub also reports the value itself as not a number.
                    self.unexpected(node, "a number");
                }
                Some(Spanned::new(OrExpr::Expr(s.clone()), node.span))
            }
            _ => {
                self.unexpected(node, "a number");
                None
            }
        }
    }

    /// A number checked by `check` (a range), or an expression checked
    /// when it is evaluated. A number out of range is an error at its value.
    fn bounded<T>(
        &mut self,
        node: &Node,
        place: Option<Place>,
        check: impl FnOnce(f64) -> Result<T, RangeError>,
    ) -> Option<Spanned<OrExpr<T>>> {
        let read = self.number_or_expr(node, place)?;
        match read.value {
            OrExpr::Expr(text) => Some(Spanned::new(OrExpr::Expr(text), read.span)),
            OrExpr::Value(n) => match check(n) {
                Ok(value) => Some(Spanned::new(OrExpr::Value(value), read.span)),
                Err(err) => {
                    self.push(
                        Diagnostic::error("number-range", read.span, err.to_string())
                            .with_label("out of range")
                            .with_hint(err.hint()),
                    );
                    None
                }
            },
        }
    }

    /// A `timeout-minutes` (or `cancel-timeout-minutes`) value.
    fn timeout(
        &mut self,
        node: &Node,
        place: Option<Place>,
        what: &'static str,
    ) -> Option<Spanned<OrExpr<TimeoutMinutes>>> {
        self.bounded(node, place, |n| TimeoutMinutes::new(what, n))
    }

    /// A `strategy.max-parallel` value.
    fn max_parallel(
        &mut self,
        node: &Node,
        place: Option<Place>,
    ) -> Option<Spanned<OrExpr<MaxParallel>>> {
        self.bounded(node, place, MaxParallel::new)
    }

    /// A string or a sequence of strings.
    fn string_list(&mut self, node: &Node, place: Option<Place>) -> Vec<Text> {
        match &node.kind {
            NodeKind::Seq(items) => items.iter().filter_map(|i| self.text(i, place)).collect(),
            NodeKind::Null => Vec::new(),
            _ => self.text(node, place).into_iter().collect(),
        }
    }

    /// A sequence of strings (a single string is accepted too).
    fn env(&mut self, node: &Node, place: Place) -> Env {
        let mut env = Env::new();
        if let NodeKind::String(s) = &node.kind
            && is_expression(s)
        {
            // The whole mapping is one expression (`env: ${{ fromJSON(x) }}`),
            // evaluated where the variables are set.
            if let Some(value) = self.text(node, Some(place)) {
                let name = Spanned::new(value.value.clone(), value.span);
                env.insert(
                    value.value.clone(),
                    EnvValue {
                        name,
                        value,
                        spread: true,
                    },
                );
            }
            return env;
        }
        let Some(pairs) = self.mapping(node, "a mapping of environment variables") else {
            return env;
        };
        for (name, value) in self.names(pairs, false) {
            if is_expression(&name.value) && name.value.contains("insert") {
                self.check_expressions(
                    value,
                    value.scalar_text().as_deref().unwrap_or(""),
                    Some(place),
                );
                continue;
            }
            if name.value.contains("${{") {
                // A name computed by an expression: allowed wherever the
                // values may hold one (GitHub reads loose keys with the
                // mapping's context).
                if let Err(err) = gantry_expr::parse_template_with(&name.value, place.allowed()) {
                    self.push(
                        Diagnostic::error("expression", name.span, err.to_string())
                            .with_label("in this name"),
                    );
                }
            }
            let text = match &value.kind {
                NodeKind::Null => Some(Spanned::new(String::new(), value.span)),
                _ => self.text(value, Some(place)),
            };
            if let Some(text) = text {
                env.insert(
                    name.value.clone(),
                    EnvValue {
                        name,
                        value: text,
                        spread: false,
                    },
                );
            }
        }
        env
    }
}

/// Whether a string is exactly one `${{ }}` expression.
pub(crate) fn is_expression(s: &str) -> bool {
    let t = s.trim();
    t.starts_with("${{") && t.ends_with("}}")
}

/// Why a job or step id is refused (GitHub's messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum IdError {
    #[error(
        "The identifier '{0}' is invalid. IDs may only contain alphanumeric characters, '_', and '-'. IDs must start with a letter or '_' and and must be less than 100 characters."
    )]
    Invalid(String),
    #[error("The identifier '{0}' is invalid. IDs starting with '__' are reserved.")]
    Reserved(String),
}

/// Checks a job or step id: letters, digits, `_` and `-`, starting with a
/// letter or `_`, shorter than 100 characters, not starting with `__`.
pub(crate) fn check_id(id: &str) -> Result<(), IdError> {
    let mut chars = id.chars();
    let valid = id.len() < 100
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        return Err(IdError::Invalid(id.to_string()));
    }
    if id.starts_with("__") {
        return Err(IdError::Reserved(id.to_string()));
    }
    Ok(())
}
