//! Each check's documented scoring, reproduced on fixture repositories.
#![allow(clippy::unwrap_used)]

use crate::common::{NOW, Repo, job, workflow};

const CHECKOUT_SHA: &str = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683";

fn score(repo: &Repo, name: &str) -> Option<u8> {
    repo.check(name).score
}

fn perms_repo(top: &str, jobs: &[String]) -> Repo {
    let repo = Repo::new();
    repo.write(".github/workflows/ci.yml", workflow(top, &jobs.concat()));
    repo
}

#[test]
fn token_permissions_follow_scorecard_rules() {
    let run = "run: make";
    let undeclared = job("a", "", run);
    let read = job("b", "    permissions:\n      contents: read\n", run);
    // Top-level write-all with a job that declares nothing: 0.
    assert_eq!(
        score(
            &perms_repo(
                "permissions: write-all\n",
                std::slice::from_ref(&undeclared)
            ),
            "Token-Permissions"
        ),
        Some(0)
    );
    // write-all with every job declared read-only: 10 - 0.5, rounded down.
    assert_eq!(
        score(
            &perms_repo("permissions: write-all\n", std::slice::from_ref(&read)),
            "Token-Permissions"
        ),
        Some(9)
    );
    // No top-level block, every job declares: 9; some job declares nothing: 0.
    assert_eq!(
        score(
            &perms_repo("", std::slice::from_ref(&read)),
            "Token-Permissions"
        ),
        Some(9)
    );
    assert_eq!(
        score(
            &perms_repo("", &[read.clone(), undeclared.clone()]),
            "Token-Permissions"
        ),
        Some(0)
    );
    // Read-only at the top, jobs may write: 10.
    let writer = job("c", "    permissions:\n      contents: write\n", run);
    assert_eq!(
        score(
            &perms_repo("permissions: read-all\n", &[writer, undeclared.clone()]),
            "Token-Permissions"
        ),
        Some(10)
    );
    assert_eq!(
        score(
            &perms_repo(
                "permissions:\n  contents: read\n",
                std::slice::from_ref(&undeclared)
            ),
            "Token-Permissions"
        ),
        Some(10)
    );
    // Top-level writes: contents -10, deployments -1, checks -0.5.
    assert_eq!(
        score(
            &perms_repo(
                "permissions:\n  contents: write\n",
                std::slice::from_ref(&undeclared)
            ),
            "Token-Permissions"
        ),
        Some(0)
    );
    assert_eq!(
        score(
            &perms_repo(
                "permissions:\n  deployments: write\n",
                std::slice::from_ref(&undeclared)
            ),
            "Token-Permissions"
        ),
        Some(9)
    );
    assert_eq!(
        score(
            &perms_repo(
                "permissions:\n  checks: write\n  statuses: write\n",
                std::slice::from_ref(&undeclared)
            ),
            "Token-Permissions"
        ),
        Some(9)
    );
    assert_eq!(
        score(
            &perms_repo(
                "permissions:\n  deployments: write\n  security-events: write\n",
                std::slice::from_ref(&undeclared)
            ),
            "Token-Permissions"
        ),
        Some(8)
    );
    // Not of interest (issues): no points lost.
    assert_eq!(
        score(
            &perms_repo("permissions:\n  issues: write\n", &[undeclared]),
            "Token-Permissions"
        ),
        Some(10)
    );
    // Deductions add up over workflow files.
    let repo = perms_repo("", std::slice::from_ref(&read));
    repo.write(".github/workflows/two.yml", workflow("", &read));
    repo.write(".github/workflows/three.yml", workflow("", &read));
    assert_eq!(score(&repo, "Token-Permissions"), Some(8));
    // Each point lost names the file and line and what to change.
    let c = perms_repo("permissions:\n  contents: write\n", &[job("a", "", run)])
        .check("Token-Permissions");
    let r = c
        .reasons
        .iter()
        .find(|r| r.level == gantry_posture::Level::Warn)
        .unwrap();
    assert_eq!(r.file.as_deref(), Some(".github/workflows/ci.yml"));
    assert_eq!(r.line, Some(4));
    assert!(
        r.remediation
            .as_deref()
            .unwrap()
            .contains("jobs that need it")
    );
    // No workflows: inconclusive.
    assert_eq!(score(&Repo::new(), "Token-Permissions"), None);
}

