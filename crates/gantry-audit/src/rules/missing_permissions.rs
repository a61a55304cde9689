//! `missing-permissions`: jobs that run with the repository's default
//! `GITHUB_TOKEN` permissions because neither they nor the workflow say
//! what they need.

use gantry_workflow::model::{JobKind, Workflow};

use super::RuleMeta;
use crate::context::{Ctx, is_release_job};
use crate::finding::{Confidence, Edit, Finding, Fix, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "missing-permissions",
    title: "no `permissions` at workflow or job level",
    severity: Severity::Medium,
    pedantic: false,
    why: "Without `permissions`, the job's GITHUB_TOKEN gets the repository default, which on many repositories can write contents, packages and pull requests. A compromised step (a malicious dependency, an injected script) can then push code or publish releases.",
    example: "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test",
    fix: "declare least-privilege permissions: `permissions: { contents: read }` at the top of the workflow, and grant more only on the jobs that need it",
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_workflow(&self, ctx: &Ctx<'_>, workflow: &Workflow, out: &mut Vec<Finding>) {
        if workflow.permissions.is_some() {
            return;
        }
        let bare: Vec<_> = workflow
            .jobs
            .values()
            .filter(|j| j.permissions.is_none())
            .collect();
        if bare.is_empty() {
            return;
        }
        // Read-only for everything is safe only if no bare job writes.
        let fix = if bare.iter().any(|j| is_release_job(j)) {
            None
        } else {
            ctx.yaml.entry("jobs").map(|(key, _)| Fix {
                title: "add `permissions: { contents: read }` to the workflow".into(),
                edits: vec![Edit::insert(
                    crate::edit::line_start(ctx.text(), key.span.start),
                    "permissions:\n  contents: read\n\n",
                )],
            })
        };
        for job in bare {
            let what = match job.kind {
                JobKind::Call(_) => "calls a reusable workflow with",
                JobKind::Steps(_) => "runs with",
            };
            let mut finding = ctx.finding(
                &META,
                job.id.span,
                Confidence::High,
                format!(
                    "job '{}' {what} the default GITHUB_TOKEN permissions",
                    job.id.value
                ),
                "no `permissions` here or on the workflow",
            );
            finding.fix = fix.clone();
            out.push(finding);
        }
    }
}
