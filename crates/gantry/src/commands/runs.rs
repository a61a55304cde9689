//! `gantry runs`: the run history recorded under `$GANTRY_HOME`.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use gantry_store::{
    CacheEvent, Conclusion, Home, JobRecord, RunDetail, RunId, RunSummary, RunsDocument, Store,
    StoreError, StoreOptions,
};

use super::CliError;
use super::cache::format_bytes;
use crate::Outcome;
use crate::cli::Format;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub command: Option<RunsCommand>,

    /// How many runs to list, newest first.
    #[arg(long, short = 'n', value_name = "N", default_value_t = 20)]
    pub limit: usize,

    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Everything recorded about one run: jobs, steps, exit codes, outputs,
    /// caches and artifacts.
    Show(ShowArgs),
    /// Copy a run's artifacts out of the store, one folder per artifact,
    /// as `actions/download-artifact` lays them out.
    Download(DownloadArgs),
}

#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// The run's number, as `gantry runs` lists it.
    pub id: RunId,

    /// Only the artifacts whose names match this pattern (`*`, `?`).
    #[arg(long, short = 'n', value_name = "PATTERN")]
    pub name: Option<String>,

    /// The folder to put them in.
    #[arg(long, short = 'D', value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The run's number, as `gantry runs` lists it.
    pub id: RunId,

    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Opens the store of `home`; `None` when nothing was ever recorded there
/// (reading commands then create nothing). A database that is there but
/// unusable, or a home that is not a folder, is an error.
pub(crate) fn open_existing(home: &Home) -> Result<Option<Store>, CliError> {
    Store::open_existing(home, StoreOptions::default()).map_err(store_error)
}

/// Opens (creating) the store of `home`.
pub(crate) fn open_at(home: &Home) -> Result<Store, CliError> {
    Store::open_in(home, StoreOptions::default()).map_err(store_error)
}

pub(crate) fn store_error(e: StoreError) -> CliError {
    let hint = e.hint();
    CliError::usage(e.to_string(), hint)
}

pub fn run(root: &Path, home: &Home, args: RunsArgs) -> Result<Outcome, CliError> {
    match args.command {
        Some(RunsCommand::Show(show)) => run_show(home, show),
        Some(RunsCommand::Download(download)) => run_download(home, root, download),
        None => run_list(home, args.limit, args.format),
    }
}

fn run_download(home: &Home, root: &Path, args: DownloadArgs) -> Result<Outcome, CliError> {
    let Some(store) = open_existing(home)? else {
        return Err(CliError::usage(
            format!("there is no run {}: nothing was ever run here", args.id),
            Some("see recorded runs with `gantry runs`".to_string()),
        ));
    };
    let dir = super::user_path(root, &args.dir);
    let found = store
        .download_artifact(args.id, args.name.as_deref(), &dir, true)
        .map_err(store_error)?;
    if found.is_empty() {
        let what = match &args.name {
            Some(p) => format!("no artifact of run {} matches `{p}`", args.id),
            None => format!("run {} kept no artifacts (or they expired)", args.id),
        };
        eprintln!("error: {what}");
        return Ok(Outcome::Failure);
    }
    let mut out = std::io::stdout().lock();
    for a in &found {
        writeln!(
            out,
            "{}: {} file(s), {} -> {}",
            a.name,
            a.files,
            format_bytes(a.size),
            super::display_path(root, &dir.join(&a.name))
        )?;
    }
    Ok(Outcome::Success)
}

fn run_list(home: &Home, limit: usize, format: Format) -> Result<Outcome, CliError> {
    let runs = match open_existing(home)? {
        Some(store) => store.runs(limit).map_err(store_error)?,
        None => Vec::new(),
    };
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            let text = serde_json::to_string_pretty(&RunsDocument::new(&runs))
                .map_err(std::io::Error::from)?;
            writeln!(out, "{text}")?;
        }
        Format::Human => out.write_all(list_human(&runs).as_bytes())?,
    }
    Ok(Outcome::Success)
}

fn status(conclusion: Option<Conclusion>) -> &'static str {
    conclusion.map_or("running", Conclusion::as_str)
}

/// `1.2s`, `3m 04s`, `2h 05m`.
pub(crate) fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        format!("{:.1}s", d.as_secs_f64())
    } else if secs < 3600 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h {:02}m", secs / 3600, secs % 3600 / 60)
    }
}

fn duration_of(
    started: gantry_store::Timestamp,
    finished: Option<gantry_store::Timestamp>,
) -> String {
    finished.map_or_else(|| "-".to_string(), |f| format_duration(f.since(started)))
}

fn short_ref(git_ref: Option<&str>) -> &str {
    match git_ref {
        Some(r) => r
            .strip_prefix("refs/heads/")
            .or_else(|| r.strip_prefix("refs/tags/"))
            .unwrap_or(r),
        None => "-",
    }
}

fn list_human(runs: &[RunSummary]) -> String {
    if runs.is_empty() {
        return "no runs recorded yet; `gantry run` records every run\n".to_string();
    }
    let rows: Vec<[String; 7]> = runs
        .iter()
        .map(|r| {
            [
                r.id.to_string(),
                status(r.conclusion).to_string(),
                r.workflow_name.clone(),
                r.event.clone(),
                short_ref(r.git_ref.as_deref()).to_string(),
                r.started_at.to_string(),
                duration_of(r.started_at, r.finished_at),
            ]
        })
        .collect();
    table(
        &[
            "ID", "STATUS", "WORKFLOW", "EVENT", "REF", "STARTED", "DURATION",
        ],
        &rows,
    )
}

