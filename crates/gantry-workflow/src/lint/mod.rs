//! Checks beyond what GitHub's parser rejects, at the level of actionlint:
//! context names typed against the workflow (`typed`), action inputs
//! against the action's `action.yml` (`inputs`), runner labels
//! (`runners`) and `run:` scripts through an external checker such as
//! shellcheck (`scripts`). They run in `gantry validate`
//! ([`crate::check`]), not when a workflow is read to be planned or run.

pub(crate) mod exprs;
mod typed;

use crate::diagnostic::Diagnostic;
use crate::model::Workflow;

/// Settings of the checks.
#[derive(Debug, Clone, Default)]
pub struct LintSettings {}

/// Every finding of the checks on one workflow, in file order.
pub fn lint_workflow(workflow: &Workflow, _settings: &LintSettings) -> Vec<Diagnostic> {
    let mut out = typed::check(workflow);
    out.sort_by_key(|d| d.span.map(|s| s.start));
    out
}
