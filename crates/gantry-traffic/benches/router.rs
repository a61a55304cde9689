//! The router against nginx and HAProxy, and how fast a failing canary
//! loses its traffic.
//!
//! 1. Throughput and added p99: one loopback backend pair (stable and
//!    canary, 90/10), put behind gantry's router, nginx and HAProxy in
//!    turn (each configured here, in a temporary folder, as weighted
//!    upstreams with keep-alive, one worker each), loaded by wrk with 32
//!    connections (throughput), then with one (latency): added p99 is the
//!    proxy's p99 minus wrk's p99 straight to the backend, both at one
//!    connection, so it is the proxy's delay rather than the queue in
//!    front of a saturated worker.
//! 2. Rollback time: the rollout controller with the router, a canary at
//!    50% that starts failing; the time until its weight is 0, against
//!    the analysis interval.
//!
//! All three proxies run at once and take turns for `ROUTER_BENCH_ROUNDS`
//! rounds (default 3); medians are compared, and the per-round ratios
//! printed, so drift in the machine's load shows rather than decides.
//!
//! `cargo bench -p gantry-traffic --bench router`; skips a part, saying
//! why, when nginx, haproxy or wrk is missing. `ROUTER_BENCH_SECONDS`
//! sets the length of each wrk run (default 5).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use gantry_traffic::{Router, RouterOptions, Upstream};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const NGINX: &str = "/usr/sbin/nginx";
const HAPROXY: &str = "/usr/sbin/haproxy";
const WRK: &str = "/usr/bin/wrk";

/// A runtime on its own threads, so the load and each server do not
/// share a scheduler.
fn runtime(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap()
}

