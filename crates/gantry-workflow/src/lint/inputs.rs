//! `with:` of a step checked against the inputs the action declares in its
//! `action.yml`: a required input without a default that is not given, an
//! input the action does not declare, and an input it marks deprecated
//! (`deprecationMessage`).
//!
//! A missing required input is an error, as actionlint has it: the action
//! fails reading it. An unknown input is a warning, as GitHub's runner
//! gives it ("Unexpected input"), and so is a deprecated one.
//!
//! Where the metadata comes from is an [`ActionSource`]: [`LocalActions`]
//! reads `uses: ./path` inside the repository; a store of actions can feed
//! the same check for `owner/repo@ref`. An action that cannot be found is
//! not checked.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::check::read_action_file;
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::local::resolve_local;
use crate::model::{Action, Runs, Step, StepAction};
use crate::read::ReadOptions;

/// Finds the metadata of the action a step `uses`.
pub trait ActionSource: Send + Sync {
    /// The parsed `action.yml` of `uses`, or `None` when it is not known
    /// here (not local, not in the store, unreadable or invalid).
    fn action(&self, uses: &str) -> Option<Arc<Action>>;
}

/// No actions are known.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoActions;

impl ActionSource for NoActions {
    fn action(&self, _uses: &str) -> Option<Arc<Action>> {
        None
    }
}

/// Local actions (`./path`, `$/path`) of the repository at `root`, read
/// through [`resolve_local`] so nothing outside it is opened.
#[derive(Debug, Clone)]
pub struct LocalActions {
    root: PathBuf,
}

impl LocalActions {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The metadata file of a local action folder.
    fn metadata(dir: &Path) -> Option<PathBuf> {
        ["action.yml", "action.yaml"]
            .iter()
            .map(|name| dir.join(name))
            .find(|p| p.is_file())
    }
}

impl ActionSource for LocalActions {
    fn action(&self, uses: &str) -> Option<Arc<Action>> {
        let dir = resolve_local(&self.root, uses).ok()??;
        let file = Self::metadata(&dir)?;
        let parsed = read_action_file(&file, uses.to_string(), &ReadOptions::default());
        if parsed.has_errors() {
            return None;
        }
        parsed.value.map(Arc::new)
    }
}

/// Local actions first, then another source (a store).
pub(crate) struct Chained<'a> {
    pub(crate) first: &'a dyn ActionSource,
    pub(crate) then: Option<&'a dyn ActionSource>,
}

impl ActionSource for Chained<'_> {
    fn action(&self, uses: &str) -> Option<Arc<Action>> {
        self.first
            .action(uses)
            .or_else(|| self.then.and_then(|s| s.action(uses)))
    }
}

/// Checks the `with:` of each step that uses a known action.
pub(crate) fn check(steps: &[Step], actions: &dyn ActionSource, out: &mut Vec<Diagnostic>) {
    for step in steps {
        match &step.action {
            StepAction::Uses { uses, with } => {
                let Some(action) = actions.action(&uses.value) else {
                    continue;
                };
                check_step(&uses.value, uses.span, with, &action, out);
            }
            StepAction::Parallel(inner) => check(inner, actions, out),
            _ => {}
        }
    }
}

type With = indexmap::IndexMap<String, (crate::model::Spanned<String>, crate::model::Text)>;

fn check_step(
    uses: &str,
    at: crate::source::Span,
    with: &With,
    action: &Action,
    out: &mut Vec<Diagnostic>,
) {
    let shown = action
        .name
        .as_ref()
        .map_or(uses.to_string(), |n| format!("\"{}\" ({uses})", n.value));
    let given = |name: &str| with.keys().any(|k| k.eq_ignore_ascii_case(name));
    let mut missing: Vec<&str> = action
        .inputs
        .values()
        .filter(|i| i.required && i.default.is_none() && !given(&i.id.value))
        .map(|i| i.id.value.as_str())
        .collect();
    missing.sort_unstable();
    for name in missing {
        out.push(
            Diagnostic::error(
                "missing-action-input",
                at,
                format!("action {shown} requires the input \"{name}\", which is not given"),
            )
            .with_label("missing input")
            .with_hint(format!("add `{name}:` under `with:`")),
        );
    }
    let docker = matches!(action.runs, Some(Runs::Docker { .. }));
    let declared: Vec<&str> = action.inputs.keys().map(String::as_str).collect();
    for (key, _) in with.values() {
        let name = key.value.as_str();
        if docker && (name.eq_ignore_ascii_case("args") || name.eq_ignore_ascii_case("entrypoint"))
        {
            continue;
        }
        let Some(input) = action
            .inputs
            .values()
            .find(|i| i.id.value.eq_ignore_ascii_case(name))
        else {
            let hint = match did_you_mean(name, declared.iter().copied()) {
                Some(near) => format!("did you mean `{near}`?"),
                None if declared.is_empty() => "the action takes no inputs".to_string(),
                None => format!("its inputs are {}", declared.join(", ")),
            };
            out.push(
                Diagnostic::warning(
                    "unknown-action-input",
                    key.span,
                    format!("action {shown} has no input \"{name}\""),
                )
                .with_label("unknown input")
                .with_hint(hint),
            );
            continue;
        };
        if let Some(message) = &input.deprecation_message {
            out.push(
                Diagnostic::warning(
                    "deprecated-action-input",
                    key.span,
                    format!(
                        "input \"{name}\" of action {shown} is deprecated: {}",
                        message.value.trim()
                    ),
                )
                .with_label("deprecated"),
            );
        }
    }
}
