//! `overprivileged-id-token`: `id-token: write` where nothing deploys,
//! releases or signs.

use gantry_workflow::model::{Access, PermissionsKind, Workflow};

use super::RuleMeta;
use crate::context::{Ctx, is_release_job};
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "overprivileged-id-token",
    title: "`id-token: write` outside deploy, release or signing jobs",
    severity: Severity::Medium,
    pedantic: false,
    why: "`id-token: write` lets a job mint OIDC tokens that cloud providers and registries trust. Granted to the whole workflow or to a test job, any step there can impersonate your deployments.",
    example: "permissions:\n  id-token: write\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test",
    fix: "grant `id-token: write` only on the job that deploys, publishes or signs",
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_workflow(&self, ctx: &Ctx<'_>, workflow: &Workflow, out: &mut Vec<Finding>) {
        let id_token = |p: &gantry_workflow::model::Permissions| match &p.kind {
            PermissionsKind::Scopes(scopes) => scopes
                .get("id-token")
                .filter(|a| a.value == Access::Write)
                .map(|a| a.span),
            PermissionsKind::WriteAll => Some(p.span),
            PermissionsKind::ReadAll => None,
        };
        if let Some(span) = workflow.permissions.as_ref().and_then(id_token) {
            let exposed: Vec<&str> = workflow
                .jobs
                .values()
                .filter(|j| j.permissions.is_none() && !is_release_job(j))
                .map(|j| j.id.value.as_str())
                .collect();
            if !exposed.is_empty() {
                out.push(ctx.finding(
                    &META,
                    span,
                    Confidence::High,
                    format!(
                        "the workflow grants `id-token: write` to every job, including {}",
                        exposed.join(", ")
                    ),
                    "OIDC tokens for every job",
                ));
            }
        }
        for job in workflow.jobs.values() {
            if let Some(span) = job.permissions.as_ref().and_then(id_token)
                && !is_release_job(job)
            {
                out.push(ctx.finding(
                        &META,
                        span,
                        Confidence::Medium,
                        format!(
                            "job '{}' can mint OIDC tokens but does not look like it deploys, releases or signs",
                            job.id.value
                        ),
                        "OIDC tokens for this job",
                    ));
            }
        }
    }
}
