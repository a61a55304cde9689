//! The rules, one module each, registered in [`RULES`].
//!
//! Adding a rule: copy a neighbour, give it an id, a default severity, the
//! four documentation sections and a `check`, add it to [`RULES`], and add a
//! positive and a negative fixture under `tests/fixtures/`.

use gantry_workflow::model::{Action, CallJob, Job, JobKind, Runs, StepsJob, Workflow};

use crate::context::{Ctx, StepRef, Target, walk_steps};
use crate::finding::{Finding, Severity};

mod cache_poisoning;
mod continue_on_error_security;
mod credential_persistence;
mod dangerous_triggers;
mod deploy_without_concurrency;
mod deprecated_commands;
mod download_and_execute;
mod excessive_permissions;
mod excessive_timeout;
mod hardcoded_container_credentials;
mod insecure_commands;
mod missing_permissions;
mod missing_timeout;
mod overprivileged_id_token;
mod secrets_in_workflow_env;
mod secrets_inherit;
mod secrets_outside_environment;
mod secrets_tojson;
mod self_hosted_runner;
mod template_injection;
mod unpinned_images;
mod unpinned_uses;
mod unsound_condition;
mod weak_shell;

/// A rule's identity and documentation.
#[derive(Debug)]
pub struct RuleMeta {
    /// The stable id used in output, configuration and suppressions.
    pub id: &'static str,
    /// One line: what the rule finds.
    pub title: &'static str,
    pub severity: Severity,
    /// Shown to the `pedantic` and `auditor` personas only.
    pub pedantic: bool,
    /// Why it matters.
    pub why: &'static str,
    /// A workflow fragment the rule reports.
    pub example: &'static str,
    /// How to fix it.
    pub fix: &'static str,
}

/// A check over one workflow or action file.
///
/// The default methods walk the file, as zizmor's `Audit` trait does:
/// [`check`](Rule::check) → [`audit_workflow`](Rule::audit_workflow) →
/// [`audit_normal_job`](Rule::audit_normal_job) (a job with steps) or
/// [`audit_reusable_job`](Rule::audit_reusable_job) (a job calling a
/// workflow) → [`audit_step`](Rule::audit_step); and
/// [`audit_action`](Rule::audit_action) →
/// [`audit_composite_step`](Rule::audit_composite_step), which defaults to
/// `audit_step`. Steps nested in `parallel:` groups are visited after their
/// group. A rule overrides only the level it looks at; one that needs the
/// whole file (its YAML, or several steps at once) overrides `check` or
/// `audit_workflow`.
pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;

    /// Checks one file: its workflow or its action.
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        match ctx.target {
            Target::Workflow(workflow) => self.audit_workflow(ctx, workflow, out),
            Target::Action(action) => self.audit_action(ctx, action, out),
        }
    }

    /// Checks a workflow; by default, each of its jobs.
    fn audit_workflow(&self, ctx: &Ctx<'_>, workflow: &Workflow, out: &mut Vec<Finding>) {
        walk_jobs(self, ctx, workflow, out);
    }

    /// Checks a job that runs steps; by default, each of its steps.
    fn audit_normal_job(&self, ctx: &Ctx<'_>, job: &Job, steps: &StepsJob, out: &mut Vec<Finding>) {
        walk_job_steps(self, ctx, job, steps, out);
    }

    /// Checks a job that calls a reusable workflow; by default, nothing.
    fn audit_reusable_job(
        &self,
        _ctx: &Ctx<'_>,
        _job: &Job,
        _call: &CallJob,
        _out: &mut Vec<Finding>,
    ) {
    }

    /// Checks one step of a job (or, through `audit_composite_step`, of a
    /// composite action); by default, nothing.
    fn audit_step(&self, _ctx: &Ctx<'_>, _step: StepRef<'_>, _out: &mut Vec<Finding>) {}

    /// Checks an action; by default, each step of a composite action.
    fn audit_action(&self, ctx: &Ctx<'_>, action: &Action, out: &mut Vec<Finding>) {
        if let Some(Runs::Composite { steps }) = &action.runs {
            for step in walk_steps(None, steps) {
                self.audit_composite_step(ctx, step, out);
            }
        }
    }

    /// Checks one step of a composite action; by default as a job's step.
    fn audit_composite_step(&self, ctx: &Ctx<'_>, step: StepRef<'_>, out: &mut Vec<Finding>) {
        self.audit_step(ctx, step, out);
    }
}

