//! `cargo bench -p gantry-server`: requests per second and latency
//! quantiles of the run list, one run and a promote decision (a dry run:
//! every gate evaluated, nothing recorded) with 100,000 runs in the store,
//! over loopback with keep-alive. Prints figures; asserts nothing about
//! time. `GANTRY_BENCH_RUNS` and `GANTRY_BENCH_REQUESTS` scale it down.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use gantry_server::auth::{self, Role};
use gantry_server::{LogSink, ServeOptions, Server};
use gantry_store::{Conclusion, Home, NewJob, NewRun, NewStep, Store, StoreOptions};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn measure(
    c: &reqwest::Client,
    name: &str,
    n: usize,
    req: impl Fn() -> reqwest::RequestBuilder,
) {
    for _ in 0..20 {
        req().send().await.unwrap().bytes().await.unwrap();
    }
    let mut took = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        let r = req().send().await.unwrap();
        assert!(r.status().is_success(), "{name}: {}", r.status());
        r.bytes().await.unwrap();
        took.push(t.elapsed());
    }
    let wall = started.elapsed();
    took.sort();
    let _ = c;
    println!(
        "{name:<28} {n:>6} requests  {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
        n as f64 / wall.as_secs_f64(),
        quantile(&took, 0.5).as_secs_f64() * 1000.0,
        quantile(&took, 0.99).as_secs_f64() * 1000.0,
        took[took.len() - 1].as_secs_f64() * 1000.0,
    );
}

fn main() {
    let runs = env("GANTRY_BENCH_RUNS", 100_000);
    let requests = env("GANTRY_BENCH_REQUESTS", 2_000);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    let g = root.join(".gantry/services");
    std::fs::create_dir_all(&g).unwrap();
    std::fs::write(
        root.join(".gantry/promotion.yml"),
        "states:\n  sandbox:\n    allowed_transitions: [compliance_ready]\n    requirements: []\n  compliance_ready:\n    allowed_transitions: [sandbox]\n    requirements: [no_critical_vulns, all_tests_passing]\n",
    )
    .unwrap();
    for (name, deps) in [("api", "[db]"), ("db", "[]")] {
        std::fs::write(
            g.join(format!("{name}.yml")),
            format!("service:\n  name: {name}\n  spec:\n    api_version: v1\n    compliance_mode: compliant\n    dependencies:\n      runtime: []\n      data: {deps}\n      security: []\n"),
        )
        .unwrap();
    }
    let home = Home::new(dir.path().join("home"));
    let store = Store::open_in(&home, StoreOptions::default()).unwrap();
    let filling = Instant::now();
    let mut detail = None;
    for i in 0..runs {
        let id = store
            .begin_run(&NewRun {
                workflow_path: ".github/workflows/ci.yml".into(),
                workflow_name: if i % 3 == 0 { "Release" } else { "CI" }.into(),
                event: "push".into(),
                inputs_json: "{}".into(),
                ..NewRun::default()
            })
            .unwrap();
        if i % 1000 == 0 {
            for j in 0..4 {
                let job = store
                    .begin_job(
                        id,
                        &NewJob {
                            job_id: format!("job{j}"),
                            name: format!("job {j}"),
                            matrix_json: None,
                            queued_ms: None,
                        },
                    )
                    .unwrap();
                for s in 0..5 {
                    store
                        .begin_step(
                            job,
                            &NewStep {
                                index: s,
                                step_id: None,
                                name: format!("step {s}"),
                            },
                        )
                        .unwrap();
                    store
                        .finish_step(
                            job,
                            s,
                            Conclusion::Success,
                            Conclusion::Success,
                            Some(0),
                            &[],
                        )
                        .unwrap();
                }
                store.finish_job(job, Conclusion::Success, &[]).unwrap();
            }
            detail = Some(id);
        }
        store
            .finish_run(
                id,
                if i % 7 == 0 {
                    Conclusion::Failure
                } else {
                    Conclusion::Success
                },
            )
            .unwrap();
    }
    let viewer = auth::create_token(&store, "bench", Role::Deployer, None)
        .unwrap()
        .token;
    drop(store);
    println!(
        "{runs} runs recorded in {:.1} s",
        filling.elapsed().as_secs_f64()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let mut o = ServeOptions::new(root, home, "127.0.0.1:0".parse().unwrap());
        o.log = LogSink::new(std::io::sink());
        let server = Server::bind(o).await.unwrap();
        let addr = server.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(
            async move {
                let _ = stopped.await;
            },
            Duration::from_secs(5),
        ));
        let c = reqwest::Client::new();
        let made: serde_json::Value = c
            .post(format!("http://{addr}/v1/packages"))
            .bearer_auth(&viewer)
            .json(&serde_json::json!({ "services": ["api", "db"], "version": "1.0.0" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let package = made["id"].as_str().unwrap().to_string();
        let detail = detail.unwrap();
        measure(&c, "GET /v1/runs?limit=50", requests, || {
            c.get(format!("http://{addr}/v1/runs?limit=50"))
                .bearer_auth(&viewer)
        })
        .await;
        measure(&c, "GET /v1/runs?workflow=Release", requests, || {
            c.get(format!(
                "http://{addr}/v1/runs?limit=50&workflow=Release&before=50000"
            ))
            .bearer_auth(&viewer)
        })
        .await;
        measure(&c, "GET /v1/runs/{id}", requests, || {
            c.get(format!("http://{addr}/v1/runs/{}", detail.0))
                .bearer_auth(&viewer)
        })
        .await;
        measure(&c, "POST promote (decision)", requests / 2, || {
            c.post(format!("http://{addr}/v1/packages/{package}/promote"))
                .bearer_auth(&viewer)
                .json(&serde_json::json!({ "dry_run": true }))
        })
        .await;
        let page = c
            .get(format!("http://{addr}/"))
            .header("cookie", format!("gantry_session={viewer}"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        println!("dashboard first page: {} bytes of HTML", page.len());
        let _ = stop.send(());
        task.await.unwrap();
    });
}
