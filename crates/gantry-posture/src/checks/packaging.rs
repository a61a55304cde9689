//! Packaging: a workflow that publishes the project as a package (npm,
//! PyPI, crates.io, RubyGems, Maven, NuGet, container images, GoReleaser,
//! GitHub Packages). Found: 10; not found: inconclusive, as Scorecard
//! gives (a project may publish some other way).

use regex::Regex;

use crate::checkout::Checkout;
use crate::model::{CheckMeta, CheckResult, MAX_SCORE, Reason, Risk};

pub struct Check;

static META: CheckMeta = CheckMeta {
    name: "Packaging",
    risk: Risk::Medium,
    description: "Whether the project is published as a package by a workflow, so users get updates through a package manager.",
    remediation: "publish releases from a workflow (e.g. `npm publish`, `pypa/gh-action-pypi-publish`, `cargo publish`, `docker/build-push-action`)",
    note: None,
};

/// Actions that publish packages.
const ACTIONS: &[&str] = &[
    "pypa/gh-action-pypi-publish",
    "docker/build-push-action",
    "goreleaser/goreleaser-action",
    "ko-build/setup-ko",
    "rubygems/release-gem",
    "katyo/publish-crates",
    "js-devtools/npm-publish",
    "jreleaser/release-action",
    "gradle/publish-plugin",
];

/// Commands that publish packages.
const RUN: &str = r"\b(npm|yarn|pnpm)\s+publish\b|\bcargo\s+publish\b|\btwine\s+upload\b|\bpoetry\s+publish\b|\buv\s+publish\b|\bflit\s+publish\b|\bgem\s+push\b|\bmvn\b[^\n]*\bdeploy\b|\bgradlew?\b[^\n]*\bpublish\w*\b|\bdotnet\s+nuget\s+push\b|\bnuget\s+push\b|\bdocker\s+push\b|\bpodman\s+push\b|\bskopeo\s+copy\b|\bko\s+(build|publish)\b|\bgoreleaser\s+release\b|\bhelm\s+push\b";

impl super::Check for Check {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, checkout: &Checkout<'_>) -> CheckResult {
        let run = Regex::new(RUN).ok();
        match super::find_in_workflows(checkout, ACTIONS, run.as_ref()) {
            Some((file, line, what)) => {
                CheckResult::scored(&META, MAX_SCORE, "packaging workflow detected").with(vec![
                    Reason::info(format!("publishes with `{what}`")).at(file, Some(line)),
                ])
            }
            None => CheckResult::inconclusive(&META, "packaging workflow not detected").with(vec![
                Reason::info("no workflow publishes a package")
                    .fix("publish releases from a workflow so users receive updates through their package manager"),
            ]),
        }
    }
}
