//! `gantry dashboards grafana`: a Grafana dashboard (JSON model, schema
//! version 39) over the `/metrics` series, with a `datasource` variable so
//! it imports into any Prometheus data source.

use serde_json::{Value, json};

/// Every series family `/metrics` exposes, for the panels and the tests.
pub const SERIES: &[&str] = &[
    "gantry_runs",
    "gantry_jobs",
    "gantry_steps",
    "gantry_job_duration_seconds",
    "gantry_step_duration_seconds",
    "gantry_job_queue_seconds",
    "gantry_cache_events",
    "gantry_cache_hit_ratio",
    "gantry_tests",
    "gantry_service_state",
    "gantry_deployments",
    "gantry_deployment_queue_seconds",
    "gantry_rollout_canary_weight",
    "gantry_rollout_step",
    "gantry_rollout_analysis",
    "gantry_rollout_analysis_success_rate",
    "gantry_dora_deployment_frequency_per_day",
    "gantry_dora_change_lead_time_seconds",
    "gantry_dora_change_fail_rate",
    "gantry_dora_recovery_time_seconds",
    "gantry_dora_rework_rate",
    "gantry_dora_cluster",
    "gantry_promotions_total",
    "gantry_http_requests_total",
    "gantry_http_request_duration_seconds",
];

fn panel(id: u32, title: &str, kind: &str, x: u32, y: u32, exprs: &[(&str, &str)]) -> Value {
    let targets: Vec<Value> = exprs
        .iter()
        .enumerate()
        .map(|(i, (expr, legend))| {
            json!({
                "refId": char::from(b'A' + i as u8).to_string(),
                "datasource": { "type": "prometheus", "uid": "${datasource}" },
                "expr": expr,
                "legendFormat": legend,
            })
        })
        .collect();
    json!({
        "id": id,
        "title": title,
        "type": kind,
        "datasource": { "type": "prometheus", "uid": "${datasource}" },
        "gridPos": { "h": 8, "w": 12, "x": x, "y": y },
        "targets": targets,
    })
}

