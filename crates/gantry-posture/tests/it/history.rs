//! Maintained, Code-Review and Signed-Releases from git history.
#![allow(clippy::unwrap_used)]

use crate::common::{DAY, NOW, Repo};

const ANN: (&str, &str) = ("Ann", "ann@example.com");
const BOB: (&str, &str) = ("Bob", "bob@example.com");
const BOT: (&str, &str) = (
    "dependabot[bot]",
    "49699333+dependabot[bot]@users.noreply.github.com",
);

#[test]
fn maintained_counts_commits_in_the_last_90_days() {
    let repo = Repo::new();
    repo.init();
    repo.commit_as_ann("start", NOW - 400 * DAY);
    for i in 0..6 {
        repo.commit_as_ann(&format!("change {i}"), NOW - (i + 1) * 10 * DAY);
    }
    // 6 commits in 90 days against 12 (one a week): 10 * 6 / 12.
    assert_eq!(repo.check("Maintained").score, Some(5));
    for i in 0..8 {
        repo.commit_as_ann(&format!("more {i}"), NOW - DAY - i);
    }
    assert_eq!(repo.check("Maintained").score, Some(10));

    let young = Repo::new();
    young.init();
    young.commit_as_ann("start", NOW - 10 * DAY);
    young.commit_as_ann("next", NOW - DAY);
    let c = young.check("Maintained");
    assert_eq!(c.score, Some(0));
    assert!(c.summary.contains("created within the last 90 days"));
    assert_eq!(Repo::new().check("Maintained").score, None);
}

#[test]
fn code_review_is_leveled() {
    // Every change applied or reviewed by someone else: 10.
    let repo = Repo::new();
    repo.init();
    repo.commit("one", NOW - 3 * DAY, ANN, BOB);
    repo.commit(
        "two\n\nReviewed-by: Bob <bob@example.com>",
        NOW - 2 * DAY,
        ANN,
        ANN,
    );
    assert_eq!(repo.check("Code-Review").score, Some(10));
    // One human change unreviewed: 3.
    repo.commit_as_ann("three", NOW - DAY);
    assert_eq!(repo.check("Code-Review").score, Some(3));
    // Several: 0.
    repo.commit_as_ann("four", NOW - 1);
    assert_eq!(repo.check("Code-Review").score, Some(0));

    // A bot's change unreviewed, humans reviewed: 7.
    let bots = Repo::new();
    bots.init();
    bots.commit("human", NOW - 2 * DAY, ANN, BOB);
    bots.commit("bump", NOW - DAY, BOT, BOT);
    let c = bots.check("Code-Review");
    assert_eq!(c.score, Some(7), "{c:#?}");
    // Only bots: inconclusive.
    let only = Repo::new();
    only.init();
    only.commit("bump", NOW - DAY, BOT, BOT);
    assert_eq!(only.check("Code-Review").score, None);
}

fn envelope(predicate_type: &str, commit: &str) -> String {
    let key = gantry_attest::PrivateKey::generate(gantry_attest::Algorithm::Ed25519).unwrap();
    let mut digest = std::collections::BTreeMap::new();
    digest.insert("sha256".to_string(), "0".repeat(64));
    let statement = gantry_attest::Statement::new(
        vec![gantry_attest::Subject {
            name: "dist/app".into(),
            digest,
        }],
        predicate_type,
        serde_json::json!({"buildDefinition": {"resolvedDependencies": [{"digest": {"gitCommit": commit}}]}}),
    );
    gantry_attest::attest(&statement, &[&key])
        .unwrap()
        .to_json()
}

#[test]
fn signed_releases_from_gantry_attestations() {
    let repo = Repo::new();
    repo.init();
    repo.commit_as_ann("one", NOW - 20 * DAY);
    repo.git(&["tag", "v1.0.0"], NOW - 20 * DAY, ANN, ANN);
    repo.commit_as_ann("two", NOW - 10 * DAY);
    repo.git(&["tag", "v1.1.0"], NOW - 10 * DAY, ANN, ANN);
    // No evidence at all: 0.
    assert_eq!(repo.check("Signed-Releases").score, Some(0));
    let head = String::from_utf8(
        std::process::Command::new("git")
            .arg("-C")
            .arg(repo.path())
            .args(["rev-parse", "v1.1.0^{commit}"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    // Provenance naming v1.1.0's commit (10) and a detached signature in
    // a folder named v1.0.0 (8): (10 + 8) / 2.
    repo.write(
        "releases/provenance.intoto.json",
        envelope("https://slsa.dev/provenance/v1", head.trim()),
    );
    repo.write("releases/v1.0.0/app.tar.gz.sig", "sig");
    repo.commit_as_ann("evidence", NOW - DAY);
    let c = repo.check("Signed-Releases");
    assert_eq!(c.score, Some(9), "{c:#?}");
    // An SBOM attested for a release gives SBOM its second half.
    repo.write(
        "releases/v1.0.0/sbom.intoto.json",
        envelope("https://cyclonedx.org/bom", "x"),
    );
    repo.commit_as_ann("sbom", NOW - 1);
    assert_eq!(repo.check("SBOM").score, Some(10));
    // No tags: inconclusive.
    let untagged = Repo::new();
    untagged.init();
    untagged.commit_as_ann("one", NOW - DAY);
    assert_eq!(untagged.check("Signed-Releases").score, None);
}
