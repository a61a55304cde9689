//! `gantry notifications`: the outbox of deployment, rollback and rollout
//! notifications. Each subcommand is one `gantry_deliver::notify` call
//! (or one store call) and its rendering.

use std::io::Write;

use clap::{Args, Subcommand};
use gantry_deliver::notify::{self, Deliverer, NotifyError, RetryPolicy};
use gantry_store::{DeliveryFilter, DeliveryStatus, Home};

use super::CliError;
use super::ledger::print_json;
use super::runs::{open_at, open_existing, store_error, table};
use crate::Outcome;
use crate::cli::Format;

#[derive(Debug, Args)]
pub struct NotificationsArgs {
    #[command(subcommand)]
    pub command: Option<NotificationsCommand>,
}

#[derive(Debug, Subcommand)]
pub enum NotificationsCommand {
    /// List deliveries that have not arrived: pending and failed (the default).
    List(ListArgs),
    /// Send every delivery that is due now, once each.
    Deliver(DeliverArgs),
    /// Make failed deliveries pending again (after fixing the receiver).
    Retry,
}

#[derive(Debug, Args, Default)]
pub struct ListArgs {
    /// Delivered ones too.
    #[arg(long, conflicts_with = "failed")]
    pub all: bool,
    /// Only failed ones.
    #[arg(long)]
    pub failed: bool,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct DeliverArgs {
    /// Attempts in all before a delivery is marked failed.
    #[arg(long, default_value_t = RetryPolicy::default().max_attempts)]
    pub max_attempts: u32,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

fn notify_error(e: NotifyError) -> CliError {
    match e {
        NotifyError::Store(e) => store_error(e),
        other => CliError::usage(other.to_string(), None),
    }
}

pub fn run(home: &Home, args: NotificationsArgs) -> Result<Outcome, CliError> {
    match args.command {
        None => list(home, ListArgs::default()),
        Some(NotificationsCommand::List(list_args)) => list(home, list_args),
        Some(NotificationsCommand::Deliver(deliver_args)) => deliver(home, deliver_args),
        Some(NotificationsCommand::Retry) => {
            let count = match open_existing(home)? {
                Some(store) => store.retry_failed_deliveries().map_err(store_error)?,
                None => 0,
            };
            writeln!(
                std::io::stdout().lock(),
                "{count} failed deliver{} pending again; `gantry notifications deliver` sends them",
                if count == 1 { "y is" } else { "ies are" }
            )?;
            Ok(Outcome::Success)
        }
    }
}

fn list(home: &Home, args: ListArgs) -> Result<Outcome, CliError> {
    let filter = if args.all {
        DeliveryFilter::All
    } else if args.failed {
        DeliveryFilter::Status(DeliveryStatus::Failed)
    } else {
        DeliveryFilter::Undelivered
    };
    let document = match open_existing(home)? {
        Some(store) => notify::list(&store, filter).map_err(notify_error)?,
        None => notify::OutboxDocument {
            version: notify::DOCUMENT_VERSION,
            deliveries: Vec::new(),
        },
    };
    if args.format == Format::Json {
        print_json(&document)?;
        return Ok(Outcome::Success);
    }
    let mut out = std::io::stdout().lock();
    if document.deliveries.is_empty() {
        writeln!(out, "no notifications waiting")?;
        return Ok(Outcome::Success);
    }
    let rows: Vec<[String; 7]> = document
        .deliveries
        .iter()
        .map(|d| {
            [
                d.id.to_string(),
                d.status.as_str().to_string(),
                d.attempts.to_string(),
                match d.status {
                    DeliveryStatus::Pending => d.next_attempt_at.to_string(),
                    _ => "-".to_string(),
                },
                d.target_kind.clone(),
                d.target_url.clone(),
                match &d.last_error {
                    Some(e) if d.status != DeliveryStatus::Delivered => {
                        format!("{}  ({e})", d.summary)
                    }
                    _ => d.summary.clone(),
                },
            ]
        })
        .collect();
    write!(
        out,
        "{}",
        table(
            &["ID", "STATUS", "ATTEMPTS", "NEXT", "TYPE", "URL", "SUMMARY"],
            &rows
        )
    )?;
    Ok(Outcome::Success)
}

fn deliver(home: &Home, args: DeliverArgs) -> Result<Outcome, CliError> {
    if args.max_attempts == 0 {
        return Err(CliError::usage("--max-attempts must be at least 1", None));
    }
    let store = open_at(home)?;
    let policy = RetryPolicy {
        max_attempts: args.max_attempts,
        ..RetryPolicy::default()
    };
    let deliverer = Deliverer::new(policy).map_err(notify_error)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime
        .block_on(deliverer.deliver_due(&store))
        .map_err(notify_error)?;
    if args.format == Format::Json {
        print_json(&report)?;
    } else {
        let mut out = std::io::stdout().lock();
        for a in &report.attempts {
            let how = match (&a.error, a.http_status) {
                (None, Some(status)) => format!("HTTP {status}"),
                (Some(e), _) => e.clone(),
                (None, None) => String::new(),
            };
            writeln!(
                out,
                "{:<9}  {}  {} {}  {}  (attempt {}: {how})",
                a.status.as_str(),
                a.id,
                a.target_kind,
                a.target_url,
                a.summary,
                a.attempts
            )?;
        }
        writeln!(
            out,
            "{} delivered, {} to retry, {} failed",
            report.count(DeliveryStatus::Delivered),
            report.count(DeliveryStatus::Pending),
            report.count(DeliveryStatus::Failed)
        )?;
    }
    Ok(if report.count(DeliveryStatus::Failed) > 0 {
        Outcome::Failure
    } else {
        Outcome::Success
    })
}
