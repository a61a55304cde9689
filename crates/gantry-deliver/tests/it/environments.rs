//! `.gantry/environments.yml`: what is read, and every mistake at
//! file:line:col.

use std::path::Path;
use std::time::Duration;

use gantry_attest::keys::{Algorithm, PrivateKey};
use gantry_deliver::environments::SecretSource;
use gantry_deliver::health::BodyMatch;
use gantry_deliver::notify::TargetKind;
use gantry_deliver::{Environments, EnvironmentsError};
use gantry_workflow::SourceFile;

fn keys_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    for name in ["alice", "bob"] {
        let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        std::fs::write(
            dir.path().join(format!("keys/{name}.pub")),
            key.public_key().to_pem(),
        )
        .unwrap();
    }
    dir
}

fn parse(text: &str, keys: &Path) -> Result<Environments, EnvironmentsError> {
    let source = SourceFile::new(".gantry/environments.yml", text);
    Environments::parse(&source, keys)
}

/// Every problem, one `file:line:col: message (hint)` a line.
fn problems(text: &str) -> String {
    let keys = keys_dir();
    match parse(text, keys.path()) {
        Ok(_) => panic!("expected problems in:\n{text}"),
        Err(EnvironmentsError::Invalid(p)) => p.to_string(),
        Err(other) => panic!("{other}"),
    }
}

const FULL: &str = r#"
environments:
  staging:
    deployment_branches: [main]
    vars: { REGION: eu-west-1, REPLICAS: 2 }
  production:
    deployment_branches: [main, "release/*", "tags/v*"]
    reviewers:
      alice: keys/alice.pub
      bob: keys/bob.pub
    approvals_required: 2
    prevent_self_review: false
    wait_timer: 5
    secrets:
      DEPLOY_TOKEN: { env: PROD_DEPLOY_TOKEN }
      SSH_KEY: { file: secrets/prod.key }
    health_check:
      url: https://example.com/healthz
      expected_status: 204
      body_regex: "^ok"
      timeout: 500ms
      retries: 7
      deadline: 2m
    auto_rollback: true
    notifications:
      - { type: slack, url: "https://hooks.slack.com/services/T/B/X" }
      - { type: webhook, url: "http://127.0.0.1:9/hook" }
    gates:
      freeze: { validator: window, timezone: Europe/Berlin, deny: ["Fri 16:00 - Mon 08:00"] }
  sandbox:
"#;

#[test]
fn every_setting_is_read_into_its_type() {
    let keys = keys_dir();
    let envs = parse(FULL, keys.path()).unwrap();
    assert_eq!(
        envs.environments.keys().collect::<Vec<_>>(),
        ["staging", "production", "sandbox"]
    );
    let prod = &envs.environments["production"];
    assert_eq!(prod.location.line, 6);
    assert_eq!(prod.reviewers.len(), 2);
    assert_eq!(prod.approvals_required, 2);
    assert!(!prod.prevent_self_review);
    assert_eq!(prod.wait_timer, Duration::from_secs(300));
    assert_eq!(
        prod.secrets["DEPLOY_TOKEN"],
        SecretSource::Env("PROD_DEPLOY_TOKEN".into())
    );
    assert_eq!(
        prod.secrets["SSH_KEY"],
        SecretSource::File("secrets/prod.key".into())
    );
    let health = prod.health_check.as_ref().unwrap();
    assert_eq!(health.expected_status, 204);
    assert_eq!(health.timeout, Duration::from_millis(500));
    assert_eq!(health.retries, 7);
    assert_eq!(health.deadline, Duration::from_secs(120));
    assert!(matches!(&health.body, Some(BodyMatch::Regex(r)) if r.as_str() == "^ok"));
    assert!(prod.auto_rollback);
    assert_eq!(prod.notifications.len(), 2);
    assert_eq!(prod.notifications[0].kind, TargetKind::Slack);
    assert_eq!(prod.gates["freeze"].check.validator(), "window");
    let staging = &envs.environments["staging"];
    assert_eq!(staging.vars["REPLICAS"], "2");
    assert_eq!(staging.approvals_required, 0);
    // Case-insensitive, as GitHub's names; unknown names are unprotected.
    assert_eq!(envs.get("PRODUCTION").name, "production");
    assert!(envs.get("preview").reviewers.is_empty());
    // Reviewers default to one approval.
    let one = parse(
        "environments:\n  p:\n    reviewers: { alice: keys/alice.pub }\n",
        keys.path(),
    )
    .unwrap();
    assert_eq!(one.environments["p"].approvals_required, 1);
}

