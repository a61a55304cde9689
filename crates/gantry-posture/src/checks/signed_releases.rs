//! Signed-Releases, from gantry's own attestations: the five newest tags
//! are the releases; a release with SLSA provenance about it scores 10, a
//! signed statement or a detached signature 8, nothing 0; the score is
//! the mean, rounded down (Scorecard's rule). No tags: inconclusive.
//!
//! Scorecard reads the forge's release assets; offline, evidence is what
//! [`crate::evidence`] finds: envelope and signature files in the checkout
//! (in a folder named after the tag, or a statement naming the tag's
//! commit) and records of the evidence ledger (its version is the tag,
//! with or without a leading `v`, or its statement names the commit).

use crate::checkout::Checkout;
use crate::evidence::{self, Kind};
use crate::model::{CheckMeta, CheckResult, Reason, Risk};

pub struct Check;

static META: CheckMeta = CheckMeta {
    name: "Signed-Releases",
    risk: Risk::High,
    description: "Whether releases are signed, and come with SLSA provenance, so users can check where an artifact came from.",
    remediation: "attest each release: `gantry attest -t slsa-provenance -s dist/ -k release.key -o dist/provenance.intoto.json` and append it to the ledger",
    note: Some(
        "offline: releases are git tags; evidence is gantry's envelopes in the checkout and the evidence ledger, not forge release assets",
    ),
};

impl super::Check for Check {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, checkout: &Checkout<'_>) -> CheckResult {
        let Some(history) = &checkout.history else {
            return CheckResult::inconclusive(&META, "not a git repository: no releases to read");
        };
        if history.tags.is_empty() {
            return CheckResult::inconclusive(&META, "no releases found");
        }
        let found = evidence::collect(checkout);
        let mut total = 0usize;
        let mut reasons = Vec::new();
        let mut with_evidence = 0usize;
        for tag in &history.tags {
            let about: Vec<_> = found
                .iter()
                .filter(|e| e.about(&tag.name, &tag.commit))
                .collect();
            let provenance = about.iter().find(|e| e.kind == Kind::Provenance);
            let signed = about.first();
            match (provenance, signed) {
                (Some(p), _) => {
                    total += 10;
                    with_evidence += 1;
                    reasons.push(
                        Reason::info(format!("release {} has provenance", tag.name)).at(&p.place, None),
                    );
                }
                (None, Some(s)) => {
                    total += 8;
                    with_evidence += 1;
                    reasons.push(
                        Reason::warn(format!("release {} is signed but has no SLSA provenance", tag.name))
                            .at(&s.place, None)
                            .fix(format!("attest the release's artifacts with `gantry attest -t slsa-provenance` at {}", tag.name)),
                    );
                }
                (None, None) => reasons.push(
                    Reason::warn(format!("release {} is not signed", tag.name)).fix(format!(
                        "sign and attest the artifacts of {} with `gantry attest -t slsa-provenance -k KEY` and `gantry ledger append`",
                        tag.name
                    )),
                ),
            }
        }
        let n = history.tags.len();
        if with_evidence == 0 {
            return CheckResult::scored(
                &META,
                0,
                "Project has not signed or included provenance with any releases.",
            )
            .with(reasons);
        }
        let score = u8::try_from(total / n).unwrap_or(0);
        CheckResult::scored(
            &META,
            score,
            format!("{with_evidence} out of the last {n} releases are signed"),
        )
        .with(reasons)
    }
}
