//! gantry's own weighted reverse proxy: one listener that users point
//! traffic at, two upstreams (stable and canary), and a canary weight that
//! changes at run time.
//!
//! - HTTP/1.1 and HTTP/2 (prior knowledge, h2c) on the same port
//!   (hyper-util's auto server); upstreams are spoken to over pooled
//!   HTTP/1.1 keep-alive connections.
//! - The split is deterministic and smooth: request number `n` goes to the
//!   canary when `floor((n+1)·w/100) > floor(n·w/100)`, so over any run of
//!   `N` consecutive requests the canary gets `N·w/100` of them within one
//!   request, never a random walk.
//! - Testers pick a side with the `X-Gantry-Canary: always|never` header
//!   or the `gantry-canary=always|never` cookie; such requests do not move
//!   the split.
//! - The weight is one atomic: changing it drops no connection and no
//!   request in flight (a request finishes on the side it started on).
//! - Bodies are streamed both ways, never buffered; the time to the
//!   upstream's response headers is bounded (504 after it) and a request
//!   the upstream does not answer gets a 502; both count as upstream
//!   failures of that side.
//! - Hop-by-hop headers (RFC 9110 §7.6.1: `Connection` and the fields it
//!   names, `Keep-Alive`, `Proxy-Connection`, `TE`, `Transfer-Encoding`,
//!   `Upgrade`) are removed in both directions; `X-Forwarded-For` and
//!   `Forwarded` (RFC 7239) are appended.
//! - An optional preview listener sends everything to the canary (blue-green
//!   previews); its requests count on the canary side.

use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::{Authority, PathAndQuery};
use http::{Request, Response, StatusCode, Uri, Version};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::pool::{Pool, UpstreamBody, UpstreamFailed};
use crate::provider::{TrafficError, TrafficProvider};
use crate::stats::{Side, SideStats, TrafficSnapshot};

/// The header a tester sets to choose a side (`always` or `never`).
pub const OVERRIDE_HEADER: &str = "x-gantry-canary";
/// The cookie a tester sets to choose a side (`always` or `never`).
pub const OVERRIDE_COOKIE: &str = "gantry-canary";

/// The body the router answers with: the upstream's, streamed, or its own
/// short error page.
pub type RouterBody = Either<UpstreamBody, Full<Bytes>>;

/// What went wrong setting up the router.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RouterError {
    #[error("invalid upstream `{url}`: {reason}")]
    Upstream { url: String, reason: &'static str },
    #[error("failed to listen on {address}")]
    Bind {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("canary weight {0} is not a percentage (0 to 100)")]
    Weight(u32),
}

/// An upstream base URL: `http://host:port` (no path, no query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    authority: Authority,
}

impl Upstream {
    /// Reads `http://host[:port][/]`. HTTPS upstreams are refused: the
    /// router speaks plain HTTP to services on the same network.
    pub fn parse(url: &str) -> Result<Upstream, RouterError> {
        let refuse = |reason| RouterError::Upstream {
            url: url.to_string(),
            reason,
        };
        let uri: Uri = url
            .parse()
            .map_err(|_| refuse("not a URL like http://127.0.0.1:8080"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => return Err(refuse("https upstreams are not supported; use http")),
            _ => return Err(refuse("the URL must start with http://")),
        }
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| refuse("the URL names no host"))?;
        if authority.as_str().contains('@') {
            return Err(refuse("credentials in the URL are not supported"));
        }
        if let Some(pq) = uri.path_and_query()
            && (pq.path() != "/" || pq.query().is_some())
        {
            return Err(refuse(
                "the URL must have no path or query: requests keep their own",
            ));
        }
        Ok(Upstream { authority })
    }

    pub fn authority(&self) -> &str {
        self.authority.as_str()
    }

    fn pool(&self) -> Arc<Pool> {
        Pool::new(self.authority.host(), self.authority.port_u16())
    }
}

impl fmt::Display for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}", self.authority)
    }
}

