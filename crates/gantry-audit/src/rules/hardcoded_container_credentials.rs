//! `hardcoded-container-credentials`: registry passwords written into the
//! workflow.

use gantry_workflow::model::{Container, Job, StepsJob};

use super::RuleMeta;
use crate::context::Ctx;
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "hardcoded-container-credentials",
    title: "a container registry password written in the workflow",
    severity: Severity::High,
    pedantic: false,
    why: "A password in the workflow file is readable by everyone who can read the repository, stays in its history forever, and is not masked in logs.",
    example: "container:\n  image: ghcr.io/org/app:1\n  credentials:\n    username: bot\n    password: hunter2",
    fix: "store the password as a secret and refer to it: `password: ${{ secrets.REGISTRY_PASSWORD }}`, then rotate the exposed one",
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_normal_job(&self, ctx: &Ctx<'_>, job: &Job, steps: &StepsJob, out: &mut Vec<Finding>) {
        let mut check = |container: &Container, what: String| {
            let Some((_, Some(password))) = &container.credentials else {
                return;
            };
            if password.value.contains("${{") || password.value.is_empty() {
                return;
            }
            out.push(ctx.finding(
                &META,
                password.span,
                Confidence::High,
                format!("the registry password of {what} is written in the file"),
                "hard-coded password",
            ));
        };
        {
            if let Some(c) = &steps.container {
                check(c, format!("job '{}'s container", job.id.value));
            }
            for (name, s) in &steps.services {
                check(s, format!("service '{name}'"));
            }
        }
    }
}
