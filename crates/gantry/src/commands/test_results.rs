//! `gantry tests`: recorded test results, flaky tests, and splitting test
//! files into shards.

use std::io::Write;
use std::path::Path;

use clap::{Args, Subcommand};
use gantry_store::{FlakyReport, Home, RunId, StoredCase, TestsReport, Timestamp};
use gantry_tests::{FilesError, SplitPlan};
use serde::Serialize;

use super::CliError;
use super::cache::parse_age;
use super::runs::{open_existing, store_error};
use crate::Outcome;
use crate::cli::Format;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TestsArgs {
    #[command(subcommand)]
    pub command: Option<TestsCommand>,

    /// The run to show (as `gantry runs` lists it); the newest run with
    /// test results when left out.
    pub run: Option<RunId>,

    /// Only the failed and errored tests.
    #[arg(long, conflicts_with = "flaky")]
    pub failed: bool,

    /// Also list the N slowest tests.
    #[arg(long, value_name = "N", conflicts_with = "flaky")]
    pub slowest: Option<usize>,

    /// List flaky tests: tests that failed and passed on the same commit.
    #[arg(long)]
    pub flaky: bool,

    /// With --flaky: only runs of the last AGE (30d, 12h, 2w).
    #[arg(long, value_name = "AGE", value_parser = parse_age, requires = "flaky")]
    pub since: Option<std::time::Duration>,

    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum TestsCommand {
    /// Print the test files of one shard, balanced by recorded durations.
    #[command(after_long_help = SPLIT_EXAMPLES)]
    Split(SplitArgs),
}

const SPLIT_EXAMPLES: &str = "\
Examples:
  gantry tests split --shards 4 --index 1 --glob 'tests/**/test_*.py'
  pytest $(gantry tests split --shards 4 --index ${{ matrix.shard }} --glob 'tests/**/test_*.py')
  gantry tests split --shards 4 --index 2 tests/a.py tests/b.py tests/c.py --format json

Files with recorded test cases weigh their mean time per job over the
newest --history runs; files without history weigh their size at the
recorded seconds per byte. The same history always gives the same split.";

#[derive(Debug, Args)]
pub struct SplitArgs {
    /// How many shards.
    #[arg(long, value_name = "N")]
    pub shards: usize,

    /// Which shard to print, from 1 to --shards.
    #[arg(long, value_name = "I")]
    pub index: usize,

    /// Test files, as paths from the current folder (the shard's files
    /// are printed the same way; `--format json` names them from the
    /// repository root).
    pub files: Vec<String>,

    /// Test files matching this glob under the repository (repeatable;
    /// `**` crosses folders; .gitignore is respected).
    #[arg(long, value_name = "GLOB")]
    pub glob: Vec<String>,

    /// How many of the newest runs with test results to learn durations from.
    #[arg(long, value_name = "RUNS", default_value_t = 20)]
    pub history: usize,

    /// `human` prints the shard's files one per line (for `$(...)`);
    /// `json` prints every shard with its expected time.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(root: &Path, home: &Home, args: TestsArgs) -> Result<Outcome, CliError> {
    match args.command {
        Some(TestsCommand::Split(split)) => run_split(root, home, split),
        None if args.flaky => run_flaky(root, home, &args),
        None => run_show(root, home, &args),
    }
}

fn files_error(e: FilesError) -> CliError {
    CliError::usage(e.to_string(), None)
}

fn print_json(value: &impl Serialize) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)
        .map_err(|e| CliError::Write(std::io::Error::other(e)))?;
    writeln!(out)?;
    Ok(())
}

