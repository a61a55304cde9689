//! Code-Review, from git history: whether the last changesets (the ~30
//! newest first-parent commits of HEAD) were reviewed by someone other
//! than their author.
//!
//! Scorecard asks GitHub for approvals; offline, a changeset counts as
//! reviewed when its message carries Gerrit's or a review trailer
//! (`Reviewed-by:`, `Reviewed-on:`, `Approved-by:`, `Acked-by:`) or when
//! it was merged or applied by someone other than its author (a merge
//! commit whose committer wrote none of the merged commits, a commit
//! whose committer is not its author; GitHub's web-flow committer does
//! not count). Bots' changes are told by `[bot]`, Dependabot or Renovate
//! in the author. Scoring is Scorecard's leveled one: 3 points off if any
//! bot change is unreviewed, 7 if one human change is, 10 if several are.

use crate::checkout::Checkout;
use crate::git::Commit;
use crate::model::{CheckMeta, CheckResult, MAX_SCORE, Reason, Risk};

pub struct Check;

static META: CheckMeta = CheckMeta {
    name: "Code-Review",
    risk: Risk::High,
    description: "Whether the most recent changes were reviewed by someone other than their author before they were merged.",
    remediation: "require a review of every change before it is merged (branch protection), or record reviews with `Reviewed-by:` trailers",
    note: Some(
        "offline: review is read from git history (review trailers, merges and commits applied by another person), not from the forge's approvals",
    ),
};

const TRAILERS: &[&str] = &["reviewed-by:", "reviewed-on:", "approved-by:", "acked-by:"];

/// Whether the author is a bot.
pub fn is_bot(name: &str, email: &str) -> bool {
    let n = name.to_ascii_lowercase();
    let e = email.to_ascii_lowercase();
    n.ends_with("[bot]")
        || e.contains("[bot]")
        || n.contains("dependabot")
        || n.contains("renovate")
        || e.contains("dependabot")
        || e.contains("renovate")
}

fn is_web_flow(email: &str) -> bool {
    email.eq_ignore_ascii_case("noreply@github.com")
}

/// Why a changeset counts as reviewed, if it does.
pub fn reviewed(c: &Commit) -> Option<String> {
    for line in c.body.lines() {
        let l = line.trim().to_ascii_lowercase();
        if let Some(t) = TRAILERS.iter().find(|t| l.starts_with(**t)) {
            return Some(format!("`{}` trailer", t.trim_end_matches(':')));
        }
    }
    if c.parents >= 2 {
        let merger = c.committer_email.to_ascii_lowercase();
        if !is_web_flow(&merger)
            && !c.merged_authors.is_empty()
            && c.merged_authors
                .iter()
                .all(|a| a.to_ascii_lowercase() != merger)
        {
            return Some(format!("merged by {}", c.committer_name));
        }
        return None;
    }
    if !is_web_flow(&c.committer_email) && !c.committer_email.eq_ignore_ascii_case(&c.author_email)
    {
        return Some(format!("applied by {}", c.committer_name));
    }
    None
}

impl super::Check for Check {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, checkout: &Checkout<'_>) -> CheckResult {
        let Some(history) = &checkout.history else {
            return CheckResult::inconclusive(&META, "not a git repository: no history to read");
        };
        let (mut human, mut human_unreviewed, mut bot_unreviewed) = (0usize, 0usize, 0usize);
        let mut reasons = Vec::new();
        for c in &history.commits {
            let bot = is_bot(&c.author_name, &c.author_email);
            if !bot {
                human += 1;
            }
            let short = c.id.get(..12).unwrap_or(&c.id);
            match reviewed(c) {
                Some(why) => reasons.push(Reason::info(format!("{short} reviewed: {why}"))),
                None => {
                    if bot {
                        bot_unreviewed += 1;
                    } else {
                        human_unreviewed += 1;
                    }
                    reasons.push(
                        Reason::warn(format!(
                            "{short} by {} ({}) was not reviewed{}",
                            c.author_name,
                            c.author_email,
                            if bot { " (bot)" } else { "" }
                        ))
                        .fix("merge changes through reviewed pull requests or record the review with a `Reviewed-by:` trailer"),
                    );
                }
            }
        }
        if human == 0 {
            return CheckResult::inconclusive(&META, "recent changes are only bot activity")
                .with(reasons);
        }
        let mut score = i32::from(MAX_SCORE);
        if bot_unreviewed > 0 {
            score -= 3;
        }
        match human_unreviewed {
            0 => {}
            1 => score -= 7,
            _ => score -= 10,
        }
        let total = history.commits.len();
        let summary = format!(
            "{} of the last {total} changesets reviewed",
            total - human_unreviewed - bot_unreviewed
        );
        CheckResult::scored(&META, u8::try_from(score.max(0)).unwrap_or(0), summary).with(reasons)
    }
}
