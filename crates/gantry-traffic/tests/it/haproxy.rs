//! The HAProxy provider against a real HAProxy (the Debian package's
//! `/usr/sbin/haproxy`) in front of two loopback backends.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gantry_traffic::TrafficProvider;
use gantry_traffic::haproxy::HaproxyProvider;
use hyper::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{self, Backend};

const HAPROXY: &str = "/usr/sbin/haproxy";

/// A running haproxy, killed when dropped.
struct Haproxy {
    child: Child,
    frontend: u16,
    socket: PathBuf,
    tcp_api: String,
    _dir: tempfile::TempDir,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the tests can run: under CI haproxy must be there.
fn haproxy_available() -> bool {
    if Path::new(HAPROXY).exists() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{HAPROXY} is missing (install the Debian package haproxy)"
    );
    eprintln!("skipped: {HAPROXY} is missing");
    false
}

fn start_haproxy(stable: &Backend, canary: std::net::SocketAddr) -> Haproxy {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("admin.sock");
    let frontend = common::free_port();
    let api_port = common::free_port();
    let config = format!(
        "global\n\
         \x20 stats socket {socket} mode 600 level admin\n\
         \x20 stats socket ipv4@127.0.0.1:{api_port} level admin\n\
         \x20 stats timeout 10s\n\
         defaults\n\
         \x20 mode http\n\
         \x20 timeout connect 2s\n\
         \x20 timeout client 10s\n\
         \x20 timeout server 10s\n\
         \x20 retries 1\n\
         frontend web\n\
         \x20 bind 127.0.0.1:{frontend}\n\
         \x20 default_backend app\n\
         backend app\n\
         \x20 balance roundrobin\n\
         \x20 server stable {stable} weight 100\n\
         \x20 server canary {canary} weight 0\n",
        socket = socket.display(),
        stable = stable.addr,
    );
    let config_path = dir.path().join("haproxy.cfg");
    std::fs::write(&config_path, config).unwrap();
    let child = Command::new(HAPROXY)
        .arg("-db")
        .arg("-f")
        .arg(&config_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut haproxy = Haproxy {
        child,
        frontend,
        socket,
        tcp_api: format!("127.0.0.1:{api_port}"),
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ready = haproxy.socket.exists()
            && std::net::TcpStream::connect(("127.0.0.1", frontend)).is_ok();
        if ready {
            break;
        }
        if let Ok(Some(status)) = haproxy.child.try_wait() {
            panic!("haproxy exited at start: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "haproxy did not start within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    haproxy
}

/// Within one request of what the weights give.
fn assert_near(actual: u64, expected: u64) {
    assert!(
        actual.abs_diff(expected) <= 1,
        "{actual} requests where the weights give {expected}"
    );
}

/// One request on its own connection; returns the status and the body.
async fn get(port: u16) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut reply = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut reply))
        .await
        .unwrap()
        .unwrap();
    let status = reply
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = reply.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

/// Sends `n` requests and counts the bodies: `(stable, canary, other)`.
async fn send(port: u16, n: usize) -> (usize, usize, usize) {
    let mut counts = (0, 0, 0);
    for _ in 0..n {
        match get(port).await.1.as_str() {
            "stable" => counts.0 += 1,
            "canary" => counts.1 += 1,
            _ => counts.2 += 1,
        }
    }
    counts
}

#[tokio::test]
async fn weights_split_requests_and_the_counters_follow() {
    if !haproxy_available() {
        return;
    }
    let stable = common::backend("stable", common::ok()).await;
    let canary = common::backend("canary", common::ok()).await;
    let haproxy = start_haproxy(&stable, canary.addr);
    let provider =
        HaproxyProvider::new(haproxy.socket.to_str().unwrap(), "app", "stable", "canary").unwrap();
    assert_eq!(provider.kind(), "haproxy");

    // As configured: everything to stable.
    assert_eq!(send(haproxy.frontend, 20).await, (20, 0, 0));
    let before = provider.snapshot().await.unwrap();
    assert_eq!(before.stable.status_classes[1], 20);
    assert_eq!(before.canary.requests(), 0);

    // HAProxy's weighted round robin places servers anew when a weight
    // changes, so a run of requests right after a change is within one
    // request of the weights.
    provider.set_canary_weight(10).await.unwrap();
    let (stable_stats, canary_stats) = provider.server_stats().await.unwrap();
    assert_eq!((stable_stats.weight, canary_stats.weight), (90, 10));
    let (to_stable, to_canary, other) = send(haproxy.frontend, 200).await;
    assert_eq!((to_stable + to_canary, other), (200, 0));
    assert_near(to_canary as u64, 20);

    provider.set_canary_weight(50).await.unwrap();
    let (half_stable, half_canary, _) = send(haproxy.frontend, 100).await;
    assert_near(half_canary as u64, 50);

    let interval = provider.snapshot().await.unwrap().since(&before);
    assert_eq!(
        interval.stable.status_classes[1],
        (to_stable + half_stable) as u64
    );
    assert_eq!(
        interval.canary.status_classes[1],
        (to_canary + half_canary) as u64
    );
    assert_eq!(interval.canary.errors(), 0);
    // HAProxy keeps no latency distribution: the histogram stays empty.
    assert_eq!(interval.canary.latency.count(), 0);

    // All to the canary, then all back, through the TCP runtime API.
    let over_tcp = HaproxyProvider::new(&haproxy.tcp_api, "app", "stable", "canary").unwrap();
    over_tcp.set_canary_weight(100).await.unwrap();
    assert_eq!(send(haproxy.frontend, 10).await, (0, 10, 0));
    over_tcp.set_canary_weight(0).await.unwrap();
    assert_eq!(send(haproxy.frontend, 10).await, (10, 0, 0));
    assert_eq!(
        canary.served.load(std::sync::atomic::Ordering::Relaxed),
        (to_canary + half_canary + 10) as u64
    );
}

#[tokio::test]
async fn canary_failures_count_as_errors_of_the_canary() {
    if !haproxy_available() {
        return;
    }
    let stable = common::backend("stable", common::ok()).await;
    // Every other canary request is a 500.
    let canary = common::backend(
        "canary",
        std::sync::Arc::new(|n| {
            let status = if n % 2 == 0 {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::OK
            };
            (status, Duration::ZERO)
        }),
    )
    .await;
    let haproxy = start_haproxy(&stable, canary.addr);
    let provider =
        HaproxyProvider::new(haproxy.socket.to_str().unwrap(), "app", "stable", "canary").unwrap();
    provider.set_canary_weight(50).await.unwrap();
    for _ in 0..100 {
        get(haproxy.frontend).await;
    }
    let snapshot = provider.snapshot().await.unwrap();
    assert_near(snapshot.stable.requests(), 50);
    assert_eq!(snapshot.stable.requests() + snapshot.canary.requests(), 100);
    assert_eq!(snapshot.stable.errors(), 0);
    // The canary's even-numbered requests failed.
    let canary = snapshot.canary.requests();
    assert_eq!(snapshot.canary.status_classes[4], canary.div_ceil(2));
    assert_eq!(snapshot.canary.status_classes[1], canary / 2);
}

#[tokio::test]
async fn a_canary_nobody_listens_on_shows_connection_failures() {
    if !haproxy_available() {
        return;
    }
    let stable = common::backend("stable", common::ok()).await;
    let closed = std::net::SocketAddr::from(([127, 0, 0, 1], common::free_port()));
    let haproxy = start_haproxy(&stable, closed);
    let provider =
        HaproxyProvider::new(haproxy.socket.to_str().unwrap(), "app", "stable", "canary").unwrap();
    provider.set_canary_weight(100).await.unwrap();
    let mut statuses = Vec::new();
    // HAProxy waits a second before its retry: a few requests do.
    for _ in 0..3 {
        statuses.push(get(haproxy.frontend).await.0);
    }
    assert!(statuses.iter().all(|s| *s == 503), "{statuses:?}");
    let snapshot = provider.snapshot().await.unwrap();
    assert!(snapshot.canary.upstream_failures >= 3, "{snapshot:?}");
    assert_eq!(snapshot.canary.success_rate(), Some(0.0));
}

#[tokio::test]
async fn refusals_and_missing_servers_are_clear_errors() {
    if !haproxy_available() {
        return;
    }
    let stable = common::backend("stable", common::ok()).await;
    let canary = common::backend("canary", common::ok()).await;
    let haproxy = start_haproxy(&stable, canary.addr);
    let socket = haproxy.socket.to_str().unwrap();

    let wrong_server = HaproxyProvider::new(socket, "app", "stable", "green").unwrap();
    let message = wrong_server.snapshot().await.unwrap_err().to_string();
    assert!(message.contains("no server app/green"), "{message}");

    let wrong_backend = HaproxyProvider::new(socket, "nope", "stable", "canary").unwrap();
    let message = wrong_backend
        .command("set server nope/stable weight 5")
        .await
        .unwrap();
    assert!(
        !message.trim().is_empty(),
        "haproxy accepted an unknown backend"
    );

    let provider = HaproxyProvider::new(socket, "app", "stable", "canary").unwrap();
    let message = provider
        .set_canary_weight(101)
        .await
        .unwrap_err()
        .to_string();
    assert!(message.contains("101"), "{message}");

    let nowhere = haproxy.socket.with_file_name("missing.sock");
    let provider = HaproxyProvider::new(nowhere.to_str().unwrap(), "app", "stable", "canary")
        .unwrap()
        .with_timeout(Duration::from_secs(2));
    let message = provider.snapshot().await.unwrap_err().to_string();
    assert!(
        message.contains("cannot reach") && message.contains("missing.sock"),
        "{message}"
    );
}

/// A stand-in runtime API on a unix socket: answers each command with
/// `reply`, or never when `reply` is `None`.
fn fake_api(dir: &Path, reply: Option<&'static str>) -> PathBuf {
    let path = dir.join("fake.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let _ = std::io::BufRead::read_line(&mut reader, &mut line);
            match reply {
                Some(text) => {
                    let _ = std::io::Write::write_all(&mut stream, text.as_bytes());
                }
                // Keep the connection open and silent.
                None => held.push(stream),
            }
        }
    });
    path
}

