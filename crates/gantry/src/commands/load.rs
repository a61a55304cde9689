//! `gantry load`: parse the arguments, one `gantry_traffic::load::run`,
//! render the report.

use std::io::Write;

use clap::Args;
use gantry_traffic::load::{self, LoadError, LoadReport, LoadSpec, Model, Threshold};

use super::CliError;
use super::ledger::print_json;
use crate::Outcome;
use crate::cli::Format;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("model").args(["rate", "concurrency"]).required(true)))]
pub struct LoadArgs {
    /// The http:// URL to GET.
    pub url: String,
    /// Open model: requests per second, whatever the server does (`100/s`,
    /// `6000/m`).
    #[arg(long, value_name = "N/s")]
    pub rate: Option<String>,
    /// Closed model: this many connections, each sending its next request
    /// when the last one is answered.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// How long to send requests (`30s`, `2m`, `1m30s`).
    #[arg(long, value_name = "D")]
    pub duration: String,
    /// A pass/fail criterion (repeatable): `p99<500ms`, `p95<1s`,
    /// `avg<200ms`, `max<2s`, `error_rate<0.01`, `rps>=100`.
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,
    /// How long one request may take before it counts as a timeout.
    #[arg(long, value_name = "D", default_value = "10s")]
    pub timeout: String,
    /// The most connections the open model opens (and the largest
    /// --concurrency).
    #[arg(long, value_name = "N", default_value_t = load::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

fn bad_input(e: LoadError) -> CliError {
    CliError::usage(e.to_string(), e.pointer())
}

pub fn run(args: LoadArgs) -> Result<Outcome, CliError> {
    let model = match (&args.rate, args.concurrency) {
        (Some(rate), _) => Model::Rate(load::parse_rate(rate).map_err(bad_input)?),
        (None, Some(n)) => Model::Concurrency(n),
        (None, None) => return Err(CliError::usage("give --rate or --concurrency", None)),
    };
    let mut spec = LoadSpec::new(
        &args.url,
        model,
        load::parse_duration(&args.duration).map_err(bad_input)?,
    );
    spec.timeout = load::parse_duration(&args.timeout).map_err(bad_input)?;
    spec.max_connections = args.max_connections;
    spec.thresholds = args
        .thresholds
        .iter()
        .map(|t| t.parse::<Threshold>())
        .collect::<Result<_, _>>()
        .map_err(bad_input)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(load::run(&spec)).map_err(bad_input)?;
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Human => human(&report)?,
    }
    Ok(if report.passed() {
        Outcome::Success
    } else {
        Outcome::Failure
    })
}

fn ms(value: Option<f64>) -> String {
    value.map_or("-".to_string(), |v| format!("{v:.2} ms"))
}

fn human(report: &LoadReport) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    let model = match report.target_rate {
        Some(rate) => format!(
            "{rate}/s open model, up to {} connections used",
            report.connections
        ),
        None => format!("{} connections, closed model", report.connections),
    };
    writeln!(out, "load {}  ({model})", report.url)?;
    writeln!(
        out,
        "requests    {} in {:.2} s, {:.1}/s",
        report.requests, report.duration_seconds, report.rate
    )?;
    let [c1, c2, c3, c4, c5] = report.status_classes;
    writeln!(
        out,
        "status      1xx {c1}  2xx {c2}  3xx {c3}  4xx {c4}  5xx {c5}"
    )?;
    let e = &report.errors;
    writeln!(
        out,
        "errors      {} ({})  5xx {}  connect {}  timeout {}  io {}",
        e.total(),
        report
            .error_rate
            .map_or("-".to_string(), |r| format!("{:.2}%", r * 100.0)),
        e.status_5xx,
        e.connect,
        e.timeout,
        e.io
    )?;
    let l = &report.latency;
    writeln!(
        out,
        "latency     p50 {}  p90 {}  p95 {}  p99 {}  max {}  avg {}",
        ms(l.p50_ms),
        ms(l.p90_ms),
        ms(l.p95_ms),
        ms(l.p99_ms),
        ms(l.max_ms),
        ms(l.avg_ms)
    )?;
    for t in &report.thresholds {
        let observed = t
            .observed
            .map_or("nothing measured".to_string(), |v| format!("{v:.4}"));
        writeln!(
            out,
            "threshold   {}  {}  (observed {observed})",
            if t.passed { "pass" } else { "FAIL" },
            t.threshold
        )?;
    }
    Ok(())
}
