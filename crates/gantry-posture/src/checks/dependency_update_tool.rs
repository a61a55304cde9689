//! Dependency-Update-Tool: a Dependabot, Renovate or Scala Steward
//! configuration at the places those tools read it. Found: 10; not: 0.

use crate::checkout::Checkout;
use crate::model::{CheckMeta, CheckResult, MAX_SCORE, Reason, Risk};

pub struct Check;

static META: CheckMeta = CheckMeta {
    name: "Dependency-Update-Tool",
    risk: Risk::High,
    description: "Whether a dependency update tool (Dependabot, Renovate) is configured to propose updates of outdated or vulnerable dependencies.",
    remediation: "add `.github/dependabot.yml` or `renovate.json` for the project's ecosystems",
    note: None,
};

/// The tools and the files that configure them.
const TOOLS: &[(&str, &[&str])] = &[
    (
        "Dependabot",
        &[".github/dependabot.yml", ".github/dependabot.yaml"],
    ),
    (
        "Renovate",
        &[
            "renovate.json",
            "renovate.json5",
            ".github/renovate.json",
            ".github/renovate.json5",
            ".gitlab/renovate.json",
            ".gitlab/renovate.json5",
            ".renovaterc",
            ".renovaterc.json",
            ".renovaterc.json5",
        ],
    ),
    (
        "Scala Steward",
        &[
            ".scala-steward.conf",
            "scala-steward.conf",
            ".github/.scala-steward.conf",
            ".github/scala-steward.conf",
            ".config/.scala-steward.conf",
            ".config/scala-steward.conf",
        ],
    ),
];

impl super::Check for Check {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, checkout: &Checkout<'_>) -> CheckResult {
        let mut reasons = Vec::new();
        for (tool, files) in TOOLS {
            for file in checkout.find_exact(files) {
                reasons.push(Reason::info(format!("{tool} configured")).at(file, None));
            }
        }
        if reasons.is_empty() {
            return CheckResult::scored(&META, 0, "no update tool detected").with(vec![
                Reason::warn("no dependency update tool configuration found")
                    .at(".github/dependabot.yml", None)
                    .fix("create .github/dependabot.yml (or renovate.json) listing the package ecosystems and github-actions, so updates arrive as pull requests"),
            ]);
        }
        CheckResult::scored(&META, MAX_SCORE, "update tool detected").with(reasons)
    }
}
