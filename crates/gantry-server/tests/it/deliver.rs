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

/// A delivery history for the dashboard's pages, on a clock the test
/// sets: over the last five weeks, production gets successes, a failure,
/// a rollback, and a success that caused an incident (resolved after two
/// hours); staging and an environment with markup in its name get a few;
/// rollout `web` runs at 25% with a passed analysis and `api` ended at
/// 100%. Returns the production deployments' ids, oldest first.
pub fn delivery_history(f: &Fixture) -> Vec<u64> {
    use gantry_store::{StoreOptions, Timestamp};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};
    const MIN: i64 = 60_000;
    const DAY: i64 = 86_400_000;
    let now = Arc::new(AtomicI64::new(Timestamp::now().millis() - 36 * DAY));
    let clock = now.clone();
    let store = gantry_store::Store::open_in(
        &f.home,
        StoreOptions {
            clock: Arc::new(move || Timestamp(clock.load(Ordering::SeqCst))),
            ..StoreOptions::default()
        },
    )
    .unwrap();
    let advance = |ms: i64| now.fetch_add(ms, Ordering::SeqCst);
    let at = || now.load(Ordering::SeqCst);
    let deploy = |environment: &str, commit: &str, lead: i64, rollback_of: Option<u64>, end| {
        let d = store
            .create_deployment(&NewDeployment {
                environment: environment.into(),
                git_ref: Some("refs/heads/main".into()),
                commit: Some(commit.into()),
                commit_time: Some(Timestamp(at() - lead)),
                run: Some(RunId(1)),
                job_id: "deploy".into(),
                job_name: "deploy".into(),
                workflow_path: ".github/workflows/deploy.yml".into(),
                creator: "carol".into(),
                rollback_of: rollback_of.map(gantry_store::DeploymentId),
                ..NewDeployment::default()
            })
            .unwrap();
        advance(2 * MIN);
        store
            .set_deployment_state(d.id, DeploymentState::InProgress, None, None)
            .unwrap();
        advance(5 * MIN);
        store.set_deployment_state(d.id, end, None, None).unwrap();
        d.id.0
    };
    let mut production = Vec::new();
    for week in 0..5 {
        let good = deploy(
            "production",
            &format!(
                "{:016x}{week:024x}",
                0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(week + 1)
            ),
            3 * 3_600_000,
            None,
            DeploymentState::Success,
        );
        production.push(good);
        deploy(
            "staging",
            &format!(
                "{:016x}{week:024x}",
                0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(week + 1)
            ),
            3_600_000,
            None,
            DeploymentState::Success,
        );
        advance(DAY);
        if week == 1 {
            production.push(deploy(
                "production",
                "bad",
                DAY,
                None,
                DeploymentState::Failure,
            ));
            advance(30 * MIN);
            production.push(deploy(
                "production",
                &format!(
                    "{:016x}{week:024x}",
                    0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(week + 1)
                ),
                0,
                Some(good),
                DeploymentState::Success,
            ));
        }
        if week == 3 {
            let incident = store
                .open_incident(gantry_store::DeploymentId(good), "errors after release")
                .unwrap();
            advance(2 * 3_600_000);
            store.resolve_incident(incident.id).unwrap();
        }
        advance(6 * DAY - 30 * MIN);
    }
    deploy("<b>eu</b> & co", "evil", MIN, None, DeploymentState::Error);
    store
        .begin_rollout(
            "web",
            "progressing",
            &serde_json::json!({
                "rollout": "web", "phase": "progressing", "step": 2, "steps": 4,
                "canary_weight": 25, "message": "at 25% <hold>",
                "last_analysis": {"index": 1, "requests": 100, "errors": 1,
                    "success_rate": 0.99, "p99_ms": 12.5, "verdict": "successful", "reasons": []}
            })
            .to_string(),
        )
        .unwrap();
    store
        .begin_rollout("api", "progressing", r#"{"canary_weight": 50}"#)
        .unwrap();
    store
        .update_rollout(
            "api",
            "promoted",
            r#"{"step": 3, "steps": 3, "canary_weight": 100, "message": "promoted"}"#,
            true,
        )
        .unwrap();
    production
}

