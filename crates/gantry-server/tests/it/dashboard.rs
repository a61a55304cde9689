//! The dashboard in headless Debian Chromium: sign-in keeps the token out
//! of URLs and scripts, every page renders at desktop and phone widths and
//! passes axe-core (vendored under tests/fixtures/axe-core), the grid
//! shows each service's state, a promotion made through the API appears
//! without a reload, the DORA page's charts draw and an incident recorded
//! through the API changes its figures without a reload, and a screenshot
//! of each page is kept under target/dashboard-screenshots/.

use gantry_server::auth::Role;
use gantry_store::{Conclusion, NewJob, NewRun, NewStep};
use serde_json::{Value, json};

use crate::cdp::{Browser, artifacts};
use crate::common::{Fixture, client, start};

const AXE: &str = include_str!("../fixtures/axe-core/axe.min.js");

fn record_run(f: &Fixture) -> u64 {
    let store = f.store();
    let id = store
        .begin_run(&NewRun {
            workflow_path: ".github/workflows/ci.yml".into(),
            workflow_name: "CI".into(),
            event: "push".into(),
            git_ref: Some("refs/heads/main".into()),
            inputs_json: "{}".into(),
            ..NewRun::default()
        })
        .unwrap();
    for name in ["build", "test"] {
        let job = store
            .begin_job(
                id,
                &NewJob {
                    job_id: name.into(),
                    name: name.into(),
                    matrix_json: None,
                    queued_ms: None,
                },
            )
            .unwrap();
        store
            .begin_step(
                job,
                &NewStep {
                    index: 0,
                    step_id: None,
                    name: "compile".into(),
                },
            )
            .unwrap();
        store
            .finish_step(
                job,
                0,
                Conclusion::Success,
                Conclusion::Success,
                Some(0),
                &[],
            )
            .unwrap();
        let path = store.log_path(id, job, None);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("{name}: all good <ok>\n")).unwrap();
        store.finish_job(job, Conclusion::Success, &[]).unwrap();
    }
    store.finish_run(id, Conclusion::Success).unwrap();
    id.0
}

