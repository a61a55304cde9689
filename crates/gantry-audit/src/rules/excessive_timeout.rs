//! `excessive-timeout`: timeouts so long they protect nothing.

use gantry_workflow::model::{Job, OrExpr, Spanned, StepsJob, TimeoutMinutes};

use super::{RuleMeta, walk_job_steps};
use crate::context::{Ctx, StepRef};
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "excessive-timeout",
    title: "an unreasonably long `timeout-minutes`",
    severity: Severity::Low,
    pedantic: false,
    why: "A timeout of several hours lets a hung job hold a runner almost as long as having none. Timeouts work when they are a few times the usual duration.",
    example: "jobs:\n  test:\n    timeout-minutes: 720",
    fix: "lower the timeout to a few times the usual duration (the limit is `max-minutes`, 120 unless configured)",
};

/// Reports a timeout longer than the configured `max-minutes`.
fn check_timeout(
    ctx: &Ctx<'_>,
    timeout: &Spanned<OrExpr<TimeoutMinutes>>,
    whose: &dyn Fn() -> String,
    out: &mut Vec<Finding>,
) {
    let max: Option<f64> = ctx.config.setting("max-minutes").unwrap_or_default();
    let max = max.unwrap_or(120.0);
    if let OrExpr::Value(minutes) = timeout.value
        && let minutes = minutes.minutes()
        && minutes > max
    {
        out.push(ctx.finding(
            &META,
            timeout.span,
            Confidence::High,
            format!(
                "{} may run for {minutes} minutes (more than {max})",
                whose()
            ),
            "longer than the limit",
        ));
    }
}

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_normal_job(&self, ctx: &Ctx<'_>, job: &Job, steps: &StepsJob, out: &mut Vec<Finding>) {
        if let Some(t) = &steps.timeout_minutes {
            check_timeout(ctx, t, &|| format!("job '{}'", job.id.value), out);
        }
        walk_job_steps(self, ctx, job, steps, out);
    }

    fn audit_step(&self, ctx: &Ctx<'_>, step: StepRef<'_>, out: &mut Vec<Finding>) {
        if let Some(t) = &step.step.timeout_minutes {
            check_timeout(
                ctx,
                t,
                &|| format!("step '{}'", step.step.display_name()),
                out,
            );
        }
    }
}