/// Left-aligned columns separated by two spaces.
pub(crate) fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.zip(widths).enumerate() {
            if i + 1 == N {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<w$}  ");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

fn run_show(home: &Home, args: ShowArgs) -> Result<Outcome, CliError> {
    let detail = match open_existing(home)? {
        Some(store) => store.run(args.id).map_err(store_error)?,
        None => None,
    };
    let Some(detail) = detail else {
        return Err(CliError::usage(
            format!("no run {} in the history", args.id),
            Some("`gantry runs` lists the recorded runs".to_string()),
        ));
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let text =
                serde_json::to_string_pretty(&detail.document()).map_err(std::io::Error::from)?;
            writeln!(out, "{text}")?;
        }
        Format::Human => out.write_all(show_human(&detail).as_bytes())?,
    }
    Ok(Outcome::Success)
}

fn show_human(d: &RunDetail) -> String {
    let r = &d.run;
    let mut s = String::new();
    let _ = writeln!(s, "run {}: {} ({})", r.id, r.workflow_name, r.workflow_path);
    let _ = writeln!(s, "  status    {}", status(r.conclusion));
    let _ = writeln!(s, "  event     {}", r.event);
    if let Some(git_ref) = &r.git_ref {
        let _ = writeln!(s, "  ref       {git_ref}");
    }
    if let Some(commit) = &r.commit {
        let _ = writeln!(s, "  commit    {commit}");
    }
    let _ = writeln!(s, "  started   {}", r.started_at);
    let _ = writeln!(
        s,
        "  duration  {}",
        duration_of(r.started_at, r.finished_at)
    );
    let _ = writeln!(s, "  pid       {}", r.pid);
    if d.inputs_json != "{}" {
        let _ = writeln!(s, "  inputs    {}", d.inputs_json);
    }
    s.push_str("\njobs\n");
    if d.jobs.is_empty() {
        s.push_str("  (none)\n");
    }
    for job in &d.jobs {
        job_human(&mut s, job);
    }
    if !d.caches.is_empty() {
        s.push_str("\ncaches\n");
        for c in &d.caches {
            let _ = match &c.event {
                CacheEvent::Hit { matched_key } if *matched_key == c.key => {
                    writeln!(s, "  hit    {}", c.key)
                }
                CacheEvent::Hit { matched_key } => {
                    writeln!(s, "  hit    {} (restored {matched_key})", c.key)
                }
                CacheEvent::Miss => writeln!(s, "  miss   {}", c.key),
                CacheEvent::Saved => writeln!(s, "  saved  {}", c.key),
            };
        }
    }
    if !d.failing_tests.is_empty() {
        s.push_str("\nfailing tests\n");
        for t in &d.failing_tests {
            let _ = writeln!(
                s,
                "  {} {}{}",
                t.test,
                t.job_name
                    .as_deref()
                    .map(|j| format!("in {j}"))
                    .unwrap_or_default(),
                t.message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            );
        }
    }
    if !d.artifacts.is_empty() {
        s.push_str("\nartifacts\n");
        let rows: Vec<[String; 4]> = d
            .artifacts
            .iter()
            .map(|a| {
                [
                    format!("  {}", a.name),
                    format!(
                        "{} {}",
                        a.files,
                        if a.files == 1 { "file" } else { "files" }
                    ),
                    format_bytes(a.size),
                    if a.expired {
                        "expired".to_string()
                    } else {
                        format!("expires {}", a.expires_at)
                    },
                ]
            })
            .collect();
        let text = table(&["", "", "", ""], &rows);
        s.push_str(text.split_once('\n').map_or("", |(_, rest)| rest));
    }
    let _ = writeln!(s, "\nlogs: gantry logs {}", r.id);
    s
}

fn job_human(s: &mut String, job: &JobRecord) {
    let _ = writeln!(
        s,
        "  {}  {}  {}",
        job.name,
        status(job.conclusion),
        duration_of(job.started_at, job.finished_at)
    );
    for step in &job.steps {
        let result = match (step.outcome, step.conclusion) {
            (Some(o), Some(c)) if o != c => format!("{o} (continue-on-error: {c})"),
            (_, c) => status(c).to_string(),
        };
        let exit = step
            .exit_code
            .map(|c| format!("  exit {c}"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "    {:>2}. {}  {}  {}{exit}",
            step.index,
            step.name,
            result,
            duration_of(step.started_at, step.finished_at)
        );
        for (k, v) in &step.outputs {
            let _ = writeln!(s, "        output {k}={v}");
        }
    }
    for (k, v) in &job.outputs {
        let _ = writeln!(s, "    output {k}={v}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_millis(1234)), "1.2s");
        assert_eq!(format_duration(Duration::from_secs(184)), "3m 04s");
        assert_eq!(format_duration(Duration::from_secs(7500)), "2h 05m");
    }

    #[test]
    fn tables_align_columns() {
        let t = table(
            &["ID", "NAME"],
            &[["1".into(), "a".into()], ["10".into(), "b".into()]],
        );
        assert_eq!(t, "ID  NAME\n1   a\n10  b\n");
    }
}
