//! `gantry rollout run|status|promote|abort NAME`.

use std::io::{IsTerminal, Write};
use std::path::Path;

use clap::{Args, Subcommand};

use gantry_deliver::rollout::controller::{EventKind, Outcome as RolloutOutcome};
use gantry_deliver::rollout::{
    Command as RolloutCommand, RolloutConfigError, RolloutError, RolloutEvent, RouterInfo,
    RunRequest, rollout_status, run_rollout, send_command,
};
use gantry_ledger::Ledger;
use gantry_store::Home;

use super::CliError;
use crate::Outcome;
use crate::cli::Format;
use crate::render;

#[derive(Debug, Args)]
pub struct RolloutArgs {
    #[command(subcommand)]
    pub command: RolloutSub,
}

#[derive(Debug, Subcommand)]
pub enum RolloutSub {
    /// Start the router and the controller of `.gantry/rollouts/NAME.yml`
    /// and print each step; exit 0 when fully promoted, 1 when rolled back
    /// or aborted, 2 on bad input.
    Run(NameArgs),
    /// Show where a rollout stands (from any terminal).
    Status(StatusArgs),
    /// Resume a paused rollout, or skip its current step.
    Promote(NameArgs),
    /// Send all traffic back to stable and stop the rollout.
    Abort(NameArgs),
}

#[derive(Debug, Args)]
pub struct NameArgs {
    /// The rollout: `.gantry/rollouts/NAME.yml`.
    pub name: String,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    pub name: String,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(root: &Path, home: &Home, args: RolloutArgs) -> Result<Outcome, CliError> {
    match args.command {
        RolloutSub::Run(a) => run_one(root, home, &a.name),
        RolloutSub::Status(a) => status(home, &a.name, a.format),
        RolloutSub::Promote(a) => steer(home, &a.name, RolloutCommand::Promote),
        RolloutSub::Abort(a) => steer(home, &a.name, RolloutCommand::Abort),
    }
}

fn refused(e: RolloutError) -> Result<Outcome, CliError> {
    match e {
        RolloutError::Config(RolloutConfigError::Invalid(problems)) => {
            let colored = render::color(std::io::stderr().is_terminal());
            eprint!("{}", render::problems_human(&problems, colored));
            Ok(Outcome::Usage)
        }
        e if e.is_bad_input() => Err(CliError::usage(e.to_string(), None)),
        e => Err(CliError::usage(e.to_string(), None)),
    }
}

fn run_one(root: &Path, home: &Home, name: &str) -> Result<Outcome, CliError> {
    let store = super::runs::open_at(home)?;
    let ledger = Ledger::create_or_open(&home.ledger())
        .map_err(|e| CliError::usage(format!("failed to open the ledger: {e}"), None))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut on_event = |event: &RolloutEvent| {
        let line = describe(event);
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{:>8.1}s  {line}", event.elapsed_ms as f64 / 1000.0);
        let _ = out.flush();
    };
    let mut on_listen = |info: &RouterInfo| {
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "router listening on http://{}", info.listen);
        if let Some(preview) = info.preview {
            let _ = write!(out, " (preview on http://{preview})");
        }
        let _ = writeln!(out);
        let _ = out.flush();
    };
    // Ctrl-C or SIGTERM aborts: traffic back to stable before exiting.
    let interrupted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The handlers are in place before the router starts.
    let signals = runtime.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        Some((
            signal(SignalKind::terminate()).ok()?,
            signal(SignalKind::interrupt()).ok()?,
        ))
    });
    if let Some((mut term, mut int)) = signals {
        let interrupted = interrupted.clone();
        runtime.spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            interrupted.store(true, std::sync::atomic::Ordering::Relaxed);
        });
    }
    // Notifications go out while the rollout runs (a rollback is news
    // now, not at the end): a delivery pass every two seconds.
    let deliverer = gantry_deliver::notify::Deliverer::new(Default::default()).ok();
    let result = runtime.block_on(async {
        let rollout = run_rollout(RunRequest {
            root,
            name,
            store: &store,
            ledger: &ledger,
            on_event: &mut on_event,
            on_listen: &mut on_listen,
            interrupted: &interrupted,
        });
        let deliver = async {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                if let Some(d) = &deliverer {
                    let _ = d.deliver_due(&store).await;
                }
            }
        };
        tokio::select! {
            result = rollout => result,
            () = deliver => unreachable!("the delivery loop never ends"),
        }
    });
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => return refused(e),
    };
    for warning in &outcome.warnings {
        eprintln!("warning: {warning}");
    }
    super::deploy::deliver_notifications(&store, &runtime);
    Ok(match outcome.report.outcome {
        RolloutOutcome::Promoted => Outcome::Success,
        _ => Outcome::Failure,
    })
}

