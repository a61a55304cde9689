//! Token-Permissions: each workflow's `GITHUB_TOKEN` read-only at the top,
//! with writes declared only on the jobs that need them. Scorecard's
//! rules, per workflow file, from 10:
//!
//! - no top-level `permissions:`: −0.5 when every job declares its own,
//!   else 0 (the default token may be writable everywhere);
//! - top-level `write-all`: 0 when a job also writes or declares nothing,
//!   else −0.5;
//! - top-level `write` of `contents`, `packages` or `actions`: −10; of
//!   `deployments` or `security-events`: −1; of `checks` or `statuses`:
//!   −0.5;
//!
//! then rounded down. Job-level writes cost nothing but are listed (except
//! `packages`/`contents` in publishing workflows and `security-events` in
//! SARIF-uploading ones). No workflows: inconclusive.

use gantry_workflow::model::{Access, Permissions, PermissionsKind, StepAction, Workflow};

use crate::checkout::{Checkout, WorkflowFile};
use crate::model::{CheckMeta, CheckResult, MAX_SCORE, Reason, Risk};

pub struct Check;

static META: CheckMeta = CheckMeta {
    name: "Token-Permissions",
    risk: Risk::High,
    description: "Whether workflows give their GITHUB_TOKEN read-only permissions at the top level and declare writes only on the jobs that need them.",
    remediation: "set `permissions: contents: read` (or `read-all`) at the top of each workflow and grant writes per job",
    note: None,
};

/// The scopes Scorecard looks at.
const OF_INTEREST: &[&str] = &[
    "statuses",
    "checks",
    "security-events",
    "deployments",
    "contents",
    "packages",
    "actions",
];

const SARIF_ACTIONS: &[&str] = &[
    "github/codeql-action/analyze",
    "github/codeql-action/upload-sarif",
    "ossf/scorecard-action",
    "haskell-actions/hlint-scan",
    "zizmorcore/zizmor-action",
];

const RELEASING_ACTIONS: &[&str] = &[
    "relekang/python-semantic-release",
    "goreleaser/goreleaser-action",
    "slsa-framework/slsa-github-generator",
    "peaceiris/actions-gh-pages",
];

const PACKAGING_ACTIONS: &[&str] = &[
    "pypa/gh-action-pypi-publish",
    "docker/build-push-action",
    "goreleaser/goreleaser-action",
    "rubygems/release-gem",
];

/// What a workflow's steps say about the writes it needs: (packages,
/// contents, security-events) are excused.
fn excused(workflow: &Workflow) -> (bool, bool, bool) {
    let (mut packages, mut contents, mut sarif) = (false, false, false);
    for step in super::steps(workflow) {
        match &step.action {
            StepAction::Uses { uses, .. } => {
                let name = super::action_name(&uses.value);
                let is = |list: &[&str]| list.iter().any(|p| name.starts_with(p));
                packages |= is(PACKAGING_ACTIONS);
                contents |= is(RELEASING_ACTIONS);
                sarif |= is(SARIF_ACTIONS);
            }
            StepAction::Run { run, .. } => {
                let s = &run.value;
                packages |= s.contains("npm publish")
                    || s.contains("cargo publish")
                    || s.contains("twine upload")
                    || s.contains("docker push")
                    || s.contains("gem push");
                contents |= s.contains("semantic-release") || s.contains("release:prepare");
            }
            _ => {}
        }
    }
    (packages, contents, sarif)
}

/// The write scopes of interest a block grants (named scopes only).
fn writes(p: &Permissions) -> Vec<(&str, usize)> {
    match &p.kind {
        PermissionsKind::Scopes(map) => map
            .iter()
            .filter(|(k, v)| v.value == Access::Write && OF_INTEREST.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.span.start))
            .collect(),
        _ => Vec::new(),
    }
}

