//! Deployments, their statuses as GitHub names them, and approvals.

use std::time::Duration;

use gantry_store::{
    DeploymentState, DeploymentsDocument, EnvironmentApproval, NewDeployment, RunId, Timestamp,
};

use crate::common::open_with_clock;

fn new(environment: &str, commit: &str) -> NewDeployment {
    NewDeployment {
        environment: environment.into(),
        git_ref: Some("refs/tags/v1".into()),
        commit: Some(commit.into()),
        run: Some(RunId(7)),
        job_id: "deploy".into(),
        job_name: "deploy".into(),
        workflow_path: ".github/workflows/deploy.yml".into(),
        creator: "carol".into(),
        ..NewDeployment::default()
    }
}

#[test]
fn a_new_success_makes_the_previous_success_inactive() {
    let home = tempfile::tempdir().unwrap();
    let (store, clock) = open_with_clock(home.path());
    let first = store.create_deployment(&new("production", "aaa")).unwrap();
    assert_eq!(first.state, DeploymentState::Queued);
    store
        .set_deployment_state(first.id, DeploymentState::InProgress, None, None)
        .unwrap();
    clock.advance(Duration::from_secs(5));
    let done = store
        .set_deployment_state(
            first.id,
            DeploymentState::Success,
            Some("deployed"),
            Some("https://prod.example.com"),
        )
        .unwrap();
    assert!(done.deactivated.is_empty());
    assert_eq!(
        done.deployment.url.as_deref(),
        Some("https://prod.example.com")
    );
    assert!(done.deployment.updated_at > done.deployment.created_at);

    // Staging's success does not touch production's.
    let staging = store.create_deployment(&new("staging", "bbb")).unwrap();
    store
        .set_deployment_state(staging.id, DeploymentState::Success, None, None)
        .unwrap();

    let failed = store.create_deployment(&new("production", "ccc")).unwrap();
    let change = store
        .set_deployment_state(failed.id, DeploymentState::Failure, Some("health"), None)
        .unwrap();
    assert!(
        change.deactivated.is_empty(),
        "a failure supersedes nothing"
    );

    let second = store.create_deployment(&new("production", "ddd")).unwrap();
    let change = store
        .set_deployment_state(second.id, DeploymentState::Success, None, None)
        .unwrap();
    assert_eq!(change.deactivated, [first.id]);

    let first = store.deployment(first.id).unwrap().unwrap();
    assert_eq!(first.state, DeploymentState::Inactive);
    let states: Vec<_> = first.statuses.iter().map(|s| s.state.as_str()).collect();
    assert_eq!(states, ["queued", "in_progress", "success", "inactive"]);
    assert_eq!(
        first.statuses[3].description.as_deref(),
        Some(format!("superseded by deployment {}", second.id).as_str())
    );

    let prod = store.deployments(Some("PRODUCTION"), 100).unwrap();
    let ids: Vec<_> = prod.iter().map(|d| d.id).collect();
    assert_eq!(ids, [second.id, failed.id, first.id]);
    assert_eq!(store.deployments(None, 100).unwrap().len(), 4);
    assert_eq!(store.deployments(None, 1).unwrap().len(), 1);
    assert_eq!(store.deployments_of_run(RunId(7)).unwrap().len(), 4);

    let json = serde_json::to_value(DeploymentsDocument::new(&prod)).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["deployments"][0]["state"], "success");
    assert_eq!(json["deployments"][2]["state"], "inactive");
    assert_eq!(json["deployments"][0]["ref"], "refs/tags/v1");
}

#[test]
fn an_unknown_deployment_is_not_found() {
    let home = tempfile::tempdir().unwrap();
    let (store, _) = open_with_clock(home.path());
    let e = store
        .set_deployment_state(
            gantry_store::DeploymentId(99),
            DeploymentState::Success,
            None,
            None,
        )
        .unwrap_err();
    assert!(e.to_string().contains("99"), "{e}");
}

#[test]
fn a_reviewer_approves_a_run_environment_once() {
    let home = tempfile::tempdir().unwrap();
    let (store, _) = open_with_clock(home.path());
    let approval = |reviewer: &str| EnvironmentApproval {
        run: RunId(3),
        environment: "production".into(),
        reviewer: reviewer.into(),
        key_id: "k".into(),
        envelope: "{}".into(),
        comment: None,
        created_at: Timestamp(1),
    };
    assert!(
        store
            .record_environment_approval(&approval("alice"))
            .unwrap()
    );
    assert!(
        !store
            .record_environment_approval(&approval("alice"))
            .unwrap()
    );
    assert!(store.record_environment_approval(&approval("bob")).unwrap());
    let found = store.environment_approvals(RunId(3), "Production").unwrap();
    let names: Vec<_> = found.iter().map(|a| a.reviewer.as_str()).collect();
    assert_eq!(names, ["alice", "bob"]);
    assert!(
        store
            .environment_approvals(RunId(4), "production")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn incidents_are_opened_against_a_deployment_and_resolved_once() {
    let home = tempfile::tempdir().unwrap();
    let (store, clock) = open_with_clock(home.path());
    let d = store
        .create_deployment(&NewDeployment {
            commit_time: Some(Timestamp(1_767_000_000_000)),
            ..new("production", "aaa")
        })
        .unwrap();
    assert_eq!(d.commit_time, Some(Timestamp(1_767_000_000_000)));
    let staging = store.create_deployment(&new("staging", "bbb")).unwrap();
    assert_eq!(staging.commit_time, None);
    let history = store.environment_history("PRODUCTION").unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].commit_time, d.commit_time);

    let opened = store.open_incident(d.id, "  checkout is down ").unwrap();
    assert_eq!(opened.title, "checkout is down");
    assert_eq!(opened.environment, "production");
    assert_eq!(opened.resolved_at, None);
    let other = store.open_incident(staging.id, "slow").unwrap();
    clock.advance(Duration::from_secs(90));
    let resolved = store.resolve_incident(opened.id).unwrap();
    assert_eq!(
        resolved.resolved_at.unwrap().millis() - opened.opened_at.millis(),
        90_000
    );
    let again = store.resolve_incident(opened.id).unwrap_err();
    assert!(again.to_string().contains("already resolved"), "{again}");
    assert!(matches!(
        store.open_incident(gantry_store::DeploymentId(99), "x"),
        Err(gantry_store::StoreError::NotFound {
            what: "deployment",
            ..
        })
    ));
    assert!(matches!(
        store.resolve_incident(gantry_store::IncidentId(99)),
        Err(gantry_store::StoreError::NotFound {
            what: "incident",
            ..
        })
    ));
    assert!(store.open_incident(d.id, "   ").is_err());
    assert!(store.open_incident(d.id, &"x".repeat(501)).is_err());
    let prod = store.environment_incidents("production").unwrap();
    assert_eq!(prod, vec![resolved.clone()]);
    let all = store.incidents(None, 10).unwrap();
    assert_eq!(all, vec![other, resolved]);
}