#[test]
fn pinned_dependencies_weigh_kinds_as_scorecard_does() {
    let top = "permissions: read-all\n";
    // GitHub-owned only: 1 of 2 pinned -> 10 * 1 / 2.
    let repo = perms_repo(
        top,
        &[
            job("a", "", &format!("uses: {CHECKOUT_SHA}")),
            job("b", "", "uses: actions/setup-go@v5"),
        ],
    );
    assert_eq!(score(&repo, "Pinned-Dependencies"), Some(5));
    let c = repo.check("Pinned-Dependencies");
    let r = c
        .reasons
        .iter()
        .find(|r| r.level == gantry_posture::Level::Warn)
        .unwrap();
    assert_eq!(
        (r.file.as_deref(), r.line),
        (Some(".github/workflows/ci.yml"), Some(12))
    );
    // GitHub-owned 1/1 (weight 2) and third-party 0/1 (weight 8): 2.
    let repo = perms_repo(
        top,
        &[
            job("a", "", &format!("uses: {CHECKOUT_SHA}")),
            job("b", "", "uses: docker/login-action@v3"),
        ],
    );
    assert_eq!(score(&repo, "Pinned-Dependencies"), Some(2));
    // Another kind weighs 10: actions 1/1 and a piped download 0/1 -> 5.
    let repo = perms_repo(
        top,
        &[
            job("a", "", &format!("uses: {CHECKOUT_SHA}")),
            job(
                "b",
                "",
                "run: curl -sSL https://example.com/install.sh | bash",
            ),
        ],
    );
    assert_eq!(score(&repo, "Pinned-Dependencies"), Some(5));
    // Dockerfiles: one image by digest, one by tag, a stage and scratch not counted.
    let repo = Repo::new();
    repo.write(
        "Dockerfile",
        "FROM golang:1.22@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS build\nRUN go install example.com/tool@v1.2.3\nFROM build AS test\nFROM debian:12\nFROM scratch\n",
    );
    // images 1/2 and go 1/1, each weighing 10 per dependency: 20 of 30.
    assert_eq!(score(&repo, "Pinned-Dependencies"), Some(6));
    // Scripts: npm ci pinned, npm install not, pip with hashes pinned.
    let repo = Repo::new();
    repo.write("ci/setup.sh", "#!/bin/sh\nnpm ci\nnpm install -g left-pad\npip install --require-hashes -r requirements.txt\n");
    // npm 1/2 and pip 1/1: 20 of 30.
    assert_eq!(score(&repo, "Pinned-Dependencies"), Some(6));
    assert_eq!(score(&Repo::new(), "Pinned-Dependencies"), None);
}

#[test]
fn each_binary_costs_a_point() {
    let repo = Repo::new();
    repo.write("tools/helper", b"\x7fELF\x02\x01\x01\0\0\0\0\0");
    repo.write("lib/Main.class", b"\xca\xfe\xba\xbe\0\0\0\x34");
    repo.write("vendor/thing.jar", b"PK\x03\x04\x14\0\0\0\x08\0");
    repo.write("docs/readme.exe", "just text, not a program\n");
    repo.write("src/main.rs", "fn main() {}\n");
    let c = repo.check("Binary-Artifacts");
    assert_eq!(c.score, Some(7), "{c:#?}");
    let files: Vec<_> = c.reasons.iter().filter_map(|r| r.file.as_deref()).collect();
    assert_eq!(
        files,
        ["lib/Main.class", "tools/helper", "vendor/thing.jar"]
    );
    // Eleven binaries: at least 0.
    let repo = Repo::new();
    for i in 0..11 {
        repo.write(&format!("bin/b{i}"), b"\x7fELF\x02");
    }
    assert_eq!(score(&repo, "Binary-Artifacts"), Some(0));
    assert_eq!(score(&Repo::new(), "Binary-Artifacts"), Some(10));
}

#[test]
fn security_policy_is_scored_on_its_contents() {
    assert_eq!(score(&Repo::new(), "Security-Policy"), Some(0));
    let only_link = Repo::new();
    only_link.write("SECURITY.md", "https://example.com/report\n");
    assert_eq!(score(&only_link, "Security-Policy"), Some(6));
    let text_only = Repo::new();
    text_only.write(
        ".github/SECURITY.md",
        "Please report vulnerabilities privately. We disclose fixes within 90 days.\n",
    );
    assert_eq!(score(&text_only, "Security-Policy"), Some(4));
    let full = Repo::new();
    full.write(
        "docs/security.md",
        "# Security\n\nReport vulnerabilities to security@example.com.\nWe answer within 2 days and disclose within 90 days.\n",
    );
    assert_eq!(score(&full, "Security-Policy"), Some(10));
    let c = only_link.check("Security-Policy");
    assert!(
        c.reasons
            .iter()
            .any(|r| r.file.as_deref() == Some("SECURITY.md") && r.remediation.is_some())
    );
}

#[test]
fn license_file_location_and_approval() {
    assert_eq!(score(&Repo::new(), "License"), Some(0));
    let mit = Repo::new();
    mit.write(
        "LICENSE",
        "MIT License\n\nPermission is hereby granted, free of charge, to any person\n",
    );
    assert_eq!(score(&mit, "License"), Some(10));
    let custom = Repo::new();
    custom.write("COPYING.txt", "All rights reserved. Ask us first.\n");
    assert_eq!(score(&custom, "License"), Some(9));
    let reuse = Repo::new();
    reuse.write("LICENSES/Apache-2.0.txt", "...");
    assert_eq!(score(&reuse, "License"), Some(10));
    // Only in a subfolder: not detected.
    let nested = Repo::new();
    nested.write("sub/LICENSE", "MIT");
    assert_eq!(score(&nested, "License"), Some(0));
}