fn run_show(root: &Path, home: &Home, args: &TestsArgs) -> Result<Outcome, CliError> {
    let quarantine = gantry_tests::load_quarantine(root).map_err(files_error)?;
    let report = match open_existing(home)? {
        Some(store) => store
            .tests_report(args.run, args.slowest.unwrap_or(0), &quarantine)
            .map_err(store_error)?,
        None => TestsReport {
            run: None,
            counts: Default::default(),
            jobs: Vec::new(),
            failing: Vec::new(),
            slowest: Vec::new(),
            reports: Vec::new(),
        },
    };
    if let (Some(asked), None) = (args.run, report.run) {
        return Err(CliError::usage(
            format!("run {asked} has no test results"),
            Some(
                "`gantry runs` lists the runs; a job records tests with `uses: gantry/test-report`"
                    .into(),
            ),
        ));
    }
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Human => write_report(&mut std::io::stdout().lock(), &report, args.failed)?,
    }
    let failing = report.failing.iter().any(|f| f.quarantined.is_none());
    Ok(if failing {
        Outcome::Failure
    } else {
        Outcome::Success
    })
}

fn case_label(c: &StoredCase) -> String {
    let mut label = c.case.id();
    if let Some(file) = &c.case.file {
        label.push_str(&format!(" ({file})"));
    }
    label
}

fn write_report(
    out: &mut impl Write,
    report: &TestsReport,
    failed_only: bool,
) -> Result<(), CliError> {
    let Some(run) = report.run else {
        writeln!(
            out,
            "no test results recorded yet: a job records them with `uses: gantry/test-report` (with: path: GLOB)"
        )?;
        return Ok(());
    };
    let c = report.counts;
    writeln!(
        out,
        "run {run}: {} tests: {} passed, {} failed, {} errored, {} skipped{}",
        c.total,
        c.passed,
        c.failed,
        c.errored,
        c.skipped,
        if c.flaky > 0 {
            format!(" ({} passed on a retry)", c.flaky)
        } else {
            String::new()
        }
    )?;
    if !failed_only {
        for job in &report.jobs {
            let j = job.counts;
            writeln!(
                out,
                "  {}: {} passed, {} failed, {} errored, {} skipped",
                job.job_name.as_deref().unwrap_or("(no job)"),
                j.passed,
                j.failed,
                j.errored,
                j.skipped
            )?;
        }
    }
    if !report.failing.is_empty() {
        writeln!(out, "\nfailing:")?;
        for f in &report.failing {
            writeln!(
                out,
                "  {} {}{}",
                f.case.case.outcome.as_str().to_uppercase(),
                case_label(&f.case),
                f.case
                    .job_name
                    .as_deref()
                    .map(|j| format!(" in {j}"))
                    .unwrap_or_default()
            )?;
            if let Some(message) = &f.case.case.message {
                writeln!(out, "      {message}")?;
            }
            if let Some(reason) = &f.quarantined {
                writeln!(out, "      quarantined: {reason}")?;
            }
        }
    }
    if !report.slowest.is_empty() && !failed_only {
        writeln!(out, "\nslowest:")?;
        for s in &report.slowest {
            writeln!(
                out,
                "  {:>9.3}s  {}",
                s.case.duration.unwrap_or(0.0),
                case_label(s)
            )?;
        }
    }
    for r in &report.reports {
        if let Some(error) = &r.error {
            writeln!(out, "\nwarning: {}: unreadable: {error}", r.path)?;
        }
        for w in &r.warnings {
            writeln!(out, "\nwarning: {}:{}: {}", r.path, w.line, w.message)?;
        }
    }
    Ok(())
}

fn run_flaky(root: &Path, home: &Home, args: &TestsArgs) -> Result<Outcome, CliError> {
    let quarantine = gantry_tests::load_quarantine(root).map_err(files_error)?;
    let since = args.since.map(|age| {
        let now = Timestamp::now();
        Timestamp(now.millis() - i64::try_from(age.as_millis()).unwrap_or(i64::MAX))
    });
    let report = match open_existing(home)? {
        Some(store) => store
            .flaky_report(since, &quarantine)
            .map_err(store_error)?,
        None => FlakyReport {
            since,
            runs: 0,
            tests: Vec::new(),
        },
    };
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Human => {
            let mut out = std::io::stdout().lock();
            if report.tests.is_empty() {
                writeln!(out, "no flaky tests in {} runs", report.runs)?;
            }
            for t in &report.tests {
                writeln!(
                    out,
                    "{}: flaky on {} of {} commits ({:.0}%){}",
                    t.test.test,
                    t.test.flaky_commits,
                    t.test.commits,
                    t.test.flake_rate * 100.0,
                    t.quarantined
                        .as_deref()
                        .map(|q| format!("; quarantined: {q}"))
                        .unwrap_or_default()
                )?;
                for o in &t.test.last {
                    let runs: Vec<String> = o.runs.iter().map(u64::to_string).collect();
                    writeln!(
                        out,
                        "  {} {}: {} (runs {})",
                        o.time,
                        short(&o.commit),
                        o.how,
                        runs.join(", ")
                    )?;
                }
            }
        }
    }
    Ok(Outcome::Success)
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// `gantry tests split --format json`.
#[derive(Serialize)]
struct SplitDocument<'a> {
    index: usize,
    files: &'a [String],
    #[serde(flatten)]
    plan: &'a SplitPlan,
}

