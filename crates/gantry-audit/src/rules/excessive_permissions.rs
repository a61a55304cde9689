//! `excessive-permissions`: `write-all`/`read-all`, and write scopes on
//! jobs that only lint, test or build.

use gantry_workflow::model::{Access, Job, Permissions, PermissionsKind, Workflow};

use super::RuleMeta;
use crate::context::{Ctx, is_release_job};
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "excessive-permissions",
    title: "broader `GITHUB_TOKEN` permissions than the job needs",
    severity: Severity::Medium,
    pedantic: false,
    why: "`write-all` hands every step the power to push code, publish packages and change settings; `read-all` exposes every scope. A job that only lints, tests or builds never needs to write, so a compromised step should not be able to.",
    example: "permissions: write-all\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: write\n    steps:\n      - run: make lint",
    fix: "list only the scopes a job uses, at the lowest level (`contents: read`); grant `write` on the release or deploy job alone",
};

/// Words that mark a job as checking or building only.
const CHECK_WORDS: &[&str] = &[
    "lint",
    "test",
    "check",
    "build",
    "fmt",
    "format",
    "style",
    "typecheck",
    "clippy",
    "unit",
    "integration",
    "compile",
    "coverage",
];

/// Scopes a checking job may write to report its results (code-scanning
/// uploads, check runs, commit statuses); `id-token` has its own rule.
const REPORTING: &[&str] = &["security-events", "checks", "statuses", "id-token"];

fn is_check_job(job: &Job) -> bool {
    let mut names = vec![job.id.value.to_ascii_lowercase()];
    if let Some(n) = &job.name {
        names.push(n.value.to_ascii_lowercase());
    }
    names
        .iter()
        .any(|n| CHECK_WORDS.iter().any(|w| n.contains(w)))
        && !is_release_job(job)
}

fn shorthand(ctx: &Ctx<'_>, permissions: &Permissions, whom: &str, out: &mut Vec<Finding>) {
    let (confidence, severity, what) = match permissions.kind {
        PermissionsKind::WriteAll => (Confidence::High, Severity::High, "write-all"),
        PermissionsKind::ReadAll => (Confidence::High, Severity::Medium, "read-all"),
        PermissionsKind::Scopes(_) => return,
    };
    let mut finding = ctx.finding(
        &META,
        permissions.span,
        confidence,
        format!("{whom} grants `{what}` to the GITHUB_TOKEN"),
        format!("`{what}` covers every scope"),
    );
    if ctx.config.severity.is_none() {
        finding.severity = severity;
    }
    out.push(finding);
}

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_workflow(&self, ctx: &Ctx<'_>, workflow: &Workflow, out: &mut Vec<Finding>) {
        if let Some(p) = &workflow.permissions {
            shorthand(ctx, p, "the workflow", out);
        }
        for job in workflow.jobs.values() {
            if let Some(p) = &job.permissions {
                shorthand(ctx, p, &format!("job '{}'", job.id.value), out);
            }
            if !is_check_job(job) {
                continue;
            }
            // Write scopes that reach this job: its own, or the workflow's.
            let (permissions, whose) = match (&job.permissions, &workflow.permissions) {
                (Some(p), _) => (p, "the job"),
                (None, Some(p)) => (p, "the workflow"),
                (None, None) => continue,
            };
            if let PermissionsKind::Scopes(scopes) = &permissions.kind {
                for (scope, access) in scopes {
                    if access.value == Access::Write && !REPORTING.contains(&scope.as_str()) {
                        out.push(ctx.finding(
                            &META,
                            access.span,
                            Confidence::Medium,
                            format!(
                                "job '{}' looks like it only checks or builds, but {whose} grants `{scope}: write`",
                                job.id.value
                            ),
                            "write access not needed to check or build",
                        ));
                    }
                }
            }
        }
    }
}
