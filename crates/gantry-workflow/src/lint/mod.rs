//! Checks beyond what GitHub's parser rejects, at the level of actionlint:
//! context names typed against the workflow (`typed`), action inputs
//! against the action's `action.yml` (`inputs`), runner labels
//! (`runners`) and `run:` scripts through an external checker such as
//! shellcheck (`scripts`). They run in `gantry validate`
//! ([`crate::check`]), not when a workflow is read to be planned or run.

pub(crate) mod exprs;
mod inputs;
mod typed;

use std::sync::Arc;

pub use inputs::{ActionSource, LocalActions, NoActions};

use crate::diagnostic::Diagnostic;
use crate::model::{Action, JobKind, Runs, Workflow};

/// Settings of the checks.
#[derive(Clone, Default)]
pub struct LintSettings {
    /// Actions beyond the repository's own (`./path`), such as a store of
    /// marketplace actions.
    pub actions: Option<Arc<dyn ActionSource>>,
}

impl std::fmt::Debug for LintSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LintSettings")
            .field("actions", &self.actions.as_ref().map(|_| "..."))
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
    let mut out = typed::check(workflow);
    let actions = settings.actions(local);
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
    let mut out = Vec::new();
    if let Some(Runs::Composite { steps }) = &action.runs {
        inputs::check(steps, &settings.actions(local), &mut out);
    }
    out.sort_by_key(|d| d.span.map(|s| s.start));
    out
}
