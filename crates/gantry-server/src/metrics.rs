//! `/metrics`: the store's facts and the server's own request figures in
//! the Prometheus text exposition format (version 0.0.4).
//!
//! Every series is built in [`render`] from one library call each, so a
//! new family (deployments, rollouts, DORA) is one more block there.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use gantry_promote::promote::Decision;

use crate::AppState;
use crate::api::{authorize, blocking, services_report};
use crate::auth::Role;
use crate::problem::Problem;

/// Upper bounds (seconds) of the job and step duration histograms.
pub(crate) const DURATION_BOUNDS: &[f64] =
    &[1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0, 1800.0, 3600.0];
/// Upper bounds (seconds) of the request latency histogram.
pub(crate) const LATENCY_BOUNDS: &[f64] =
    &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
struct Requests {
    /// (method, route, status) → count.
    counts: BTreeMap<(String, String, u16), u64>,
    /// route → (bucket counts, count, sum seconds).
    latency: BTreeMap<String, (Vec<u64>, u64, f64)>,
}

/// The server's own figures since it started.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<Requests>,
    promotions: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    pub(crate) fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let Ok(mut r) = self.requests.lock() else {
            return;
        };
        *r.counts
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        let seconds = took.as_secs_f64();
        let entry = r
            .latency
            .entry(route.to_string())
            .or_insert_with(|| (vec![0; LATENCY_BOUNDS.len()], 0, 0.0));
        for (i, b) in LATENCY_BOUNDS.iter().enumerate() {
            if seconds <= *b {
                entry.0[i] += 1;
            }
        }
        entry.1 += 1;
        entry.2 += seconds;
    }

    pub(crate) fn promotion(&self, decision: Decision) {
        let name = match decision {
            Decision::Promoted => "promoted",
            Decision::Blocked => "blocked",
            Decision::Pending => "pending",
        };
        if let Ok(mut p) = self.promotions.lock() {
            *p.entry(name).or_default() += 1;
        }
    }
}

/// A label value, escaped as the exposition format wants.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A bucket bound as Prometheus clients write it (`1.0`, `0.005`).
fn bound(b: f64) -> String {
    if b.fract() == 0.0 {
        format!("{b:.1}")
    } else {
        format!("{b}")
    }
}

fn histogram(
    out: &mut String,
    name: &str,
    labels: &str,
    bounds: &[f64],
    buckets: &[u64],
    count: u64,
    sum: f64,
) {
    let sep = if labels.is_empty() { "" } else { "," };
    for (b, n) in bounds.iter().zip(buckets) {
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"{}\"}} {n}",
            bound(*b)
        );
    }
    let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
    let braces = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    };
    let _ = writeln!(out, "{name}_sum{braces} {sum}");
    let _ = writeln!(out, "{name}_count{braces} {count}");
}