/// One line per event for the terminal.
fn describe(event: &RolloutEvent) -> String {
    let weight = event.canary_weight;
    match &event.kind {
        EventKind::Started { provider, steps } => {
            format!(
                "started `{}`: {steps} steps through the {provider}",
                event.rollout
            )
        }
        EventKind::StepReached { step, of, what } => {
            format!("step {step}/{of}: {what} (canary {weight}%)")
        }
        EventKind::Paused { step, why } => format!(
            "step {step}: paused ({})",
            serde_json::to_value(why)
                .ok()
                .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_string))
                .unwrap_or_default()
        ),
        EventKind::Resumed { step, by } => format!("step {step}: resumed by {by}"),
        EventKind::Analysis { report, .. } => {
            let rate = report
                .success_rate
                .map_or("-".to_string(), |r| format!("{:.2}%", r * 100.0));
            let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
            let mut line = format!(
                "analysis {}: {} ({} requests, success {rate}, p50/p95/p99 {}/{}/{} ms)",
                report.index,
                report.verdict.name(),
                report.requests,
                ms(report.p50_ms),
                ms(report.p95_ms),
                ms(report.p99_ms),
            );
            if !report.reasons.is_empty() {
                line.push_str(&format!(": {}", report.reasons.join("; ")));
            }
            line
        }
        EventKind::Promoted => format!("promoted: canary {weight}%"),
        EventKind::Aborted { by } => format!("aborted by {by}: canary {weight}%"),
        EventKind::Degraded { reason } => format!("degraded: {reason}"),
        EventKind::RolledBack { .. } => format!("rolled back: canary {weight}%"),
    }
}

fn status(home: &Home, name: &str, format: Format) -> Result<Outcome, CliError> {
    let Some(store) = super::runs::open_existing(home)? else {
        return Err(CliError::usage(
            format!("no rollout `{name}` has run here"),
            Some(format!("start it with `gantry rollout run {name}`")),
        ));
    };
    let report = match rollout_status(&store, name) {
        Ok(report) => report,
        Err(e) => return refused(e),
    };
    if format == Format::Json {
        super::ledger::print_json(&report)?;
        return Ok(Outcome::Success);
    }
    let field = |key: &str| {
        report
            .status
            .get(key)
            .map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default()
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "rollout:  {name}")?;
    writeln!(
        out,
        "phase:    {}{}",
        report.phase,
        if report.running {
            format!(" (process {})", report.pid)
        } else {
            String::new()
        }
    )?;
    writeln!(out, "step:     {}/{}", field("step"), field("steps"))?;
    writeln!(out, "canary:   {}%", field("canary_weight"))?;
    writeln!(out, "message:  {}", field("message"))?;
    if let Some(last) = report.status.get("last_analysis").filter(|v| !v.is_null()) {
        let get = |k: &str| match last.get(k) {
            Some(serde_json::Value::Number(n)) if n.is_f64() => {
                format!("{:.2}", n.as_f64().unwrap_or_default())
            }
            Some(v) => v.to_string(),
            None => String::new(),
        };
        writeln!(
            out,
            "analysis: #{} {} ({} requests, {} errors, p99 {} ms)",
            get("index"),
            get("verdict").trim_matches('"'),
            get("requests"),
            get("errors"),
            get("p99_ms"),
        )?;
    }
    Ok(Outcome::Success)
}

fn steer(home: &Home, name: &str, command: RolloutCommand) -> Result<Outcome, CliError> {
    let Some(store) = super::runs::open_existing(home)? else {
        return Err(CliError::usage(
            format!("no rollout `{name}` has run here"),
            Some(format!("start it with `gantry rollout run {name}`")),
        ));
    };
    match send_command(&store, name, command) {
        Ok(()) => {
            println!("asked rollout `{name}` to {}", command.name());
            Ok(Outcome::Success)
        }
        Err(e) => refused(e),
    }
}
