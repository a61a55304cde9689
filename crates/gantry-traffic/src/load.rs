//! The load generator behind `gantry load`: an open model (a constant
//! arrival rate) or a closed model (a fixed number of connections), with
//! k6-style thresholds on the result.
//!
//! Open model: request `i` is due at `start + i / rate`. Connection tasks
//! take the next due request from one shared counter, wait until it is due
//! and send it; its latency is measured from when it was due, not from
//! when it could be sent, so a slow server that holds every connection
//! busy shows up in the latency instead of silently lowering the rate
//! (coordinated omission, as wrk2 and k6's arrival-rate executors correct
//! it). When a request starts late while every connection is waiting for
//! a response, the generator opens another connection, up to
//! [`LoadSpec::max_connections`]. Requests are sent up to half a
//! millisecond early (the timer's granularity); an early one is measured
//! from when it was sent.
//!
//! Closed model: `--concurrency N` connections each send their next
//! request when the previous one finished; latency is from sending.
//!
//! HTTP/1.1 with keep-alive over hyper's client connections; a connection
//! that fails is replaced for the next request. A 5xx response, a refused
//! or failed connection, a broken response and a request that took longer
//! than [`LoadSpec::timeout`] are errors, each counted by kind.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::time::Instant;

use crate::stats::Histogram;

/// The version of the JSON document of `gantry load --format json`.
pub const DOCUMENT_VERSION: u32 = 1;

/// Default bound on connections of the open model.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// Default time one request may take before it counts as a timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Bad input to the load generator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error("invalid URL `{url}`: {reason}")]
    Url { url: String, reason: String },
    #[error("invalid rate `{text}`: {reason}")]
    Rate { text: String, reason: String },
    #[error("invalid duration `{text}`: {reason}")]
    Duration { text: String, reason: String },
    #[error("invalid threshold `{text}` at column {column}: {reason}")]
    Threshold {
        text: String,
        /// 1-based, in characters.
        column: usize,
        reason: String,
    },
    #[error("invalid load settings: {0}")]
    Settings(String),
}

impl LoadError {
    /// For a threshold error, the text and a caret under the column at
    /// fault, to print below the message.
    pub fn pointer(&self) -> Option<String> {
        match self {
            LoadError::Threshold { text, column, .. } => {
                Some(format!("{text}\n{}^", " ".repeat(column.saturating_sub(1))))
            }
            _ => None,
        }
    }
}

/// How requests are paced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// Open model: this many requests per second, whatever the server does.
    Rate(f64),
    /// Closed model: this many connections, each one request at a time.
    Concurrency(usize),
}

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// An `http://` URL; every request is a GET of it.
    pub url: String,
    pub model: Model,
    pub duration: Duration,
    pub thresholds: Vec<Threshold>,
    /// How long one request may take.
    pub timeout: Duration,
    /// The most connections the open model opens, and the largest
    /// concurrency the closed model accepts.
    pub max_connections: usize,
}

impl LoadSpec {
    pub fn new(url: &str, model: Model, duration: Duration) -> LoadSpec {
        LoadSpec {
            url: url.to_string(),
            model,
            duration,
            thresholds: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Parses a rate: `100/s`, `100` (per second), `6000/m`, `0.5/s`.
pub fn parse_rate(text: &str) -> Result<f64, LoadError> {
    let error = |reason: &str| LoadError::Rate {
        text: text.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = text.trim();
    let (number, per) = match trimmed.split_once('/') {
        Some((n, unit)) => {
            let seconds = match unit.trim() {
                "s" | "sec" | "second" => 1.0,
                "m" | "min" | "minute" => 60.0,
                "h" | "hour" => 3600.0,
                _ => return Err(error("the unit after `/` must be s, m or h")),
            };
            (n.trim(), seconds)
        }
        None => (trimmed, 1.0),
    };
    let n: f64 = number
        .parse()
        .map_err(|_| error("expected a number of requests, as in `100/s`"))?;
    let rate = n / per;
    if !rate.is_finite() || rate <= 0.0 {
        return Err(error("the rate must be above zero"));
    }
    if rate > 10_000_000.0 {
        return Err(error("the rate must be at most 10,000,000/s"));
    }
    Ok(rate)
}

/// Parses a duration: `500ms`, `10s`, `2m`, `1h`, `1m30s`, or seconds.
pub fn parse_duration(text: &str) -> Result<Duration, LoadError> {
    let error = |reason: &str| LoadError::Duration {
        text: text.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(error("it is empty"));
    }
    if let Ok(seconds) = trimmed.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds)
            .map_err(|_| error("expected a non-negative number of seconds"));
    }
    let mut total = Duration::ZERO;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(split);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let n: f64 = number
            .parse()
            .map_err(|_| error("expected a number before each unit, as in `1m30s`"))?;
        let scale = match unit {
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(error("a number needs a unit (ms, s, m or h)")),
            _ => return Err(error("units are us, ms, s, m and h")),
        };
        total += Duration::try_from_secs_f64(n * scale).map_err(|_| error("it is too long"))?;
        rest = next;
    }
    Ok(total)
}

/// A latency statistic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LatencyStat {
    /// A quantile, 0 to 100 (`p99` is 99).
    Percentile(f64),
    Max,
    Avg,
}