fn run_split(root: &Path, home: &Home, args: SplitArgs) -> Result<Outcome, CliError> {
    if args.files.is_empty() && args.glob.is_empty() {
        return Err(CliError::usage(
            "no test files to split",
            Some("name them, or give --glob 'tests/**/test_*.py'".into()),
        ));
    }
    // History knows files by their path in the repository; the user gave
    // them from where gantry started, and gets the shard back that way.
    let mut given = Vec::new();
    for file in &args.files {
        let path = super::repo_path(root, Path::new(file));
        if path.is_absolute() {
            given.push(path.display().to_string());
            continue;
        }
        // `tests/../a.py` and `./a.py` are `a.py`, as history knows it.
        let Some(path) = gantry_fs::normalize(&path) else {
            return Err(CliError::usage(
                format!("`{file}` is outside the repository"),
                Some("name test files inside it, from the current folder".into()),
            ));
        };
        given.push(path.display().to_string());
    }
    let here = super::repo_path(root, Path::new("."));
    let files = gantry_tests::find_files(root, &given, &args.glob, true).map_err(files_error)?;
    let weights = match open_existing(home)? {
        Some(store) => store
            .file_weights(&files, args.history)
            .map_err(store_error)?,
        None => gantry_tests::file_weights::<()>(&files, []),
    };
    let split_error = |e: gantry_tests::SplitError| CliError::usage(e.to_string(), None);
    let plan = gantry_tests::split(&weights, args.shards).map_err(split_error)?;
    let shard = gantry_tests::split::shard(&plan, args.index).map_err(split_error)?;
    match args.format {
        Format::Json => print_json(&SplitDocument {
            index: args.index,
            files: &shard.files,
            plan: &plan,
        })?,
        Format::Human => {
            let mut out = std::io::stdout().lock();
            for file in &shard.files {
                writeln!(out, "{}", from_folder(&here, file))?;
            }
        }
    }
    Ok(Outcome::Success)
}

/// `file` (a path in the repository) as a path from `folder` (the
/// repository folder gantry started in): `tests/a.py` from `tests` is
/// `a.py`, from `docs` it is `../tests/a.py`.
fn from_folder(folder: &Path, file: &str) -> String {
    let path = Path::new(file);
    if folder == Path::new(".") || path.is_absolute() {
        return file.to_string();
    }
    let folder: Vec<_> = folder.components().collect();
    let parts: Vec<_> = path.components().collect();
    let shared = folder
        .iter()
        .zip(&parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut shown = std::path::PathBuf::new();
    for _ in shared..folder.len() {
        shown.push("..");
    }
    for part in &parts[shared..] {
        shown.push(part);
    }
    shown.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::from_folder;
    use std::path::Path;

    #[test]
    fn a_shard_file_is_shown_from_the_folder_gantry_started_in() {
        assert_eq!(from_folder(Path::new("."), "tests/a.py"), "tests/a.py");
        assert_eq!(from_folder(Path::new("tests"), "tests/a.py"), "a.py");
        assert_eq!(
            from_folder(Path::new("tests/unit"), "tests/a.py"),
            "../a.py"
        );
        assert_eq!(
            from_folder(Path::new("docs"), "tests/a.py"),
            "../tests/a.py"
        );
        assert_eq!(from_folder(Path::new("docs"), "/abs/a.py"), "/abs/a.py");
    }
}