/// How to start a [`Router`].
#[derive(Debug, Clone)]
pub struct RouterOptions {
    pub listen: SocketAddr,
    /// A second listener that sends every request to the canary.
    pub preview_listen: Option<SocketAddr>,
    pub stable: Upstream,
    pub canary: Upstream,
    /// The canary's share of new requests at start, in percent.
    pub canary_weight: u32,
    /// How long the upstream may take to send its response headers.
    pub upstream_timeout: Duration,
    /// How long a client may take to send its request headers (HTTP/1).
    pub header_timeout: Duration,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
    /// Client connections served at once (per listener); more wait in
    /// the kernel's accept queue.
    pub max_connections: usize,
}

impl RouterOptions {
    pub fn new(listen: SocketAddr, stable: Upstream, canary: Upstream) -> RouterOptions {
        RouterOptions {
            listen,
            preview_listen: None,
            stable,
            canary,
            canary_weight: 0,
            upstream_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            max_connections: 10_000,
        }
    }
}

/// The state every request task shares.
struct Shared {
    weight: AtomicU32,
    /// Requests split by weight so far (overridden ones do not count).
    sequence: AtomicU64,
    stable: SideStats,
    canary: SideStats,
    stable_upstream: Upstream,
    canary_upstream: Upstream,
    stable_pool: Arc<Pool>,
    canary_pool: Arc<Pool>,
    upstream_timeout: Duration,
}

/// Whether request number `n` of the split goes to the canary at weight
/// `w`: the canary gets exactly `w` of every 100 consecutive requests, as
/// evenly spread as whole requests allow.
pub fn smooth_split(n: u64, weight: u32) -> Side {
    let w = u64::from(weight.min(100));
    let m = n % 100;
    if (m + 1) * w / 100 > m * w / 100 {
        Side::Canary
    } else {
        Side::Stable
    }
}

impl Shared {
    fn pick(&self) -> Side {
        let weight = self.weight.load(Ordering::Relaxed);
        match weight {
            0 => Side::Stable,
            100.. => Side::Canary,
            w => smooth_split(self.sequence.fetch_add(1, Ordering::Relaxed), w),
        }
    }

    fn stats(&self, side: Side) -> &SideStats {
        match side {
            Side::Stable => &self.stable,
            Side::Canary => &self.canary,
        }
    }

    fn upstream(&self, side: Side) -> (&Upstream, &Arc<Pool>) {
        match side {
            Side::Stable => (&self.stable_upstream, &self.stable_pool),
            Side::Canary => (&self.canary_upstream, &self.canary_pool),
        }
    }

    fn snapshot(&self) -> TrafficSnapshot {
        TrafficSnapshot {
            stable: self.stable.snapshot(),
            canary: self.canary.snapshot(),
        }
    }
}

/// A running router. Dropping it stops accepting connections; call
/// [`Router::shutdown`] to also wait for requests in flight.
pub struct Router {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    preview_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("local_addr", &self.local_addr)
            .field("preview_addr", &self.preview_addr)
            .field("canary_weight", &self.canary_weight())
            .finish_non_exhaustive()
    }
}