/// What a threshold looks at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// Latency, compared in milliseconds.
    Latency(LatencyStat),
    /// Errors over requests, 0 to 1.
    ErrorRate,
    /// Requests per second achieved.
    Rps,
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
}

impl Op {
    fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Op::Lt => left < right,
            Op::Le => left <= right,
            Op::Gt => left > right,
            Op::Ge => left >= right,
        }
    }
}

/// A k6-style pass/fail criterion: `p99<500ms`, `avg<=0.2s`,
/// `error_rate<0.01`, `rps>=100`. Latency without a unit is in
/// milliseconds, as in k6.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub text: String,
    pub metric: Metric,
    pub op: Op,
    /// Milliseconds for latency, a ratio for `error_rate`, per second for
    /// `rps`.
    pub value: f64,
}

impl FromStr for Threshold {
    type Err = LoadError;

    fn from_str(text: &str) -> Result<Threshold, LoadError> {
        let fail = |byte: usize, reason: &str| LoadError::Threshold {
            text: text.to_string(),
            column: text[..byte.min(text.len())].chars().count() + 1,
            reason: reason.to_string(),
        };
        let Some(op_at) = text.find(['<', '>', '=', '!']) else {
            return Err(fail(
                text.len(),
                "expected a comparison: <, <=, > or >=, as in `p99<500ms`",
            ));
        };
        let name = text[..op_at].trim();
        let name_at = text.len() - text.trim_start().len();
        let metric = match name {
            "error_rate" | "http_req_failed" => Metric::ErrorRate,
            "rps" => Metric::Rps,
            "max" => Metric::Latency(LatencyStat::Max),
            "avg" => Metric::Latency(LatencyStat::Avg),
            "" => return Err(fail(name_at, "expected a metric before the comparison")),
            _ => {
                let number = name
                    .strip_prefix("p(")
                    .and_then(|n| n.strip_suffix(')'))
                    .or_else(|| name.strip_prefix('p'));
                match number.and_then(|n| n.parse::<f64>().ok()) {
                    Some(q) if (0.0..=100.0).contains(&q) => {
                        Metric::Latency(LatencyStat::Percentile(q))
                    }
                    Some(_) => return Err(fail(name_at, "a percentile is from p0 to p100")),
                    None => {
                        return Err(fail(
                            name_at,
                            "unknown metric: expected p50, p90, p95, p99, max, avg, error_rate or rps",
                        ));
                    }
                }
            }
        };
        let after_op = &text[op_at..];
        let (op, op_len) = if after_op.starts_with("<=") {
            (Op::Le, 2)
        } else if after_op.starts_with(">=") {
            (Op::Ge, 2)
        } else if after_op.starts_with('<') {
            (Op::Lt, 1)
        } else if after_op.starts_with('>') {
            (Op::Gt, 1)
        } else {
            return Err(fail(op_at, "the comparison must be <, <=, > or >="));
        };
        let value_at = op_at + op_len;
        let value_text = text[value_at..].trim();
        let value_at = value_at + (text[value_at..].len() - text[value_at..].trim_start().len());
        if value_text.is_empty() {
            return Err(fail(value_at, "expected a value after the comparison"));
        }
        let digits = value_text
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e'))
            .unwrap_or(value_text.len());
        let (number, unit) = value_text.split_at(digits);
        let Ok(number) = number.parse::<f64>() else {
            return Err(fail(value_at, "expected a number"));
        };
        if !number.is_finite() || number < 0.0 {
            return Err(fail(value_at, "the value must be a number from 0 up"));
        }
        let unit_at = value_at + digits;
        let value = match metric {
            Metric::Latency(_) => match unit.trim() {
                "" | "ms" => number,
                "s" => number * 1000.0,
                "us" | "µs" => number / 1000.0,
                _ => return Err(fail(unit_at, "a latency's unit is ms, s or us")),
            },
            Metric::ErrorRate => match unit.trim() {
                "" => number,
                "%" => number / 100.0,
                _ => {
                    return Err(fail(
                        unit_at,
                        "an error rate is a ratio (0.01) or a percentage (1%)",
                    ));
                }
            },
            Metric::Rps => match unit.trim() {
                "" | "/s" => number,
                _ => return Err(fail(unit_at, "a rate is a number of requests per second")),
            },
        };
        Ok(Threshold {
            text: text.to_string(),
            metric,
            op,
            value,
        })
    }
}