#[tokio::test]
async fn a_silent_runtime_api_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let socket = fake_api(dir.path(), None);
    let provider = HaproxyProvider::new(socket.to_str().unwrap(), "app", "stable", "canary")
        .unwrap()
        .with_timeout(Duration::from_millis(200));
    let error = provider.snapshot().await.unwrap_err().to_string();
    assert!(
        error.contains("did not answer `show stat` within 200ms"),
        "{error}"
    );
}

#[tokio::test]
async fn a_refused_weight_change_carries_haproxys_reply() {
    let dir = tempfile::tempdir().unwrap();
    // `show stat` finds both servers; `set server` is refused.
    let socket = fake_api(
        dir.path(),
        Some(
            "# pxname,svname,stot,econ,eresp,weight,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx\napp,stable,0,0,0,100,0,0,0,0,0\napp,canary,0,0,0,0,0,0,0,0,0\n",
        ),
    );
    let provider =
        HaproxyProvider::new(socket.to_str().unwrap(), "app", "stable", "canary").unwrap();
    // The fake answers every command with the CSV, which is no empty
    // reply: the weight change is refused with what HAProxy said.
    let error = provider
        .set_canary_weight(10)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("refused `set server app/canary weight 10`") && error.contains("# pxname"),
        "{error}"
    );
}
