//! Maintained, from git history: commits to HEAD in the last 90 days,
//! Scorecard's proportional score against one a week (10 × commits / 12,
//! at most 10), and 0 for a project whose first commit is less than 90
//! days old.
//!
//! Scorecard also counts issue activity by members and gives 0 to an
//! archived repository; neither is in a checkout.

use crate::checkout::Checkout;
use crate::model::{CheckMeta, CheckResult, MAX_SCORE, Reason, Risk};

pub struct Check;

static META: CheckMeta = CheckMeta {
    name: "Maintained",
    risk: Risk::High,
    description: "Whether the project is actively maintained: at least one commit a week over the last 90 days.",
    remediation: "nothing to fix in the code; users should judge whether a project with little recent activity needs it",
    note: Some("offline: commits from git history only (no issue activity, no archived flag)"),
};

const LOOK_BACK_DAYS: i64 = 90;
/// Scorecard's target: one commit a week over the look-back (integer
/// weeks, as Scorecard divides).
const TARGET: usize = (LOOK_BACK_DAYS / 7) as usize;

impl super::Check for Check {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, checkout: &Checkout<'_>) -> CheckResult {
        let Some(history) = &checkout.history else {
            return CheckResult::inconclusive(&META, "not a git repository: no history to read");
        };
        let now = checkout.options.now;
        if let Some(first) = history.first_commit_time
            && now - first < LOOK_BACK_DAYS * 86_400
        {
            return CheckResult::scored(
                &META,
                0,
                "project was created within the last 90 days. Please review its contents carefully",
            )
            .with(vec![Reason::warn(format!(
                "the first commit is {} days old",
                (now - first).max(0) / 86_400
            ))]);
        }
        let n = history.recent_commits;
        let score = (usize::from(MAX_SCORE) * n / TARGET).min(usize::from(MAX_SCORE));
        let mut reasons = Vec::new();
        if score < usize::from(MAX_SCORE) {
            reasons.push(Reason::warn(format!(
                "{n} commit(s) in the last {LOOK_BACK_DAYS} days, fewer than one a week"
            )));
        }
        if history.shallow {
            reasons.push(Reason::info(
                "shallow clone: the project's age could not be read",
            ));
        }
        CheckResult::scored(
            &META,
            u8::try_from(score).unwrap_or(MAX_SCORE),
            format!("{n} commit(s) found in the last {LOOK_BACK_DAYS} days"),
        )
        .with(reasons)
    }
}