/// The dashboard.
pub fn dashboard() -> Value {
    let panels = vec![
        panel(
            1,
            "Runs by conclusion",
            "timeseries",
            0,
            0,
            &[("sum by (conclusion) (gantry_runs)", "{{conclusion}}")],
        ),
        panel(
            2,
            "Jobs by conclusion",
            "timeseries",
            12,
            0,
            &[("sum by (conclusion) (gantry_jobs)", "{{conclusion}}")],
        ),
        panel(
            3,
            "Job duration (p50, p95) and queue time (p95)",
            "timeseries",
            0,
            8,
            &[
                (
                    "histogram_quantile(0.5, sum by (le) (gantry_job_duration_seconds_bucket))",
                    "p50",
                ),
                (
                    "histogram_quantile(0.95, sum by (le) (gantry_job_duration_seconds_bucket))",
                    "p95",
                ),
                (
                    "histogram_quantile(0.95, sum by (le) (gantry_job_queue_seconds_bucket))",
                    "queue p95",
                ),
            ],
        ),
        panel(
            4,
            "Step duration (p50, p95)",
            "timeseries",
            12,
            8,
            &[
                (
                    "histogram_quantile(0.5, sum by (le) (gantry_step_duration_seconds_bucket))",
                    "p50",
                ),
                (
                    "histogram_quantile(0.95, sum by (le) (gantry_step_duration_seconds_bucket))",
                    "p95",
                ),
            ],
        ),
        panel(
            5,
            "Cache hit ratio",
            "gauge",
            0,
            16,
            &[("gantry_cache_hit_ratio", "hit ratio")],
        ),
        panel(
            6,
            "Tests of the newest run",
            "bargauge",
            12,
            16,
            &[("gantry_tests", "{{result}}")],
        ),
        panel(
            7,
            "Compliance state per service",
            "table",
            0,
            24,
            &[(
                "gantry_service_state == 1",
                "{{service}} {{state}} {{version}}",
            )],
        ),
        panel(
            8,
            "Promotions by decision",
            "timeseries",
            12,
            24,
            &[(
                "sum by (decision) (increase(gantry_promotions_total[1h]))",
                "{{decision}}",
            )],
        ),
        panel(
            9,
            "API requests per second",
            "timeseries",
            0,
            32,
            &[(
                "sum by (route, status) (rate(gantry_http_requests_total[5m]))",
                "{{route}} {{status}}",
            )],
        ),
        panel(
            10,
            "API latency p99",
            "timeseries",
            12,
            32,
            &[(
                "histogram_quantile(0.99, sum by (le, route) (rate(gantry_http_request_duration_seconds_bucket[5m])))",
                "{{route}}",
            )],
        ),
        panel(
            11,
            "Deployments by environment and state",
            "bargauge",
            0,
            40,
            &[("gantry_deployments", "{{environment}} {{state}}")],
        ),
        panel(
            12,
            "Deployment queue time p95",
            "timeseries",
            12,
            40,
            &[(
                "histogram_quantile(0.95, sum by (le, environment) (gantry_deployment_queue_seconds_bucket))",
                "{{environment}}",
            )],
        ),
        panel(
            13,
            "Rollouts: canary weight and step",
            "timeseries",
            0,
            48,
            &[
                ("gantry_rollout_canary_weight", "{{rollout}} weight"),
                ("gantry_rollout_step", "{{rollout}} step"),
            ],
        ),
        panel(
            14,
            "Rollouts: last analysis",
            "table",
            12,
            48,
            &[
                ("gantry_rollout_analysis == 1", "{{rollout}} {{verdict}}"),
                (
                    "gantry_rollout_analysis_success_rate",
                    "{{rollout}} success rate",
                ),
            ],
        ),
        panel(
            15,
            "DORA throughput (90 days)",
            "stat",
            0,
            56,
            &[
                (
                    "gantry_dora_deployment_frequency_per_day",
                    "{{environment}} deployments/day",
                ),
                (
                    "gantry_dora_change_lead_time_seconds",
                    "{{environment}} lead time",
                ),
            ],
        ),
        panel(
            16,
            "DORA instability (90 days)",
            "stat",
            12,
            56,
            &[
                ("gantry_dora_change_fail_rate", "{{environment}} fail rate"),
                (
                    "gantry_dora_recovery_time_seconds",
                    "{{environment}} recovery time",
                ),
                ("gantry_dora_rework_rate", "{{environment}} rework rate"),
            ],
        ),
        panel(
            17,
            "DORA clusters (2024)",
            "table",
            0,
            64,
            &[(
                "gantry_dora_cluster == 1",
                "{{environment}} {{metric}} {{cluster}}",
            )],
        ),
    ];
    json!({
        "title": "gantry",
        "uid": "gantry",
        "tags": ["gantry", "ci", "compliance"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": { "from": "now-24h", "to": "now" },
        "templating": { "list": [{
            "name": "datasource",
            "label": "Prometheus",
            "type": "datasource",
            "query": "prometheus",
        }]},
        "panels": panels,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_panel_queries_series_the_server_exposes() {
        let d = dashboard();
        let panels = d["panels"].as_array().unwrap();
        let mut ids = std::collections::BTreeSet::new();
        for p in panels {
            assert!(ids.insert(p["id"].as_u64().unwrap()), "duplicate panel id");
            for t in p["targets"].as_array().unwrap() {
                let expr = t["expr"].as_str().unwrap();
                let names: Vec<&str> = expr
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .filter(|w| w.starts_with("gantry_"))
                    .collect();
                assert!(!names.is_empty(), "{expr}");
                for n in names {
                    let family = n
                        .strip_suffix("_bucket")
                        .or_else(|| n.strip_suffix("_sum"))
                        .or_else(|| n.strip_suffix("_count"))
                        .unwrap_or(n);
                    assert!(SERIES.contains(&family), "{n} is not exposed");
                }
            }
        }
        // Every family has a panel.
        let all = serde_json::to_string(&d).unwrap();
        for s in SERIES {
            if *s == "gantry_steps" || *s == "gantry_cache_events" {
                continue; // shown through the duration and ratio panels
            }
            assert!(all.contains(s), "{s} has no panel");
        }
    }
}