/// Responses and failures by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErrorCounts {
    /// Responses with a 5xx status.
    pub status_5xx: u64,
    /// Connections that could not be opened.
    pub connect: u64,
    /// Requests that took longer than the timeout.
    pub timeout: u64,
    /// Connections that broke before a whole response arrived.
    pub io: u64,
}

impl ErrorCounts {
    pub fn total(&self) -> u64 {
        self.status_5xx + self.connect + self.timeout + self.io
    }
}

/// Latency statistics in milliseconds (`None` with no requests).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LatencyReport {
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub avg_ms: Option<f64>,
}

/// One threshold and its verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThresholdResult {
    pub threshold: String,
    /// What was measured, in the threshold's unit (ms, ratio, per
    /// second); `None` when nothing was measured (a failure).
    pub observed: Option<f64>,
    pub passed: bool,
}

/// What a load run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadReport {
    pub version: u32,
    pub url: String,
    /// `rate` or `concurrency`.
    pub model: &'static str,
    /// The requested rate (open model).
    pub target_rate: Option<f64>,
    /// The connections of the closed model, or the most the open model
    /// opened.
    pub connections: usize,
    pub duration_seconds: f64,
    pub requests: u64,
    /// Requests per second achieved.
    pub rate: f64,
    /// Responses by status class: index 0 is 1xx, 4 is 5xx.
    pub status_classes: [u64; 5],
    pub errors: ErrorCounts,
    pub error_rate: Option<f64>,
    pub latency: LatencyReport,
    pub thresholds: Vec<ThresholdResult>,
}

impl LoadReport {
    /// Whether every threshold held.
    pub fn passed(&self) -> bool {
        self.thresholds.iter().all(|t| t.passed)
    }
}

struct Target {
    addr: SocketAddr,
    authority: String,
    path: String,
}

async fn resolve(url: &str) -> Result<Target, LoadError> {
    let error = |reason: &str| LoadError::Url {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let uri: http::Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| error(&e.to_string()))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(_) => return Err(error("only http:// URLs can be loaded")),
        None => return Err(error("expected an absolute http:// URL")),
    }
    let authority = uri
        .authority()
        .ok_or_else(|| error("the URL has no host"))?
        .clone();
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = authority.port_u16().unwrap_or(80);
    let addr = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| error(&format!("the host does not resolve: {e}")))?
        .next()
        .ok_or_else(|| error("the host does not resolve"))?;
    let path = uri
        .path_and_query()
        .map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
    Ok(Target {
        addr,
        authority: authority.as_str().to_string(),
        path,
    })
}

/// Counters every connection task records into.
#[derive(Default)]
struct Shared {
    latency: Histogram,
    sum_micros: AtomicU64,
    max_micros: AtomicU64,
    classes: [AtomicU64; 5],
    status_5xx: AtomicU64,
    connect: AtomicU64,
    timeout: AtomicU64,
    io: AtomicU64,
    requests: AtomicU64,
    /// The next request index of the open model.
    next: AtomicU64,
    /// Connection tasks of the open model, and the most at once.
    workers: AtomicUsize,
    /// Open-model requests sent and not yet answered.
    in_flight: AtomicUsize,
    /// Time from sending to the answer (not from the due time), summed
    /// over the open model's requests: by Little's law, rate times its
    /// mean is how many connections the rate needs.
    service_micros: AtomicU64,
    last_done_micros: AtomicU64,
}

enum Outcome {
    Status(u16),
    Connect,
    Timeout,
    Io,
}

