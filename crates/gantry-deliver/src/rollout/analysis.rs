//! Judging one analysis interval, Argo's `failureLimit` and
//! `consecutiveErrorLimit` over a run of intervals, the Prometheus query
//! and the Flagger-style webhooks.

use std::time::Duration;

use serde::Serialize;

use gantry_traffic::SideSnapshot;

use super::config::{AnalysisConfig, PromQuery, Webhook};

/// What one interval showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Successful,
    Failed,
    /// Too few samples to say: the rollout pauses rather than guess.
    Inconclusive,
    /// The measurement itself failed (Prometheus or the provider was not
    /// reachable).
    Error,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Successful => "successful",
            Verdict::Failed => "failed",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Error => "error",
        }
    }
}

/// One interval's measurement of the canary and what it means.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntervalReport {
    /// Counted from 1 over the rollout.
    pub index: u32,
    pub requests: u64,
    pub errors: u64,
    pub success_rate: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// The Prometheus query's value, when one is configured.
    pub query_value: Option<f64>,
    pub verdict: Verdict,
    /// Why it is not successful, one reason per broken threshold.
    pub reasons: Vec<String>,
}

fn millis(d: Option<Duration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64() * 1000.0)
}

/// Judges the canary's requests of one interval (and the query's value,
/// if one is configured) against the thresholds.
pub fn judge(
    config: &AnalysisConfig,
    index: u32,
    canary: &SideSnapshot,
    query: Option<Result<f64, QueryError>>,
) -> IntervalReport {
    let requests = canary.requests();
    let p99 = canary.latency.quantile(0.99);
    let mut report = IntervalReport {
        index,
        requests,
        errors: canary.errors(),
        success_rate: canary.success_rate(),
        p50_ms: millis(canary.latency.quantile(0.50)),
        p95_ms: millis(canary.latency.quantile(0.95)),
        p99_ms: millis(p99),
        query_value: None,
        verdict: Verdict::Successful,
        reasons: Vec::new(),
    };
    match query {
        Some(Err(e)) => {
            report.verdict = Verdict::Error;
            report.reasons.push(e.to_string());
            return report;
        }
        Some(Ok(value)) => {
            report.query_value = Some(value);
            if let Some(q) = &config.query
                && !q.threshold.holds(value)
            {
                report.reasons.push(match q.threshold {
                    super::config::Threshold::Max(max) => {
                        format!("query value {value} is above {max}")
                    }
                    super::config::Threshold::Min(min) => {
                        format!("query value {value} is below {min}")
                    }
                });
            }
        }
        None => {}
    }
    let router_checks = config.success_rate.is_some() || config.max_latency_p99.is_some();
    if router_checks && requests < config.min_samples.max(1) {
        if report.reasons.is_empty() {
            report.verdict = Verdict::Inconclusive;
            report.reasons.push(format!(
                "{requests} canary requests, fewer than minSamples {}",
                config.min_samples.max(1)
            ));
        } else {
            report.verdict = Verdict::Failed;
        }
        return report;
    }
    if let (Some(min), Some(rate)) = (config.success_rate, report.success_rate)
        && rate < min
    {
        report.reasons.push(format!(
            "success rate {:.2}% is below {:.2}%",
            rate * 100.0,
            min * 100.0
        ));
    }
    if let (Some(max), Some(p99)) = (config.max_latency_p99, p99)
        && p99 > max
    {
        report.reasons.push(format!(
            "p99 latency {:.1} ms is above {:.1} ms",
            p99.as_secs_f64() * 1000.0,
            max.as_secs_f64() * 1000.0
        ));
    }
    if !report.reasons.is_empty() {
        report.verdict = Verdict::Failed;
    }
    report
}

/// Argo's analysis-run counters: the run fails once failed measurements
/// exceed `failureLimit`, or once measurement errors in a row exceed
/// `consecutiveErrorLimit`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnalysisRun {
    pub failures: u32,
    pub consecutive_errors: u32,
    pub inconclusive: u32,
    pub successes: u32,
}

