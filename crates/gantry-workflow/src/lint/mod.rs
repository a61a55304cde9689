//! Checks beyond what GitHub's parser rejects, at the level of actionlint:
//! context names typed against the workflow (`typed`), action inputs
//! against the action's `action.yml` (`inputs`), runner labels
//! (`runners`) and `run:` scripts through an external checker such as
//! shellcheck (`scripts`). They run in `gantry validate`
//! ([`crate::check`]), not when a workflow is read to be planned or run.

pub(crate) mod exprs;
pub(crate) mod inputs;
pub mod runners;
pub mod scripts;
mod typed;

use std::sync::Arc;

pub use inputs::{ActionSource, LocalActions, NoActions};
pub use scripts::{Script, ScriptChecker, ScriptFinding, ScriptLevel, ScriptReport, ScriptShell};

use crate::config::{ProjectConfig, TokenDefault};
use crate::diagnostic::Diagnostic;
use crate::model::{Action, JobKind, Runs, Workflow};

/// Settings of the checks.
#[derive(Clone, Default)]
pub struct LintSettings {
    /// Actions beyond the repository's own (`./path`), such as a store of
    /// marketplace actions.
    pub actions: Option<Arc<dyn ActionSource>>,
    /// Runner labels to accept besides GitHub's (`runner-labels:`).
    pub runner_labels: Vec<String>,
    /// The repository's default token permissions, which decide whether a
    /// call asking for more is an error (known) or a warning (unknown).
    pub default_token_permissions: Option<TokenDefault>,
    /// The checker of `run:` scripts (shellcheck), when there is one.
    pub scripts: Option<Arc<dyn ScriptChecker>>,
}

impl LintSettings {
    /// The settings `.gantry/config.yml` gives.
    pub fn from_config(config: &ProjectConfig) -> Self {
        Self {
            actions: None,
            runner_labels: config.runner_labels.clone(),
            default_token_permissions: config.default_token_permissions,
            scripts: None,
        }
    }
}

impl std::fmt::Debug for LintSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LintSettings")
            .field("actions", &self.actions.as_ref().map(|_| "..."))
            .field("runner_labels", &self.runner_labels)
            .field("default_token_permissions", &self.default_token_permissions)
            .field(
                "scripts",
                &self.scripts.as_ref().map(|s| s.name().to_string()),
            )
            .finish()
    }
}

impl LintSettings {
    fn actions<'a>(&'a self, local: &'a dyn ActionSource) -> inputs::Chained<'a> {
        inputs::Chained {
            first: local,
            then: self.actions.as_deref(),
        }
    }
}

/// Every finding of the checks on one workflow, in file order. `local`
/// finds the repository's own actions (see [`LocalActions`]).
pub fn lint_workflow(
    workflow: &Workflow,
    settings: &LintSettings,
    local: &dyn ActionSource,
) -> Vec<Diagnostic> {
    let actions = settings.actions(local);
    let mut out = typed::check(workflow, &actions);
    runners::check(workflow, &settings.runner_labels, &mut out);
    if let Some(checker) = &settings.scripts {
        scripts::check(workflow, checker.as_ref(), &mut out);
    }
    for job in workflow.jobs.values() {
        if let JobKind::Steps(steps) = &job.kind {
            inputs::check(&steps.steps, &actions, &mut out);
        }
    }
    out.sort_by_key(|d| d.span.map(|s| s.start));
    out
}

/// The findings of the checks on an action file (the steps of a composite
/// action), in file order.
pub fn lint_action(
    action: &Action,
    settings: &LintSettings,
    local: &dyn ActionSource,
) -> Vec<Diagnostic> {
    let actions = settings.actions(local);
    let mut out = typed::check_action(action, &actions);
    if let Some(Runs::Composite { steps }) = &action.runs {
        inputs::check(steps, &actions, &mut out);
        if let Some(checker) = &settings.scripts {
            scripts::check_steps(
                action.source.text(),
                &action.yaml,
                steps,
                checker.as_ref(),
                &mut out,
            );
        }
    }
    out.sort_by_key(|d| d.span.map(|s| s.start));
    out
}
