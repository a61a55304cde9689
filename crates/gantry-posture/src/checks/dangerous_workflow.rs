//! Dangerous-Workflow: untrusted code checked out by a privileged trigger
//! (`pull_request_target`, `workflow_run`) or untrusted context values
//! expanded into scripts. Any one gives 0; none gives 10; no workflows,
//! inconclusive.
//!
//! The patterns are gantry audit's: `dangerous-triggers` findings that
//! check out the untrusted head (high confidence) and
//! `template-injection` findings of attacker-controlled values (high
//! confidence).

use gantry_audit::Confidence;

use crate::checkout::Checkout;
use crate::model::{CheckMeta, CheckResult, MAX_SCORE, Reason, Risk};

pub struct Check;

static META: CheckMeta = CheckMeta {
    name: "Dangerous-Workflow",
    risk: Risk::Critical,
    description: "Whether GitHub workflows check out untrusted code under privileged triggers or expand untrusted input into scripts.",
    remediation: "never check out the pull request head under `pull_request_target`/`workflow_run`, and pass untrusted values to scripts through environment variables",
    note: None,
};

impl super::Check for Check {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, checkout: &Checkout<'_>) -> CheckResult {
        if checkout.workflows.is_empty() {
            return CheckResult::inconclusive(&META, "no workflows found");
        }
        let mut reasons = Vec::new();
        for file in &checkout.workflows {
            if let Some(e) = &file.error {
                reasons.push(Reason::info(format!("not read: {e}")).at(&file.path, None));
            }
            for f in &file.findings {
                let dangerous = f.confidence == Confidence::High
                    && (f.rule == "template-injection"
                        || (f.rule == "dangerous-triggers" && !f.related.is_empty()));
                if !dangerous {
                    continue;
                }
                let what = if f.rule == "template-injection" {
                    "script injection with untrusted context"
                } else {
                    "untrusted code checkout"
                };
                reasons.push(
                    Reason::warn(format!("{what}: {}", f.message))
                        .at(&file.path, Some(file.line(f.span.start)))
                        .fix(f.help.clone()),
                );
            }
        }
        if reasons.iter().any(|r| r.level == crate::Level::Warn) {
            return CheckResult::scored(&META, 0, "dangerous workflow patterns detected")
                .with(reasons);
        }
        CheckResult::scored(&META, MAX_SCORE, "no dangerous workflow patterns detected")
            .with(reasons)
    }
}