/// Where a run stands after a measurement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStatus {
    Running,
    /// Too many failures or errors: roll back.
    Failed(String),
}

impl AnalysisRun {
    pub fn record(&mut self, config: &AnalysisConfig, report: &IntervalReport) -> RunStatus {
        match report.verdict {
            Verdict::Successful => {
                self.successes += 1;
                self.consecutive_errors = 0;
            }
            Verdict::Inconclusive => {
                self.inconclusive += 1;
                self.consecutive_errors = 0;
            }
            Verdict::Failed => {
                self.failures += 1;
                self.consecutive_errors = 0;
                if self.failures > config.failure_limit {
                    return RunStatus::Failed(format!(
                        "{} failed intervals, more than failureLimit {}: {}",
                        self.failures,
                        config.failure_limit,
                        report.reasons.join("; ")
                    ));
                }
            }
            Verdict::Error => {
                self.consecutive_errors += 1;
                if self.consecutive_errors > config.consecutive_error_limit {
                    return RunStatus::Failed(format!(
                        "{} measurement errors in a row, more than consecutiveErrorLimit {}: {}",
                        self.consecutive_errors,
                        config.consecutive_error_limit,
                        report.reasons.join("; ")
                    ));
                }
            }
        }
        RunStatus::Running
    }
}

/// Why a Prometheus query gave no number.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    #[error("failed to query Prometheus at {address}: {source}")]
    Http {
        address: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("Prometheus at {address} answered {status}")]
    Status { address: String, status: u16 },
    #[error("Prometheus at {address} answered something that is not a query result: {reason}")]
    Shape { address: String, reason: String },
    #[error("the query `{promql}` returned no sample")]
    NoData { promql: String },
}

/// Runs an instant query (`GET /api/v1/query`) and reads the first
/// sample's value (vector or scalar result).
pub async fn query_prometheus(
    client: &reqwest::Client,
    query: &PromQuery,
) -> Result<f64, QueryError> {
    let address = query.address.clone();
    let url = format!("{}/api/v1/query", query.address);
    let response = client
        .get(&url)
        .query(&[("query", query.promql.as_str())])
        .send()
        .await
        .map_err(|source| QueryError::Http {
            address: address.clone(),
            source,
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(QueryError::Status {
            address,
            status: status.as_u16(),
        });
    }
    let bytes = response.bytes().await.map_err(|source| QueryError::Http {
        address: address.clone(),
        source,
    })?;
    let shape = |reason: &str| QueryError::Shape {
        address: address.clone(),
        reason: reason.to_string(),
    };
    let body: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| shape(&format!("not JSON: {e}")))?;
    if body.get("status").and_then(|s| s.as_str()) != Some("success") {
        return Err(shape("`status` is not `success`"));
    }
    let data = body.get("data").ok_or_else(|| shape("no `data`"))?;
    let result = data
        .get("result")
        .ok_or_else(|| shape("no `data.result`"))?;
    let pair = match data.get("resultType").and_then(|t| t.as_str()) {
        Some("vector") => match result.as_array().and_then(|r| r.first()) {
            Some(sample) => sample.get("value"),
            None => {
                return Err(QueryError::NoData {
                    promql: query.promql.clone(),
                });
            }
        },
        Some("scalar") => Some(result),
        _ => return Err(shape("the result is neither a vector nor a scalar")),
    };
    let value = pair
        .and_then(|p| p.get(1))
        .and_then(|v| v.as_str())
        .ok_or_else(|| shape("a sample has no [time, \"value\"] pair"))?;
    match value.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(shape(&format!(
            "the value `{value}` is not a finite number"
        ))),
    }
}

/// What a webhook receives (a POST with this JSON body).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HookPayload<'a> {
    pub name: &'a str,
    pub rollout: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub canary_weight: u32,
    pub metadata: &'a std::collections::BTreeMap<String, String>,
}

