//! Flaky tests: a test is flaky when it both failed and passed for the
//! same commit, whether inside one report (a retry), across re-runs, or
//! across matrix legs of the same code.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::junit::Outcome;

/// One recorded result of a test, as the store gives it back.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt<'a> {
    /// The test's id (`classname.name`).
    pub test: &'a str,
    pub commit: &'a str,
    pub run: u64,
    /// The job and matrix leg, as shown to users.
    pub job: &'a str,
    pub outcome: Outcome,
    /// The report itself saw a failed attempt before a pass.
    pub flaky_in_report: bool,
    /// When the run started (RFC 3339), for "last seen".
    pub time: &'a str,
}

/// Where a test flipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    pub commit: String,
    /// The runs of that commit in which the test ran.
    pub runs: Vec<u64>,
    /// The newest time it ran on that commit.
    pub time: String,
    /// Why it counts: `retried in one report` or `failed and passed on
    /// the same commit`.
    pub how: &'static str,
}

/// One flaky test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlakyTest {
    pub test: String,
    /// Commits on which it flipped.
    pub flaky_commits: usize,
    /// Commits on which it ran.
    pub commits: usize,
    /// `flaky_commits / commits`.
    pub flake_rate: f64,
    /// The newest occurrences first (at most five).
    pub last: Vec<Occurrence>,
}

#[derive(Default)]
struct PerCommit {
    passed: bool,
    failed: bool,
    retried: bool,
    runs: BTreeSet<u64>,
    time: String,
}

/// The flaky tests among `attempts`, the most flaky first (then by name).
pub fn find_flaky<'a>(attempts: impl IntoIterator<Item = Attempt<'a>>) -> Vec<FlakyTest> {
    let mut by_test: BTreeMap<&str, BTreeMap<&str, PerCommit>> = BTreeMap::new();
    for a in attempts {
        let entry = by_test
            .entry(a.test)
            .or_default()
            .entry(a.commit)
            .or_default();
        match a.outcome {
            Outcome::Passed => entry.passed = true,
            Outcome::Failed | Outcome::Errored => entry.failed = true,
            Outcome::Skipped => {}
        }
        entry.retried |= a.flaky_in_report;
        entry.runs.insert(a.run);
        if a.time > entry.time.as_str() {
            entry.time = a.time.to_string();
        }
    }
    let mut flaky: Vec<FlakyTest> = by_test
        .into_iter()
        .filter_map(|(test, commits)| {
            let mut last: Vec<Occurrence> = commits
                .iter()
                .filter(|(_, c)| c.retried || (c.passed && c.failed))
                .map(|(commit, c)| Occurrence {
                    commit: (*commit).to_string(),
                    runs: c.runs.iter().copied().collect(),
                    time: c.time.clone(),
                    how: if c.passed && c.failed {
                        "failed and passed on the same commit"
                    } else {
                        "retried in one report"
                    },
                })
                .collect();
            if last.is_empty() {
                return None;
            }
            let flaky_commits = last.len();
            last.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.commit.cmp(&b.commit)));
            last.truncate(5);
            Some(FlakyTest {
                test: test.to_string(),
                flaky_commits,
                commits: commits.len(),
                flake_rate: flaky_commits as f64 / commits.len() as f64,
                last,
            })
        })
        .collect();
    flaky.sort_by(|a, b| {
        b.flake_rate
            .total_cmp(&a.flake_rate)
            .then_with(|| a.test.cmp(&b.test))
    });
    flaky
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn attempt<'a>(test: &'a str, commit: &'a str, run: u64, outcome: Outcome) -> Attempt<'a> {
        Attempt {
            test,
            commit,
            run,
            job: "test",
            outcome,
            flaky_in_report: false,
            time: "2026-12-01T00:00:00Z",
        }
    }

    #[test]
    fn a_test_that_failed_then_passed_on_one_commit_is_flaky() {
        let flaky = find_flaky([
            attempt("t.flip", "abc", 1, Outcome::Failed),
            attempt("t.flip", "abc", 2, Outcome::Passed),
            attempt("t.flip", "def", 3, Outcome::Passed),
            attempt("t.steady", "abc", 1, Outcome::Passed),
            attempt("t.steady", "abc", 2, Outcome::Passed),
        ]);
        assert_eq!(flaky.len(), 1);
        assert_eq!(flaky[0].test, "t.flip");
        assert_eq!(flaky[0].flaky_commits, 1);
        assert_eq!(flaky[0].commits, 2);
        assert_eq!(flaky[0].flake_rate, 0.5);
        assert_eq!(flaky[0].last[0].runs, [1, 2]);
        assert_eq!(flaky[0].last[0].how, "failed and passed on the same commit");
    }

    #[test]
    fn a_failure_fixed_by_a_new_commit_is_not_flaky() {
        let flaky = find_flaky([
            attempt("t.fixed", "abc", 1, Outcome::Failed),
            attempt("t.fixed", "def", 2, Outcome::Passed),
        ]);
        assert!(flaky.is_empty(), "{flaky:?}");
    }

    #[test]
    fn a_retry_inside_one_report_is_flaky() {
        let mut a = attempt("t.retried", "abc", 1, Outcome::Passed);
        a.flaky_in_report = true;
        let flaky = find_flaky([a]);
        assert_eq!(flaky.len(), 1);
        assert_eq!(flaky[0].last[0].how, "retried in one report");
        assert_eq!(flaky[0].flake_rate, 1.0);
    }

    #[test]
    fn matrix_legs_of_one_commit_count_together() {
        let mut linux = attempt("t.leg", "abc", 1, Outcome::Passed);
        linux.job = "test (3.11)";
        let mut other = attempt("t.leg", "abc", 1, Outcome::Errored);
        other.job = "test (3.12)";
        assert_eq!(find_flaky([linux, other]).len(), 1);
    }
}
