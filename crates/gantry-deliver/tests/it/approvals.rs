//! Which reviewers' approvals a waiting job counts.

use gantry_attest::keys::{Algorithm, PrivateKey};
use gantry_deliver::Environment;
use gantry_deliver::approvals::{Decision, Reviews, counted, statement};
use gantry_promote::approval::sign_statement;
use gantry_store::{
    Deployment, DeploymentId, DeploymentState, EnvironmentApproval, RunId, Timestamp,
};

fn deployment() -> Deployment {
    Deployment {
        id: DeploymentId(1),
        environment: "production".into(),
        git_ref: Some("refs/tags/v1".into()),
        commit: Some("abc123".into()),
        commit_time: None,
        run: Some(RunId(3)),
        job_id: "deploy".into(),
        job_name: "deploy".into(),
        workflow_path: ".github/workflows/deploy.yml".into(),
        url: None,
        creator: "carol".into(),
        state: DeploymentState::Queued,
        description: None,
        rollback_of: None,
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
        statuses: Vec::new(),
    }
}

/// `reviewer`'s approval of `run`, signed with `key`.
fn signed(run: u64, environment: &str, reviewer: &str, key: &PrivateKey) -> EnvironmentApproval {
    review(run, environment, reviewer, key, Decision::Approved)
}

fn review(
    run: u64,
    environment: &str,
    reviewer: &str,
    key: &PrivateKey,
    decision: Decision,
) -> EnvironmentApproval {
    let s = statement(
        RunId(run),
        environment,
        reviewer,
        decision,
        &(&deployment()).into(),
        &None,
        "2026-12-07T00:00:00Z",
    );
    EnvironmentApproval {
        run: RunId(3),
        environment: "production".into(),
        reviewer: reviewer.into(),
        key_id: key.key_id().into(),
        envelope: sign_statement(s.to_payload(), key).unwrap().to_json(),
        comment: None,
        created_at: Timestamp(0),
    }
}

#[test]
fn only_approvals_signed_by_the_listed_reviewer_for_this_run_count() {
    let alice = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let bob = PrivateKey::generate(Algorithm::EcdsaP256).unwrap();
    let mallory = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let mut env = Environment::unprotected("production");
    env.reviewers
        .insert("alice".into(), alice.public_key().clone());
    env.reviewers.insert("bob".into(), bob.public_key().clone());

    let Reviews {
        approved: ok,
        ignored: rejected,
        ..
    } = counted(
        &env,
        RunId(3),
        "carol",
        &[
            signed(3, "production", "alice", &alice),
            signed(3, "production", "alice", &alice),
            signed(3, "production", "bob", &mallory),
            signed(4, "production", "bob", &bob),
            signed(3, "staging", "bob", &bob),
            signed(3, "production", "mallory", &mallory),
        ],
    );
    assert_eq!(ok, ["alice"], "an approver counts once: {rejected:?}");
    let key = bob.public_key().key_id();
    assert_eq!(
        rejected,
        [
            format!("bob's approval is not signed by bob's key {key}"),
            "bob's approval is about another run or environment".to_string(),
            "bob's approval is about another run or environment".to_string(),
            "mallory is not a reviewer of `production`".to_string(),
        ]
    );

    // The one who started the deployment does not count with
    // prevent_self_review, and does without it.
    let own = [signed(3, "production", "alice", &alice)];
    let Reviews {
        approved: ok,
        ignored: rejected,
        ..
    } = counted(&env, RunId(3), "alice", &own);
    assert!(ok.is_empty());
    assert_eq!(
        rejected,
        ["alice started the deployment and may not approve it (prevent_self_review)"]
    );
    env.prevent_self_review = false;
    assert_eq!(counted(&env, RunId(3), "alice", &own).approved, ["alice"]);
}

#[test]
fn an_envelope_changed_after_signing_does_not_count() {
    let alice = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let mut env = Environment::unprotected("production");
    env.reviewers
        .insert("alice".into(), alice.public_key().clone());
    let mut a = signed(3, "production", "alice", &alice);
    let mut value: serde_json::Value = serde_json::from_str(&a.envelope).unwrap();
    let payload = value["payload"].as_str().unwrap().to_string();
    // Another base64 payload, same signature.
    value["payload"] = serde_json::Value::String(format!("e30{}", &payload[3..]));
    a.envelope = value.to_string();
    let reviews = counted(&env, RunId(3), "carol", &[a]);
    assert!(reviews.approved.is_empty());
    assert_eq!(reviews.ignored.len(), 1, "{reviews:?}");
}

#[test]
fn a_signed_rejection_is_told_apart_from_an_approval() {
    let alice = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let bob = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let mut env = Environment::unprotected("production");
    env.reviewers
        .insert("alice".into(), alice.public_key().clone());
    env.reviewers.insert("bob".into(), bob.public_key().clone());
    let reviews = counted(
        &env,
        RunId(3),
        "carol",
        &[
            signed(3, "production", "alice", &alice),
            review(3, "production", "bob", &bob, Decision::Rejected),
            // A rejection signed by someone else is no rejection.
            review(3, "production", "alice", &bob, Decision::Rejected),
        ],
    );
    assert_eq!(reviews.approved, ["alice"]);
    assert_eq!(reviews.rejected, [("bob".to_string(), None)]);
    assert_eq!(reviews.ignored.len(), 1, "{reviews:?}");
}