fn header_lines(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The whole exposition.
pub(crate) fn render(state: &AppState) -> Result<String, Problem> {
    let mut out = String::new();
    let stats = state.store().run_stats(DURATION_BOUNDS)?;
    for (name, what, counts) in [
        (
            "gantry_runs",
            "Recorded runs by conclusion (running: not finished).",
            &stats.runs,
        ),
        (
            "gantry_jobs",
            "Recorded jobs by conclusion (running: not finished).",
            &stats.jobs,
        ),
        (
            "gantry_steps",
            "Recorded steps by conclusion (running: not finished).",
            &stats.steps,
        ),
    ] {
        header_lines(&mut out, name, "gauge", what);
        for (conclusion, n) in counts {
            let _ = writeln!(out, "{name}{{conclusion=\"{}\"}} {n}", label(conclusion));
        }
    }
    for (name, what, h) in [
        (
            "gantry_job_duration_seconds",
            "Durations of finished jobs.",
            &stats.job_seconds,
        ),
        (
            "gantry_step_duration_seconds",
            "Durations of finished steps.",
            &stats.step_seconds,
        ),
        (
            "gantry_job_queue_seconds",
            "Time jobs waited for a runner slot after they were ready to start.",
            &stats.job_queue_seconds,
        ),
    ] {
        header_lines(&mut out, name, "histogram", what);
        histogram(
            &mut out,
            name,
            "",
            &h.bounds,
            &h.buckets,
            h.count,
            h.sum_seconds,
        );
    }
    header_lines(
        &mut out,
        "gantry_cache_events",
        "gauge",
        "Cache restores that hit or missed, and caches saved.",
    );
    for (kind, n) in [
        ("hit", stats.cache_hits),
        ("miss", stats.cache_misses),
        ("saved", stats.cache_saves),
    ] {
        let _ = writeln!(out, "gantry_cache_events{{kind=\"{kind}\"}} {n}");
    }
    let lookups = stats.cache_hits + stats.cache_misses;
    header_lines(
        &mut out,
        "gantry_cache_hit_ratio",
        "gauge",
        "Hits over restores (hits and misses); 0 without restores.",
    );
    let ratio = if lookups == 0 {
        0.0
    } else {
        stats.cache_hits as f64 / lookups as f64
    };
    let _ = writeln!(out, "gantry_cache_hit_ratio {ratio}");

    // Test results of the newest run that has any.
    let quarantine = gantry_tests::load_quarantine(&state.inner.root)
        .map_err(|e| Problem::internal(e.to_string()))?;
    let tests = state.store().tests_report(None, 0, &quarantine)?;
    header_lines(
        &mut out,
        "gantry_tests",
        "gauge",
        "Test cases of the newest run with test results, by result.",
    );
    let counts = serde_json::to_value(tests.counts).unwrap_or_default();
    if let Some(map) = counts.as_object() {
        for (result, n) in map {
            if let Some(n) = n.as_u64() {
                let _ = writeln!(out, "gantry_tests{{result=\"{}\"}} {n}", label(result));
            }
        }
    }

    // The compliance state of each service: 1 for each (service, state,
    // version) the ledger records.
    if let Ok(report) = services_report(state) {
        header_lines(
            &mut out,
            "gantry_service_state",
            "gauge",
            "1 for each version of a service recorded in a promotion state.",
        );
        for service in &report.services {
            for s in &service.states {
                for v in &s.versions {
                    let _ = writeln!(
                        out,
                        "gantry_service_state{{service=\"{}\",state=\"{}\",version=\"{}\"}} 1",
                        label(&service.name),
                        label(&s.state),
                        label(v)
                    );
                }
            }
        }
    }

    deliveries(state, &mut out)?;

    header_lines(
        &mut out,
        "gantry_promotions_total",
        "counter",
        "Promotion decisions made by this server, by decision.",
    );
    if let Ok(p) = state.inner.metrics.promotions.lock() {
        for d in ["promoted", "blocked", "pending"] {
            let _ = writeln!(
                out,
                "gantry_promotions_total{{decision=\"{d}\"}} {}",
                p.get(d).copied().unwrap_or(0)
            );
        }
    }

    if let Ok(r) = state.inner.metrics.requests.lock() {
        header_lines(
            &mut out,
            "gantry_http_requests_total",
            "counter",
            "HTTP requests answered, by method, route and status.",
        );
        for ((method, route, status), n) in &r.counts {
            let _ = writeln!(
                out,
                "gantry_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                label(method),
                label(route)
            );
        }
        header_lines(
            &mut out,
            "gantry_http_request_duration_seconds",
            "histogram",
            "Time to answer HTTP requests, by route.",
        );
        for (route, (buckets, count, sum)) in &r.latency {
            histogram(
                &mut out,
                "gantry_http_request_duration_seconds",
                &format!("route=\"{}\"", label(route)),
                LATENCY_BOUNDS,
                buckets,
                *count,
                *sum,
            );
        }
    }
    Ok(out)
}

/// Upper bounds (seconds) of the deployment queue histogram: a wait timer
/// or reviewers can hold a deployment for days.
pub(crate) const QUEUE_BOUNDS: &[f64] = &[1.0, 10.0, 60.0, 600.0, 3600.0, 14_400.0, 86_400.0];

/// Deployments by environment and state, how long they were queued, the
/// rollouts' weights and last analyses, and each environment's DORA
/// figures (the last 90 days, as `gantry dora`).
fn deliveries(state: &AppState, out: &mut String) -> Result<(), Problem> {
    let counts = state.store().deployment_counts()?;
    header_lines(
        out,
        "gantry_deployments",
        "gauge",
        "Recorded deployments by environment and state.",
    );
    for (environment, s, n) in &counts {
        let _ = writeln!(
            out,
            "gantry_deployments{{environment=\"{}\",state=\"{}\"}} {n}",
            label(environment),
            s.as_str()
        );
    }
    let mut environments: Vec<&str> = counts.iter().map(|(e, _, _)| e.as_str()).collect();
    environments.dedup();

    header_lines(
        out,
        "gantry_deployment_queue_seconds",
        "histogram",
        "Time deployments waited from queued to in_progress (wait timer, reviewers), by environment.",
    );
    for environment in &environments {
        let mut buckets = vec![0u64; QUEUE_BOUNDS.len()];
        let (mut count, mut sum) = (0u64, 0.0f64);
        for d in state.store().environment_history(environment)? {
            let at = |want: gantry_store::DeploymentState| {
                d.statuses
                    .iter()
                    .find(|s| s.state == want)
                    .map(|s| s.created_at)
            };
            if let (Some(queued), Some(started)) = (
                at(gantry_store::DeploymentState::Queued),
                at(gantry_store::DeploymentState::InProgress),
            ) {
                let seconds = started.since(queued).as_secs_f64();
                for (i, b) in QUEUE_BOUNDS.iter().enumerate() {
                    if seconds <= *b {
                        buckets[i] += 1;
                    }
                }
                count += 1;
                sum += seconds;
            }
        }
        histogram(
            out,
            "gantry_deployment_queue_seconds",
            &format!("environment=\"{}\"", label(environment)),
            QUEUE_BOUNDS,
            &buckets,
            count,
            sum,
        );
    }

    let rollouts = gantry_deliver::rollout::run::rollout_summaries(state.store())
        .map_err(|e| Problem::internal(e.to_string()))?;
    header_lines(
        out,
        "gantry_rollout_canary_weight",
        "gauge",
        "The canary's share of traffic (percent) each rollout last recorded.",
    );
    for r in &rollouts {
        let _ = writeln!(
            out,
            "gantry_rollout_canary_weight{{rollout=\"{}\",phase=\"{}\"}} {}",
            label(&r.name),
            label(&r.phase),
            r.canary_weight
        );
    }
    header_lines(
        out,
        "gantry_rollout_step",
        "gauge",
        "The step each rollout is at (from 1; 0 before the first).",
    );
    for r in &rollouts {
        let _ = writeln!(
            out,
            "gantry_rollout_step{{rollout=\"{}\",steps=\"{}\"}} {}",
            label(&r.name),
            r.steps,
            r.step
        );
    }
    header_lines(
        out,
        "gantry_rollout_analysis",
        "gauge",
        "1 for the verdict of each rollout's last analysis interval.",
    );
    for r in &rollouts {
        if let Some(v) = &r.last_verdict {
            let _ = writeln!(
                out,
                "gantry_rollout_analysis{{rollout=\"{}\",verdict=\"{}\"}} 1",
                label(&r.name),
                label(v)
            );
        }
    }
    header_lines(
        out,
        "gantry_rollout_analysis_success_rate",
        "gauge",
        "The canary's success rate in each rollout's last analysis interval.",
    );
    for r in &rollouts {
        if let Some(rate) = r.last_success_rate {
            let _ = writeln!(
                out,
                "gantry_rollout_analysis_success_rate{{rollout=\"{}\"}} {rate}",
                label(&r.name)
            );
        }
    }

    let mut reports = Vec::new();
    for environment in &environments {
        let q = gantry_deliver::dora::DoraQuery::parse(Some(environment), None)
            .map_err(crate::api::dora_problem)?;
        reports.push(
            gantry_deliver::dora::report(state.store(), &q, gantry_store::Timestamp::now())
                .map_err(crate::api::dora_problem)?,
        );
    }
    type Figure = fn(&gantry_deliver::dora::DoraReport) -> Option<f64>;
    let figures: [(&str, &str, Figure); 5] = [
        (
            "gantry_dora_deployment_frequency_per_day",
            "Deployments per day over the last 90 days (DORA).",
            |r| Some(r.deployment_frequency.per_day),
        ),
        (
            "gantry_dora_change_lead_time_seconds",
            "Median commit-to-successful-deployment time over the last 90 days (DORA); absent without changes.",
            |r| r.change_lead_time.median_seconds,
        ),
        (
            "gantry_dora_change_fail_rate",
            "Failed changes over deployments in the last 90 days (DORA); absent without deployments.",
            |r| r.change_fail_rate.rate,
        ),
        (
            "gantry_dora_recovery_time_seconds",
            "Median failed deployment recovery time over the last 90 days (DORA); absent when nothing recovered.",
            |r| r.failed_deployment_recovery_time.median_seconds,
        ),
        (
            "gantry_dora_rework_rate",
            "Unplanned (rework) deployments over deployments in the last 90 days (DORA); absent without deployments.",
            |r| r.deployment_rework_rate.rate,
        ),
    ];
    for (name, help, figure) in figures {
        header_lines(out, name, "gauge", help);
        for r in &reports {
            if let Some(v) = figure(r) {
                let _ = writeln!(
                    out,
                    "{name}{{environment=\"{}\"}} {v}",
                    label(&r.environment)
                );
            }
        }
    }
    header_lines(
        out,
        "gantry_dora_cluster",
        "gauge",
        "1 for the 2024 DORA performance cluster each metric of each environment falls in.",
    );
    for r in &reports {
        for (metric, cluster) in [
            ("deployment_frequency", r.deployment_frequency.cluster),
            ("change_lead_time", r.change_lead_time.cluster),
            ("change_fail_rate", r.change_fail_rate.cluster),
            (
                "failed_deployment_recovery_time",
                r.failed_deployment_recovery_time.cluster,
            ),
        ] {
            if let Some(c) = cluster {
                let _ = writeln!(
                    out,
                    "gantry_dora_cluster{{environment=\"{}\",metric=\"{metric}\",cluster=\"{}\"}} 1",
                    label(&r.environment),
                    c.as_str()
                );
            }
        }
    }
    Ok(())
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "server",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the Prometheus text exposition format 0.0.4", body = String, content_type = "text/plain"),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    let text = blocking(move || render(&state)).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}
