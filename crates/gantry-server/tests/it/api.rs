//! The API over a scratch store: authentication before lookup, packages,
//! promotion and approval through the same library calls as the CLI.

use gantry_promote::package::PackageStore;
use gantry_promote::promote::{self, PromoteRequest, Stores, Workspace};
use gantry_server::auth::Role;
use gantry_store::{Conclusion, NewJob, NewRun};
use serde_json::{Value, json};

use crate::common::{Fixture, client, start};

async fn problem(resp: reqwest::Response, status: u16) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(body["type"].as_str().unwrap().starts_with("https://"));
    assert!(!body["detail"].as_str().unwrap().is_empty());
    body
}

async fn create_package(
    c: &reqwest::Client,
    url: String,
    token: &str,
    services: &[&str],
) -> reqwest::Response {
    c.post(url)
        .bearer_auth(token)
        .json(&json!({ "services": services, "version": "1.0.0" }))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn health_needs_no_token_and_everything_else_does() {
    let f = Fixture::new();
    let s = start(&f).await;
    let c = client();
    let health = c.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    for path in [
        "/v1/runs",
        "/v1/services",
        "/v1/packages",
        "/metrics",
        "/v1/ledger/checkpoint",
    ] {
        let resp = c.get(s.url(path)).send().await.unwrap();
        let body = problem(resp, 401).await;
        assert_eq!(body["title"], "Unauthorized", "{path}");
        let resp = c
            .get(s.url(path))
            .bearer_auth("gantry_not-a-token")
            .send()
            .await
            .unwrap();
        problem(resp, 401).await;
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_do_not_tell_whether_the_package_exists() {
    let f = Fixture::new();
    let deployer = f.token("dep", Role::Deployer);
    let viewer = f.token("view", Role::Viewer);
    let s = start(&f).await;
    let c = client();
    let made = create_package(&c, s.url("/v1/packages"), &deployer, &["db"]).await;
    assert_eq!(made.status(), 201);
    let id = made.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let missing = "0".repeat(64);
    let mut seen = Vec::new();
    for pkg in [&id, &missing] {
        let unauth = c
            .post(s.url(&format!("/v1/packages/{pkg}/promote")))
            .send()
            .await
            .unwrap();
        let unauth = problem(unauth, 401).await;
        let forbidden = c
            .post(s.url(&format!("/v1/packages/{pkg}/promote")))
            .bearer_auth(&viewer)
            .send()
            .await
            .unwrap();
        let forbidden = problem(forbidden, 403).await;
        let approve = c
            .post(s.url(&format!("/v1/packages/{pkg}/approvals")))
            .bearer_auth(&deployer)
            .send()
            .await
            .unwrap();
        let approve = problem(approve, 403).await;
        seen.push((unauth, forbidden, approve));
    }
    assert_eq!(seen[0], seen[1]);
    // With the right role, the missing one is a 404.
    let resp = c
        .post(s.url(&format!("/v1/packages/{missing}/promote")))
        .bearer_auth(&deployer)
        .send()
        .await
        .unwrap();
    problem(resp, 404).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_package_is_created_read_promoted_and_approved_under_the_token_name() {
    let f = Fixture::new();
    let deployer = f.token("ci", Role::Deployer);
    let alice = f.token("alice", Role::Approver);
    let bob = f.token("bob", Role::Approver);
    let s = start(&f).await;
    let c = client();

    let made = create_package(&c, s.url("/v1/packages"), &deployer, &["api", "db"]).await;
    assert_eq!(made.status(), 201);
    let location = made.headers()["location"].to_str().unwrap().to_string();
    let made: Value = made.json().await.unwrap();
    let id = made["id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/v1/packages/{id}"));
    assert_eq!(made["package"]["created_by"], "ci");
    // The same content is the same package.
    let again = create_package(&c, s.url("/v1/packages"), &deployer, &["api", "db"]).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], id.as_str());
    let bad = create_package(&c, s.url("/v1/packages"), &deployer, &["nope"]).await;
    let bad = problem(bad, 422).await;
    assert!(bad["detail"].as_str().unwrap().contains("nope"));
    let bad = c
        .post(s.url("/v1/packages"))
        .bearer_auth(&deployer)
        .body("{not json")
        .send()
        .await
        .unwrap();
    problem(bad, 400).await;

    let listed: Value = c
        .get(s.url("/v1/packages"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["packages"][0]["id"], id.as_str());
    let one: Value = c
        .get(s.url(&format!("/v1/packages/{}", &id[..12])))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["id"], id.as_str());

    // A dry run through the API is the library's decision, field for field.
    let api_dry: Value = c
        .post(s.url(&format!("/v1/packages/{id}/promote")))
        .bearer_auth(&deployer)
        .json(&json!({ "dry_run": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let workspace = Workspace::load(&f.root).unwrap();
    let packages = PackageStore::new(f.home.packages());
    let ledger = gantry_ledger::Ledger::create_or_open(&f.home.ledger()).unwrap();
    let locks = f.home.locks();
    let lib = promote::promote(
        &workspace,
        Stores {
            ledger: &ledger,
            packages: &packages,
            locks: &locks,
        },
        &PromoteRequest {
            package: id.clone(),
            to: None,
            dry_run: true,
            requested_by: "ci".into(),
            now: jiff::Timestamp::now(),
        },
        |_| {},
    )
    .unwrap();
    // Each service's input digest covers the moment of the decision, so
    // it differs between two calls; everything else is the same.
    let strip = |mut v: Value| {
        for s in v["services"].as_array_mut().unwrap() {
            assert!(s["input_digest"].as_str().unwrap().starts_with("sha256:"));
            s.as_object_mut().unwrap().remove("input_digest");
        }
        v
    };
    assert_eq!(
        strip(api_dry.clone()),
        strip(serde_json::to_value(&lib).unwrap())
    );
    assert_eq!(api_dry["dry_run"], true);

    // Two real promotions: sandbox → compliance_ready → compliant, the
    // second pending until an approver approves.
    let first: Value = c
        .post(s.url(&format!("/v1/packages/{id}/promote")))
        .bearer_auth(&deployer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["decision"], "promoted", "{first}");
    assert_eq!(first["to"], "compliance_ready");
    let second: Value = c
        .post(s.url(&format!("/v1/packages/{id}/promote")))
        .bearer_auth(&deployer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(second["decision"], "pending", "{second}");

    // bob is an approver, but the server holds no key for him.
    let no_key = c
        .post(s.url(&format!("/v1/packages/{id}/approvals")))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    let no_key = problem(no_key, 403).await;
    assert!(
        no_key["detail"]
            .as_str()
            .unwrap()
            .contains("--approval-key bob=")
    );
    let approved = c
        .post(s.url(&format!("/v1/packages/{id}/approvals")))
        .bearer_auth(&alice)
        .json(&json!({ "comment": "looks good" }))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), 201);
    let approved: Value = approved.json().await.unwrap();
    assert_eq!(approved["approver"], "alice");
    let third: Value = c
        .post(s.url(&format!("/v1/packages/{id}/promote")))
        .bearer_auth(&deployer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(third["decision"], "promoted", "{third}");
    assert_eq!(third["to"], "compliant");

    let history: Value = c
        .get(s.url(&format!("/v1/promotions/{id}")))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let approvals = history["summary"]["approvals"].as_array().unwrap();
    assert!(
        approvals.iter().all(|a| a["approver"] == "alice"),
        "{history}"
    );
    assert!(!approvals.is_empty());
    let services: Value = c
        .get(s.url("/v1/services"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let db = services["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "db")
        .unwrap();
    let compliant = db["states"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["state"] == "compliant")
        .unwrap();
    assert_eq!(compliant["versions"], json!(["1.0.0"]));

    // The ledger holds the records, with proofs.
    let entry: Value = c
        .get(s.url("/v1/ledger/entries/0"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(entry["index"], 0);
    assert_eq!(entry["leaf_hash"].as_str().unwrap().len(), 64);
    let proof = c
        .get(s.url("/v1/ledger/proofs/inclusion?index=0"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(proof.status(), 200);
    let proof: Value = proof.json().await.unwrap();
    assert_eq!(proof["index"], 0);
    let size = proof["tree_size"].as_u64().unwrap();
    assert!(size >= 3);
    let consistency = c
        .get(s.url("/v1/ledger/proofs/consistency?old=1"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(consistency.status(), 200);
    let beyond = c
        .get(s.url(&format!("/v1/ledger/entries/{}", size + 5)))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    problem(beyond, 404).await;
    let bad = c
        .get(s.url("/v1/ledger/proofs/inclusion?index=x"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    problem(bad, 400).await;
    let none = c
        .get(s.url("/v1/ledger/checkpoint"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    problem(none, 404).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_promotion_whose_service_is_locked_is_a_409() {
    let f = Fixture::new();
    let deployer = f.token("ci", Role::Deployer);
    let s = start(&f).await;
    let c = client();
    let made = create_package(&c, s.url("/v1/packages"), &deployer, &["api"]).await;
    let id = made.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Another promotion holds db (api depends on it).
    let held = gantry_promote::lock::lock_services(&f.home.locks(), &["db".to_string()], |_| {
        panic!("free")
    })
    .unwrap();
    let busy = c
        .post(s.url(&format!("/v1/packages/{id}/promote")))
        .bearer_auth(&deployer)
        .send()
        .await
        .unwrap();
    let busy = problem(busy, 409).await;
    assert!(busy["detail"].as_str().unwrap().contains("`db`"), "{busy}");
    drop(held);
    let ok = c
        .post(s.url(&format!("/v1/packages/{id}/promote")))
        .bearer_auth(&deployer)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    s.stop().await;
}

fn record_runs(f: &Fixture) -> Vec<u64> {
    let store = f.store();
    let mut ids = Vec::new();
    for (i, conclusion) in [
        Conclusion::Success,
        Conclusion::Failure,
        Conclusion::Success,
        Conclusion::Success,
        Conclusion::Cancelled,
    ]
    .into_iter()
    .enumerate()
    {
        let id = store
            .begin_run(&NewRun {
                workflow_path: ".github/workflows/ci.yml".into(),
                workflow_name: if i % 2 == 0 { "CI" } else { "Release" }.into(),
                event: "push".into(),
                inputs_json: "{}".into(),
                ..NewRun::default()
            })
            .unwrap();
        let job = store
            .begin_job(
                id,
                &NewJob {
                    job_id: "build".into(),
                    name: "build".into(),
                    matrix_json: None,
                    queued_ms: None,
                },
            )
            .unwrap();
        let path = store.log_path(id, job, None);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("log of run {}\n", id.0)).unwrap();
        store.finish_job(job, conclusion, &[]).unwrap();
        store.finish_run(id, conclusion).unwrap();
        ids.push(id.0);
    }
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_are_listed_a_page_at_a_time_with_filters() {
    let f = Fixture::new();
    let ids = record_runs(&f);
    let viewer = f.token("view", Role::Viewer);
    let s = start(&f).await;
    let c = client();
    let get = |path: String| {
        let c = c.clone();
        let viewer = viewer.clone();
        async move { c.get(path).bearer_auth(viewer).send().await.unwrap() }
    };
    let page: Value = get(s.url("/v1/runs?limit=2")).await.json().await.unwrap();
    let got: Vec<u64> = page["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(got, vec![ids[4], ids[3]]);
    let before = page["next_before"].as_u64().unwrap();
    let page: Value = get(s.url(&format!("/v1/runs?limit=2&before={before}")))
        .await
        .json()
        .await
        .unwrap();
    let got: Vec<u64> = page["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(got, vec![ids[2], ids[1]]);
    let ok: Value = get(s.url("/v1/runs?conclusion=success&workflow=CI"))
        .await
        .json()
        .await
        .unwrap();
    let got: Vec<u64> = ok["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(got, vec![ids[2], ids[0]]);
    assert_eq!(ok["next_before"], Value::Null);
    for bad in [
        "/v1/runs?limit=0",
        "/v1/runs?conclusion=great",
        "/v1/runs?colour=red",
    ] {
        problem(get(s.url(bad)).await, 400).await;
    }

    let run: Value = get(s.url(&format!("/v1/runs/{}", ids[1])))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(run["conclusion"], "failure");
    assert_eq!(run["jobs"][0]["job_id"], "build");
    let log = get(s.url(&format!("/v1/runs/{}/jobs/build/log", ids[1]))).await;
    assert_eq!(log.status(), 200);
    assert_eq!(
        log.text().await.unwrap(),
        format!("log of run {}\n", ids[1])
    );
    problem(get(s.url("/v1/runs/999999")).await, 404).await;
    problem(get(s.url("/v1/runs/abc")).await, 400).await;
    problem(
        get(s.url(&format!("/v1/runs/{}/jobs/nope/log", ids[1]))).await,
        404,
    )
    .await;
    let tests = get(s.url(&format!("/v1/runs/{}/tests", ids[1]))).await;
    assert_eq!(tests.status(), 200);
    let flaky = get(s.url("/v1/tests/flaky")).await;
    assert_eq!(flaky.status(), 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_never_reach_the_access_log() {
    let f = Fixture::new();
    let viewer = f.token("view", Role::Viewer);
    let s = start(&f).await;
    let c = client();
    c.get(s.url("/v1/runs"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    c.get(s.url(&format!("/v1/runs?token={viewer}")))
        .send()
        .await
        .unwrap();
    c.get(s.url("/v1/services"))
        .header("cookie", format!("gantry_session={viewer}"))
        .send()
        .await
        .unwrap();
    let log = s.log.text();
    s.stop().await;
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(log.contains("GET /v1/runs 200"), "{log}");
    assert!(!log.contains(&viewer), "{log}");
    assert!(!log.contains("gantry_"), "{log}");
}
