//! `insecure-commands`: re-enabling the `set-env` and `add-path` workflow
//! commands.

use gantry_workflow::model::{Env, Job, StepsJob, Workflow};

use super::{RuleMeta, walk_job_steps, walk_jobs};
use crate::context::{Ctx, StepRef};
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "insecure-commands",
    title: "`ACTIONS_ALLOW_UNSECURE_COMMANDS` re-enables injectable commands",
    severity: Severity::High,
    pedantic: false,
    why: "The `::set-env` and `::add-path` commands were disabled because any text printed to the log (a test name, a commit message) could set environment variables or PATH for later steps, and so run code.",
    example: "env:\n  ACTIONS_ALLOW_UNSECURE_COMMANDS: true",
    fix: "remove the variable and write to the `$GITHUB_ENV` and `$GITHUB_PATH` files instead",
};

/// Reports `ACTIONS_ALLOW_UNSECURE_COMMANDS` turned on in `env`.
fn check_env(ctx: &Ctx<'_>, env: &Env, whose: &dyn Fn() -> String, out: &mut Vec<Finding>) {
    for var in env.values() {
        if var
            .name
            .value
            .eq_ignore_ascii_case("ACTIONS_ALLOW_UNSECURE_COMMANDS")
            && !matches!(
                var.value.value.trim().to_ascii_lowercase().as_str(),
                "" | "false" | "0"
            )
        {
            out.push(ctx.finding(
                &META,
                var.name.span,
                Confidence::High,
                format!(
                    "{} re-enables the insecure `set-env` and `add-path` commands",
                    whose()
                ),
                "insecure commands enabled",
            ));
        }
    }
}

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_workflow(&self, ctx: &Ctx<'_>, workflow: &Workflow, out: &mut Vec<Finding>) {
        check_env(ctx, &workflow.env, &|| "the workflow".into(), out);
        walk_jobs(self, ctx, workflow, out);
    }

    fn audit_normal_job(&self, ctx: &Ctx<'_>, job: &Job, steps: &StepsJob, out: &mut Vec<Finding>) {
        check_env(ctx, &steps.env, &|| format!("job '{}'", job.id.value), out);
        walk_job_steps(self, ctx, job, steps, out);
    }

    fn audit_step(&self, ctx: &Ctx<'_>, step: StepRef<'_>, out: &mut Vec<Finding>) {
        check_env(
            ctx,
            &step.step.env,
            &|| format!("step '{}'", step.step.display_name()),
            out,
        );
    }
}