/// Scores one workflow: the points lost (`None`: the whole check is 0)
/// and the reasons.
fn workflow_cost(file: &WorkflowFile, w: &Workflow, reasons: &mut Vec<Reason>) -> Option<f64> {
    let (pkg_ok, contents_ok, sarif_ok) = excused(w);
    let mut job_undeclared = false;
    let mut job_writes = false;
    for job in w.jobs.values() {
        match &job.permissions {
            None => job_undeclared = true,
            Some(p) => {
                for (scope, at) in writes(p) {
                    let ok = (scope == "packages" && pkg_ok)
                        || (scope == "contents" && contents_ok)
                        || (scope == "security-events" && sarif_ok);
                    if ok {
                        continue;
                    }
                    job_writes = true;
                    reasons.push(
                        Reason::info(format!("job `{}` has `{scope}: write`", job.id.value))
                            .at(&file.path, Some(file.line(at))),
                    );
                }
            }
        }
    }
    let top_fix = "add `permissions: contents: read` at the top of the workflow and grant writes only to the jobs that need them";
    let Some(top) = &w.permissions else {
        if job_undeclared {
            reasons.push(
                Reason::warn("no top-level permissions, and some jobs declare none: the token's default applies")
                    .at(&file.path, Some(1))
                    .fix(top_fix),
            );
            return None;
        }
        reasons.push(
            Reason::warn("no top-level permissions (every job declares its own)")
                .at(&file.path, Some(1))
                .fix("add `permissions: {}` or `contents: read` at the top so a new job does not get the default token"),
        );
        return Some(0.5);
    };
    let line = file.line(top.span.start);
    match &top.kind {
        PermissionsKind::WriteAll => {
            if job_writes || job_undeclared {
                reasons.push(
                    Reason::warn(
                        "top-level `permissions: write-all`, and jobs write or declare nothing",
                    )
                    .at(&file.path, Some(line))
                    .fix(top_fix),
                );
                return None;
            }
            reasons.push(
                Reason::warn("top-level `permissions: write-all`")
                    .at(&file.path, Some(line))
                    .fix(top_fix),
            );
            Some(0.5)
        }
        PermissionsKind::ReadAll => Some(0.0),
        PermissionsKind::Scopes(_) => {
            let mut cost = 0.0;
            for (scope, at) in writes(top) {
                let lost = match scope {
                    "contents" | "packages" | "actions" => 10.0,
                    "deployments" | "security-events" => 1.0,
                    _ => 0.5,
                };
                cost += lost;
                reasons.push(
                    Reason::warn(format!("top-level `{scope}: write` (−{lost} points)"))
                        .at(&file.path, Some(file.line(at)))
                        .fix(format!("move `{scope}: write` to the jobs that need it and keep the top level read-only")),
                );
            }
            Some(cost)
        }
    }
}

impl super::Check for Check {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, checkout: &Checkout<'_>) -> CheckResult {
        if checkout.workflows.is_empty() {
            return CheckResult::inconclusive(&META, "no workflows found");
        }
        let mut score = f64::from(MAX_SCORE);
        let mut reasons = Vec::new();
        let mut zero = false;
        for file in &checkout.workflows {
            let Some(w) = &file.workflow else {
                reasons.push(
                    Reason::info(format!(
                        "not read: {}",
                        file.error.as_deref().unwrap_or("invalid workflow")
                    ))
                    .at(&file.path, None),
                );
                continue;
            };
            match workflow_cost(file, w, &mut reasons) {
                Some(cost) => score -= cost,
                None => zero = true,
            }
        }
        if zero {
            score = 0.0;
        }
        // Rounded down, at least 0: a whole number of points in 0..=10.
        let points = score.clamp(0.0, 10.0).floor();
        let points = (0u8..=MAX_SCORE)
            .rev()
            .find(|p| f64::from(*p) <= points)
            .unwrap_or(0);
        if points == MAX_SCORE {
            return CheckResult::scored(
                &META,
                points,
                "GitHub workflow tokens follow principle of least privilege",
            )
            .with(reasons);
        }
        CheckResult::scored(
            &META,
            points,
            "detected GitHub workflow tokens with excessive permissions",
        )
        .with(reasons)
    }
}