#[test]
fn unknown_keys_are_located_with_a_suggestion() {
    assert_eq!(
        problems("environments:\n  prod:\n    deployment_branch: [main]\n    wait_timer: 5\n"),
        "environments.yml:3:5: unknown key `deployment_branch` in `environments.prod` \
         (did you mean `deployment_branches`?)"
            .replace("environments.yml:", ".gantry/environments.yml:")
    );
}

#[test]
fn a_secret_value_written_in_the_file_is_refused_without_echoing_it() {
    let text = "environments:\n  prod:\n    secrets:\n      TOKEN: hunter2-very-secret\n";
    let p = problems(text);
    assert_eq!(
        p,
        ".gantry/environments.yml:4:14: `environments.prod.secrets.TOKEN` must be a reference \
         `{ env: VAR }` or `{ file: PATH }`, not a value written in the file (secrets are never \
         written in environments.yml; name where gantry reads them)"
    );
    assert!(!p.contains("hunter2"));
}

#[test]
fn every_problem_of_the_file_is_reported_in_file_order() {
    let text = r#"environments:
  prod:
    reviewers: { alice: keys/alice.pub }
    approvals_required: 2
    wait_timer: 50000
    deployment_branches: ["release-[0-9"]
    notifications:
      - { type: slak, url: "https://hooks.slack.com/x" }
      - { type: teams, url: "ftp://example.com" }
    health_check: { url: "http://127.0.0.1/h", timeout: soon }
    service: ../web
"#;
    let found = problems(text);
    let lines: Vec<&str> = found.lines().collect();
    assert_eq!(
        lines[..5],
        [
            ".gantry/environments.yml:4:25: `environments.prod.approvals_required` requires 2 \
             approvals but names only 1 approvers (list reviewers with their public keys under \
             `reviewers:`)",
            ".gantry/environments.yml:5:17: invalid `environments.prod.wait_timer` `50000`: \
             expected at most 43200 minutes (30 days)",
            ".gantry/environments.yml:6:27: invalid `environments.prod.deployment_branches` \
             `release-[0-9`: expected a branch pattern or `tags/` and a tag pattern (a `[` has \
             no closing `]`)",
            ".gantry/environments.yml:8:17: invalid `environments.prod.notifications[].type` \
             `slak`: expected slack, teams or webhook (did you mean `slack`?)",
            ".gantry/environments.yml:9:29: invalid `environments.prod.notifications[].url` \
             `ftp://example.com`: expected an http or https URL (the scheme is `ftp`; use http \
             or https)",
        ]
    );
    assert_eq!(lines.len(), 7, "{found}");
    assert!(
        lines[5].starts_with(".gantry/environments.yml:10:57: invalid duration `soon`:"),
        "{found}"
    );
    assert_eq!(
        lines[6],
        ".gantry/environments.yml:11:14: invalid `environments.prod.service` `../web`: expected \
         a service name (letters, digits, `-`, `_`, `.`, `+`, `@`; at most 128) (the name the \
         service has in .gantry/services/)"
    );
}

#[test]
fn a_missing_key_file_is_a_located_problem() {
    let p = problems("environments:\n  prod:\n    reviewers:\n      carol: keys/carol.pub\n");
    assert!(
        p.starts_with(
            ".gantry/environments.yml:4:14: failed to read the public key `keys/carol.pub`:"
        ),
        "{p}"
    );
}

