//! SBOM: an SBOM in the source (files named as the OSSF SBOM Everywhere
//! conventions name them: `*.spdx.json`, `*.cdx.json`, `bom.json`, ...)
//! or as gantry evidence: 5 points; an SBOM attested for a release (a
//! CycloneDX or SPDX statement about one of the five newest tags, see
//! Signed-Releases): 5 more.

use crate::checkout::Checkout;
use crate::evidence::{self, Kind};
use crate::model::{CheckMeta, CheckResult, MAX_SCORE, Reason, Risk};

pub struct Check;

static META: CheckMeta = CheckMeta {
    name: "SBOM",
    risk: Risk::Medium,
    description: "Whether the project keeps a software bill of materials, in its source or published with its releases.",
    remediation: "generate one with `gantry sbom -o sbom.cdx.json`, and attest it with each release (`gantry attest -t cyclonedx`)",
    note: Some(
        "offline: release SBOMs are gantry's attestations (checkout envelopes and the ledger), not forge release assets",
    ),
};

/// Whether a file name is an SBOM's by the naming conventions.
pub fn is_sbom_name(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel).to_ascii_lowercase();
    const SUFFIXES: &[&str] = &[
        ".spdx",
        ".spdx.json",
        ".spdx.yml",
        ".spdx.yaml",
        ".spdx.rdf",
        ".spdx.rdf.xml",
        ".spdx.xml",
        ".spdx.tv",
        ".cdx.json",
        ".cdx.xml",
        ".cyclonedx.json",
        ".cyclonedx.xml",
        ".sbom.json",
        ".bom.json",
        ".bom.xml",
    ];
    matches!(
        name.as_str(),
        "bom.json" | "bom.xml" | "sbom.json" | "sbom.xml" | "sbom.spdx"
    ) || SUFFIXES.iter().any(|s| name.ends_with(s))
}

impl super::Check for Check {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, checkout: &Checkout<'_>) -> CheckResult {
        let mut reasons = Vec::new();
        let in_source = checkout.files.iter().find(|f| is_sbom_name(f));
        let found = evidence::collect(checkout);
        let sboms: Vec<_> = found.iter().filter(|e| e.kind == Kind::Sbom).collect();
        let tags = checkout
            .history
            .as_ref()
            .map(|h| h.tags.as_slice())
            .unwrap_or_default();
        let released = sboms.iter().find_map(|e| {
            tags.iter()
                .find(|t| e.about(&t.name, &t.commit))
                .map(|t| (e, t))
        });
        if let Some(f) = in_source {
            reasons.push(Reason::info("SBOM file in the source").at(f, None));
        }
        if let Some(e) = sboms.first() {
            reasons.push(Reason::info("SBOM attestation").at(&e.place, None));
        }
        if in_source.is_none() && sboms.is_empty() {
            return CheckResult::scored(&META, 0, "SBOM file not detected").with(vec![
                Reason::warn("no SBOM in the source or the evidence")
                    .fix("generate one with `gantry sbom -o sbom.cdx.json` and publish it with each release"),
            ]);
        }
        if let Some((e, t)) = released {
            reasons.push(
                Reason::info(format!("SBOM attested for release {}", t.name)).at(&e.place, None),
            );
            return CheckResult::scored(&META, MAX_SCORE, "SBOM file found in release artifacts")
                .with(reasons);
        }
        reasons.push(
            Reason::warn("no SBOM is attested for a release")
                .fix("attest the release's SBOM: `gantry attest -t cyclonedx -p sbom.cdx.json -s dist/ -k KEY` and `gantry ledger append`"),
        );
        CheckResult::scored(&META, 5, "SBOM file found in project").with(reasons)
    }
}
