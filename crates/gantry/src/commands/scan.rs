//! `gantry scan`: the lockfiles under a folder (or an SBOM) against the
//! offline vulnerability database, with a severity gate and ignores.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use gantry_sbom::DiscoverOptions;
use gantry_vuln::check::InputKind;
use gantry_vuln::ignore::IGNORE_FILE;
use gantry_vuln::{CheckError, FailOn, Finding, FindingKind, Level, Policy, Request};

use super::CliError;
use super::sbom::print_warnings;
use super::user_path;
use crate::Outcome;

type ScanOutcome = gantry_vuln::Outcome;

/// Output format of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ScanFormat {
    /// A table for people.
    #[default]
    Human,
    /// Stable JSON for tools.
    Json,
    /// SARIF 2.1.0, for code-scanning upload.
    Sarif,
}

/// How the gate ranks a vulnerability without a usable severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnknownAs {
    Critical,
    High,
    Medium,
    Low,
}

impl From<UnknownAs> for Level {
    fn from(u: UnknownAs) -> Self {
        match u {
            UnknownAs::Critical => Level::Critical,
            UnknownAs::High => Level::High,
            UnknownAs::Medium => Level::Medium,
            UnknownAs::Low => Level::Low,
        }
    }
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// A folder to search for lockfiles, one lockfile, or a CycloneDX or
    /// SPDX JSON SBOM [default: .].
    pub path: Option<PathBuf>,

    #[arg(long, value_enum, default_value_t)]
    pub format: ScanFormat,

    /// Exit 1 when a vulnerability at or above this severity is found.
    #[arg(long, value_enum, default_value = "critical", env = "GANTRY_FAIL_ON")]
    pub fail_on: FailOn,

    /// How the gate ranks a vulnerability with no usable severity (no
    /// CVSS vector, no severity word); shown as "unknown" either way.
    #[arg(
        long,
        value_enum,
        value_name = "LEVEL",
        default_value = "high",
        env = "GANTRY_UNKNOWN_SEVERITY"
    )]
    pub unknown_severity: UnknownAs,

    /// Accepted findings [default: the nearest .gantry/ignore.yml].
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,

    /// Warn when the newest advisory is older than this many days.
    #[arg(
        long,
        value_name = "DAYS",
        default_value_t = 30,
        env = "GANTRY_DB_MAX_AGE"
    )]
    pub max_db_age: u64,

    /// Also read lockfiles inside node_modules, target, .venv, vendor and
    /// similar folders.
    #[arg(long)]
    pub include_vendored: bool,

    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Plan, for each vulnerable package, the smallest version that fixes
    /// every advisory on it and that its manifest still admits (a dry run
    /// unless --apply).
    #[arg(long)]
    pub fix: bool,

    /// With --fix: print the plan only (the default).
    #[arg(long, requires = "fix", conflicts_with = "apply")]
    pub dry_run: bool,

    /// With --fix: run each ecosystem's updater (cargo, npm, go, uv,
    /// pip-compile) where installed, then scan again.
    #[arg(long, requires = "fix")]
    pub apply: bool,

    /// With --fix: write the plan as Renovate packageRules into the
    /// folder's renovate.json, keeping its other settings.
    #[arg(long, requires = "fix")]
    pub renovate: bool,

    /// A container image in the local Docker or Podman store, read
    /// through skopeo or podman (never pulled) instead of PATH.
    #[arg(long, value_name = "NAME", conflicts_with = "path")]
    pub image: Option<String>,

    /// The platform to read from a multi-platform image
    /// (os/architecture[/variant]) [default: linux/amd64 or the only one].
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
}

fn severity_text(f: &Finding) -> String {
    match (&f.kind, f.severity.score) {
        (FindingKind::Informational(kind), _) => kind.clone(),
        (_, Some(score)) => format!("{} {score:.1}", f.severity.level),
        (_, None) => f.severity.level.to_string(),
    }
}

fn finding_line(f: &Finding) -> String {
    let fix = f
        .fixed
        .as_ref()
        .map_or_else(|| "no fix".to_string(), |v| format!("fixed in {v}"));
    format!(
        "{:<13} {:<20} {} {} ({})  {}  {fix}",
        severity_text(f),
        f.id(),
        f.package,
        f.version,
        f.ecosystem,
        f.location
    )
}

