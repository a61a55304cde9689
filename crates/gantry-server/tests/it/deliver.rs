//! Deployments and rollouts over the API: the same store rows and library
//! calls as `gantry deployments` and `gantry rollout status|promote|abort`.

use gantry_server::auth::Role;
use gantry_store::{DeploymentState, NewDeployment, RunId};
use serde_json::Value;

use crate::common::{Fixture, client, start};

fn deploy(f: &Fixture, environment: &str, commit: &str, state: DeploymentState) -> u64 {
    let store = f.store();
    let d = store
        .create_deployment(&NewDeployment {
            environment: environment.into(),
            git_ref: Some("refs/heads/main".into()),
            commit: Some(commit.into()),
            run: Some(RunId(1)),
            job_id: "deploy".into(),
            job_name: "deploy".into(),
            workflow_path: ".github/workflows/deploy.yml".into(),
            creator: "carol".into(),
            ..NewDeployment::default()
        })
        .unwrap();
    store
        .set_deployment_state(d.id, state, Some("done"), Some("http://127.0.0.1:1/"))
        .unwrap();
    d.id.0
}

/// A GET with a token: the status and the JSON body.
async fn get(c: &reqwest::Client, url: String, token: &str) -> (u16, Value) {
    let resp = c.get(url).bearer_auth(token).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn deployments_are_listed_newest_first_and_filtered_by_environment() {
    let f = Fixture::new();
    let first = deploy(&f, "staging", "aaa", DeploymentState::Success);
    let second = deploy(&f, "production", "bbb", DeploymentState::Failure);
    let third = deploy(&f, "staging", "ccc", DeploymentState::Success);
    let viewer = f.token("view", Role::Viewer);
    let s = start(&f).await;
    let c = client();

    let (code, all) = get(&c, s.url("/v1/deployments"), &viewer).await;
    assert_eq!(code, 200);
    let ids: Vec<u64> = all["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![third, second, first]);
    // The newer staging success made the older one inactive.
    assert_eq!(all["deployments"][2]["state"], "inactive");
    assert_eq!(all["deployments"][1]["state"], "failure");

    let (code, staging) = get(
        &c,
        s.url("/v1/deployments?environment=staging&limit=1"),
        &viewer,
    )
    .await;
    assert_eq!(code, 200);
    let list = staging["deployments"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["commit"], "ccc");

    let (code, one) = get(&c, s.url(&format!("/v1/deployments/{second}")), &viewer).await;
    assert_eq!(code, 200);
    assert_eq!(one["environment"], "production");
    let states: Vec<&str> = one["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["queued", "failure"]);

    for (path, want) in [
        ("/v1/deployments/999".to_string(), 404),
        ("/v1/deployments/abc".to_string(), 400),
        ("/v1/deployments?limit=0".to_string(), 400),
        ("/v1/deployments?limit=100000".to_string(), 400),
        ("/v1/deployments?colour=red".to_string(), 400),
    ] {
        let resp = c
            .get(s.url(&path))
            .bearer_auth(&viewer)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), want, "{path}");
    }
    let resp = c.get(s.url("/v1/deployments")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployer_steers_a_running_rollout_and_a_viewer_cannot() {
    let f = Fixture::new();
    let viewer = f.token("view", Role::Viewer);
    let deployer = f.token("dep", Role::Deployer);
    let store = f.store();
    // This process stands for the controller: its pid is alive.
    store
        .begin_rollout("web", "paused", r#"{"weight":10}"#)
        .unwrap();
    let s = start(&f).await;
    let c = client();

    let (code, status) = get(&c, s.url("/v1/rollouts/web"), &viewer).await;
    assert_eq!(code, 200);
    assert_eq!(status["running"], true);
    assert_eq!(status["phase"], "paused");
    assert_eq!(status["status"]["weight"], 10);

    let refused = c
        .post(s.url("/v1/rollouts/web/promote"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    assert_eq!(store.take_rollout_command("web").unwrap(), None);

    let (code, sent) = {
        let resp = c
            .post(s.url("/v1/rollouts/web/promote"))
            .bearer_auth(&deployer)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
    };
    assert_eq!(code, 200);
    assert_eq!(sent["sent"], "promote");
    assert_eq!(
        store.take_rollout_command("web").unwrap().as_deref(),
        Some("promote")
    );

    let resp = c
        .post(s.url("/v1/rollouts/nope/abort"))
        .bearer_auth(&deployer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);

    // Once it ended, steering it is a conflict.
    store
        .update_rollout("web", "promoted", r#"{"weight":100}"#, true)
        .unwrap();
    let resp = c
        .post(s.url("/v1/rollouts/web/abort"))
        .bearer_auth(&deployer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 409);
    s.stop().await;
}
