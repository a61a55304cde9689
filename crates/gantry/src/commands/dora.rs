//! `gantry dora` (one `gantry_deliver::dora::report` call, rendered) and
//! `gantry incident open|resolve|list` (one store call each).

use std::io::Write;

use clap::{Args, Subcommand};
use gantry_deliver::dora::{self, Cluster, DoraError, DoraQuery, DoraReport};
use gantry_store::{DeploymentId, Home, Incident, IncidentId, IncidentsDocument, Store, Timestamp};

use super::CliError;
use super::ledger::print_json;
use super::runs::{open_at, store_error};
use crate::Outcome;
use crate::cli::Format;

#[derive(Debug, Args)]
pub struct DoraArgs {
    /// The environment whose deployments count.
    #[arg(long, default_value = dora::DEFAULT_ENVIRONMENT)]
    pub environment: String,
    /// The window, ending now: a whole number and m, h, d or w.
    #[arg(long, default_value = dora::DEFAULT_SINCE, value_name = "DURATION")]
    pub since: String,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct IncidentArgs {
    #[command(subcommand)]
    pub command: IncidentCommand,
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Record an incident caused by a deployment (it counts as a failed change).
    Open {
        /// The deployment's number (`gantry deployments` lists them).
        #[arg(long, value_name = "ID")]
        deployment: DeploymentId,
        #[arg(long, default_value = "incident")]
        title: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Mark an incident resolved, now: its deployment's recovery ends here.
    Resolve {
        incident: IncidentId,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// List incidents, newest first.
    List {
        #[arg(long)]
        environment: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

fn dora_error(e: DoraError) -> CliError {
    match e {
        DoraError::Store(e) => store_error(e),
        other => CliError::usage(other.to_string(), None),
    }
}

pub fn dora(home: &Home, args: DoraArgs) -> Result<Outcome, CliError> {
    let query = DoraQuery::parse(Some(&args.environment), Some(&args.since)).map_err(dora_error)?;
    let now = Timestamp::now();
    let report = match Store::open_existing(home, Default::default()).map_err(store_error)? {
        Some(store) => dora::report(&store, &query, now).map_err(dora_error)?,
        None => dora::compute(&[], &[], &query, now),
    };
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Human => human(&report)?,
    }
    Ok(Outcome::Success)
}

/// `3d 4h`, `2h 5m`, `40s`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    let (d, h, m) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {}s", s % 60)
    } else {
        format!("{s}s")
    }
}

fn cluster(c: Option<Cluster>) -> &'static str {
    c.map_or("-", Cluster::as_str)
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".to_string(), |r| format!("{:.1}%", r * 100.0))
}

fn human(r: &DoraReport) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "DORA for `{}`, {} to {} ({:.0} days)",
        r.environment, r.since, r.until, r.window_days
    )?;
    let f = &r.deployment_frequency;
    if f.deployments == 0 {
        writeln!(out, "no deployments in the window")?;
    }
    writeln!(
        out,
        "  deployment frequency      {:>12}  {:<6}  {} deployments",
        format!("{:.2}/day", f.per_day),
        cluster(f.cluster),
        f.deployments
    )?;
    let l = &r.change_lead_time;
    writeln!(
        out,
        "  change lead time          {:>12}  {:<6}  median of {} changes{}",
        l.median_seconds.map_or_else(|| "-".into(), duration),
        cluster(l.cluster),
        l.changes,
        if l.without_commit_time > 0 {
            format!(", {} without a commit time", l.without_commit_time)
        } else {
            String::new()
        }
    )?;
    let c = &r.change_fail_rate;
    writeln!(
        out,
        "  change fail rate          {:>12}  {:<6}  {} of {} deployments",
        percent(c.rate),
        cluster(c.cluster),
        c.count,
        c.deployments
    )?;
    let t = &r.failed_deployment_recovery_time;
    writeln!(
        out,
        "  recovery time             {:>12}  {:<6}  median of {} recovered, {} not recovered",
        t.median_seconds.map_or_else(|| "-".into(), duration),
        cluster(t.cluster),
        t.recovered,
        t.unrecovered
    )?;
    let w = &r.deployment_rework_rate;
    writeln!(
        out,
        "  deployment rework rate    {:>12}  {:<6}  {} of {} deployments (not classified in 2024)",
        percent(w.rate),
        "-",
        w.count,
        w.deployments
    )?;
    if r.in_progress > 0 {
        writeln!(
            out,
            "{} deployment(s) still under way are not counted",
            r.in_progress
        )?;
    }
    Ok(())
}

fn incident_line(i: &Incident) -> String {
    let state = match i.resolved_at {
        Some(at) => format!("resolved {at}"),
        None => "open".to_string(),
    };
    format!(
        "{:<5} deployment {:<5} {:<12} {:<24} {}  {}",
        i.id, i.deployment, i.environment, state, i.opened_at, i.title
    )
}

pub fn incident(home: &Home, args: IncidentArgs) -> Result<Outcome, CliError> {
    let store = open_at(home)?;
    let (list, format) = match args.command {
        IncidentCommand::Open {
            deployment,
            title,
            format,
        } => (
            vec![
                store
                    .open_incident(deployment, &title)
                    .map_err(store_error)?,
            ],
            format,
        ),
        IncidentCommand::Resolve { incident, format } => (
            vec![store.resolve_incident(incident).map_err(store_error)?],
            format,
        ),
        IncidentCommand::List {
            environment,
            limit,
            format,
        } => (
            store
                .incidents(environment.as_deref(), limit)
                .map_err(store_error)?,
            format,
        ),
    };
    match format {
        Format::Json => print_json(&IncidentsDocument::new(&list))?,
        Format::Human => {
            let mut out = std::io::stdout().lock();
            if list.is_empty() {
                writeln!(out, "no incidents")?;
            }
            for i in &list {
                writeln!(out, "{}", incident_line(i))?;
            }
        }
    }
    Ok(Outcome::Success)
}
