//! `gantry logs`: the log files of a recorded run, in order, with a header
//! per job and step.

use std::io::{self, Write};

use clap::Args;
use gantry_store::{Home, LogSection, RunId, Store, StoreError};

use super::CliError;
use super::runs::{open_existing, store_error};
use crate::Outcome;

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The run's number, as `gantry runs` lists it.
    pub id: RunId,

    /// Only this job: its id in `jobs:`, its display name, or its row number
    /// from `gantry runs show`.
    #[arg(long, short = 'j', value_name = "JOB")]
    pub job: Option<String>,

    /// Only this step: its number, its `id:`, or its name.
    #[arg(long, short = 's', value_name = "STEP")]
    pub step: Option<String>,
}

pub fn run(home: &Home, args: LogsArgs) -> Result<Outcome, CliError> {
    let no_run = || {
        store_error(StoreError::NotFound {
            what: "run",
            id: args.id.0,
        })
    };
    let store = open_existing(home)?.ok_or_else(no_run)?;
    let logs = store
        .run_logs(args.id, args.job.as_deref(), args.step.as_deref())
        .map_err(store_error)?;
    let mut out = io::stdout().lock();
    for section in &logs.sections {
        print_section(&store, &mut out, section)?;
    }
    Ok(Outcome::Success)
}

/// Prints a header and the file. A missing step log is said so; a job's
/// own log is shown only when it has something in it.
fn print_section(
    store: &Store,
    out: &mut impl Write,
    section: &LogSection,
) -> Result<(), CliError> {
    let title = match &section.step {
        Some(step) => format!(
            "{} / {}. {} ({})",
            section.job,
            step.index,
            step.name,
            step.conclusion.map_or("running", |c| c.as_str())
        ),
        None => format!("{} (set-up)", section.job),
    };
    let optional = section.step.is_none();
    match store.open_log(&section.path).map_err(store_error)? {
        Some(mut file) => {
            if optional && file.metadata().is_ok_and(|m| m.len() == 0) {
                return Ok(());
            }
            writeln!(out, "==> {title} <==")?;
            io::copy(&mut file, out).map_err(|source| CliError::Read {
                path: section.path.clone(),
                source,
            })?;
            writeln!(out)?;
        }
        None => {
            if !optional {
                writeln!(out, "==> {title} <==")?;
                writeln!(out, "(no log recorded)\n")?;
            }
        }
    }
    Ok(())
}
