//! `missing-timeout`: jobs without `timeout-minutes`.

use gantry_workflow::model::{Job, StepsJob};

use super::RuleMeta;
use crate::context::Ctx;
use crate::finding::{Confidence, Finding, Fix, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "missing-timeout",
    title: "a job without `timeout-minutes`",
    severity: Severity::Low,
    pedantic: false,
    why: "A job without a timeout runs for up to six hours when a test hangs or a network call stalls, holding a runner, blocking the queue and burning minutes before anyone notices.",
    example: "jobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test",
    fix: "set `timeout-minutes` to a few times the job's usual duration (the fix adds `default-minutes`, 30 unless configured)",
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_normal_job(&self, ctx: &Ctx<'_>, job: &Job, steps: &StepsJob, out: &mut Vec<Finding>) {
        if steps.timeout_minutes.is_some() {
            return;
        }
        let minutes: Option<u32> = ctx.config.setting("default-minutes").unwrap_or_default();
        let minutes = minutes.unwrap_or(30);
        let mut finding = ctx.finding(
            &META,
            job.id.span,
            Confidence::High,
            format!(
                "job '{}' has no timeout and may run for six hours",
                job.id.value
            ),
            "no `timeout-minutes`",
        );
        let job_node = ctx
            .yaml
            .entry("jobs")
            .and_then(|(_, jobs)| jobs.entry(&job.id.value))
            .map(|(_, n)| n);
        finding.fix = job_node
            .and_then(|node| {
                crate::edit::insert_into_mapping(
                    ctx.text(),
                    node,
                    &[&format!("timeout-minutes: {minutes}")],
                )
            })
            .map(|edit| Fix {
                title: format!("add `timeout-minutes: {minutes}`"),
                edits: vec![edit],
            });
        out.push(finding);
    }
}