#[test]
fn tools_found_in_files_and_workflows() {
    let none = Repo::new();
    none.write("README.md", "hi\n");
    assert_eq!(score(&none, "Dependency-Update-Tool"), Some(0));
    assert_eq!(score(&none, "SAST"), Some(0));
    assert_eq!(score(&none, "Fuzzing"), Some(0));
    assert_eq!(score(&none, "Packaging"), None);
    assert_eq!(score(&none, "SBOM"), Some(0));

    let repo = Repo::new();
    repo.write(".github/dependabot.yml", "version: 2\nupdates: []\n");
    repo.write(
        ".github/workflows/codeql.yml",
        workflow(
            "permissions: read-all\n",
            &job("a", "", "uses: github/codeql-action/analyze@v3"),
        ),
    );
    repo.write(
        ".github/workflows/release.yml",
        workflow("permissions: read-all\n", &job("p", "", "run: npm publish")),
    );
    repo.write(
        "parse/parse_test.go",
        "package parse\n\nfunc FuzzParse(f *testing.F) {}\n",
    );
    repo.write("sbom.cdx.json", "{}");
    assert_eq!(score(&repo, "Dependency-Update-Tool"), Some(10));
    assert_eq!(score(&repo, "SAST"), Some(10));
    assert_eq!(score(&repo, "Fuzzing"), Some(10));
    assert_eq!(score(&repo, "Packaging"), Some(10));
    // An SBOM in the source, none attested for a release: 5.
    assert_eq!(score(&repo, "SBOM"), Some(5));
}

#[test]
fn dangerous_workflows_score_zero() {
    let safe = perms_repo("permissions: read-all\n", &[job("a", "", "run: echo hi")]);
    assert_eq!(score(&safe, "Dangerous-Workflow"), Some(10));
    let injection = perms_repo(
        "permissions: read-all\n",
        &[job(
            "a",
            "",
            "run: echo \"${{ github.event.head_commit.message }}\"",
        )],
    );
    let c = injection.check("Dangerous-Workflow");
    assert_eq!(c.score, Some(0));
    assert_eq!(c.reasons[0].line, Some(8));
    let checkout = Repo::new();
    checkout.write(
        ".github/workflows/pr.yml",
        "on: pull_request_target\npermissions: read-all\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n      - run: make test\n",
    );
    assert_eq!(score(&checkout, "Dangerous-Workflow"), Some(0));
    assert_eq!(score(&Repo::new(), "Dangerous-Workflow"), None);
}

#[test]
fn vulnerabilities_cost_a_point_each() {
    let home = tempfile::tempdir().unwrap();
    let osv = home.path().join("osv");
    std::fs::create_dir_all(&osv).unwrap();
    for (id, introduced) in [
        ("GHSA-aaaa-bbbb-cccc", "0"),
        ("GHSA-dddd-eeee-ffff", "1.0.0"),
    ] {
        std::fs::write(
            osv.join(format!("{id}.json")),
            format!(r#"{{"id":"{id}","modified":"2025-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"crates.io","name":"leaky"}},"ranges":[{{"type":"SEMVER","events":[{{"introduced":"{introduced}"}},{{"fixed":"1.2.0"}}]}}]}}]}}"#),
        )
        .unwrap();
    }
    let db = home.path().join("vuln");
    gantry_vuln::import::import(
        &db,
        &[osv],
        &gantry_vuln::import::Options {
            replace: true,
            limits: Default::default(),
            now: NOW,
        },
    )
    .unwrap();
    let repo = Repo::new();
    repo.write(
        "Cargo.lock",
        "version = 3\n\n[[package]]\nname = \"leaky\"\nversion = \"1.1.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    );
    let mut options = repo.options();
    assert_eq!(
        gantry_posture::assess(&options)
            .unwrap()
            .checks
            .iter()
            .find(|c| c.name == "Vulnerabilities")
            .unwrap()
            .score,
        None,
        "no database: inconclusive"
    );
    options.vuln_db = Some(db);
    let posture = gantry_posture::assess(&options).unwrap();
    let c = posture
        .checks
        .iter()
        .find(|c| c.name == "Vulnerabilities")
        .unwrap();
    assert_eq!(c.score, Some(8), "{c:#?}");
    assert!(
        c.reasons
            .iter()
            .all(|r| r.file.as_deref() == Some("Cargo.lock")
                && r.remediation.as_deref() == Some("upgrade leaky to 1.2.0 or later"))
    );
}

#[test]
fn bad_input_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = gantry_posture::assess(&gantry_posture::Options::new(dir.path().join("gone")));
    assert!(matches!(
        missing,
        Err(gantry_posture::PostureError::Missing { .. })
    ));
    std::fs::write(dir.path().join("file"), "x").unwrap();
    let file = gantry_posture::assess(&gantry_posture::Options::new(dir.path().join("file")));
    assert!(matches!(
        file,
        Err(gantry_posture::PostureError::NotADirectory { .. })
    ));
}