impl Router {
    /// Binds the listeners and starts serving (on the current tokio
    /// runtime).
    pub async fn start(options: RouterOptions) -> Result<Router, RouterError> {
        if options.canary_weight > 100 {
            return Err(RouterError::Weight(options.canary_weight));
        }
        let shared = Arc::new(Shared {
            weight: AtomicU32::new(options.canary_weight),
            sequence: AtomicU64::new(0),
            stable: SideStats::default(),
            canary: SideStats::default(),
            stable_pool: options.stable.pool(),
            canary_pool: options.canary.pool(),
            stable_upstream: options.stable.clone(),
            canary_upstream: options.canary.clone(),
            upstream_timeout: options.upstream_timeout,
        });
        let bind = |address: SocketAddr| async move {
            TcpListener::bind(address)
                .await
                .map_err(|source| RouterError::Bind { address, source })
        };
        let main = bind(options.listen).await?;
        let preview = match options.preview_listen {
            Some(address) => Some(bind(address).await?),
            None => None,
        };
        let local_addr = local_addr_of(&main, options.listen)?;
        let preview_addr = match (&preview, options.preview_listen) {
            (Some(listener), Some(asked)) => Some(local_addr_of(listener, asked)?),
            _ => None,
        };
        let (stop, stopped) = watch::channel(false);
        let limits = Limits {
            header_timeout: options.header_timeout,
            grace: options.shutdown_grace,
            connections: options.max_connections.max(1),
        };
        let mut tasks = vec![tokio::spawn(serve(
            main,
            shared.clone(),
            None,
            stopped.clone(),
            limits,
        ))];
        if let Some(listener) = preview {
            tasks.push(tokio::spawn(serve(
                listener,
                shared.clone(),
                Some(Side::Canary),
                stopped,
                limits,
            )));
        }
        Ok(Router {
            shared,
            local_addr,
            preview_addr,
            stop,
            tasks,
        })
    }

    /// Where the router listens (the port the OS chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where the preview listener listens, if there is one.
    pub fn preview_addr(&self) -> Option<SocketAddr> {
        self.preview_addr
    }

    pub fn canary_weight(&self) -> u32 {
        self.shared.weight.load(Ordering::Relaxed)
    }

    /// Sets the canary's share of new requests (0 to 100).
    pub fn set_weight(&self, percent: u32) -> Result<(), RouterError> {
        if percent > 100 {
            return Err(RouterError::Weight(percent));
        }
        self.shared.weight.store(percent, Ordering::Relaxed);
        Ok(())
    }

    /// Both sides' counters since the router started.
    pub fn stats(&self) -> TrafficSnapshot {
        self.shared.snapshot()
    }

    /// Stops accepting, lets requests in flight finish (up to the
    /// options' `shutdown_grace`), then returns.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn local_addr_of(listener: &TcpListener, asked: SocketAddr) -> Result<SocketAddr, RouterError> {
    listener.local_addr().map_err(|source| RouterError::Bind {
        address: asked,
        source,
    })
}

impl TrafficProvider for Router {
    fn kind(&self) -> &'static str {
        "router"
    }

    async fn set_canary_weight(&self, percent: u32) -> Result<(), TrafficError> {
        self.set_weight(percent)
            .map_err(|_| TrafficError::Weight(percent))
    }

    async fn snapshot(&self) -> Result<TrafficSnapshot, TrafficError> {
        Ok(self.stats())
    }
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    header_timeout: Duration,
    grace: Duration,
    connections: usize,
}

async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    forced: Option<Side>,
    mut stop: watch::Receiver<bool>,
    limits: Limits,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder.http2().timer(TokioTimer::new());
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.connections));
    loop {
        // A free slot first, so that at most `connections` are served.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            _ = stop.changed() => break,
        };
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    let peer = Arc::new(Peer::new(peer));
                    let service = service_fn(move |request| {
                        let shared = shared.clone();
                        let peer = peer.clone();
                        async move { Ok::<_, Infallible>(forward(&shared, &peer, forced, request).await) }
                    });
                    let connection = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .into_owned();
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        let _ = connection.await;
                        drop(slot);
                    });
                }
                // Out of descriptors and the like: wait a moment rather
                // than spin, and keep serving the connections there are.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(limits.grace, graceful.shutdown()).await;
}

/// The client of a connection as forwarded fields name it, worked out
/// once per connection.
struct Peer {
    /// For `X-Forwarded-For`.
    ip: HeaderValue,
    /// `for=...;proto=http`, for `Forwarded`.
    forwarded: String,
    /// The `Forwarded` value for the host the connection's last request
    /// named: a client sends the same `Host` on every request of a
    /// connection, so it is built once.
    last_forwarded: std::sync::Mutex<Option<(HeaderValue, HeaderValue)>>,
}