#[test]
fn gates_are_read_by_the_promotion_reader() {
    let p = problems(
        "environments:\n  prod:\n    gates:\n      freeze: { validator: windw, timezone: UTC }\n",
    );
    assert_eq!(
        p,
        ".gantry/environments.yml:4:28: unknown validator `windw` for gate `freeze` \
         (did you mean `window`?)"
    );
}

#[test]
fn no_file_is_no_environments() {
    let root = tempfile::tempdir().unwrap();
    let envs = Environments::load(root.path()).unwrap();
    assert!(envs.environments.is_empty());
    assert!(envs.file.is_none());
}

#[test]
fn secrets_are_read_when_needed_and_say_what_is_missing() {
    let keys = keys_dir();
    std::fs::create_dir(keys.path().join("secrets")).unwrap();
    std::fs::write(keys.path().join("secrets/prod.key"), "s3cr3t\n").unwrap();
    let envs = parse(
        "environments:\n  prod:\n    secrets:\n      KEY: { file: secrets/prod.key }\n      \
         TOKEN: { env: GANTRY_TEST_SURELY_UNSET_VAR }\n",
        keys.path(),
    )
    .unwrap();
    let e = envs.environments["prod"]
        .secret_values(keys.path())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "secret `TOKEN` of environment `prod` comes from $GANTRY_TEST_SURELY_UNSET_VAR, which is not set"
    );
    let only_file = parse(
        "environments:\n  prod:\n    secrets:\n      KEY: { file: secrets/prod.key }\n",
        keys.path(),
    )
    .unwrap();
    let values = only_file.environments["prod"]
        .secret_values(keys.path())
        .unwrap();
    assert_eq!(values["KEY"], "s3cr3t");
}

#[test]
fn githubs_policy_mapping_names_branches_and_tags() {
    let keys = keys_dir();
    let envs = parse(
        "environments:\n  prod:\n    deployment_branches:\n      protected_branches: false\n      \
         custom_branch_policies:\n        - { name: \"release/*\", type: branch }\n        \
         - { name: \"v*\", type: tag }\n        - main\n",
        keys.path(),
    )
    .unwrap();
    let policy = &envs.environments["prod"].deployment_branches;
    assert!(policy.check("prod", Some("refs/tags/v1"), None).is_ok());
    assert!(
        policy
            .check("prod", Some("refs/heads/release/1"), None)
            .is_ok()
    );
    assert!(policy.check("prod", Some("refs/heads/main"), None).is_ok());
    assert!(policy.check("prod", Some("refs/heads/v1"), None).is_err());
    assert_eq!(
        problems(
            "environments:\n  prod:\n    deployment_branches:\n      protected_branches: true\n"
        ),
        ".gantry/environments.yml:4:27: invalid `environments.prod.deployment_branches.\
         protected_branches` `true`: expected false: gantry knows no branch protection (list \
         the branches under `custom_branch_policies`)"
    );
    assert_eq!(
        problems(
            "environments:\n  prod:\n    deployment_branches:\n      custom_branch_policies: \
             [{ name: x, type: tga }]\n"
        ),
        ".gantry/environments.yml:4:49: invalid `an entry of environments.prod.\
         deployment_branches.custom_branch_policies.type` `tga`: expected branch or tag"
    );
}

#[test]
fn every_cut_of_a_valid_file_is_read_or_located_inside_it() {
    let keys = keys_dir();
    let lines = FULL.lines().count();
    for (cut, _) in FULL.char_indices() {
        let text = &FULL[..cut];
        match parse(text, keys.path()) {
            Ok(_) => {}
            Err(EnvironmentsError::Invalid(problems)) => {
                assert!(
                    !problems.0.is_empty(),
                    "a refusal names a problem: {text:?}"
                );
                for p in &problems.0 {
                    assert!(
                        p.location.line >= 1 && p.location.line <= lines.max(1),
                        "{p} outside {text:?}"
                    );
                    assert!(p.span.end <= text.len(), "{p:?}");
                }
            }
            Err(other) => panic!("{other}"),
        }
    }
}
