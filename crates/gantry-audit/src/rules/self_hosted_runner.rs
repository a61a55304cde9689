//! `self-hosted-runner`: self-hosted runners on workflows outsiders can
//! trigger.

use gantry_workflow::model::{Job, RunsOn, StepsJob, Workflow};

use super::{RuleMeta, walk_jobs};
use crate::context::{Ctx, triggered_by};
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "self-hosted-runner",
    title: "a self-hosted runner on a workflow pull requests trigger",
    severity: Severity::High,
    pedantic: false,
    why: "Self-hosted runners are usually persistent and sit inside your network. A pull request from a fork runs its own code on them, can leave a backdoor for the next job, and can reach internal systems.",
    example: "on: pull_request\njobs:\n  test:\n    runs-on: [self-hosted, linux]",
    fix: "run pull request workflows on GitHub-hosted or ephemeral, isolated runners; keep self-hosted runners for trusted branches",
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    /// Only workflows that run pull request code matter.
    fn audit_workflow(&self, ctx: &Ctx<'_>, workflow: &Workflow, out: &mut Vec<Finding>) {
        if triggered_by(
            workflow,
            &[
                "pull_request",
                "pull_request_target",
                "issue_comment",
                "pull_request_review",
                "pull_request_review_comment",
            ],
        ) {
            walk_jobs(self, ctx, workflow, out);
        }
    }

    fn audit_normal_job(&self, ctx: &Ctx<'_>, job: &Job, steps: &StepsJob, out: &mut Vec<Finding>) {
        let Some(runs_on) = &steps.runs_on else {
            return;
        };
        let labels = match runs_on {
            RunsOn::Labels(labels) => labels,
            RunsOn::Group { labels, .. } => labels,
        };
        if let Some(label) = labels
            .iter()
            .find(|l| l.value.eq_ignore_ascii_case("self-hosted"))
        {
            out.push(ctx.finding(
                &META,
                label.span,
                Confidence::Medium,
                format!(
                    "job '{}' runs pull request code on a self-hosted runner",
                    job.id.value
                ),
                "self-hosted runner",
            ));
        }
    }
}
