//! `gantry logs`: the log files of a recorded run, in order, with a header
//! per job and step.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use clap::Args;
use gantry_store::{JobRecord, RunId, StepRecord};

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

fn job_matches(job: &JobRecord, wanted: &str) -> bool {
    job.job_id == wanted || job.name == wanted || job.id.to_string() == wanted
}

fn step_matches(step: &StepRecord, wanted: &str) -> bool {
    step.index.to_string() == wanted
        || step.step_id.as_deref() == Some(wanted)
        || step.name == wanted
}

pub fn run(_root: &Path, args: LogsArgs) -> Result<Outcome, CliError> {
    let detail = match open_existing()? {
        Some(store) => store.run(args.id).map_err(store_error)?,
        None => None,
    };
    let Some(detail) = detail else {
        return Err(CliError::usage(
            format!("no run {} in the history", args.id),
            Some("`gantry runs` lists the recorded runs".to_string()),
        ));
    };
    let jobs: Vec<&JobRecord> = detail
        .jobs
        .iter()
        .filter(|j| args.job.as_deref().is_none_or(|w| job_matches(j, w)))
        .collect();
    if let (Some(wanted), true) = (&args.job, jobs.is_empty()) {
        let known: Vec<&str> = detail.jobs.iter().map(|j| j.job_id.as_str()).collect();
        return Err(CliError::usage(
            format!("run {} has no job `{wanted}`", args.id),
            Some(format!("its jobs: {}", known.join(", "))),
        ));
    }
    let mut out = io::stdout().lock();
    let mut shown_steps = 0;
    for job in &jobs {
        if args.step.is_none() {
            print_file(
                &mut out,
                &format!("{} (set-up)", job.name),
                &job.log_path,
                true,
            )?;
        }
        for step in &job.steps {
            if args.step.as_deref().is_some_and(|w| !step_matches(step, w)) {
                continue;
            }
            shown_steps += 1;
            let status = step.conclusion.map_or("running", |c| c.as_str());
            let title = format!("{} / {}. {} ({status})", job.name, step.index, step.name);
            print_file(&mut out, &title, &step.log_path, false)?;
        }
    }
    if let (Some(wanted), 0) = (&args.step, shown_steps) {
        let known: Vec<String> = jobs
            .iter()
            .flat_map(|j| &j.steps)
            .map(|s| format!("{}. {}", s.index, s.name))
            .collect();
        return Err(CliError::usage(
            format!("run {} has no step `{wanted}`", args.id),
            Some(format!("its steps: {}", known.join(", "))),
        ));
    }
    Ok(Outcome::Success)
}

/// Prints a header and the file. A missing file is said so, unless
/// `optional` (job-level logs exist only when there was something to say).
fn print_file(
    out: &mut impl Write,
    title: &str,
    path: &Path,
    optional: bool,
) -> Result<(), CliError> {
    match File::open(path) {
        Ok(mut file) => {
            if optional && file.metadata().is_ok_and(|m| m.len() == 0) {
                return Ok(());
            }
            writeln!(out, "==> {title} <==")?;
            io::copy(&mut file, out)?;
            writeln!(out)?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if !optional {
                writeln!(out, "==> {title} <==")?;
                writeln!(out, "(no log recorded)\n")?;
            }
        }
        Err(source) => {
            return Err(CliError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    }
    Ok(())
}