async fn package(
    c: &reqwest::Client,
    base: &str,
    token: &str,
    services: &[&str],
    version: &str,
) -> String {
    let made: Value = c
        .post(format!("{base}/v1/packages"))
        .bearer_auth(token)
        .json(&json!({ "services": services, "version": version }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    made["id"].as_str().unwrap().to_string()
}

async fn promote(c: &reqwest::Client, base: &str, token: &str, id: &str) {
    let r: Value = c
        .post(format!("{base}/v1/packages/{id}/promote"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["decision"], "promoted", "{r}");
}

fn axe_violations(b: &mut Browser) -> Value {
    if b.eval("typeof window.axe") != json!("object") {
        b.eval(AXE);
    }
    b.eval(
        "axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] })\
         .then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')) })))",
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_renders_in_chromium_signs_in_once_and_updates_itself() {
    if !std::path::Path::new(crate::cdp::CHROMIUM).exists() {
        panic!(
            "{} is missing: apt-get install chromium (see .ci/run)",
            crate::cdp::CHROMIUM
        );
    }
    let f = Fixture::new();
    let run = record_run(&f);
    let production = crate::deliver::delivery_history(&f);
    let viewer = f.token("viewer", Role::Viewer);
    let deployer = f.token("ci", Role::Deployer);
    let s = start(&f).await;
    let base = format!("http://{}", s.addr);
    let c = client();
    let first = package(&c, &base, &deployer, &["api", "db"], "1.0.0").await;
    promote(&c, &base, &deployer, &first).await;

    let mut b = tokio::task::spawn_blocking(Browser::start).await.unwrap();
    let out = artifacts();
    let (b2, base2, viewer2, out2) = (&mut b, base.clone(), viewer.clone(), out.clone());
    // Everything the browser does is blocking I/O: run it off the runtime
    // that serves the requests.
    tokio::task::block_in_place(move || {
        let b = b2;
        let out = out2;
        b.call("Page.setBypassCSP", json!({ "enabled": true }));
        b.goto(&format!("{base2}/?token={viewer2}"));
        // The token left the URL, and scripts cannot read the cookie.
        assert_eq!(b.eval("location.href"), json!(format!("{base2}/")));
        assert_eq!(
            b.eval("document.cookie.includes('gantry_session')"),
            json!(false)
        );
        b.wait_for(
            "document.querySelector('h1') && document.querySelector('h1').textContent === 'Runs'",
        );

        let pages = [
            ("runs", "/".to_string()),
            ("run", format!("/runs/{run}")),
            ("compliance", "/compliance".to_string()),
            ("promotions", "/promotions".to_string()),
            ("dependencies", "/services/graph".to_string()),
            ("flaky-tests", "/tests/flaky".to_string()),
            ("deployments", "/deployments".to_string()),
            ("rollouts", "/rollouts".to_string()),
            ("dora", "/dora?environment=production&since=90d".to_string()),
        ];
        for (width, height, mobile, label) in
            [(1280, 900, false, "desktop"), (390, 844, true, "phone")]
        {
            b.viewport(width, height, mobile);
            for (name, path) in &pages {
                b.goto(&format!("{base2}{path}"));
                b.wait_for("document.querySelector('main h1') !== null");
                assert_eq!(
                    b.eval("location.pathname + location.search"),
                    json!(path),
                    "{name} redirected"
                );
                let violations = axe_violations(b);
                assert_eq!(
                    violations,
                    json!([]),
                    "{name} at {label}: axe-core violations"
                );
                assert_eq!(
                    b.eval("document.documentElement.scrollWidth <= window.innerWidth + 1"),
                    json!(true),
                    "{name} scrolls sideways at {label}"
                );
                b.screenshot(&out.join(format!("{name}-{label}.png")));
            }
        }
        b.viewport(1280, 900, false);

        // The run page shows the job graph and the logs.
        b.goto(&format!("{base2}/runs/{run}"));
        assert_eq!(
            b.eval("document.querySelectorAll('svg.graph .node').length"),
            json!(2)
        );
        assert_eq!(
            b.eval("document.querySelector('pre.log').textContent"),
            json!("build: all good <ok>\n")
        );

        // The grid: each fixture service in each state.
        b.goto(&format!("{base2}/compliance"));
        for service in ["api", "db"] {
            assert_eq!(
                b.eval(&format!(
                    "document.querySelector('td[data-service=\"{service}\"][data-state=\"compliance_ready\"]').textContent"
                )),
                json!("1.0.0"),
                "{service}"
            );
            assert_eq!(
                b.eval(&format!(
                    "document.querySelector('td[data-service=\"{service}\"][data-state=\"compliant\"]').textContent"
                )),
                json!("—")
            );
        }
        // Rollouts: the canary's share drawn at its weight.
        b.goto(&format!("{base2}/rollouts"));
        assert_eq!(
            b.eval("document.querySelector('tr[data-rollout=\"web\"] svg.split .canary').getAttribute('width')"),
            json!("25")
        );
        // DORA: four trend charts, drawn with a size, a bar per week.
        b.goto(&format!("{base2}/dora?environment=production&since=90d"));
        assert_eq!(
            b.eval("[...document.querySelectorAll('svg.chart')].filter(s => s.getBoundingClientRect().width > 200 && s.getBoundingClientRect().height > 50).length"),
            json!(4)
        );
        assert_eq!(
            b.eval("document.querySelectorAll('svg.chart[data-chart=\"trend-deployments\"] rect.bar').length > 4"),
            json!(true)
        );
        b.eval("window.__same_dora = 'yes'");
    });

    // An incident recorded through the API changes the open DORA page.
    let before = tokio::task::block_in_place(|| {
        b.wait_for("document.documentElement.getAttribute('data-live') === 'sse'");
        b.eval("document.querySelector('[data-metric=\"change_fail_rate\"]').dataset.value")
    });
    let opened = c
        .post(format!("{base}/v1/incidents"))
        .bearer_auth(&deployer)
        .json(&json!({ "deployment": production[0], "title": "checkout errors" }))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status().as_u16(), 201);
    let dora: Value = c
        .get(format!("{base}/v1/dora?environment=production&since=90d"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let after = dora["change_fail_rate"]["rate"].as_f64().unwrap();
    assert_ne!(
        json!(after.to_string()),
        before,
        "the incident changed nothing"
    );
    tokio::task::block_in_place(|| {
        b.wait_for(&format!(
            "window.__same_dora === 'yes' && document.querySelector('[data-metric=\"change_fail_rate\"]').dataset.value === '{after}'"
        ));
        b.screenshot(&out.join("dora-updated-desktop.png"));
        // The promotions page, kept open for what follows.
        b.goto(&format!("{base}/promotions"));
        b.wait_for("document.documentElement.getAttribute('data-live') === 'sse'");
        b.eval("window.__same_page = 'yes'");
    });

    // A promotion through the API appears on the open page, not reloaded.
    let second = package(&c, &base, &deployer, &["db"], "2.0.0").await;
    promote(&c, &base, &deployer, &second).await;
    tokio::task::block_in_place(|| {
        b.wait_for(&format!(
            "window.__same_page === 'yes' && document.querySelector('[data-package=\"{second}\"]') !== null"
        ));
        b.screenshot(&out.join("promotions-updated-desktop.png"));
    });
    drop(b);

    // The first page is light.
    let mut weight = 0;
    for path in ["/", "/assets/style.css", "/assets/live.js"] {
        let bytes = c
            .get(format!("{base}{path}"))
            .header("cookie", format!("gantry_session={viewer}"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        weight += bytes.len();
    }
    println!("dashboard first page weight: {weight} bytes");
    assert!(weight < 200 * 1024, "{weight} bytes");
    let log = s.log.text();
    s.stop().await;
    assert!(!log.contains(&viewer), "the token reached the log:\n{log}");
}

#[tokio::test]
async fn a_page_that_cannot_be_shown_is_an_html_page_with_the_problem_and_its_status() {
    let f = Fixture::new();
    let viewer = f.token("viewer", Role::Viewer);
    let s = start(&f).await;
    let c = client();
    for (path, status, says) in [
        ("/dora?since=soon", 400, "soon"),
        ("/runs/abc", 400, "`abc` is not a run id"),
        ("/runs/999", 404, "no run 999"),
    ] {
        let resp = c
            .get(s.url(path))
            .header("cookie", format!("gantry_session={viewer}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{path}");
        let kind = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(kind.starts_with("text/html"), "{path}: {kind}");
        let body = resp.text().await.unwrap();
        assert!(body.contains("role=\"alert\""), "{path}: {body}");
        assert!(body.contains(says), "{path}: {body}");
        assert!(
            body.contains("<nav"),
            "{path}: the page keeps the dashboard's navigation"
        );
    }
    // The API keeps answering with problem details.
    let resp = c
        .get(s.url("/v1/dora?since=soon"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    s.stop().await;
}