pub fn run(root: &Path, home: &gantry_store::Home, args: ScanArgs) -> Result<Outcome, CliError> {
    let request = request(root, &args)?;
    let db = super::db::open(home)?;
    if args.fix {
        return super::scan_fix::run(root, &db, request, &args);
    }
    let started = std::time::Instant::now();
    let outcome = gantry_vuln::check(&db, &request).map_err(check_error)?;
    let elapsed = started.elapsed();
    print_scan_warnings(&outcome);
    scan_report(root, &args, &outcome, elapsed)
}

/// The scan request the arguments describe.
fn request(root: &Path, args: &ScanArgs) -> Result<Request, CliError> {
    let path = args
        .path
        .as_deref()
        .map_or_else(|| root.to_path_buf(), |p| user_path(root, p));
    let (path, _exported) = super::sbom::image_input(path, args.image.as_deref())?;
    let platform = super::sbom::platform(args.platform.as_deref())?;
    Ok(Request {
        path,
        root: root.to_path_buf(),
        ignore_file: args.ignore_file.as_ref().map(|p| user_path(root, p)),
        discover: DiscoverOptions {
            include_vendored: args.include_vendored,
            no_ignore: false,
        },
        policy: Policy {
            fail_on: args.fail_on,
            unknown_severity: args.unknown_severity.into(),
            max_db_age_days: args.max_db_age,
        },
        now: gantry_sbom::time::now(),
        platform,
    })
}

/// The scan's warnings on stderr: input problems, stale data, ranges
/// that could not be compared.
pub(super) fn print_scan_warnings(outcome: &ScanOutcome) {
    if outcome.input == InputKind::Image {
        super::sbom::print_image_warnings(&outcome.input_warnings);
    } else {
        print_warnings(&outcome.base, &outcome.input_warnings);
    }
    if let Some(stale) = &outcome.stale {
        eprintln!(
            "warning: the vulnerability data is {} days old (newest advisory modified {}); \
             import fresh OSV data with `gantry db import` (--max-db-age {} sets the limit)",
            stale.days, stale.newest_modified, stale.max_days
        );
    }
    for w in &outcome.report.warnings {
        eprintln!("warning: {w}");
    }
}

/// Writes a rendered report to `--output` or standard output.
pub(super) fn emit(root: &Path, output: Option<&Path>, out: &str) -> Result<(), CliError> {
    match output {
        Some(file) => {
            let file = user_path(root, file);
            std::fs::write(&file, out).map_err(|source| {
                CliError::usage(
                    format!("failed to write {}: {source}", file.display()),
                    None,
                )
            })?;
        }
        None => std::io::stdout().lock().write_all(out.as_bytes())?,
    }
    Ok(())
}

fn scan_report(
    root: &Path,
    args: &ScanArgs,
    outcome: &ScanOutcome,
    elapsed: std::time::Duration,
) -> Result<Outcome, CliError> {
    let out = match args.format {
        ScanFormat::Sarif => {
            let log = gantry_vuln::sarif::write(&outcome.report, env!("CARGO_PKG_VERSION"));
            gantry_report::sarif::to_string_pretty(&log).map_err(std::io::Error::from)?
        }
        ScanFormat::Json => {
            let mut text =
                serde_json::to_string_pretty(&outcome.document()).map_err(std::io::Error::from)?;
            text.push('\n');
            text
        }
        ScanFormat::Human => human(outcome, elapsed),
    };
    emit(root, args.output.as_deref(), &out)?;
    print_gate(outcome);
    Ok(if outcome.gate.failed {
        Outcome::Failure
    } else {
        Outcome::Success
    })
}

pub(super) fn check_error(e: CheckError) -> CliError {
    match e {
        CheckError::Inventory(e) => super::sbom::inventory_error(e),
        CheckError::Ignore(e) => CliError::usage(
            e.to_string(),
            Some("each entry needs `id`, `reason` and `expires: YYYY-MM-DD`".into()),
        ),
        other => CliError::usage(other.to_string(), None),
    }
}

