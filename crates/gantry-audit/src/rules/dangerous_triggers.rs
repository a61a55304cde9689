//! `dangerous-triggers`: `pull_request_target`, `workflow_run` and
//! `issue_comment`, which run with secrets on events outsiders cause.

use gantry_workflow::model::{StepAction, Workflow};

use super::RuleMeta;
use crate::context::Ctx;
use crate::expr::{expressions, path_matches};
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "dangerous-triggers",
    title: "triggers that run privileged on events outsiders control",
    severity: Severity::Medium,
    pedantic: false,
    why: "`pull_request_target`, `workflow_run` and `issue_comment` run in the base repository's context, with its secrets and a writable token, on events anyone can cause (opening a pull request from a fork, commenting). Checking out or running the pull request's code there hands that code your secrets.",
    example: "on: pull_request_target\njobs:\n  test:\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n      - run: make test",
    fix: "use `pull_request` for anything that runs the contribution's code; keep privileged triggers for jobs that only label, comment or read metadata, and never check out the head ref there",
};

const EVENTS: &[&str] = &["pull_request_target", "workflow_run", "issue_comment"];

/// Expressions naming the untrusted head of a pull request or run.
const HEAD: &[&str] = &[
    "github.event.pull_request.head.**",
    "github.head_ref",
    "github.event.workflow_run.head_sha",
    "github.event.workflow_run.head_branch",
    "github.event.workflow_run.head_commit.**",
    "github.event.issue.pull_request.**",
];

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    /// The triggers and every step of the workflow at once: a checkout of
    /// the untrusted head anywhere makes each trigger worse.
    fn audit_workflow(&self, ctx: &Ctx<'_>, workflow: &Workflow, out: &mut Vec<Finding>) {
        let triggers: Vec<_> = EVENTS.iter().filter_map(|e| workflow.on.get(e)).collect();
        if triggers.is_empty() {
            return;
        }
        // A checkout of the untrusted head makes it worse.
        let mut head_checkouts = Vec::new();
        for step in ctx.steps() {
            if step.action_name().as_deref() != Some("actions/checkout") {
                continue;
            }
            let StepAction::Uses { .. } = &step.step.action else {
                continue;
            };
            let Some(reference) = step.with("ref") else {
                continue;
            };
            let untrusted = reference.value.contains("refs/pull/")
                || expressions(&reference.value).iter().any(|e| {
                    e.expr
                        .context_paths()
                        .iter()
                        .any(|p| HEAD.iter().any(|h| path_matches(h, p)))
                });
            if untrusted {
                head_checkouts.push(reference.span);
            }
        }
        for trigger in triggers {
            let event = &trigger.event;
            let mut finding = if head_checkouts.is_empty() {
                ctx.finding(
                    &META,
                    event.span,
                    Confidence::Medium,
                    format!(
                        "`{}` runs with the base repository's secrets on events outsiders cause",
                        event.value
                    ),
                    "privileged trigger",
                )
            } else {
                let mut f = ctx.finding(
                    &META,
                    event.span,
                    Confidence::High,
                    format!("`{}` checks out and runs untrusted code with the base repository's secrets", event.value),
                    "privileged trigger",
                );
                if ctx.config.severity.is_none() {
                    f.severity = Severity::High;
                }
                f
            };
            finding.related = head_checkouts
                .iter()
                .map(|s| (*s, "checks out the untrusted head".to_string()))
                .collect();
            out.push(finding);
        }
    }
}
