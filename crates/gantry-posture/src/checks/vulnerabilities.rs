//! Vulnerabilities: the lockfiles' packages against gantry's offline OSV
//! database (`gantry scan`'s matching and `.gantry/ignore.yml`); each
//! known vulnerability (aliases merged, informational advisories apart)
//! costs a point, 10 minus their number, at least 0. Without a database,
//! inconclusive.

use std::collections::BTreeMap;

use gantry_vuln::{Database, FindingKind, Policy, Request};

use crate::checkout::Checkout;
use crate::model::{CheckMeta, CheckResult, MAX_SCORE, Reason, Risk};

pub struct Check;

static META: CheckMeta = CheckMeta {
    name: "Vulnerabilities",
    risk: Risk::High,
    description: "Whether the project's dependencies have known, unfixed vulnerabilities (OSV).",
    remediation: "upgrade each vulnerable package to its fixed version, or record an accepted risk in .gantry/ignore.yml",
    note: Some("offline: gantry's OSV database (`gantry db import`), not the osv.dev API"),
};

impl super::Check for Check {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, checkout: &Checkout<'_>) -> CheckResult {
        let Some(dir) = &checkout.options.vuln_db else {
            return CheckResult::inconclusive(&META, "no vulnerability database given");
        };
        let db = match Database::open(dir) {
            Ok(db) => db,
            Err(e) => {
                return CheckResult::inconclusive(&META, e.to_string())
                    .with(vec![Reason::info("no advisories to match against").fix(
                        "import OSV data with `gantry db import` (osv.dev's export for your ecosystems)",
                    )]);
            }
        };
        let request = Request {
            path: checkout.root.clone(),
            root: checkout.root.clone(),
            ignore_file: None,
            discover: Default::default(),
            policy: Policy::default(),
            now: checkout.options.now,
            platform: None,
        };
        let outcome = match gantry_vuln::check(&db, &request) {
            Ok(o) => o,
            Err(e) => {
                return CheckResult::inconclusive(&META, format!("the scan failed: {e}"));
            }
        };
        // One vulnerability once, at its first place.
        let mut vulns: BTreeMap<String, &gantry_vuln::Finding> = BTreeMap::new();
        for f in &outcome.report.findings {
            if matches!(f.kind, FindingKind::Informational(_)) {
                continue;
            }
            vulns.entry(f.id().to_string()).or_insert(f);
        }
        let n = vulns.len();
        let reasons = vulns
            .values()
            .map(|f| {
                let fix = match &f.fixed {
                    Some(v) => format!("upgrade {} to {v} or later", f.package),
                    None => format!(
                        "no fixed version of {}: replace it, or accept the risk in .gantry/ignore.yml",
                        f.package
                    ),
                };
                Reason::warn(format!(
                    "{} in {} {} ({})",
                    f.id(),
                    f.package,
                    f.version,
                    f.severity.level
                ))
                .at(&f.location.file, Some(f.location.line))
                .fix(fix)
            })
            .collect();
        let score = MAX_SCORE.saturating_sub(u8::try_from(n).unwrap_or(u8::MAX));
        CheckResult::scored(
            &META,
            score,
            format!("{n} existing vulnerabilities detected"),
        )
        .with(reasons)
    }
}
