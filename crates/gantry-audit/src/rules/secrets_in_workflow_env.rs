//! `secrets-in-workflow-env`: secrets in the workflow-level `env`, where
//! every step of every job sees them.

use gantry_workflow::model::Workflow;

use super::RuleMeta;
use crate::context::{Ctx, secrets_read};
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "secrets-in-workflow-env",
    title: "secrets in the workflow-level `env`",
    severity: Severity::Medium,
    pedantic: false,
    why: "A secret in the workflow's `env` is in the environment of every step of every job, including third-party actions and test code that never needed it.",
    example: "env:\n  NPM_TOKEN: ${{ secrets.NPM_TOKEN }}\njobs:\n  test: ...",
    fix: "set the secret in the `env` of the one step that uses it",
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_workflow(&self, ctx: &Ctx<'_>, workflow: &Workflow, out: &mut Vec<Finding>) {
        for var in workflow.env.values() {
            let secrets = secrets_read(&var.value.value);
            if secrets
                .iter()
                .any(|s| !s.eq_ignore_ascii_case("github_token"))
            {
                out.push(ctx.finding(
                    &META,
                    var.value.span,
                    Confidence::High,
                    format!(
                        "`{}` puts a secret in the environment of every job and step",
                        var.name.value
                    ),
                    "secret for the whole workflow",
                ));
            }
        }
    }
}
