//! One module per check, registered in [`CHECKS`] in Scorecard's order.
//! Each states its [`CheckMeta`] (name, risk, what it looks for, what to
//! do) and scores one [`Checkout`]; adding a check is copy-and-edit of a
//! neighbour and a line in the list.

use gantry_workflow::model::{JobKind, Step, StepAction, Workflow};

use crate::checkout::Checkout;
use crate::model::{CheckMeta, CheckResult};

pub mod binary_artifacts;
pub mod code_review;
pub mod dangerous_workflow;
pub mod dependency_update_tool;
pub mod fuzzing;
pub mod license;
pub mod maintained;
pub mod packaging;
pub mod pinned_dependencies;
pub mod sast;
pub mod sbom;
pub mod security_policy;
pub mod signed_releases;
pub mod token_permissions;
pub mod vulnerabilities;

/// A check over a checkout.
pub trait Check: Sync {
    fn meta(&self) -> &'static CheckMeta;
    fn run(&self, checkout: &Checkout<'_>) -> CheckResult;
}

/// Every check, in the order they are shown.
pub static CHECKS: &[&dyn Check] = &[
    &binary_artifacts::Check,
    &code_review::Check,
    &dangerous_workflow::Check,
    &dependency_update_tool::Check,
    &fuzzing::Check,
    &license::Check,
    &maintained::Check,
    &packaging::Check,
    &pinned_dependencies::Check,
    &sast::Check,
    &sbom::Check,
    &security_policy::Check,
    &signed_releases::Check,
    &token_permissions::Check,
    &vulnerabilities::Check,
];

/// The check named `name` (Scorecard's spelling, any case).
pub fn check(name: &str) -> Option<&'static dyn Check> {
    CHECKS
        .iter()
        .copied()
        .find(|c| c.meta().name.eq_ignore_ascii_case(name))
}

/// Every step of a workflow's jobs, `parallel:` groups included.
pub(crate) fn steps(workflow: &Workflow) -> Vec<&Step> {
    fn add<'a>(step: &'a Step, out: &mut Vec<&'a Step>) {
        if let StepAction::Parallel(inner) = &step.action {
            for s in inner {
                add(s, out);
            }
        } else {
            out.push(step);
        }
    }
    let mut out = Vec::new();
    for job in workflow.jobs.values() {
        if let JobKind::Steps(job) = &job.kind {
            for step in &job.steps {
                add(step, &mut out);
            }
        }
    }
    out
}

/// The `owner/repo[/path]` of a `uses:` without its `@ref`, lower-cased.
pub(crate) fn action_name(uses: &str) -> String {
    uses.split('@').next().unwrap_or("").to_ascii_lowercase()
}

/// Whether any step of any workflow uses an action whose name starts with
/// one of `prefixes`, or runs a script matching `run`; the first such
/// place.
pub(crate) fn find_in_workflows(
    checkout: &Checkout<'_>,
    prefixes: &[&str],
    run: Option<&regex::Regex>,
) -> Option<(String, usize, String)> {
    for (file, workflow) in checkout.parsed_workflows() {
        for job in workflow.jobs.values() {
            if let JobKind::Call(call) = &job.kind {
                let name = action_name(&call.uses.value);
                if prefixes.iter().any(|p| name.starts_with(p)) {
                    return Some((
                        file.path.clone(),
                        file.line(call.uses.span.start),
                        call.uses.value.clone(),
                    ));
                }
            }
        }
        for step in steps(workflow) {
            match &step.action {
                StepAction::Uses { uses, .. } => {
                    let name = action_name(&uses.value);
                    if prefixes.iter().any(|p| name.starts_with(p)) {
                        return Some((
                            file.path.clone(),
                            file.line(uses.span.start),
                            uses.value.clone(),
                        ));
                    }
                }
                StepAction::Run { run: script, .. } => {
                    if let Some(m) = run.and_then(|re| re.find(&script.value)) {
                        return Some((
                            file.path.clone(),
                            file.line(script.span.start),
                            m.as_str().to_string(),
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    None
}
