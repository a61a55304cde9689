//! `secrets-inherit`: reusable workflows handed every secret.

use gantry_workflow::model::{CallJob, CallSecrets, Job};

use super::RuleMeta;
use crate::context::Ctx;
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "secrets-inherit",
    title: "`secrets: inherit` passes every secret to a called workflow",
    severity: Severity::Medium,
    pedantic: false,
    why: "`secrets: inherit` gives the called workflow all of the caller's secrets, not just those it needs. If that workflow (or an action it uses) is compromised, every secret of the repository and organisation leaks.",
    example: "jobs:\n  release:\n    uses: org/templates/.github/workflows/release.yml@v1\n    secrets: inherit",
    fix: "pass the secrets the called workflow declares, by name: `secrets: { token: ${{ secrets.RELEASE_TOKEN }} }`",
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_reusable_job(&self, ctx: &Ctx<'_>, job: &Job, call: &CallJob, out: &mut Vec<Finding>) {
        if let CallSecrets::Inherit(span) = call.secrets {
            out.push(ctx.finding(
                &META,
                span,
                Confidence::High,
                format!(
                    "job '{}' passes every secret to `{}`",
                    job.id.value, call.uses.value
                ),
                "all secrets",
            ));
        }
    }
}