/// A keep-alive HTTP/1.1 backend answering `ok`; 500 while `failing`.
async fn backend(failing: Arc<AtomicBool>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let _ = stream.set_nodelay(true);
            let failing = failing.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_request: Request<Incoming>| {
                    let status = if failing.load(Ordering::Relaxed) {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    };
                    async move {
                        let mut response = Response::new(Full::new(Bytes::from_static(b"ok")));
                        *response.status_mut() = status;
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_listening(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Requests per second and p99 of one wrk run.
#[derive(Debug, Clone, Copy)]
struct Load {
    rps: f64,
    p50: Duration,
    p99: Duration,
}

/// Throughput under wrk's 32 connections, and latency with one (the
/// proxy's own delay, not the queue in front of a saturated worker).
fn wrk(port: u16, seconds: u64) -> Option<(Load, Load)> {
    Some((
        wrk_with(port, seconds, 32)?,
        wrk_with(port, seconds.div_ceil(2), 1)?,
    ))
}

fn wrk_with(port: u16, seconds: u64, connections: u32) -> Option<Load> {
    let output = Command::new(WRK)
        .args([
            "-t1",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            &format!("http://127.0.0.1:{port}/"),
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let rps = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse::<f64>().ok())?;
    let quantile = |q: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(q))
            .and_then(|v| parse_latency(v.trim()))
    };
    let p50 = quantile("50%")?;
    let p99 = quantile("99%")?;
    let errors = text
        .lines()
        .any(|l| l.contains("Non-2xx") || l.contains("Socket errors"));
    if errors {
        eprintln!("  wrk reported errors:\n{text}");
    }
    Some(Load { rps, p50, p99 })
}

fn parse_latency(text: &str) -> Option<Duration> {
    let (number, scale) = if let Some(v) = text.strip_suffix("us") {
        (v, 1e-6)
    } else if let Some(v) = text.strip_suffix("ms") {
        (v, 1e-3)
    } else if let Some(v) = text.strip_suffix('s') {
        (v, 1.0)
    } else {
        return None;
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .map(|v| Duration::from_secs_f64(v * scale))
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_nginx(dir: &Path, port: u16, stable: SocketAddr, canary: SocketAddr) -> Option<Killed> {
    let d = dir.display();
    let config = format!(
        "worker_processes 1;\nmaster_process off;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/nginx-error.log;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         upstream app {{ server {stable} weight=90; server {canary} weight=10; keepalive 64; }}\n\
         server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://app; \
         proxy_http_version 1.1; proxy_set_header Connection \"\"; }} }}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, config).ok()?;
    let child = Command::new(NGINX)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let child = Killed(child);
    wait_listening(port).then_some(child)
}

fn start_haproxy(dir: &Path, port: u16, stable: SocketAddr, canary: SocketAddr) -> Option<Killed> {
    let config = format!(
        "global\n  nbthread 1\n  maxconn 8192\n\
         defaults\n  mode http\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n  \
         option http-keep-alive\n\
         frontend web\n  bind 127.0.0.1:{port}\n  default_backend app\n\
         backend app\n  balance roundrobin\n  http-reuse always\n  \
         server stable {stable} weight 90\n  server canary {canary} weight 10\n"
    );
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, config).ok()?;
    let child = Command::new(HAPROXY)
        .arg("-f")
        .arg(&path)
        .arg("-db")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let child = Killed(child);
    wait_listening(port).then_some(child)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The router on a thread of its own running a current-thread runtime:
/// the analogue of one nginx worker or one HAProxy thread. Stops when
/// dropped.
struct RouterThread {
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RouterThread {
    fn start(stable: SocketAddr, canary: SocketAddr) -> RouterThread {
        let port = free_port();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let mut options = RouterOptions::new(
                    SocketAddr::from(([127, 0, 0, 1], port)),
                    Upstream::parse(&format!("http://{stable}")).unwrap(),
                    Upstream::parse(&format!("http://{canary}")).unwrap(),
                );
                options.canary_weight = 10;
                let router = Router::start(options).await.unwrap();
                ready_tx.send(()).unwrap();
                let _ = stop_rx.await;
                router.shutdown().await;
            });
        });
        ready_rx.recv().unwrap();
        RouterThread {
            port,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

impl Drop for RouterThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One proxy's measurements over the rounds.
struct Measured {
    name: &'static str,
    port: u16,
    rps: Vec<f64>,
    p50: Vec<f64>,
    p99: Vec<f64>,
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn proxies(seconds: u64, rounds: usize) {
    println!(
        "router vs nginx vs HAProxy (wrk -t1: -c32 for {seconds}s, then -c1; one worker per proxy, 90/10 split; \
         {rounds} rounds taking turns, medians)"
    );
    if !Path::new(WRK).exists() {
        println!("  skipped: {WRK} is missing (apt-get install wrk)");
        return;
    }
    let backends = runtime(1);
    let healthy = Arc::new(AtomicBool::new(false));
    let (stable, canary) = backends.block_on(async {
        (
            backend(healthy.clone()).await,
            backend(healthy.clone()).await,
        )
    });
    let dir = tempfile::tempdir().unwrap();

    // All three run at once and take turns, round after round, so that
    // a machine that gets busier or quieter during the run treats them
    // alike.
    let router = RouterThread::start(stable, canary);
    let mut measured = vec![
        Measured::new("backend (direct)", stable.port()),
        Measured::new("gantry router", router.port),
    ];
    let mut running = Vec::new();
    for (name, path, start) in [
        (
            "nginx",
            NGINX,
            start_nginx as fn(&Path, u16, SocketAddr, SocketAddr) -> Option<Killed>,
        ),
        ("haproxy", HAPROXY, start_haproxy),
    ] {
        if !Path::new(path).exists() {
            println!("  {name:<16} skipped: {path} is missing (apt-get install {name})");
            continue;
        }
        let port = free_port();
        match start(dir.path(), port, stable, canary) {
            Some(child) => {
                running.push(child);
                measured.push(Measured::new(name, port));
            }
            None => println!("  {name:<16} skipped: it did not start"),
        }
    }
    for _ in 0..rounds {
        for one in &mut measured {
            match wrk(one.port, seconds) {
                Some((load, single)) => {
                    one.rps.push(load.rps);
                    one.p50.push(ms(single.p50));
                    one.p99.push(ms(single.p99));
                }
                None => println!("  {}: wrk failed to measure", one.name),
            }
        }
    }
    drop(running);
    drop(router);
    if measured.iter().any(|m| m.rps.is_empty()) {
        return;
    }
    let direct_p50 = median(&measured[0].p50);
    let direct_p99 = median(&measured[0].p99);
    // Signed: on a busy machine a proxied run can be faster than the
    // direct one, and that noise should show.
    let added_p99 = |m: &Measured| median(&m.p99) - direct_p99;
    for one in &measured {
        println!(
            "  {:<16} {:>9.0} req/s (rounds {}); at 1 connection p50 {:.3} ms, p99 {:.3} ms, added p50 {:+.3} ms, added p99 {:+.3} ms",
            one.name,
            median(&one.rps),
            one.rps
                .iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>()
                .join(" "),
            median(&one.p50),
            median(&one.p99),
            median(&one.p50) - direct_p50,
            added_p99(one),
        );
    }
    let gantry = &measured[1];
    for other in &measured[2..] {
        let per_round: Vec<String> = gantry
            .rps
            .iter()
            .zip(&other.rps)
            .map(|(g, o)| format!("{:.2}", g / o))
            .collect();
        println!(
            "  router/{:<8} throughput ratio {:.2} (per round {}), added p99 {:+.3} ms vs {:+.3} ms",
            other.name,
            median(&gantry.rps) / median(&other.rps),
            per_round.join(" "),
            added_p99(gantry),
            added_p99(other),
        );
    }
    let nginx_ratio = measured
        .iter()
        .find(|m| m.name == "nginx")
        .map(|n| median(&gantry.rps) / median(&n.rps));
    println!(
        "  targets: throughput at least nginx's: {}; added p99 under 1 ms: {}",
        match nginx_ratio {
            Some(r) if r >= 1.0 => "met",
            Some(_) => "not met",
            None => "not measured",
        },
        if added_p99(gantry) < 1.0 {
            "met"
        } else {
            "not met"
        }
    );
}

impl Measured {
    fn new(name: &'static str, port: u16) -> Measured {
        Measured {
            name,
            port,
            rps: Vec::new(),
            p50: Vec::new(),
            p99: Vec::new(),
        }
    }
}

fn main() {
    let seconds = std::env::var("ROUTER_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let rounds = std::env::var("ROUTER_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(3);
    proxies(seconds, rounds);
    rollback::run();
}

mod rollback {
    //! A canary that starts failing: how long until its weight is 0.

    use super::*;
    use gantry_deliver::rollout::controller::{
        Command as RolloutCommand, Control, Controller, ControllerOptions, HttpOutside,
        RolloutEvent, RolloutStatus, SystemClock,
    };
    use gantry_deliver::rollout::{Outcome, RolloutConfig};
    use http_body_util::Empty;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    struct NoCommands;

    impl Control for NoCommands {
        fn take_command(&mut self) -> Option<RolloutCommand> {
            None
        }

        fn publish(&mut self, _status: &RolloutStatus) {}
    }

    pub(super) fn run() {
        let interval = Duration::from_millis(500);
        println!(
            "rollback time (canary at 50% starts failing; analysis interval {} ms)",
            interval.as_millis()
        );
        let runtime = runtime(2);
        let mut samples = Vec::new();
        for round in 0..5 {
            let taken = runtime.block_on(once(interval, round));
            match taken {
                Some(taken) => samples.push(taken),
                None => {
                    println!("  round {round}: the canary was not rolled back");
                    return;
                }
            }
        }
        samples.sort();
        let worst = samples[samples.len() - 1];
        let median = samples[samples.len() / 2];
        println!(
            "  failing → weight 0: median {:.0} ms, worst {:.0} ms of 5; worst/interval {:.2} (target <= 1.00)",
            ms(median),
            ms(worst),
            worst.as_secs_f64() / interval.as_secs_f64()
        );
    }

    async fn once(interval: Duration, round: u32) -> Option<Duration> {
        let failing = Arc::new(AtomicBool::new(false));
        let stable = backend(Arc::new(AtomicBool::new(false))).await;
        let canary = backend(failing.clone()).await;
        let text = format!(
            "listen: 127.0.0.1:0\nstable: http://{stable}\ncanary: http://{canary}\n\
             strategy: {{canary: {{steps: [{{setWeight: 50}}, {{pause: {{duration: 60s}}}}]}}}}\n\
             analysis: {{interval: {}ms, successRate: 0.99, minSamples: 20}}\n",
            interval.as_millis()
        );
        let config = RolloutConfig::parse(
            "bench",
            &gantry_workflow::SourceFile::new("bench.yml", text),
        )
        .unwrap();
        let router = Router::start(RouterOptions::new(
            "127.0.0.1:0".parse().unwrap(),
            config.stable.clone(),
            config.canary.clone(),
        ))
        .await
        .unwrap();
        let address = router.local_addr();
        // Load: four clients in a loop.
        let stop = Arc::new(AtomicBool::new(false));
        let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        for _ in 0..4 {
            let client = client.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let request = Request::get(format!("http://{address}/"))
                        .body(Empty::new())
                        .unwrap();
                    let _ = client.request(request).await;
                }
            });
        }
        let clock = SystemClock::default();
        let outside = HttpOutside::default();
        let sink = |_: &RolloutEvent| {};
        let controller = Controller::new(
            &config,
            &router,
            &clock,
            &outside,
            NoCommands,
            sink,
            ControllerOptions::default(),
        );
        let fail_after = Duration::from_millis(1700 + 97 * u64::from(round));
        let flip = {
            let failing = failing.clone();
            async move {
                tokio::time::sleep(fail_after).await;
                failing.store(true, Ordering::Relaxed);
                Instant::now()
            }
        };
        let (report, flipped) = tokio::join!(controller.run(), flip);
        let zero_at = Instant::now();
        stop.store(true, Ordering::Relaxed);
        router.shutdown().await;
        match report.outcome {
            // The controller set the weight to 0 just before it returned.
            Outcome::RolledBack { .. } => Some(zero_at.saturating_duration_since(flipped)),
            _ => None,
        }
    }
}
