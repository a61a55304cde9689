//! Robustness: graceful shutdown lets a request in flight finish, a
//! client that sends half a request stalls no one, 100 concurrent clients
//! all get answers, and TLS is required off loopback.

use std::io::{Read, Write};
use std::time::Duration;

use gantry_server::auth::Role;
use gantry_server::{ServeError, Server};

use crate::common::{Fixture, client, options, start, start_with};

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_lets_a_request_in_flight_finish() {
    let f = Fixture::new();
    let deployer = f.token("ci", Role::Deployer);
    let s = start(&f).await;
    let addr = s.addr;
    let body = br#"{"services": ["db"], "version": "3.1.4"}"#;
    let (half, rest) = body.split_at(10);
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(
        conn,
        "POST /v1/packages HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {deployer}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    conn.write_all(half).unwrap();
    conn.flush().unwrap();
    // Let the server start reading the body, then ask it to stop.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopping = tokio::spawn(s.stop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    conn.write_all(rest).unwrap();
    let mut response = String::new();
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    conn.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    stopping.await.unwrap();
    // The package is in the store: the request completed, not half.
    let listed = gantry_promote::package::PackageStore::new(f.home.packages())
        .list()
        .unwrap();
    assert_eq!(listed.packages.len(), 1);
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still accepting"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_sending_half_a_request_stalls_no_one_and_is_dropped() {
    let f = Fixture::new();
    let viewer = f.token("v", Role::Viewer);
    let mut o = options(&f);
    o.header_timeout = Duration::from_secs(1);
    let s = start_with(o).await;
    let mut slow = std::net::TcpStream::connect(s.addr).unwrap();
    write!(
        slow,
        "GET /v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bea"
    )
    .unwrap();
    slow.flush().unwrap();
    let c = client();
    for _ in 0..20 {
        let r = c
            .get(s.url("/v1/runs"))
            .bearer_auth(&viewer)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // The server gives up on the slow one (its header read timeout).
    slow.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    let text = String::from_utf8_lossy(&rest);
    assert!(
        rest.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    // A body over the limit is refused whole, from its announced length:
    // the answer comes before any of it is sent (a client still writing a
    // refused body may see its connection closed under it, so the test
    // sends none).
    let mut big = std::net::TcpStream::connect(s.addr).unwrap();
    write!(
        big,
        "POST /v1/packages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {viewer}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        2 << 20
    )
    .unwrap();
    big.flush().unwrap();
    big.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = [0u8; 12];
    big.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 413", "{}", String::from_utf8_lossy(&head));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hundred_concurrent_clients_all_get_answers() {
    let f = Fixture::new();
    let viewer = f.token("v", Role::Viewer);
    let s = start(&f).await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        let url = s.url(if i % 2 == 0 {
            "/v1/runs"
        } else {
            "/v1/services"
        });
        let token = viewer.clone();
        tasks.push(tokio::spawn(async move {
            // One client (one connection pool) each.
            let c = client();
            let mut ok = 0;
            for _ in 0..5 {
                let r = c.get(&url).bearer_auth(&token).send().await.unwrap();
                assert_eq!(r.status(), 200);
                r.bytes().await.unwrap();
                ok += 1;
            }
            ok
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 500);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_non_loopback_address_needs_tls_or_insecure() {
    let f = Fixture::new();
    let mut o = options(&f);
    o.listen = "0.0.0.0:0".parse().unwrap();
    match Server::bind(o).await {
        Err(e @ ServeError::NeedsTls(_)) => assert!(e.to_string().contains("--insecure")),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("served plain HTTP on 0.0.0.0"),
    }
    let mut o = options(&f);
    o.listen = "0.0.0.0:0".parse().unwrap();
    o.insecure = true;
    assert!(Server::bind(o).await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_serves_with_the_given_certificate() {
    let f = Fixture::new();
    let viewer = f.token("v", Role::Viewer);
    let cert = f.dir.path().join("cert.pem");
    let key = f.dir.path().join("key.pem");
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-days",
            "1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success());
    let mut o = options(&f);
    o.tls = Some(gantry_server::TlsFiles {
        cert: cert.clone(),
        key,
    });
    let s = start_with(o).await;
    let c = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(&std::fs::read(&cert).unwrap()).unwrap(),
        )
        .build()
        .unwrap();
    let r = c
        .get(format!("https://{}/v1/runs", s.addr))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Signing in over TLS: the cookie is Secure too, and the redirect
    // drops the token from the URL.
    let no_redirects = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(&std::fs::read(&cert).unwrap()).unwrap(),
        )
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirects
        .get(format!("https://{}/compliance?token={viewer}", s.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/compliance");
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    // Plain HTTP to the TLS port gets no answer.
    assert!(client().get(s.url("/healthz")).send().await.is_err());
    s.stop().await;
}
