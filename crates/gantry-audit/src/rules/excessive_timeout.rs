//! `excessive-timeout`: timeouts so long they protect nothing.

use gantry_workflow::model::{JobKind, OrExpr, Spanned, TimeoutMinutes};

use super::RuleMeta;
use crate::context::Ctx;
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

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        let max: Option<f64> = ctx.config.setting("max-minutes").unwrap_or_default();
        let max = max.unwrap_or(120.0);
        let mut check = |timeout: &Spanned<OrExpr<TimeoutMinutes>>, whose: String| {
            if let OrExpr::Value(minutes) = timeout.value
                && let minutes = minutes.minutes()
                && minutes > max
            {
                out.push(ctx.finding(
                    &META,
                    timeout.span,
                    Confidence::High,
                    format!("{whose} may run for {minutes} minutes (more than {max})"),
                    "longer than the limit",
                ));
            }
        };
        for job in ctx.jobs() {
            if let JobKind::Steps(steps) = &job.kind
                && let Some(t) = &steps.timeout_minutes
            {
                check(t, format!("job '{}'", job.id.value));
            }
        }
        for step in ctx.steps() {
            if let Some(t) = &step.step.timeout_minutes {
                check(t, format!("step '{}'", step.step.display_name()));
            }
        }
    }
}
