//! `insecure-commands`: re-enabling the `set-env` and `add-path` workflow
//! commands.

use gantry_workflow::model::{Env, JobKind};

use super::RuleMeta;
use crate::context::Ctx;
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

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let mut check = |env: &Env, whose: String| {
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
                            "{whose} re-enables the insecure `set-env` and `add-path` commands"
                        ),
                        "insecure commands enabled",
                    ));
                }
            }
        };
        if let Some(workflow) = ctx.workflow() {
            check(&workflow.env, "the workflow".into());
            for job in workflow.jobs.values() {
                if let JobKind::Steps(steps) = &job.kind {
                    check(&steps.env, format!("job '{}'", job.id.value));
                }
            }
        }
        for step in ctx.steps() {
            check(
                &step.step.env,
                format!("step '{}'", step.step.display_name()),
            );
        }
    }
}