/// The report for people: findings, informational advisories, ignores
/// and a summary line.
fn human(outcome: &ScanOutcome, elapsed: std::time::Duration) -> String {
    let report = &outcome.report;
    let mut out = String::new();
    if report.findings.is_empty() {
        let _ = writeln!(out, "no known vulnerabilities");
    } else {
        let _ = writeln!(out, "vulnerabilities:");
        for f in &report.findings {
            let _ = writeln!(out, "  {}", finding_line(f));
            if let Some(s) = &f.summary {
                let _ = writeln!(out, "  {:<13} {s}", "");
            }
            if f.ids.len() > 1 {
                let _ = writeln!(out, "  {:<13} also {}", "", f.ids[1..].join(", "));
            }
        }
    }
    if !report.informational.is_empty() {
        let _ = writeln!(out, "\ninformational (unmaintained, unsound, notices):");
        for f in &report.informational {
            let _ = writeln!(out, "  {}", finding_line(f));
            if let Some(s) = &f.summary {
                let _ = writeln!(out, "  {:<13} {s}", "");
            }
        }
    }
    if let Some(ignores) = &outcome.ignores
        && !ignores.applied.ignored.is_empty()
    {
        let _ = writeln!(out, "\nignored ({}):", ignores.file.display());
        for (f, e) in &ignores.applied.ignored {
            let _ = writeln!(
                out,
                "  {} in {} {} ({}): {} (until {})",
                f.id(),
                f.package,
                f.version,
                f.location,
                e.reason,
                e.expires
            );
        }
    }
    let by_level: Vec<String> = [
        Level::Critical,
        Level::High,
        Level::Medium,
        Level::Low,
        Level::Unknown,
    ]
    .iter()
    .filter_map(|l| {
        let n = outcome.count(*l);
        (n > 0).then(|| format!("{n} {l}"))
    })
    .collect();
    let _ = writeln!(
        out,
        "\n{} vulnerabilities{} and {} informational in {} components from {} {}; {} unpinned not checked ({:.0} ms)",
        report.findings.len(),
        if by_level.is_empty() {
            String::new()
        } else {
            format!(" ({})", by_level.join(", "))
        },
        report.informational.len(),
        report.components,
        outcome.files,
        match outcome.input {
            InputKind::Sbom => "SBOM",
            InputKind::Lockfiles => "lockfiles",
            InputKind::Image => "package databases and files in the image",
        },
        report.unpinned.len(),
        elapsed.as_secs_f64() * 1000.0
    );
    if let Some(image) = &outcome.image {
        let _ = writeln!(
            out,
            "image {} ({}, {} layers)",
            image.name,
            image.digest,
            image.layers.len()
        );
    }
    for (ecosystem, n) in &report.not_checked {
        let _ = writeln!(
            out,
            "{ecosystem}: {n} package{} not checked: the database has no {ecosystem} advisories",
            if *n == 1 { "" } else { "s" }
        );
    }
    if !report.not_checked.is_empty() {
        let _ = writeln!(
            out,
            "  hint: import them with `gantry db import` (osv.dev publishes an all.zip per ecosystem)"
        );
    }
    out
}

/// The gate's diagnostics on stderr: findings below it worth a look,
/// unused and expired ignores, and what failed it.
pub(super) fn print_gate(outcome: &ScanOutcome) {
    let gate = &outcome.gate;
    for f in &gate.below {
        eprintln!(
            "warning: {} ({}) in {} {} at {} is below the gate (--fail-on {}){}{}",
            f.id(),
            severity_text(f),
            f.package,
            f.version,
            f.location,
            gate.fail_on,
            if f.severity.level == Level::Unknown {
                format!(
                    "; no usable severity, ranked {} (--unknown-severity)",
                    gate.unknown_severity
                )
            } else {
                String::new()
            },
            f.fixed
                .as_ref()
                .map_or_else(String::new, |v| format!("; fixed in {v}"))
        );
    }
    if let Some(ignores) = &outcome.ignores {
        for e in &ignores.applied.unused {
            eprintln!(
                "warning: {}:{}: ignore of {} matches no finding; remove it",
                ignores.file.display(),
                e.line,
                e.id
            );
        }
        for e in &ignores.applied.expired {
            eprintln!(
                "error: {}:{}: the ignore of {} expired on {} (reason given: {})\n  hint: fix the finding, or review it and set a new `expires` date",
                ignores.file.display(),
                e.line,
                e.id,
                e.expires,
                e.reason
            );
        }
    }
    if !gate.failing.is_empty() {
        eprintln!(
            "error: gate failed: {} {} at or above {} (--fail-on {}):",
            gate.failing.len(),
            if gate.failing.len() == 1 {
                "vulnerability"
            } else {
                "vulnerabilities"
            },
            gate.fail_on,
            gate.fail_on
        );
        for f in &gate.failing {
            eprintln!("  {}", finding_line(f));
        }
        eprintln!(
            "  hint: upgrade to the fixed versions, or accept a finding in {IGNORE_FILE} with a reason and an expiry date"
        );
    }
}
