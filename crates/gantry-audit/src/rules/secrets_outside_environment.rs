//! `secrets-outside-environment`: jobs reading secrets without a deployment
//! environment to gate them.

use gantry_workflow::model::{Job, StepsJob};

use super::RuleMeta;
use crate::context::{Ctx, expression_strings, secrets_read};
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "secrets-outside-environment",
    title: "a job reads secrets but has no `environment`",
    severity: Severity::Low,
    pedantic: true,
    why: "Repository secrets are available to any workflow on any branch. Environment secrets can be limited to protected branches and gated by required reviewers, so a job that needs a credential is safer behind an `environment`.",
    example: "jobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm publish\n        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}",
    fix: "move the secret to an environment with protection rules and add `environment: <name>` to the job",
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_normal_job(&self, ctx: &Ctx<'_>, job: &Job, steps: &StepsJob, out: &mut Vec<Finding>) {
        if steps.environment.is_some() {
            return;
        }
        let Some((_, node)) = ctx
            .yaml
            .entry("jobs")
            .and_then(|(_, jobs)| jobs.entry(&job.id.value))
        else {
            return;
        };
        let read: Vec<String> = expression_strings(node)
            .iter()
            .filter_map(|n| n.as_str())
            .flat_map(secrets_read)
            .filter(|s| !s.eq_ignore_ascii_case("github_token"))
            .collect();
        if let Some(first) = read.first() {
            out.push(ctx.finding(
                &META,
                job.id.span,
                Confidence::Medium,
                format!(
                    "job '{}' reads `secrets.{first}` without an environment to protect it",
                    job.id.value
                ),
                "no `environment`",
            ));
        }
    }
}