/// A dashboard page's HTML, signed in by cookie.
async fn page(c: &reqwest::Client, url: String, token: &str) -> (u16, String) {
    let resp = c
        .get(url)
        .header("cookie", format!("gantry_session={token}"))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_delivery_pages_show_what_the_api_returns() {
    let f = Fixture::new();
    let production = delivery_history(&f);
    let viewer = f.token("view", Role::Viewer);
    let s = start(&f).await;
    let c = client();

    // Rollouts: the API's list and the page agree.
    let (code, list) = get(&c, s.url("/v1/rollouts"), &viewer).await;
    assert_eq!(code, 200);
    assert_eq!(list["version"], 1);
    let names: Vec<&str> = list["rollouts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api", "web"]);
    assert_eq!(list["rollouts"][1]["canary_weight"], 25);
    assert_eq!(list["rollouts"][1]["running"], true);
    assert_eq!(list["rollouts"][0]["phase"], "promoted");
    let (code, html) = page(&c, s.url("/rollouts"), &viewer).await;
    assert_eq!(code, 200);
    for r in list["rollouts"].as_array().unwrap() {
        assert!(
            html.contains(&format!(
                "data-rollout=\"{}\" data-weight=\"{}\"",
                r["name"].as_str().unwrap(),
                r["canary_weight"]
            )),
            "{html}"
        );
    }
    assert!(html.contains("<title>canary 25%, stable 75%</title>"));
    assert!(html.contains("at 25% &lt;hold&gt;"));
    assert!(!html.contains("<hold>"));

    // Deployments: one section per environment, rows as the API lists them.
    let (_, html) = page(&c, s.url("/deployments"), &viewer).await;
    for environment in ["production", "staging"] {
        let (_, api) = get(
            &c,
            s.url(&format!(
                "/v1/deployments?environment={environment}&limit=20"
            )),
            &viewer,
        )
        .await;
        for d in api["deployments"].as_array().unwrap() {
            assert!(
                html.contains(&format!(
                    "data-deployment=\"{}\" data-state=\"{}\"",
                    d["id"],
                    d["state"].as_str().unwrap()
                )),
                "{environment} {d}"
            );
        }
    }
    assert_eq!(html.matches("<section class=\"env\"").count(), 3);
    assert!(html.contains("&lt;b&gt;eu&lt;/b&gt; &amp; co"));
    assert!(!html.contains("<b>eu</b>"));
    let live = *production.last().unwrap();
    assert!(
        html.contains(&format!("Live: deployment #{live} ")),
        "{html}"
    );

    // DORA: the page's figures are the API's.
    let (code, dora) = get(
        &c,
        s.url("/v1/dora?environment=production&since=90d"),
        &viewer,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(dora["change_fail_rate"]["count"], 2, "{dora}");
    let (code, html) = page(&c, s.url("/dora?environment=production&since=90d"), &viewer).await;
    assert_eq!(code, 200);
    for (metric, value) in [
        (
            "deployment_frequency",
            &dora["deployment_frequency"]["per_day"],
        ),
        (
            "change_lead_time",
            &dora["change_lead_time"]["median_seconds"],
        ),
        ("change_fail_rate", &dora["change_fail_rate"]["rate"]),
        (
            "failed_deployment_recovery_time",
            &dora["failed_deployment_recovery_time"]["median_seconds"],
        ),
        (
            "deployment_rework_rate",
            &dora["deployment_rework_rate"]["rate"],
        ),
    ] {
        let want: f64 = value.as_f64().unwrap();
        let marker = format!("data-metric=\"{metric}\" data-value=\"");
        let at = html.find(&marker).unwrap_or_else(|| panic!("{metric}"));
        let rest = &html[at + marker.len()..];
        let shown: f64 = rest[..rest.find('"').unwrap()].parse().unwrap();
        assert!((shown - want).abs() < 1e-9, "{metric}: {shown} != {want}");
    }
    // One chart per trend, one bar or mark per week of the report.
    let weeks = dora["weeks"].as_array().unwrap().len();
    assert!(weeks >= 13, "{weeks}");
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 4);
    assert_eq!(html.matches("data-week=").count(), 4 * weeks);
    for d in dora["failed_changes"].as_array().unwrap() {
        assert!(html.contains(&format!("data-failed=\"{}\"", d["deployment"])));
    }
    // Another environment and window, and a bad window.
    let (code, html) = page(&c, s.url("/dora?environment=staging&since=30d"), &viewer).await;
    assert_eq!(code, 200);
    assert!(html.contains("of <strong>staging</strong>"));
    assert!(html.contains("No failed changes in the window."));
    let (code, _) = page(&c, s.url("/dora?since=ninety"), &viewer).await;
    assert_eq!(code, 400);
    // Without a session the pages send the browser to sign in.
    let resp = c.get(s.url("/dora")).send().await.unwrap();
    assert!(resp.url().path() == "/signin" || resp.status().is_redirection());
    s.stop().await;
}