impl Shared {
    fn record(&self, outcome: &Outcome, latency: Duration, done_since_start: Duration) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency.record(latency);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.max_micros.fetch_max(micros, Ordering::Relaxed);
        let done = u64::try_from(done_since_start.as_micros()).unwrap_or(u64::MAX);
        self.last_done_micros.fetch_max(done, Ordering::Relaxed);
        let counter = match outcome {
            Outcome::Status(status) => {
                if let Some(class) = (status / 100).checked_sub(1).filter(|c| *c < 5) {
                    self.classes[usize::from(class)].fetch_add(1, Ordering::Relaxed);
                }
                if (500..600).contains(status) {
                    &self.status_5xx
                } else {
                    return;
                }
            }
            Outcome::Connect => &self.connect,
            Outcome::Timeout => &self.timeout,
            Outcome::Io => &self.io,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// One keep-alive connection, opened when needed.
struct Connection {
    target: Arc<Target>,
    sender: Option<SendRequest<Empty<Bytes>>>,
    timeout: Duration,
}

impl Connection {
    async fn request(&mut self) -> Outcome {
        let deadline = Instant::now() + self.timeout;
        match tokio::time::timeout_at(deadline, self.exchange()).await {
            Ok(outcome) => outcome,
            Err(_) => {
                // The connection may still carry the late response.
                self.sender = None;
                Outcome::Timeout
            }
        }
    }

    async fn exchange(&mut self) -> Outcome {
        if let Some(sender) = &mut self.sender
            && sender.ready().await.is_err()
        {
            self.sender = None;
        }
        let sender = match &mut self.sender {
            Some(sender) => sender,
            None => {
                let Ok(stream) = tokio::net::TcpStream::connect(self.target.addr).await else {
                    return Outcome::Connect;
                };
                let _ = stream.set_nodelay(true);
                let Ok((sender, connection)) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
                else {
                    return Outcome::Connect;
                };
                tokio::spawn(connection);
                self.sender.insert(sender)
            }
        };
        let request = match http::Request::get(self.target.path.as_str())
            .header(http::header::HOST, self.target.authority.as_str())
            .header(http::header::USER_AGENT, "gantry-load")
            .body(Empty::new())
        {
            Ok(request) => request,
            Err(_) => return Outcome::Io,
        };
        match sender.send_request(request).await {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.into_body().collect().await {
                    Ok(_) => Outcome::Status(status),
                    Err(_) => {
                        self.sender = None;
                        Outcome::Io
                    }
                }
            }
            Err(_) => {
                self.sender = None;
                Outcome::Io
            }
        }
    }
}

/// Runs the load and judges the thresholds.
pub async fn run(spec: &LoadSpec) -> Result<LoadReport, LoadError> {
    match spec.model {
        Model::Rate(rate) if !(rate.is_finite() && rate > 0.0) => {
            return Err(LoadError::Settings(format!(
                "the rate must be above zero (it is {rate})"
            )));
        }
        Model::Concurrency(0) => {
            return Err(LoadError::Settings(
                "the concurrency must be at least 1".into(),
            ));
        }
        _ => {}
    }
    if spec.duration.is_zero() {
        return Err(LoadError::Settings(
            "the duration must be above zero".into(),
        ));
    }
    if spec.max_connections == 0 {
        return Err(LoadError::Settings(
            "the connection limit must be at least 1".into(),
        ));
    }
    if let Model::Concurrency(n) = spec.model
        && n > spec.max_connections
    {
        return Err(LoadError::Settings(format!(
            "a concurrency of {n} is above the connection limit of {} (raise it with --max-connections)",
            spec.max_connections
        )));
    }
    let target = Arc::new(resolve(&spec.url).await?);
    let shared = Arc::new(Shared::default());
    let start = Instant::now();
    let end = start + spec.duration;

    let connections = match spec.model {
        Model::Concurrency(n) => {
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..n {
                let shared = shared.clone();
                let mut connection = Connection {
                    target: target.clone(),
                    sender: None,
                    timeout: spec.timeout,
                };
                tasks.spawn(async move {
                    while Instant::now() < end {
                        let sent = Instant::now();
                        let outcome = connection.request().await;
                        let done = Instant::now();
                        shared.record(&outcome, done - sent, done - start);
                    }
                });
            }
            while tasks.join_next().await.is_some() {}
            n
        }
        Model::Rate(rate) => {
            let open = OpenModel {
                shared: shared.clone(),
                target: target.clone(),
                timeout: spec.timeout,
                start,
                end,
                rate,
                max: spec.max_connections,
                tasks: Arc::new(std::sync::Mutex::new(tokio::task::JoinSet::new())),
            };
            let initial = ((rate / 100.0).ceil() as usize)
                .clamp(4, 64)
                .min(spec.max_connections);
            for _ in 0..initial {
                open.spawn_worker();
            }
            // Workers may add workers while others finish: wait until the
            // set is empty.
            loop {
                let next = {
                    let mut tasks = open
                        .tasks
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    tasks.try_join_next()
                };
                match next {
                    Some(_) => continue,
                    None => {
                        let empty = open
                            .tasks
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .is_empty();
                        if empty {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
            shared.workers.load(Ordering::Relaxed)
        }
    };

    let last_done = Duration::from_micros(shared.last_done_micros.load(Ordering::Relaxed));
    let elapsed = spec.duration.max(last_done);
    Ok(report(spec, &shared, connections, elapsed))
}

/// The open model's connection tasks.
#[derive(Clone)]
struct OpenModel {
    shared: Arc<Shared>,
    target: Arc<Target>,
    timeout: Duration,
    start: Instant,
    end: Instant,
    rate: f64,
    max: usize,
    tasks: Arc<std::sync::Mutex<tokio::task::JoinSet<()>>>,
}

/// A request that starts this late while every connection is busy asks
/// for another connection.
const LATE: Duration = Duration::from_millis(2);
/// The timer fires on whole milliseconds: wake this much before a request
/// is due.
const EARLY: Duration = Duration::from_micros(500);

impl OpenModel {
    /// Adds a connection task unless the limit is reached.
    fn spawn_worker(&self) -> bool {
        let reserved = self
            .shared
            .workers
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok();
        if reserved {
            let worker = self.clone();
            self.tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .spawn(async move { worker.work().await });
        }
        reserved
    }

    /// Connections the rate needs: twice the rate times the mean time a
    /// request is in flight (Little's law), and a few to start with.
    fn needed(&self) -> usize {
        let answered = self.shared.requests.load(Ordering::Relaxed);
        if answered == 0 {
            return self.max;
        }
        let mean =
            self.shared.service_micros.load(Ordering::Relaxed) as f64 / answered as f64 / 1e6;
        (2.0 * self.rate * mean).ceil() as usize + 4
    }

    async fn work(self) {
        let mut connection = Connection {
            target: self.target.clone(),
            sender: None,
            timeout: self.timeout,
        };
        loop {
            let index = self.shared.next.fetch_add(1, Ordering::Relaxed);
            let offset = Duration::from_secs_f64(index as f64 / self.rate);
            let due = self.start + offset;
            if due >= self.end {
                break;
            }
            if let Some(wake) = due.checked_sub(EARLY)
                && wake > Instant::now()
            {
                tokio::time::sleep_until(wake).await;
            }
            let sent = Instant::now();
            let busy = self.shared.in_flight.fetch_add(1, Ordering::Relaxed);
            // Late while every other connection waits for a response, and
            // fewer connections than the rate needs: one more will help
            // (late because the machine is busy, more would not).
            if sent.saturating_duration_since(due) > LATE {
                let workers = self.shared.workers.load(Ordering::Relaxed);
                if busy + 1 >= workers && workers < self.needed() {
                    self.spawn_worker();
                }
            }
            let outcome = connection.request().await;
            self.shared.in_flight.fetch_sub(1, Ordering::Relaxed);
            let done = Instant::now();
            let service = u64::try_from((done - sent).as_micros()).unwrap_or(u64::MAX);
            self.shared
                .service_micros
                .fetch_add(service, Ordering::Relaxed);
            let from = due.min(sent);
            self.shared.record(&outcome, done - from, done - self.start);
        }
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(spec: &LoadSpec, shared: &Shared, connections: usize, elapsed: Duration) -> LoadReport {
    let histogram = shared.latency.snapshot();
    let requests = shared.requests.load(Ordering::Relaxed);
    let max = Duration::from_micros(shared.max_micros.load(Ordering::Relaxed));
    // A quantile is a bucket's upper bound: never above the largest seen.
    let quantile = |q: f64| histogram.quantile(q).map(|d| millis(d.min(max)));
    let avg = (requests > 0)
        .then(|| shared.sum_micros.load(Ordering::Relaxed) as f64 / requests as f64 / 1000.0);
    let errors = ErrorCounts {
        status_5xx: shared.status_5xx.load(Ordering::Relaxed),
        connect: shared.connect.load(Ordering::Relaxed),
        timeout: shared.timeout.load(Ordering::Relaxed),
        io: shared.io.load(Ordering::Relaxed),
    };
    let error_rate = (requests > 0).then(|| errors.total() as f64 / requests as f64);
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        requests as f64 / seconds
    } else {
        0.0
    };
    let latency = LatencyReport {
        p50_ms: quantile(0.50),
        p90_ms: quantile(0.90),
        p95_ms: quantile(0.95),
        p99_ms: quantile(0.99),
        max_ms: (requests > 0).then(|| millis(max)),
        avg_ms: avg,
    };
    let thresholds = spec
        .thresholds
        .iter()
        .map(|t| {
            let observed = match t.metric {
                Metric::Latency(LatencyStat::Percentile(p)) => quantile(p / 100.0),
                Metric::Latency(LatencyStat::Max) => latency.max_ms,
                Metric::Latency(LatencyStat::Avg) => latency.avg_ms,
                Metric::ErrorRate => error_rate,
                Metric::Rps => Some(rate),
            };
            ThresholdResult {
                threshold: t.text.clone(),
                observed,
                passed: observed.is_some_and(|v| t.op.holds(v, t.value)),
            }
        })
        .collect();
    LoadReport {
        version: DOCUMENT_VERSION,
        url: spec.url.clone(),
        model: match spec.model {
            Model::Rate(_) => "rate",
            Model::Concurrency(_) => "concurrency",
        },
        target_rate: match spec.model {
            Model::Rate(r) => Some(r),
            Model::Concurrency(_) => None,
        },
        connections,
        duration_seconds: seconds,
        requests,
        rate,
        status_classes: std::array::from_fn(|i| shared.classes[i].load(Ordering::Relaxed)),
        errors,
        error_rate,
        latency,
        thresholds,
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn threshold(text: &str) -> Result<Threshold, LoadError> {
        text.parse()
    }

    #[test]
    fn thresholds_parse_with_units() {
        let t = threshold("p99<500ms").unwrap();
        assert_eq!(t.metric, Metric::Latency(LatencyStat::Percentile(99.0)));
        assert_eq!((t.op, t.value), (Op::Lt, 500.0));
        assert_eq!(threshold("p95 <= 1.5s").unwrap().value, 1500.0);
        assert_eq!(threshold("p(90)<200").unwrap().value, 200.0);
        assert_eq!(threshold("avg<250us").unwrap().value, 0.25);
        assert_eq!(
            threshold("max<2s").unwrap().metric,
            Metric::Latency(LatencyStat::Max)
        );
        let e = threshold("error_rate<1%").unwrap();
        assert_eq!((e.metric, e.value), (Metric::ErrorRate, 0.01));
        let r = threshold("rps>=100").unwrap();
        assert_eq!((r.metric, r.op, r.value), (Metric::Rps, Op::Ge, 100.0));
    }

    #[test]
    fn threshold_errors_point_at_the_text() {
        let column = |text: &str| match threshold(text) {
            Err(LoadError::Threshold { column, .. }) => column,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(column("p99"), 4);
        assert_eq!(column("latency<5ms"), 1);
        assert_eq!(column("p99<5parsecs"), 6);
        assert_eq!(column("p99<"), 5);
        assert_eq!(column("p99<fast"), 5);
        assert_eq!(column("p99=5ms"), 4);
        assert_eq!(column("p101<5ms"), 1);
        assert_eq!(column("error_rate<0.1s"), 15);
        let pointer = threshold("p99<5parsecs").unwrap_err().pointer().unwrap();
        assert_eq!(pointer, "p99<5parsecs\n     ^");
    }

    #[test]
    fn rates_and_durations_parse() {
        assert_eq!(parse_rate("100/s").unwrap(), 100.0);
        assert_eq!(parse_rate("60/m").unwrap(), 1.0);
        assert_eq!(parse_rate("250").unwrap(), 250.0);
        assert!(parse_rate("0/s").is_err());
        assert!(parse_rate("10/fortnight").is_err());
        assert!(parse_rate("fast").is_err());
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert!(parse_duration("10").is_ok());
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("").is_err());
    }
}
