//! `continue-on-error-security`: security scans allowed to fail.

use gantry_workflow::model::{Job, OrExpr, Spanned, StepAction, StepsJob};

use super::{RuleMeta, walk_job_steps};
use crate::context::{Ctx, StepRef};
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "continue-on-error-security",
    title: "`continue-on-error` on a security scan",
    severity: Severity::Medium,
    pedantic: false,
    why: "A scan that may fail without failing the run is a gate that never closes: critical vulnerabilities, leaked secrets or unsafe workflows go through while the pipeline stays green.",
    example: "- uses: aquasecurity/trivy-action@v0\n  continue-on-error: true",
    fix: "let the scan fail the run; suppress accepted findings in the scanner's own ignore file, with a reason and an expiry",
};

const SCANNERS: &[&str] = &[
    "codeql",
    "trivy",
    "grype",
    "snyk",
    "semgrep",
    "gitleaks",
    "trufflehog",
    "zizmor",
    "osv-scanner",
    "cargo-audit",
    "cargo-deny",
    "npm audit",
    "pip-audit",
    "bandit",
    "gosec",
    "govulncheck",
    "scorecard",
    "dependency-review",
    "gantry scan",
    "gantry audit",
    "security",
    "sast",
    "vuln",
];

fn is_scan(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    SCANNERS.iter().any(|s| lower.contains(s))
}

fn always(value: &Option<Spanned<OrExpr<bool>>>) -> Option<gantry_workflow::Span> {
    match value {
        Some(Spanned {
            value: OrExpr::Value(true),
            span,
        }) => Some(*span),
        _ => None,
    }
}

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_normal_job(&self, ctx: &Ctx<'_>, job: &Job, steps: &StepsJob, out: &mut Vec<Finding>) {
        walk_job_steps(self, ctx, job, steps, out);
        let Some(span) = always(&steps.continue_on_error) else {
            return;
        };
        let named = is_scan(&job.id.value) || job.name.as_ref().is_some_and(|n| is_scan(&n.value));
        let scans = steps.steps.iter().any(|s| match &s.action {
            StepAction::Uses { uses, .. } => is_scan(&uses.value),
            StepAction::Run { run, .. } => is_scan(&run.value),
            _ => false,
        });
        if named || scans {
            out.push(ctx.finding(
                &META,
                span,
                Confidence::Medium,
                format!(
                    "the security scan job '{}' may fail without failing the run",
                    job.id.value
                ),
                "scan failures ignored",
            ));
        }
    }

    fn audit_step(&self, ctx: &Ctx<'_>, step: StepRef<'_>, out: &mut Vec<Finding>) {
        let Some(span) = always(&step.step.continue_on_error) else {
            return;
        };
        let scan = match &step.step.action {
            StepAction::Uses { uses, .. } => is_scan(&uses.value),
            StepAction::Run { run, .. } => is_scan(&run.value),
            _ => false,
        } || step.step.name.as_ref().is_some_and(|n| is_scan(&n.value));
        if scan {
            out.push(ctx.finding(
                &META,
                span,
                Confidence::Medium,
                format!(
                    "the security scan step '{}' may fail without failing the job",
                    step.step.display_name()
                ),
                "scan failures ignored",
            ));
        }
    }
}