impl Peer {
    fn new(address: SocketAddr) -> Peer {
        let ip = address.ip().to_canonical();
        let node = if ip.is_ipv6() {
            format!("\"[{ip}]\"")
        } else {
            ip.to_string()
        };
        Peer {
            ip: HeaderValue::from_str(&ip.to_string())
                .unwrap_or_else(|_| HeaderValue::from_static("unknown")),
            forwarded: format!("for={node};proto=http"),
            last_forwarded: std::sync::Mutex::new(None),
        }
    }

    /// This client's `Forwarded` element for a request to `host` (without
    /// `host=` when there is none, or it is not text).
    fn forwarded(&self, host: Option<&HeaderValue>) -> Option<HeaderValue> {
        let Some((host, text)) = host.and_then(|h| Some((h, h.to_str().ok()?))) else {
            return HeaderValue::from_str(&self.forwarded).ok();
        };
        let mut last = self
            .last_forwarded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((seen, value)) = last.as_ref()
            && seen == host
        {
            return Some(value.clone());
        }
        // A quoted string: its quotes and backslashes are left out.
        let value = format!(
            "{};host=\"{}\"",
            self.forwarded,
            text.replace(['"', '\\'], "")
        );
        let value = HeaderValue::from_str(&value).ok()?;
        *last = Some((host.clone(), value.clone()));
        Some(value)
    }
}

/// Sends one request to its side and streams the answer back.
async fn forward(
    shared: &Shared,
    peer: &Peer,
    forced: Option<Side>,
    request: Request<Incoming>,
) -> Response<RouterBody> {
    let side = forced
        .or_else(|| override_of(request.headers()))
        .unwrap_or_else(|| shared.pick());
    let stats = shared.stats(side);
    let started = Instant::now();
    let (upstream, pool) = shared.upstream(side);
    let request = match upstream_request(request, upstream, peer) {
        Ok(request) => request,
        Err(status) => return error_response(status),
    };
    match tokio::time::timeout(shared.upstream_timeout, pool.send(request)).await {
        Ok(Ok(mut response)) => {
            stats.record_response(response.status().as_u16(), started.elapsed());
            remove_hop_by_hop(response.headers_mut());
            response.map(Either::Left)
        }
        Ok(Err(UpstreamFailed)) => {
            stats.record_failure(started.elapsed());
            error_response(StatusCode::BAD_GATEWAY)
        }
        Err(_) => {
            stats.record_failure(started.elapsed());
            error_response(StatusCode::GATEWAY_TIMEOUT)
        }
    }
}