/// Calls a webhook: `true` when it answered 2xx (go), `false` for any
/// other answer or no answer.
pub async fn call_webhook(
    client: &reqwest::Client,
    hook: &Webhook,
    payload: &HookPayload<'_>,
) -> bool {
    let Ok(body) = serde_json::to_vec(payload) else {
        return false;
    };
    client
        .post(&hook.url)
        .timeout(hook.timeout)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use gantry_traffic::SideStats;

    fn config() -> AnalysisConfig {
        AnalysisConfig {
            interval: Duration::from_secs(1),
            success_rate: Some(0.95),
            max_latency_p99: Some(Duration::from_millis(100)),
            min_samples: 10,
            failure_limit: 1,
            consecutive_error_limit: 2,
            query: None,
            load: None,
        }
    }

    fn side(ok: u64, errors: u64, latency: Duration) -> SideSnapshot {
        let stats = SideStats::default();
        for _ in 0..ok {
            stats.record_response(200, latency);
        }
        for _ in 0..errors {
            stats.record_response(503, latency);
        }
        stats.snapshot()
    }

    #[test]
    fn an_interval_is_judged_by_success_rate_and_p99() {
        let ms = Duration::from_millis;
        let good = judge(&config(), 1, &side(99, 1, ms(5)), None);
        assert_eq!(good.verdict, Verdict::Successful, "{good:?}");
        assert!(good.p50_ms.is_some_and(|p| (5.0..5.2).contains(&p)));
        let errors = judge(&config(), 2, &side(80, 20, ms(5)), None);
        assert_eq!(errors.verdict, Verdict::Failed);
        assert!(
            errors.reasons[0].contains("success rate 80.00%"),
            "{errors:?}"
        );
        let slow = judge(&config(), 3, &side(100, 0, ms(300)), None);
        assert_eq!(slow.verdict, Verdict::Failed);
        assert!(slow.reasons[0].contains("p99 latency"), "{slow:?}");
    }

    #[test]
    fn fewer_samples_than_min_samples_is_inconclusive() {
        let few = judge(&config(), 1, &side(5, 4, Duration::from_millis(1)), None);
        assert_eq!(few.verdict, Verdict::Inconclusive, "{few:?}");
        let none = judge(&config(), 1, &SideSnapshot::default(), None);
        assert_eq!(none.verdict, Verdict::Inconclusive);
    }

    #[test]
    fn failure_limit_tolerates_that_many_failures_and_fails_on_the_next() {
        let config = config();
        let failed = judge(&config, 1, &side(10, 90, Duration::from_millis(1)), None);
        let good = judge(&config, 2, &side(100, 0, Duration::from_millis(1)), None);
        let mut run = AnalysisRun::default();
        // failureLimit 1: the first failure is tolerated (not consecutive:
        // Argo counts failures over the whole run).
        assert_eq!(run.record(&config, &failed), RunStatus::Running);
        assert_eq!(run.record(&config, &good), RunStatus::Running);
        assert!(matches!(run.record(&config, &failed), RunStatus::Failed(_)));
    }

    #[test]
    fn consecutive_error_limit_counts_only_errors_in_a_row() {
        let config = config();
        let error = judge(
            &config,
            1,
            &SideSnapshot::default(),
            Some(Err(QueryError::NoData {
                promql: "up".into(),
            })),
        );
        assert_eq!(error.verdict, Verdict::Error);
        let good = judge(&config, 2, &side(100, 0, Duration::from_millis(1)), None);
        let mut run = AnalysisRun::default();
        assert_eq!(run.record(&config, &error), RunStatus::Running);
        assert_eq!(run.record(&config, &error), RunStatus::Running);
        assert_eq!(run.record(&config, &good), RunStatus::Running);
        assert_eq!(run.record(&config, &error), RunStatus::Running);
        assert_eq!(run.record(&config, &error), RunStatus::Running);
        assert!(matches!(run.record(&config, &error), RunStatus::Failed(_)));
    }
}
