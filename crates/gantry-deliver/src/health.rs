//! Health checks: an HTTP(S) GET repeated until it answers as expected.
//!
//! Each attempt has its own timeout; a failed attempt is retried after an
//! exponential backoff with full jitter (a random wait between zero and
//! `backoff * 2^n`, capped at [`MAX_BACKOFF`]), and the whole check stops
//! at its deadline, whatever retries are left. The result lists every
//! attempt (status, latency, error), so a deployment's record says why a
//! check failed. Used by the `gantry/health-check` action and by an
//! environment's `health_check:`.

use std::time::{Duration, Instant};

use regex::Regex;
use serde::Serialize;

/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The most of a body read to match it.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// How the body must look.
#[derive(Debug, Clone)]
pub enum BodyMatch {
    /// The body contains this text.
    Contains(String),
    /// The body matches this regular expression somewhere.
    Regex(Regex),
}

/// What to check and how patiently.
#[derive(Debug, Clone)]
pub struct HealthCheck {
    /// `http://` or `https://`.
    pub url: String,
    pub expected_status: u16,
    pub body: Option<BodyMatch>,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// How many times a failed attempt is tried again.
    pub retries: u32,
    /// The first wait between attempts (doubled each time, with jitter).
    pub backoff: Duration,
    /// When the whole check gives up, counted from its start.
    pub deadline: Duration,
}

impl HealthCheck {
    /// A check of `url` with the defaults: status 200, 5 s per attempt,
    /// 3 retries from a 1 s backoff, a 60 s deadline.
    pub fn new(url: impl Into<String>) -> HealthCheck {
        HealthCheck {
            url: url.into(),
            expected_status: 200,
            body: None,
            timeout: Duration::from_secs(5),
            retries: 3,
            backoff: Duration::from_secs(1),
            deadline: Duration::from_secs(60),
        }
    }

    /// A check from the `gantry/health-check` action's inputs (`url`,
    /// `expected-status`, `body`, `body-regex`, `timeout`, `retries`,
    /// `backoff`, `deadline`); `input` gives an input's value when set.
    pub fn from_inputs(input: &dyn Fn(&str) -> Option<String>) -> Result<HealthCheck, InputError> {
        let url = input("url").ok_or(InputError::Missing { name: "url" })?;
        check_url(&url).map_err(|reason| InputError::Invalid {
            name: "url",
            value: url.clone(),
            reason,
        })?;
        let mut check = HealthCheck::new(url);
        if let Some(v) = input("expected-status") {
            check.expected_status = parse_status(&v).map_err(|reason| InputError::Invalid {
                name: "expected-status",
                value: v.clone(),
                reason,
            })?;
        }
        match (input("body"), input("body-regex")) {
            (Some(_), Some(_)) => return Err(InputError::BothBodies),
            (Some(text), None) => check.body = Some(BodyMatch::Contains(text)),
            (None, Some(pattern)) => {
                let regex = Regex::new(&pattern).map_err(|e| InputError::Invalid {
                    name: "body-regex",
                    value: pattern.clone(),
                    reason: e.to_string(),
                })?;
                check.body = Some(BodyMatch::Regex(regex));
            }
            (None, None) => {}
        }
        let duration = |name: &'static str, into: &mut Duration| -> Result<(), InputError> {
            if let Some(v) = input(name) {
                *into = parse_duration(&v).map_err(|reason| InputError::Invalid {
                    name,
                    value: v.clone(),
                    reason,
                })?;
            }
            Ok(())
        };
        duration("timeout", &mut check.timeout)?;
        duration("backoff", &mut check.backoff)?;
        duration("deadline", &mut check.deadline)?;
        if let Some(v) = input("retries") {
            check.retries = v.trim().parse().map_err(|_| InputError::Invalid {
                name: "retries",
                value: v.clone(),
                reason: "expected a whole number of at least 0".into(),
            })?;
        }
        if check.timeout.is_zero() {
            return Err(InputError::Invalid {
                name: "timeout",
                value: "0".into(),
                reason: "an attempt needs some time".into(),
            });
        }
        Ok(check)
    }
}

/// A `gantry/health-check` input that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    #[error("input `{name}` is required")]
    Missing { name: &'static str },
    #[error("input `{name}` is `{value}`: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error("give either `body` (a substring) or `body-regex`, not both")]
    BothBodies,
}

/// Why `url` cannot be checked, if it cannot.
pub fn check_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme is `{}`; use http or https",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("the URL names no host".into());
    }
    Ok(())
}

/// An HTTP status code, 100 to 599.
pub fn parse_status(text: &str) -> Result<u16, String> {
    match text.trim().parse::<u16>() {
        Ok(n) if (100..=599).contains(&n) => Ok(n),
        _ => Err("expected an HTTP status code from 100 to 599".into()),
    }
}

/// A duration as `5s`, `500ms`, `2m`, `1h30m` or ISO 8601; a bare number
/// is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let d = gantry_promote::config::parse_duration(text)?;
    d.try_into()
        .map_err(|_| "a duration cannot be negative".to_string())
}