/// The default walk of a workflow's jobs; a rule that overrides
/// [`Rule::audit_workflow`] calls it to go on into the jobs.
pub(crate) fn walk_jobs<R: Rule + ?Sized>(
    rule: &R,
    ctx: &Ctx<'_>,
    workflow: &Workflow,
    out: &mut Vec<Finding>,
) {
    for job in workflow.jobs.values() {
        match &job.kind {
            JobKind::Steps(steps) => rule.audit_normal_job(ctx, job, steps, out),
            JobKind::Call(call) => rule.audit_reusable_job(ctx, job, call, out),
        }
    }
}

/// The default walk of a job's steps; a rule that overrides
/// [`Rule::audit_normal_job`] calls it to go on into the steps.
pub(crate) fn walk_job_steps<R: Rule + ?Sized>(
    rule: &R,
    ctx: &Ctx<'_>,
    job: &Job,
    steps: &StepsJob,
    out: &mut Vec<Finding>,
) {
    for step in walk_steps(Some(job), &steps.steps) {
        rule.audit_step(ctx, step, out);
    }
}

/// Every rule, in the order their findings are reported.
pub static RULES: &[&dyn Rule] = &[
    &missing_permissions::Rule,
    &excessive_permissions::Rule,
    &overprivileged_id_token::Rule,
    &missing_timeout::Rule,
    &excessive_timeout::Rule,
    &unpinned_uses::Rule,
    &unpinned_images::Rule,
    &dangerous_triggers::Rule,
    &template_injection::Rule,
    &credential_persistence::Rule,
    &secrets_inherit::Rule,
    &secrets_tojson::Rule,
    &secrets_in_workflow_env::Rule,
    &secrets_outside_environment::Rule,
    &hardcoded_container_credentials::Rule,
    &weak_shell::Rule,
    &download_and_execute::Rule,
    &cache_poisoning::Rule,
    &self_hosted_runner::Rule,
    &insecure_commands::Rule,
    &unsound_condition::Rule,
    &continue_on_error_security::Rule,
    &deploy_without_concurrency::Rule,
    &deprecated_commands::Rule,
];

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.meta().id == id)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Mutex;

    use gantry_workflow::{ReadOptions, SourceFile, read_action, read_workflow};

    use super::*;
    use crate::config::RuleConfig;

    /// Records what the default walk visits.
    #[derive(Default)]
    struct Visits(Mutex<Vec<String>>);

    static META: RuleMeta = RuleMeta {
        id: "visits",
        title: "",
        severity: Severity::Info,
        pedantic: false,
        why: "",
        example: "",
        fix: "",
    };

    impl Rule for Visits {
        fn meta(&self) -> &'static RuleMeta {
            &META
        }
        fn audit_reusable_job(&self, _: &Ctx<'_>, job: &Job, _: &CallJob, _: &mut Vec<Finding>) {
            self.0
                .lock()
                .unwrap()
                .push(format!("call {}", job.id.value));
        }
        fn audit_step(&self, _: &Ctx<'_>, step: StepRef<'_>, _: &mut Vec<Finding>) {
            let job = step.job.map_or("-".to_string(), |j| j.id.value.clone());
            self.0
                .lock()
                .unwrap()
                .push(format!("{job}: {}", step.step.display_name()));
        }
    }

    fn visits(target: Target<'_>, source: &SourceFile) -> Vec<String> {
        let rule = Visits::default();
        let ctx = Ctx {
            target,
            source,
            yaml: match target {
                Target::Workflow(w) => &w.yaml,
                Target::Action(a) => &a.yaml,
            },
            config: RuleConfig::default(),
        };
        rule.check(&ctx, &mut Vec::new());
        rule.0.into_inner().unwrap()
    }

    #[test]
    fn the_default_walk_visits_every_job_and_step_once() {
        let source = SourceFile::new(
            "w.yml",
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: one\n      - parallel:\n          - run: two\n          - run: three\n  b:\n    uses: ./.github/workflows/r.yml\n",
        );
        let w = read_workflow(source.clone(), &ReadOptions::default());
        assert!(!w.has_errors(), "{:#?}", w.diagnostics);
        let w = w.value.unwrap();
        assert_eq!(
            visits(Target::Workflow(&w), &source),
            [
                "a: Run one",
                "a: Parallel",
                "a: Run two",
                "a: Run three",
                "call b"
            ]
        );
        let source = SourceFile::new(
            "action.yml",
            "name: x\nruns:\n  using: composite\n  steps:\n    - run: four\n      shell: bash\n",
        );
        let a = read_action(source.clone(), &ReadOptions::default())
            .value
            .unwrap();
        assert_eq!(visits(Target::Action(&a), &source), ["-: Run four"]);
    }
}
