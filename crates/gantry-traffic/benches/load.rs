//! The load generator's top rate against wrk (`/usr/bin/wrk`) on the same
//! loopback backend: both with the same threads and connections for the
//! same time, as a ratio (target: at least 0.5). Then the open model at
//! half of wrk's rate, to show it holds a rate with its latency.
//!
//! `cargo bench -p gantry-traffic --bench load`; `GANTRY_BENCH_SECONDS`
//! (default 5) sets each run's length. Skips, saying why, without wrk.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use gantry_traffic::load::{self, LoadSpec, Model};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

const WRK: &str = "/usr/bin/wrk";
const THREADS: usize = 2;
const CONNECTIONS: usize = 64;

/// A hyper HTTP/1.1 server answering 200 "ok", on its own threads.
fn backend() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(THREADS)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let service = service_fn(|_req: Request<hyper::body::Incoming>| async {
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    rx.recv().unwrap()
}

fn wrk_rate(url: &str, seconds: u64) -> Option<f64> {
    let output = Command::new(WRK)
        .args([
            format!("-t{THREADS}"),
            format!("-c{CONNECTIONS}"),
            format!("-d{seconds}s"),
            url.to_string(),
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
}

fn main() {
    if !Path::new(WRK).exists() {
        println!("load bench skipped: {WRK} is missing (Debian package wrk)");
        return;
    }
    let seconds: u64 = std::env::var("GANTRY_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let url = format!("http://{}/", backend());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(THREADS)
        .enable_all()
        .build()
        .unwrap();

    // Warm the backend up.
    let warm = LoadSpec::new(
        &url,
        Model::Concurrency(CONNECTIONS),
        Duration::from_millis(500),
    );
    runtime.block_on(load::run(&warm)).unwrap();

    let Some(wrk) = wrk_rate(&url, seconds) else {
        println!("load bench skipped: wrk gave no Requests/sec line");
        return;
    };
    let closed = LoadSpec::new(
        &url,
        Model::Concurrency(CONNECTIONS),
        Duration::from_secs(seconds),
    );
    let ours = runtime.block_on(load::run(&closed)).unwrap();
    println!(
        "closed model, {THREADS} threads, {CONNECTIONS} connections, {seconds} s each on one loopback hyper backend"
    );
    println!("  wrk          {wrk:>10.0} req/s");
    println!(
        "  gantry load  {:>10.0} req/s  (errors {}, p99 {:.2} ms)",
        ours.rate,
        ours.errors.total(),
        ours.latency.p99_ms.unwrap_or(0.0)
    );
    println!(
        "  ratio gantry/wrk {:.2} (target: at least 0.50)",
        ours.rate / wrk
    );

    let target = (wrk / 2.0).floor().max(1.0);
    let open = LoadSpec::new(&url, Model::Rate(target), Duration::from_secs(seconds));
    let held = runtime.block_on(load::run(&open)).unwrap();
    println!(
        "open model at {target:.0}/s: achieved {:.0}/s with {} connections, p50 {:.2} ms, p99 {:.2} ms, errors {}",
        held.rate,
        held.connections,
        held.latency.p50_ms.unwrap_or(0.0),
        held.latency.p99_ms.unwrap_or(0.0),
        held.errors.total()
    );
}
