//! `weak-shell`: custom shells that drop `-e` or `pipefail` for multi-line
//! scripts.

use gantry_workflow::model::{Job, StepAction, StepsJob, Text, Workflow};

use super::{RuleMeta, walk_job_steps, walk_jobs};
use crate::context::{Ctx, StepRef};
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "weak-shell",
    title: "a custom `shell:` that keeps going after a failed command",
    severity: Severity::Medium,
    pedantic: false,
    why: "GitHub runs `bash` as `bash --noprofile --norc -eo pipefail {0}`: a failing command or pipe stage fails the step. A custom template such as `bash {0}` drops that, so a multi-line script whose tests fail can still end green.",
    example: "- shell: bash {0}\n  run: |\n    make test | tee log.txt\n    echo done",
    fix: "use `shell: bash`, or keep `-eo pipefail` in the template: `bash --noprofile --norc -eo pipefail {0}`",
};

/// What a custom template misses, if it runs bash or sh without strict mode.
fn weakness(shell: &str) -> Option<&'static str> {
    if !shell.contains("{0}") {
        return None;
    }
    let words: Vec<&str> = shell.split_whitespace().collect();
    let program = words.first()?.rsplit('/').next()?;
    let flags: String = words
        .iter()
        .skip(1)
        .filter(|w| w.starts_with('-') && !w.starts_with("--"))
        .map(|w| w.trim_start_matches('-'))
        .collect();
    let has_e = flags.contains('e') || shell.contains("errexit");
    let pipefail = shell.contains("pipefail");
    match program {
        "bash" if !has_e && !pipefail => Some("`-e` and `-o pipefail`"),
        "bash" if !has_e => Some("`-e`"),
        "bash" if !pipefail => Some("`-o pipefail`"),
        "sh" | "dash" | "zsh" if !has_e => Some("`-e`"),
        _ => None,
    }
}

fn report(ctx: &Ctx<'_>, shell: &Text, what: &dyn Fn() -> String, out: &mut Vec<Finding>) {
    if let Some(missing) = weakness(&shell.value) {
        out.push(ctx.finding(
            &META,
            shell.span,
            Confidence::High,
            format!(
                "{} runs without {missing}, so failures can pass unnoticed",
                what()
            ),
            format!("no {missing}"),
        ));
    }
}

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_workflow(&self, ctx: &Ctx<'_>, workflow: &Workflow, out: &mut Vec<Finding>) {
        if let Some(shell) = workflow.defaults.as_ref().and_then(|d| d.shell.as_ref()) {
            report(
                ctx,
                shell,
                &|| "the default shell of the workflow".into(),
                out,
            );
        }
        walk_jobs(self, ctx, workflow, out);
    }

    fn audit_normal_job(&self, ctx: &Ctx<'_>, job: &Job, steps: &StepsJob, out: &mut Vec<Finding>) {
        if let Some(shell) = steps.defaults.as_ref().and_then(|d| d.shell.as_ref()) {
            report(
                ctx,
                shell,
                &|| format!("the default shell of job '{}'", job.id.value),
                out,
            );
        }
        walk_job_steps(self, ctx, job, steps, out);
    }

    fn audit_step(&self, ctx: &Ctx<'_>, step: StepRef<'_>, out: &mut Vec<Finding>) {
        if let StepAction::Run {
            run,
            shell: Some(shell),
            ..
        } = &step.step.action
            && run.value.trim().contains('\n')
        {
            report(
                ctx,
                shell,
                &|| {
                    format!(
                        "the multi-line script of step '{}'",
                        step.step.display_name()
                    )
                },
                out,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::weakness;

    #[test]
    fn strict_templates_pass() {
        assert_eq!(weakness("bash {0}"), Some("`-e` and `-o pipefail`"));
        assert_eq!(weakness("bash -e {0}"), Some("`-o pipefail`"));
        assert_eq!(weakness("bash --noprofile --norc -eo pipefail {0}"), None);
        assert_eq!(weakness("/bin/sh -ex {0}"), None);
        assert_eq!(weakness("sh {0}"), Some("`-e`"));
        assert_eq!(weakness("python {0}"), None);
        assert_eq!(weakness("bash"), None);
    }
}