/// One attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// 1 for the first.
    pub number: u32,
    /// The status the server answered with, if it answered.
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// What was wrong, when the attempt failed.
    pub error: Option<String>,
}

/// How a health check ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthReport {
    pub url: String,
    pub healthy: bool,
    pub attempts: Vec<Attempt>,
    /// Why it gave up, when it did: the last attempt's error, and whether
    /// retries or the deadline ran out.
    pub reason: Option<String>,
    pub duration_ms: u64,
}

impl HealthReport {
    /// One line: "healthy after 3 attempts" or the reason.
    pub fn summary(&self) -> String {
        let n = self.attempts.len();
        let attempts = if n == 1 {
            "1 attempt".to_string()
        } else {
            format!("{n} attempts")
        };
        match &self.reason {
            None => format!("{} is healthy after {attempts}", self.url),
            Some(reason) => format!("{} is unhealthy after {attempts}: {reason}", self.url),
        }
    }
}

/// A client for health checks: rustls, no redirects followed beyond
/// reqwest's default of 10, no proxy from the environment for loopback.
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .user_agent(concat!("gantry/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Runs `check` to its end: healthy, out of retries, or past its deadline.
pub async fn run(check: &HealthCheck, client: &reqwest::Client) -> HealthReport {
    let started = Instant::now();
    let deadline = started + check.deadline;
    let mut attempts = Vec::new();
    let mut number = 0u32;
    loop {
        number += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        let timeout = check.timeout.min(left);
        let attempt = attempt(check, client, number, timeout).await;
        let ok = attempt.error.is_none();
        attempts.push(attempt);
        if ok {
            return report(check, attempts, None, started);
        }
        let last = attempts
            .last()
            .and_then(|a| a.error.clone())
            .unwrap_or_default();
        if number > check.retries {
            let reason = format!(
                "{last} (no retries left of {})",
                plural(check.retries, "retry", "retries")
            );
            return report(check, attempts, Some(reason), started);
        }
        let wait = full_jitter(check.backoff, number - 1);
        if Instant::now() + wait >= deadline {
            let reason = format!("{last} (deadline of {} reached)", humantime(check.deadline));
            return report(check, attempts, Some(reason), started);
        }
        tokio::time::sleep(wait).await;
    }
}

fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `1.5s`, `250ms`.
fn humantime(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

fn report(
    check: &HealthCheck,
    attempts: Vec<Attempt>,
    reason: Option<String>,
    started: Instant,
) -> HealthReport {
    HealthReport {
        url: check.url.clone(),
        healthy: reason.is_none(),
        attempts,
        reason,
        duration_ms: started.elapsed().as_millis() as u64,
    }
}

/// A random wait between zero and `base * 2^n` (at most [`MAX_BACKOFF`]).
pub fn full_jitter(base: Duration, n: u32) -> Duration {
    let cap = base
        .saturating_mul(2u32.saturating_pow(n.min(31)))
        .min(MAX_BACKOFF);
    let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        return Duration::ZERO;
    }
    // Without OS randomness, the whole backoff: slower, never a storm.
    let random = getrandom::u64().unwrap_or(u64::MAX);
    Duration::from_nanos(random % (nanos + 1))
}

async fn attempt(
    check: &HealthCheck,
    client: &reqwest::Client,
    number: u32,
    timeout: Duration,
) -> Attempt {
    let started = Instant::now();
    let result = tokio::time::timeout(timeout, fetch(check, client)).await;
    let latency_ms = started.elapsed().as_millis() as u64;
    let (status, error) = match result {
        Err(_) => (
            None,
            Some(format!("no answer within {}", humantime(timeout))),
        ),
        Ok(Err(e)) => (None, Some(describe(&e))),
        Ok(Ok((status, body))) => {
            if status != check.expected_status {
                (
                    Some(status),
                    Some(format!(
                        "status {status}, expected {}",
                        check.expected_status
                    )),
                )
            } else {
                (Some(status), body_mismatch(check, &body))
            }
        }
    };
    Attempt {
        number,
        status,
        latency_ms,
        error,
    }
}

fn body_mismatch(check: &HealthCheck, body: &str) -> Option<String> {
    match &check.body {
        None => None,
        Some(BodyMatch::Contains(text)) if body.contains(text.as_str()) => None,
        Some(BodyMatch::Contains(text)) => Some(format!("the body does not contain `{text}`")),
        Some(BodyMatch::Regex(re)) if re.is_match(body) => None,
        Some(BodyMatch::Regex(re)) => Some(format!("the body does not match `{}`", re.as_str())),
    }
}

/// The error and its causes, as one line.
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

async fn fetch(
    check: &HealthCheck,
    client: &reqwest::Client,
) -> Result<(u16, String), reqwest::Error> {
    let mut response = client.get(&check.url).send().await?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    if check.body.is_some() {
        while let Some(chunk) = response.chunk().await? {
            let room = MAX_BODY_BYTES.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() >= MAX_BODY_BYTES {
                break;
            }
        }
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}
