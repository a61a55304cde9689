//! SAST: a static analysis tool Scorecard recognises run by a workflow
//! (CodeQL, SonarCloud/SonarQube, Snyk, Pysa, Qodana). Found: 10; not: 0.
//!
//! Scorecard also counts the recent merged pull requests that a SAST
//! check ran on, which needs the forge's API; offline that part is
//! inconclusive and, as in Scorecard, the workflow decides.

use regex::Regex;

use crate::checkout::Checkout;
use crate::model::{CheckMeta, CheckResult, MAX_SCORE, Reason, Risk};

pub struct Check;

static META: CheckMeta = CheckMeta {
    name: "SAST",
    risk: Risk::Medium,
    description: "Whether the project runs static application security testing (CodeQL, SonarCloud, ...) in its workflows.",
    remediation: "run CodeQL (`github/codeql-action`) or another SAST tool on every pull request",
    note: Some("offline: the workflows decide; pull-request check runs are not consulted"),
};

const ACTIONS: &[&str] = &[
    "github/codeql-action/analyze",
    "github/codeql-action/init",
    "sonarsource/sonarcloud-github-action",
    "sonarsource/sonarqube-scan-action",
    "snyk/actions",
    "facebook/pysa-action",
    "jetbrains/qodana-action",
];

impl super::Check for Check {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, checkout: &Checkout<'_>) -> CheckResult {
        let run = Regex::new(r"\bcodeql\s+database\s+analyze\b|\bsnyk\s+code\s+test\b").ok();
        match super::find_in_workflows(checkout, ACTIONS, run.as_ref()) {
            Some((file, line, what)) => {
                CheckResult::scored(&META, MAX_SCORE, "SAST tool detected").with(vec![
                    Reason::info(format!("SAST tool `{what}` runs in a workflow")).at(file, Some(line)),
                ])
            }
            None => CheckResult::scored(&META, 0, "no SAST tool detected").with(vec![
                Reason::warn("no workflow runs a SAST tool")
                    .at(".github/workflows/codeql.yml", None)
                    .fix("add a workflow that runs `github/codeql-action/init` and `github/codeql-action/analyze` on pushes and pull requests"),
            ]),
        }
    }
}
