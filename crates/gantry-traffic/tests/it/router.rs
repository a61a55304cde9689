//! The router between two real loopback upstreams.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use gantry_traffic::router::{OVERRIDE_COOKIE, OVERRIDE_HEADER};
use gantry_traffic::{Router, RouterOptions, TrafficProvider, Upstream};
use http::{Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// A loopback upstream that answers with its name; `/slow` waits a
/// moment first; `/headers` answers with the request's header lines.
async fn upstream(name: &'static str) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    upstream_telling(name, Arc::new(Notify::new())).await
}

/// [`upstream`], notifying `slow_arrived` when a `/slow` request arrives.
async fn upstream_telling(
    name: &'static str,
    slow_arrived: Arc<Notify>,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let slow_arrived = slow_arrived.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let slow_arrived = slow_arrived.clone();
                    async move {
                        let body = match request.uri().path() {
                            "/slow" => {
                                slow_arrived.notify_one();
                                tokio::time::sleep(Duration::from_millis(300)).await;
                                name.to_string()
                            }
                            "/headers" => request
                                .headers()
                                .iter()
                                .map(|(k, v)| format!("{k}: {}\n", v.to_str().unwrap_or("?")))
                                .collect(),
                            _ => name.to_string(),
                        };
                        Ok::<_, Infallible>(
                            Response::builder()
                                .header("connection", "keep-alive, x-upstream-private")
                                .header("x-upstream-private", "1")
                                .body(Full::new(Bytes::from(body)))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, task)
}

async fn router_between(weight: u32) -> Router {
    let (stable, _) = upstream("stable").await;
    let (canary, _) = upstream("canary").await;
    router_to(stable, canary, weight).await
}

async fn router_to(stable: SocketAddr, canary: SocketAddr, weight: u32) -> Router {
    let mut options = RouterOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        Upstream::parse(&format!("http://{stable}")).unwrap(),
        Upstream::parse(&format!("http://{canary}")).unwrap(),
    );
    options.canary_weight = weight;
    Router::start(options).await.unwrap()
}

/// One HTTP/1.1 keep-alive connection to `addr`.
struct Connection {
    sender: hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
}

impl Connection {
    async fn open(addr: SocketAddr) -> Connection {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        Connection { sender }
    }

    async fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> (StatusCode, String) {
        let mut request = Request::get(path).header("host", "app.test");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.sender.ready().await.unwrap();
        let response = self
            .sender
            .send_request(request.body(Empty::new()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }
}

#[tokio::test]
async fn the_split_is_within_two_points_of_the_weight_over_1000_requests() {
    let router = router_between(30).await;
    let mut connection = Connection::open(router.local_addr()).await;
    let mut canary = 0;
    for _ in 0..1000 {
        let (status, body) = connection.get("/", &[]).await;
        assert_eq!(status, StatusCode::OK);
        if body == "canary" {
            canary += 1;
        }
    }
    assert!((280..=320).contains(&canary), "{canary} of 1000 to canary");
    let stats = router.snapshot().await.unwrap();
    assert_eq!(stats.canary.requests(), canary);
    assert_eq!(stats.stable.requests(), 1000 - canary);
    assert_eq!(stats.canary.status_classes[1], canary);
    assert_eq!(stats.canary.latency.count(), canary);
}

#[tokio::test]
async fn the_override_header_and_cookie_choose_a_side() {
    let router = router_between(0).await;
    let mut connection = Connection::open(router.local_addr()).await;
    assert_eq!(connection.get("/", &[]).await.1, "stable");
    assert_eq!(
        connection.get("/", &[(OVERRIDE_HEADER, "always")]).await.1,
        "canary"
    );
    let cookie = format!("theme=dark; {OVERRIDE_COOKIE}=always");
    assert_eq!(
        connection.get("/", &[("cookie", &cookie)]).await.1,
        "canary"
    );
    router.set_canary_weight(100).await.unwrap();
    assert_eq!(connection.get("/", &[]).await.1, "canary");
    let cookie = format!("{OVERRIDE_COOKIE}=never");
    assert_eq!(
        connection.get("/", &[("cookie", &cookie)]).await.1,
        "stable"
    );
    assert_eq!(
        connection.get("/", &[(OVERRIDE_HEADER, "never")]).await.1,
        "stable"
    );
}

#[tokio::test]
async fn a_weight_change_keeps_the_connection_and_the_request_in_flight() {
    let arrived = Arc::new(Notify::new());
    let (stable, _) = upstream_telling("stable", arrived.clone()).await;
    let (canary, _) = upstream("canary").await;
    let router = router_to(stable, canary, 0).await;
    let mut kept = Connection::open(router.local_addr()).await;
    let mut slow = Connection::open(router.local_addr()).await;
    assert_eq!(kept.get("/", &[]).await.1, "stable");
    // A slow request starts on stable, the weight moves while it runs.
    let in_flight = tokio::spawn(async move { slow.get("/slow", &[]).await });
    arrived.notified().await;
    router.set_canary_weight(100).await.unwrap();
    // The same keep-alive connection now reaches the canary.
    for _ in 0..5 {
        assert_eq!(kept.get("/", &[]).await, (StatusCode::OK, "canary".into()));
    }
    assert_eq!(
        in_flight.await.unwrap(),
        (StatusCode::OK, "stable".to_string())
    );
    router.set_canary_weight(50).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(kept.get("/", &[]).await.1);
    }
    assert_eq!(
        seen.iter().filter(|s| *s == "canary").count(),
        2,
        "{seen:?}"
    );
    assert!(router.set_canary_weight(101).await.is_err());
    assert_eq!(router.canary_weight(), 50);
}

#[tokio::test]
async fn an_http2_client_is_served_through_the_router() {
    let router = router_between(50).await;
    let stream = TcpStream::connect(router.local_addr()).await.unwrap();
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let mut requests = Vec::new();
    for _ in 0..10 {
        let mut sender = sender.clone();
        requests.push(tokio::spawn(async move {
            let request = Request::get("http://app.test/")
                .version(Version::HTTP_2)
                .body(Empty::<Bytes>::new())
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            assert_eq!(response.version(), Version::HTTP_2);
            assert_eq!(response.status(), StatusCode::OK);
            // The upstream's hop-by-hop fields never reach an HTTP/2 client.
            assert!(response.headers().get("connection").is_none());
            assert!(response.headers().get("x-upstream-private").is_none());
            let body = response.into_body().collect().await.unwrap().to_bytes();
            String::from_utf8_lossy(&body).into_owned()
        }));
    }
    let mut canary = 0;
    for request in requests {
        if request.await.unwrap() == "canary" {
            canary += 1;
        }
    }
    assert_eq!(canary, 5);
    assert_eq!(router.stats().canary.requests(), 5);
}

#[tokio::test]
async fn an_upstream_that_is_down_gets_a_502_counted_as_its_failure() {
    let (stable, _) = upstream("stable").await;
    // A port that was just free: nothing listens there.
    let down = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let router = router_to(stable, down, 100).await;
    let mut connection = Connection::open(router.local_addr()).await;
    let (status, _) = connection.get("/", &[]).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let stats = router.stats();
    assert_eq!(stats.canary.upstream_failures, 1);
    assert_eq!(stats.canary.errors(), 1);
    assert_eq!(stats.stable.requests(), 0);
    // The connection to the router survives the upstream's failure.
    router.set_canary_weight(0).await.unwrap();
    assert_eq!(
        connection.get("/", &[]).await,
        (StatusCode::OK, "stable".into())
    );
}

#[tokio::test]
async fn the_upstream_sees_forwarded_fields_and_no_hop_by_hop_ones() {
    let router = router_between(0).await;
    let mut connection = Connection::open(router.local_addr()).await;
    let (_, seen) = connection
        .get(
            "/headers",
            &[
                ("connection", "keep-alive, x-client-private"),
                ("x-client-private", "1"),
                ("x-forwarded-for", "203.0.113.7"),
                ("x-kept", "yes"),
            ],
        )
        .await;
    assert!(seen.contains("host: app.test\n"), "{seen}");
    assert!(
        seen.contains("x-forwarded-for: 203.0.113.7, 127.0.0.1\n"),
        "{seen}"
    );
    assert!(
        seen.contains("forwarded: for=127.0.0.1;proto=http;host=\"app.test\"\n"),
        "{seen}"
    );
    assert!(seen.contains("x-kept: yes\n"), "{seen}");
    assert!(!seen.contains("x-client-private"), "{seen}");
}

/// One request written by hand; the answer's body.
async fn raw_request(router: &Router, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(router.local_addr()).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or(answer)
}

#[tokio::test]
async fn the_host_is_the_one_the_client_named_and_none_is_invented() {
    let (stable, _) = upstream("stable").await;
    let (canary, _) = upstream("canary").await;
    let router = router_to(stable, canary, 0).await;
    // An absolute-form target names the host, whatever `Host` says
    // (RFC 9112 §3.2.2).
    let seen = raw_request(
        &router,
        "GET http://shop.test/headers HTTP/1.1\r\nhost: app.test\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(seen.contains("host: shop.test\n"), "{seen}");
    assert!(seen.contains("host=\"shop.test\""), "{seen}");
    // HTTP/1.0 without `Host`: the upstream gets its own name, and
    // `Forwarded` names no host the client never gave.
    let seen = raw_request(&router, "GET /headers HTTP/1.0\r\n\r\n").await;
    assert!(seen.contains(&format!("host: {stable}\n")), "{seen}");
    assert!(
        seen.contains("forwarded: for=127.0.0.1;proto=http\n"),
        "{seen}"
    );
    router.shutdown().await;
}

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish() {
    let arrived = Arc::new(Notify::new());
    let (stable, _) = upstream_telling("stable", arrived.clone()).await;
    let (canary, _) = upstream("canary").await;
    let router = router_to(stable, canary, 0).await;
    let addr = router.local_addr();
    let mut slow = Connection::open(addr).await;
    let in_flight = tokio::spawn(async move { slow.get("/slow", &[]).await });
    arrived.notified().await;
    router.shutdown().await;
    assert_eq!(
        in_flight.await.unwrap(),
        (StatusCode::OK, "stable".to_string())
    );
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
}

#[tokio::test]
async fn a_preview_listener_sends_everything_to_the_canary() {
    let (stable, _) = upstream("stable").await;
    let (canary, _) = upstream("canary").await;
    let mut options = RouterOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        Upstream::parse(&format!("http://{stable}")).unwrap(),
        Upstream::parse(&format!("http://{canary}")).unwrap(),
    );
    options.preview_listen = Some("127.0.0.1:0".parse().unwrap());
    let router = Router::start(options).await.unwrap();
    let preview = router.preview_addr().unwrap();
    let mut main = Connection::open(router.local_addr()).await;
    let mut preview = Connection::open(preview).await;
    assert_eq!(main.get("/", &[]).await.1, "stable");
    assert_eq!(preview.get("/", &[]).await.1, "canary");
    assert_eq!(router.stats().canary.requests(), 1);
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let (stable, _) = upstream("stable").await;
    let (canary, _) = upstream("canary").await;
    let mut options = RouterOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        Upstream::parse(&format!("http://{stable}")).unwrap(),
        Upstream::parse(&format!("http://{canary}")).unwrap(),
    );
    options.max_connections = 1;
    let router = Router::start(options).await.unwrap();
    let mut first = Connection::open(router.local_addr()).await;
    assert_eq!(first.get("/", &[]).await.1, "stable");
    // The second connection is accepted by the kernel but not served.
    let second = tokio::spawn({
        let addr = router.local_addr();
        async move {
            let mut second = Connection::open(addr).await;
            second.get("/", &[]).await
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "served beyond the limit");
    drop(first);
    assert_eq!(second.await.unwrap(), (StatusCode::OK, "stable".into()));
}

/// How a raw upstream answers on one connection.
#[derive(Clone, Copy)]
enum Raw {
    /// One answer, then the socket is closed without saying so (no
    /// `Connection: close`): an upstream ending an idle keep-alive
    /// connection as the next request is on its way.
    CloseAfterEach,
    /// `/stream` sends a chunked body of 20 chunks 50 ms apart; anything
    /// else `ok`; keep-alive.
    Streaming,
}

/// A loopback upstream written by hand, counting the connections it
/// accepted.
async fn raw_upstream(
    behaviour: Raw,
) -> (SocketAddr, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                loop {
                    // The request head; its body (by `content-length`) is
                    // read only after the answer, as a server that answers
                    // early does.
                    let mut request_line = String::new();
                    if stream.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut body_length = 0usize;
                    loop {
                        let mut line = String::new();
                        if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some((name, value)) = line.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            body_length = value.trim().parse().unwrap_or(0);
                        }
                    }
                    let streamed = request_line.starts_with("GET /stream ");
                    let written = if streamed && matches!(behaviour, Raw::Streaming) {
                        let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
                        let mut ok = stream.get_mut().write_all(head.as_bytes()).await.is_ok();
                        for _ in 0..20 {
                            if !ok {
                                break;
                            }
                            ok = stream
                                .get_mut()
                                .write_all(b"6\r\nchunk\n\r\n")
                                .await
                                .is_ok();
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        ok && stream.get_mut().write_all(b"0\r\n\r\n").await.is_ok()
                    } else {
                        let answer = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        stream.get_mut().write_all(answer.as_bytes()).await.is_ok()
                    };
                    if !written || matches!(behaviour, Raw::CloseAfterEach) {
                        return;
                    }
                    let mut body = vec![0; body_length];
                    if tokio::io::AsyncReadExt::read_exact(&mut stream, &mut body)
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (addr, accepted, task)
}

/// The router with a raw upstream as stable (and the canary at 0%), and
/// the count of connections the raw upstream accepted.
async fn router_before(behaviour: Raw) -> (Router, Arc<AtomicUsize>) {
    let (stable, accepted, _) = raw_upstream(behaviour).await;
    let (canary, _) = upstream("canary").await;
    (router_to(stable, canary, 0).await, accepted)
}

#[tokio::test]
async fn upstream_connections_are_reused_but_never_by_two_exchanges_at_once() {
    let (router, accepted) = router_before(Raw::Streaming).await;

    // Fifty requests one after another: one upstream connection.
    let mut client = Connection::open(router.local_addr()).await;
    for _ in 0..50 {
        assert_eq!(client.get("/", &[]).await, (StatusCode::OK, "ok".into()));
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);

    // While a streamed body is still arriving, another request gets a
    // connection of its own rather than one in the middle of a body.
    let addr = router.local_addr();
    let streaming = tokio::spawn(async move {
        let mut other = Connection::open(addr).await;
        other.get("/stream", &[]).await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(client.get("/", &[]).await, (StatusCode::OK, "ok".into()));
    let (status, body) = streaming.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "chunk\n".repeat(20));
    assert_eq!(accepted.load(Ordering::SeqCst), 2);

    // Both are idle again: more requests open nothing new, the chunked
    // one's connection included.
    for _ in 0..10 {
        assert_eq!(client.get("/", &[]).await.1, "ok");
        assert_eq!(client.get("/stream", &[]).await.1, "chunk\n".repeat(20));
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    router.shutdown().await;
}

#[tokio::test]
async fn a_client_gone_in_the_middle_of_a_body_leaves_no_half_read_connection_behind() {
    let (router, accepted) = router_before(Raw::Streaming).await;

    // Read the head and the first chunk of a streamed body, then hang up.
    let mut quitter = Connection::open(router.local_addr()).await;
    let request = Request::get("/stream")
        .header("host", "app.test")
        .body(Empty::new())
        .unwrap();
    let mut response = quitter.sender.send_request(request).await.unwrap();
    let first = response.body_mut().frame().await.unwrap().unwrap();
    assert_eq!(first.into_data().unwrap(), "chunk\n");
    drop(response);
    drop(quitter);

    // The next request gets a whole answer of its own, on a connection
    // that is not the abandoned one.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut client = Connection::open(router.local_addr()).await;
    assert_eq!(client.get("/", &[]).await, (StatusCode::OK, "ok".into()));
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    router.shutdown().await;
}

#[tokio::test]
async fn an_upstream_closing_its_keep_alive_connections_costs_no_request() {
    let (router, accepted) = router_before(Raw::CloseAfterEach).await;
    let mut client = Connection::open(router.local_addr()).await;
    // Some requests follow at once (the close may not be noticed yet),
    // some after a pause (it has been).
    for n in 0..40u64 {
        assert_eq!(
            client.get("/", &[]).await,
            (StatusCode::OK, "ok".into()),
            "request {n}"
        );
        if n % 4 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 40);
    let stats = router.stats();
    assert_eq!(stats.stable.requests(), 40);
    assert_eq!(stats.stable.upstream_failures, 0);
    router.shutdown().await;
}

#[tokio::test]
async fn a_connection_still_taking_an_upload_is_not_handed_to_the_next_request() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // The upstream answers before it reads the upload, so the response
    // ends while the request body is still on its way.
    let (router, accepted) = router_before(Raw::Streaming).await;

    let mut uploader = TcpStream::connect(router.local_addr()).await.unwrap();
    uploader
        .write_all(b"POST /upload HTTP/1.1\r\nhost: app.test\r\ncontent-length: 2\r\n\r\na")
        .await
        .unwrap();
    let mut answer = vec![0; 256];
    let mut read = 0;
    while !String::from_utf8_lossy(&answer[..read]).ends_with("\r\n\r\nok") {
        let n = uploader.read(&mut answer[read..]).await.unwrap();
        assert!(n > 0, "the router closed the uploader's connection");
        read += n;
    }
    let uploaded = Arc::new(AtomicBool::new(false));
    let finish = {
        let uploaded = uploaded.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            uploaded.store(true, Ordering::SeqCst);
            uploader.write_all(b"b").await.unwrap();
            uploader
        })
    };

    // Another client meanwhile: answered on a connection of its own, not
    // after the upload ends.
    let mut client = Connection::open(router.local_addr()).await;
    assert_eq!(client.get("/", &[]).await, (StatusCode::OK, "ok".into()));
    assert!(
        !uploaded.load(Ordering::SeqCst),
        "the request waited for another request's upload"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    drop(finish.await.unwrap());
    router.shutdown().await;
}