fn error_response(status: StatusCode) -> Response<RouterBody> {
    let mut response = Response::new(Either::Right(Full::new(Bytes::from(format!("{status}\n")))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The side a tester asked for with the header or the cookie.
fn override_of(headers: &HeaderMap) -> Option<Side> {
    let by_word = |word: &str| match word.trim().to_ascii_lowercase().as_str() {
        "always" | "canary" | "true" | "1" => Some(Side::Canary),
        "never" | "stable" | "false" | "0" => Some(Side::Stable),
        _ => None,
    };
    if let Some(side) = headers
        .get(OVERRIDE_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(by_word)
    {
        return Some(side);
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == OVERRIDE_COOKIE)
        .and_then(|(_, value)| by_word(value.trim_matches('"')))
}

/// The fields RFC 9110 §7.6.1 (and common practice) says a proxy must not
/// forward, besides those `Connection` names.
const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "transfer-encoding",
    "upgrade",
    "trailer",
];

fn remove_hop_by_hop(headers: &mut HeaderMap) {
    // Most messages carry none of these: one pass over the names first,
    // so that they cost no lookups at all.
    let carries_any = headers
        .keys()
        .any(|name| HOP_BY_HOP.contains(&name.as_str()));
    if !carries_any {
        return;
    }
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

/// The request as the upstream gets it: its URI, HTTP/1.1, hop-by-hop
/// fields removed, `Host` kept, and the client named in `X-Forwarded-For`
/// and `Forwarded`.
fn upstream_request(
    request: Request<Incoming>,
    upstream: &Upstream,
    peer: &Peer,
) -> Result<Request<Incoming>, StatusCode> {
    let (mut parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let original_authority = parts.uri.authority().cloned();
    // Origin form: the connection is to the upstream already.
    parts.uri = Uri::from(path);
    parts.version = Version::HTTP_11;
    remove_hop_by_hop(&mut parts.headers);
    // The host the client named: the request target's authority when it
    // has one (HTTP/2's `:authority`, or an absolute-form target, which
    // RFC 9112 §3.2.2 says wins over `Host`), else `Host`.
    let host = match original_authority {
        Some(authority) => {
            let host = HeaderValue::from_str(authority.as_str()).ok();
            if let Some(host) = &host {
                parts.headers.insert(header::HOST, host.clone());
            }
            host
        }
        None => parts.headers.get(header::HOST).cloned(),
    };
    if host.is_none() {
        // An HTTP/1.0 client may name none: the upstream gets its own
        // name, and `Forwarded` says no host.
        if let Ok(own) = HeaderValue::from_str(upstream.authority.as_str()) {
            parts.headers.insert(header::HOST, own);
        }
    }
    append(&mut parts.headers, "x-forwarded-for", &peer.ip);
    if let Some(forwarded) = peer.forwarded(host.as_ref()) {
        append(&mut parts.headers, "forwarded", &forwarded);
    }
    Ok(Request::from_parts(parts, body))
}

/// Appends `value` to a comma-separated list field, joining what earlier
/// proxies wrote into one line.
fn append(headers: &mut HeaderMap, name: &'static str, value: &HeaderValue) {
    if !headers.contains_key(name) {
        headers.insert(name, value.clone());
        return;
    }
    let mut joined = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    if let Ok(value) = value.to_str() {
        if !joined.is_empty() {
            joined.push_str(", ");
        }
        joined.push_str(value);
    }
    if let Ok(joined) = HeaderValue::from_str(&joined) {
        headers.insert(name, joined);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smooth_split_gives_each_side_its_share_within_one_request() {
        for weight in 0..=100u32 {
            // Any window of consecutive requests, from any start.
            for start in [0u64, 7, 99, 1234] {
                let mut canary = 0u64;
                for n in 0..1000u64 {
                    if smooth_split(start + n, weight) == Side::Canary {
                        canary += 1;
                    }
                    let ideal = (n + 1) as f64 * f64::from(weight) / 100.0;
                    assert!(
                        (canary as f64 - ideal).abs() <= 1.0,
                        "weight {weight} start {start} after {} requests: {canary} vs {ideal}",
                        n + 1
                    );
                }
            }
        }
    }

    #[test]
    fn upstreams_are_plain_http_base_urls() {
        assert!(Upstream::parse("http://127.0.0.1:8080").is_ok());
        assert!(Upstream::parse("http://localhost:8080/").is_ok());
        for bad in [
            "https://x:1",
            "127.0.0.1:8080",
            "http://x:1/api",
            "http://x:1/?a",
            "http://u:p@x:1",
            "nope nope",
        ] {
            assert!(Upstream::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn override_reads_the_header_before_the_cookie() {
        let mut headers = HeaderMap::new();
        assert_eq!(override_of(&headers), None);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; gantry-canary=always"),
        );
        assert_eq!(override_of(&headers), Some(Side::Canary));
        headers.insert(OVERRIDE_HEADER, HeaderValue::from_static("never"));
        assert_eq!(override_of(&headers), Some(Side::Stable));
    }

    #[test]
    fn hop_by_hop_fields_and_those_connection_names_are_removed() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("close, x-secret"),
        );
        headers.insert("x-secret", HeaderValue::from_static("1"));
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert(header::TE, HeaderValue::from_static("trailers"));
        headers.insert("x-kept", HeaderValue::from_static("1"));
        remove_hop_by_hop(&mut headers);
        let names: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["x-kept"]);
    }
}
