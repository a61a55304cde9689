//! `cache-poisoning`: caches restored in workflows that publish releases.

use gantry_workflow::model::Workflow;

use super::{RuleMeta, walk_jobs};
use crate::context::{Ctx, StepRef, triggered_by};
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "cache-poisoning",
    title: "a cache restored while building a release",
    severity: Severity::Medium,
    pedantic: false,
    why: "Caches are shared across branches: a workflow run on a pull request or any branch can write an entry that a later release build restores. A poisoned dependency or build cache then ends up inside the published artifact.",
    example: "on:\n  release:\n    types: [published]\njobs:\n  publish:\n    steps:\n      - uses: actions/setup-node@v4\n        with:\n          cache: npm",
    fix: "do not restore caches in release and tag workflows; build releases from a clean state (caching is for fast feedback, not for what you ship)",
};

/// Actions that restore a cache, and the input that turns caching on for
/// the setup actions.
const CACHING: &[(&str, Option<&str>)] = &[
    ("actions/cache", None),
    ("actions/cache/restore", None),
    ("actions/setup-node", Some("cache")),
    ("actions/setup-python", Some("cache")),
    ("actions/setup-java", Some("cache")),
    ("actions/setup-go", Some("cache")),
    ("actions/setup-dotnet", Some("cache")),
    ("swatinem/rust-cache", None),
    ("astral-sh/setup-uv", Some("enable-cache")),
];

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_workflow(&self, ctx: &Ctx<'_>, workflow: &Workflow, out: &mut Vec<Finding>) {
        let tags = workflow
            .on
            .get("push")
            .is_some_and(|p| p.tags.is_some() && p.branches.is_none());
        let release = triggered_by(workflow, &["release", "registry_package"]) || tags;
        if release {
            walk_jobs(self, ctx, workflow, out);
        }
    }

    fn audit_step(&self, ctx: &Ctx<'_>, step: StepRef<'_>, out: &mut Vec<Finding>) {
        let Some(name) = step.action_name() else {
            return;
        };
        let Some((_, input)) = CACHING.iter().find(|(a, _)| *a == name) else {
            return;
        };
        let enabled = match input {
            None => true,
            Some(input) => step.with(input).is_some_and(|v| {
                !v.value.trim().is_empty() && !v.value.trim().eq_ignore_ascii_case("false")
            }),
        };
        if !enabled {
            return;
        }
        if let gantry_workflow::model::StepAction::Uses { uses, .. } = &step.step.action {
            out.push(ctx.finding(
                &META,
                uses.span,
                Confidence::Medium,
                format!("`{name}` restores a cache in a workflow that publishes releases"),
                "cache restored in a release build",
            ));
        }
    }

    /// A composite action is not a release workflow.
    fn audit_composite_step(&self, _ctx: &Ctx<'_>, _step: StepRef<'_>, _out: &mut Vec<Finding>) {}
}
