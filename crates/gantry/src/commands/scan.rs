//! `gantry scan`: the lockfiles under a folder (or an SBOM) against the
//! offline vulnerability database, with a severity gate and ignores.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use gantry_sbom::DiscoverOptions;
use gantry_vuln::ignore::{IGNORE_FILE, IgnoreList};
use gantry_vuln::{Finding, FindingKind, Level};
use serde_json::json;

use super::CliError;
use super::sbom::{print_warnings, read_inventory, resolve};
use crate::Outcome;

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

/// The lowest severity that fails the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Critical,
    High,
    Medium,
    /// Any vulnerability, also those of unknown severity.
    Low,
    /// Never fail on findings.
    None,
}

impl FailOn {
    fn as_str(self) -> &'static str {
        match self {
            FailOn::Critical => "critical",
            FailOn::High => "high",
            FailOn::Medium => "medium",
            FailOn::Low => "low",
            FailOn::None => "none",
        }
    }

    /// Whether a finding of this level fails the gate.
    fn fails(self, level: Level) -> bool {
        match self {
            FailOn::None => false,
            FailOn::Low => true,
            FailOn::Medium => level >= Level::Medium,
            FailOn::High => level >= Level::High,
            FailOn::Critical => level >= Level::Critical,
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
}

/// The nearest `.gantry/ignore.yml` from `start` up to `root`.
fn find_ignore_file(root: &Path, start: &Path) -> Option<PathBuf> {
    let root = std::path::absolute(root).ok()?;
    let mut dir = std::path::absolute(start).ok()?;
    loop {
        let candidate = dir.join(IGNORE_FILE);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir == root || !dir.pop() || !dir.starts_with(&root) {
            return None;
        }
    }
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

pub fn run(root: &Path, args: ScanArgs) -> Result<Outcome, CliError> {
    let path = resolve(root, args.path.as_deref().unwrap_or(Path::new(".")));
    let db = super::db::open()?;
    let started = std::time::Instant::now();
    let is_sbom = path.is_file()
        && gantry_sbom::formats::format_for(&path).is_none()
        && path.extension().is_some_and(|e| e == "json");
    let base = if path.is_file() {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        path.clone()
    };
    let (components, lockfiles, warnings) = if is_sbom {
        let text = super::read_text(&path)?;
        let shown = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let parsed = gantry_sbom::read::read_sbom(&shown, &text);
        (parsed.components, 1, parsed.warnings)
    } else {
        let options = DiscoverOptions {
            include_vendored: args.include_vendored,
            no_ignore: false,
        };
        let inv = read_inventory(&path, &options)?;
        (inv.components, inv.files.len(), inv.warnings)
    };
    print_warnings(&base, &warnings);
    let mut report = gantry_vuln::scan(&db, &components);
    let now = gantry_sbom::time::now();

    // Ignores.
    let ignore_path = match &args.ignore_file {
        Some(p) => Some(resolve(root, p)),
        None => find_ignore_file(root, &base),
    };
    let applied = match &ignore_path {
        Some(p) => {
            let text = super::read_text(p)?;
            let shown = p.display().to_string();
            let list = IgnoreList::parse(&shown, &text).map_err(|e| {
                CliError::usage(
                    e.to_string(),
                    Some("each entry needs `id`, `reason` and `expires: YYYY-MM-DD`".into()),
                )
            })?;
            Some((shown, list.apply(&mut report, now)))
        }
        None => None,
    };

    // Data age.
    if let Some(newest) = db.meta().newest_modified.as_deref()
        && let Some(t) = gantry_sbom::time::parse_rfc3339(newest)
    {
        let days = (now - t) / 86_400;
        if days > i64::try_from(args.max_db_age).unwrap_or(i64::MAX) {
            eprintln!(
                "warning: the vulnerability data is {days} days old (newest advisory modified {newest}); \
                     import fresh OSV data with `gantry db import` (--max-db-age {} sets the limit)",
                args.max_db_age
            );
        }
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }

    let gate = args.fail_on;
    let failing: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| gate.fails(f.severity.level))
        .collect();
    let elapsed = started.elapsed();

    let mut out = String::new();
    match args.format {
        ScanFormat::Sarif => {
            let sarif = gantry_vuln::sarif::write(&report, env!("CARGO_PKG_VERSION"));
            out = serde_json::to_string_pretty(&sarif).map_err(std::io::Error::from)?;
            out.push('\n');
        }
        ScanFormat::Json => {
            let ignored: Vec<serde_json::Value> = applied
                .iter()
                .flat_map(|(_, a)| &a.ignored)
                .map(|(f, e)| {
                    json!({"ids": f.ids, "package": f.package, "version": f.version,
                           "location": f.location, "reason": e.reason, "expires": e.expires})
                })
                .collect();
            let expired: Vec<&gantry_vuln::ignore::Entry> =
                applied.iter().flat_map(|(_, a)| &a.expired).collect();
            let by_level = |l: Level| {
                report
                    .findings
                    .iter()
                    .filter(|f| f.severity.level == l)
                    .count()
            };
            let doc = json!({
                "findings": report.findings,
                "informational": report.informational,
                "ignored": ignored,
                "expired_ignores": expired,
                "warnings": report.warnings,
                "summary": {
                    "components": report.components,
                    "lockfiles": lockfiles,
                    "unpinned": report.unpinned,
                    "vulnerabilities": report.findings.len(),
                    "critical": by_level(Level::Critical),
                    "high": by_level(Level::High),
                    "medium": by_level(Level::Medium),
                    "low": by_level(Level::Low),
                    "unknown": by_level(Level::Unknown),
                },
                "gate": {
                    "fail_on": gate.as_str(),
                    "failed": !failing.is_empty() || !expired.is_empty(),
                    "failing": failing.iter().map(|f| f.id()).collect::<Vec<_>>(),
                },
                "database": {
                    "records": db.meta().records,
                    "newest_modified": db.meta().newest_modified,
                },
            });
            out = serde_json::to_string_pretty(&doc).map_err(std::io::Error::from)?;
            out.push('\n');
        }
        ScanFormat::Human => {
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
            if let Some((file, a)) = &applied
                && !a.ignored.is_empty()
            {
                let _ = writeln!(out, "\nignored ({file}):");
                for (f, e) in &a.ignored {
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
                let n = report
                    .findings
                    .iter()
                    .filter(|f| f.severity.level == *l)
                    .count();
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
                lockfiles,
                if is_sbom { "SBOM" } else { "lockfiles" },
                report.unpinned.len(),
                elapsed.as_secs_f64() * 1000.0
            );
        }
    }
    match &args.output {
        Some(file) => {
            let file = resolve(root, file);
            std::fs::write(&file, &out).map_err(|source| {
                CliError::usage(
                    format!("failed to write {}: {source}", file.display()),
                    None,
                )
            })?;
        }
        None => std::io::stdout().lock().write_all(out.as_bytes())?,
    }

    // Diagnostics: findings below the gate but high or worse, the gate.
    for f in report
        .findings
        .iter()
        .filter(|f| !gate.fails(f.severity.level) && f.severity.level >= Level::High)
    {
        eprintln!(
            "warning: {} ({}) in {} {} at {} is below the gate (--fail-on {}){}",
            f.id(),
            severity_text(f),
            f.package,
            f.version,
            f.location,
            gate.as_str(),
            f.fixed
                .as_ref()
                .map_or_else(String::new, |v| format!("; fixed in {v}"))
        );
    }
    if let Some((_, a)) = &applied {
        for e in &a.unused {
            eprintln!(
                "warning: {}:{}: ignore of {} matches no finding; remove it",
                ignore_path
                    .as_ref()
                    .map_or_else(String::new, |p| p.display().to_string()),
                e.line,
                e.id
            );
        }
    }
    let mut failed = false;
    if let Some((file, a)) = &applied {
        for e in &a.expired {
            failed = true;
            eprintln!(
                "error: {file}:{}: the ignore of {} expired on {} (reason given: {})\n  hint: fix the finding, or review it and set a new `expires` date",
                e.line, e.id, e.expires, e.reason
            );
        }
    }
    if !failing.is_empty() {
        failed = true;
        eprintln!(
            "error: gate failed: {} {} at or above {} (--fail-on {}):",
            failing.len(),
            if failing.len() == 1 {
                "vulnerability"
            } else {
                "vulnerabilities"
            },
            gate.as_str(),
            gate.as_str()
        );
        for f in &failing {
            eprintln!("  {}", finding_line(f));
        }
        eprintln!(
            "  hint: upgrade to the fixed versions, or accept a finding in {IGNORE_FILE} with a reason and an expiry date"
        );
    }
    Ok(if failed {
        Outcome::Failure
    } else {
        Outcome::Success
    })
}
