//! `deploy-without-concurrency`: deployments that can overlap.

use gantry_workflow::model::{JobKind, Workflow};

use super::RuleMeta;
use crate::context::Ctx;
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "deploy-without-concurrency",
    title: "a deployment without a `concurrency` group",
    severity: Severity::Medium,
    pedantic: false,
    why: "Two runs deploying at once (two quick merges, a re-run) race: the older build can finish last and roll production back, and migrations can run twice.",
    example: "jobs:\n  deploy:\n    environment: production\n    steps:\n      - run: ./deploy.sh",
    fix: "add `concurrency: { group: deploy-${{ github.ref }}, cancel-in-progress: false }` to the workflow or the deploy job",
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_workflow(&self, ctx: &Ctx<'_>, workflow: &Workflow, out: &mut Vec<Finding>) {
        if workflow.concurrency.is_some() {
            return;
        }
        for job in workflow.jobs.values() {
            if job.concurrency.is_some() {
                continue;
            }
            let JobKind::Steps(steps) = &job.kind else {
                continue;
            };
            let named = job.id.value.to_ascii_lowercase().contains("deploy")
                || job
                    .name
                    .as_ref()
                    .is_some_and(|n| n.value.to_ascii_lowercase().contains("deploy"));
            let environment = steps
                .environment
                .as_ref()
                .map(|e| e.name.value.to_ascii_lowercase());
            let deploys = named
                || environment.as_deref().is_some_and(|e| {
                    ["prod", "stag", "live", "release", "deploy"]
                        .iter()
                        .any(|w| e.contains(w))
                });
            if deploys {
                out.push(ctx.finding(
                    &META,
                    job.id.span,
                    Confidence::Medium,
                    format!("deployment job '{}' has no concurrency group, so two runs can deploy at once", job.id.value),
                    "deploys without `concurrency`",
                ));
            }
        }
    }
}
