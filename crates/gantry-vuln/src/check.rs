//! A whole scan as `gantry scan` runs it: read the input (lockfiles under
//! a folder, one lockfile, or a CycloneDX/SPDX SBOM), match it against the
//! database, apply the ignore file, check the data's age and decide the
//! gate. [`check`] returns a typed [`Outcome`]; rendering it is the
//! caller's business, and [`Outcome::document`] is its JSON form.
//!
//! The gate ranks a vulnerability without a usable severity (no CVSS
//! vector that parses, no word the database uses) as
//! [`Policy::unknown_severity`], `high` by default: a missing score is not
//! evidence of a harmless bug, so the default `critical` gate warns about
//! it and `--fail-on high` fails on it. Reports still show it as
//! `unknown`.

use std::path::{Path, PathBuf};

use gantry_sbom::{Component, DiscoverOptions, Warning};
use serde::Serialize;

use crate::db::Database;
use crate::ignore::{Applied, Entry, IGNORE_FILE, IgnoreError, IgnoreList};
use crate::scan::{Finding, Report, scan};
use crate::severity::Level;

/// SBOMs and ignore files larger than this are refused.
pub const MAX_INPUT_BYTES: u64 = gantry_sbom::MAX_FILE_BYTES;

/// The version of [`Document`]'s layout; it changes when a field changes
/// meaning or goes away (new fields do not change it).
pub const SCAN_SCHEMA_VERSION: u32 = 1;

/// The lowest severity that fails a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    Critical,
    High,
    Medium,
    /// Any vulnerability.
    Low,
    /// Never fail on findings.
    None,
}

impl FailOn {
    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Critical => "critical",
            FailOn::High => "high",
            FailOn::Medium => "medium",
            FailOn::Low => "low",
            FailOn::None => "none",
        }
    }

    /// Whether a finding ranked `level` fails this gate.
    pub fn fails(self, level: Level) -> bool {
        match self {
            FailOn::None => false,
            FailOn::Low => true,
            FailOn::Medium => level >= Level::Medium,
            FailOn::High => level >= Level::High,
            FailOn::Critical => level >= Level::Critical,
        }
    }
}

impl std::fmt::Display for FailOn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What fails a scan and what is worth a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub fail_on: FailOn,
    /// How the gate ranks a vulnerability without a usable severity.
    pub unknown_severity: Level,
    /// Warn when the newest advisory is older than this many days.
    pub max_db_age_days: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            fail_on: FailOn::Critical,
            unknown_severity: Level::High,
            max_db_age_days: 30,
        }
    }
}

impl Policy {
    /// The level the gate ranks a finding at.
    pub fn gate_level(&self, f: &Finding) -> Level {
        match f.severity.level {
            Level::Unknown => self.unknown_severity,
            level => level,
        }
    }
}

/// What to scan.
#[derive(Debug, Clone)]
pub struct Request {
    /// A folder, a lockfile, or a CycloneDX or SPDX JSON SBOM.
    pub path: PathBuf,
    /// The project root: the search for `.gantry/ignore.yml` goes from the
    /// scanned folder up to here.
    pub root: PathBuf,
    /// An ignore file to use instead of the nearest `.gantry/ignore.yml`.
    pub ignore_file: Option<PathBuf>,
    pub discover: DiscoverOptions,
    pub policy: Policy,
    /// The time ignores expire against and data age is measured from,
    /// seconds since the epoch.
    pub now: i64,
    /// The platform to read from a multi-platform image.
    pub platform: Option<gantry_image::Platform>,
}

/// What was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    Lockfiles,
    Sbom,
    /// A container image (OCI layout, oci-archive, docker save).
    Image,
}

/// The ignore file and what it did.
#[derive(Debug, Clone)]
pub struct Ignores {
    pub file: PathBuf,
    pub applied: Applied,
}

/// The database is older than the policy allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stale {
    pub days: i64,
    pub newest_modified: String,
    pub max_days: u64,
}

/// The gate's decision.
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    pub fail_on: FailOn,
    pub unknown_severity: Level,
    /// Findings at or above the gate (unknown severity ranked by policy).
    #[serde(skip)]
    pub failing: Vec<Finding>,
    /// Findings below the gate but ranked high or worse: worth a warning.
    #[serde(skip)]
    pub below: Vec<Finding>,
    /// Ignores whose date has passed: each fails the scan.
    #[serde(skip)]
    pub expired: Vec<Entry>,
    pub failed: bool,
}

/// A finished scan.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Findings after ignores.
    pub report: Report,
    pub input: InputKind,
    /// Lockfiles read (1 for an SBOM).
    pub files: usize,
    /// The folder the input warnings' files are relative to.
    pub base: PathBuf,
    /// Problems reading the lockfiles or the SBOM.
    pub input_warnings: Vec<Warning>,
    pub ignores: Option<Ignores>,
    pub stale: Option<Stale>,
    pub gate: Gate,
    pub database_records: usize,
    pub newest_modified: Option<String>,
    /// The image scanned, when the input was one.
    pub image: Option<gantry_image::ImageSummary>,
}

/// A failure that stops a scan.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    #[error(transparent)]
    Inventory(#[from] gantry_sbom::Error),
    #[error(transparent)]
    Read(#[from] gantry_fs::ReadError),
    #[error(transparent)]
    Ignore(#[from] IgnoreError),
    #[error(transparent)]
    Image(#[from] gantry_image::Error),
}

/// Whether `path` is an SBOM rather than a lockfile or folder.
pub fn is_sbom(path: &Path) -> bool {
    path.is_file()
        && gantry_sbom::formats::format_for(path).is_none()
        && path.extension().is_some_and(|e| e == "json")
}

/// The nearest `.gantry/ignore.yml` from `start` up to `root`.
pub fn find_ignore_file(root: &Path, start: &Path) -> Option<PathBuf> {
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

type Input = (
    InputKind,
    Vec<Component>,
    usize,
    Vec<Warning>,
    Option<gantry_image::ImageSummary>,
);

/// Reads the input: components, files read and warnings.
fn read_input(request: &Request) -> Result<Input, CheckError> {
    let path = &request.path;
    if gantry_image::detect(path).is_some() {
        let options = gantry_image::Options {
            platform: request.platform.clone(),
            ..gantry_image::Options::default()
        };
        let inv = gantry_image::inventory(path, &options)?;
        return Ok((
            InputKind::Image,
            inv.inventory.components,
            inv.inventory.files.len(),
            inv.inventory.warnings,
            Some(inv.image),
        ));
    }
    if is_sbom(path) {
        let text = gantry_fs::read_text_bounded(path, MAX_INPUT_BYTES)?;
        let shown = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let parsed = gantry_sbom::read::read_sbom(&shown, &text);
        return Ok((InputKind::Sbom, parsed.components, 1, parsed.warnings, None));
    }
    let inv = gantry_sbom::inventory(path, &request.discover)?;
    Ok((
        InputKind::Lockfiles,
        inv.components,
        inv.files.len(),
        inv.warnings,
        None,
    ))
}

/// Runs a whole scan: input, matching, ignores, data age and gate.
pub fn check(db: &Database, request: &Request) -> Result<Outcome, CheckError> {
    let (input, components, files, input_warnings, image) = read_input(request)?;
    let base = if request.path.is_file() {
        request
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    } else {
        request.path.clone()
    };
    let mut report = scan(db, &components);

    let ignore_path = match &request.ignore_file {
        Some(p) => Some(p.clone()),
        None => find_ignore_file(&request.root, &base),
    };
    let ignores = match ignore_path {
        Some(file) => {
            let text = gantry_fs::read_text_bounded(&file, MAX_INPUT_BYTES)?;
            let list = IgnoreList::parse(&file.display().to_string(), &text)?;
            let applied = list.apply(&mut report, request.now);
            Some(Ignores { file, applied })
        }
        None => None,
    };

    let policy = request.policy;
    let newest = db.meta().newest_modified.clone();
    let stale = newest.as_deref().and_then(|newest| {
        let t = gantry_sbom::time::parse_rfc3339(newest)?;
        let days = (request.now - t) / 86_400;
        (days > i64::try_from(policy.max_db_age_days).unwrap_or(i64::MAX)).then(|| Stale {
            days,
            newest_modified: newest.to_string(),
            max_days: policy.max_db_age_days,
        })
    });

    let failing: Vec<Finding> = report
        .findings
        .iter()
        .filter(|f| policy.fail_on.fails(policy.gate_level(f)))
        .cloned()
        .collect();
    let below: Vec<Finding> = report
        .findings
        .iter()
        .filter(|f| {
            let level = policy.gate_level(f);
            !policy.fail_on.fails(level) && level >= Level::High
        })
        .cloned()
        .collect();
    let expired: Vec<Entry> = ignores
        .iter()
        .flat_map(|i| i.applied.expired.iter().cloned())
        .collect();
    let gate = Gate {
        fail_on: policy.fail_on,
        unknown_severity: policy.unknown_severity,
        failed: !failing.is_empty() || !expired.is_empty(),
        failing,
        below,
        expired,
    };
    Ok(Outcome {
        report,
        input,
        files,
        base,
        input_warnings,
        ignores,
        stale,
        gate,
        database_records: db.meta().records,
        newest_modified: newest,
        image,
    })
}

/// A finding an ignore accepted, as JSON shows it.
#[derive(Debug, Clone, Serialize)]
pub struct IgnoredFinding<'a> {
    pub ids: &'a [String],
    pub package: &'a str,
    pub version: &'a str,
    pub location: &'a gantry_sbom::Location,
    pub reason: &'a str,
    pub expires: &'a str,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Serialize)]
pub struct Summary<'a> {
    pub components: usize,
    /// The image scanned, when the input was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<&'a gantry_image::ImageSummary>,
    /// Per ecosystem, pinned components the database has no advisories for.
    pub not_checked: &'a std::collections::BTreeMap<String, usize>,
    pub lockfiles: usize,
    pub input: InputKind,
    pub unpinned: &'a [gantry_sbom::Location],
    pub vulnerabilities: usize,
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub unknown: usize,
}

/// The gate in JSON: its settings, whether it failed, and the ids that
/// failed it.
#[derive(Debug, Clone, Serialize)]
pub struct GateDocument<'a> {
    pub fail_on: FailOn,
    pub unknown_severity: Level,
    pub failed: bool,
    pub failing: Vec<&'a str>,
}

/// What the database held.
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseDocument<'a> {
    pub records: usize,
    pub newest_modified: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale: Option<&'a Stale>,
}

/// `gantry scan --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct Document<'a> {
    pub version: u32,
    pub findings: &'a [Finding],
    pub informational: &'a [Finding],
    pub ignored: Vec<IgnoredFinding<'a>>,
    pub expired_ignores: &'a [Entry],
    pub warnings: &'a [String],
    pub summary: Summary<'a>,
    pub gate: GateDocument<'a>,
    pub database: DatabaseDocument<'a>,
}

impl Outcome {
    /// How many findings the report shows at `level`.
    pub fn count(&self, level: Level) -> usize {
        self.report
            .findings
            .iter()
            .filter(|f| f.severity.level == level)
            .count()
    }

    /// The JSON form of the outcome.
    pub fn document(&self) -> Document<'_> {
        let ignored = self
            .ignores
            .iter()
            .flat_map(|i| &i.applied.ignored)
            .map(|(f, e)| IgnoredFinding {
                ids: &f.ids,
                package: &f.package,
                version: &f.version,
                location: &f.location,
                reason: &e.reason,
                expires: &e.expires,
            })
            .collect();
        Document {
            version: SCAN_SCHEMA_VERSION,
            findings: &self.report.findings,
            informational: &self.report.informational,
            ignored,
            expired_ignores: &self.gate.expired,
            warnings: &self.report.warnings,
            summary: Summary {
                components: self.report.components,
                image: self.image.as_ref(),
                not_checked: &self.report.not_checked,
                lockfiles: self.files,
                input: self.input,
                unpinned: &self.report.unpinned,
                vulnerabilities: self.report.findings.len(),
                critical: self.count(Level::Critical),
                high: self.count(Level::High),
                medium: self.count(Level::Medium),
                low: self.count(Level::Low),
                unknown: self.count(Level::Unknown),
            },
            gate: GateDocument {
                fail_on: self.gate.fail_on,
                unknown_severity: self.gate.unknown_severity,
                failed: self.gate.failed,
                failing: self.gate.failing.iter().map(Finding::id).collect(),
            },
            database: DatabaseDocument {
                records: self.database_records,
                newest_modified: self.newest_modified.as_deref(),
                stale: self.stale.as_ref(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::severity::Severity;

    fn finding(level: Level) -> Finding {
        Finding {
            ecosystem: gantry_sbom::Ecosystem::Cargo,
            package: "p".into(),
            version: "1.0.0".into(),
            purl: "pkg:cargo/p@1.0.0".into(),
            location: gantry_sbom::Location {
                file: "Cargo.lock".into(),
                line: 1,
            },
            direct: true,
            scope: gantry_sbom::Scope::Runtime,
            ids: vec!["X-1".into()],
            summary: None,
            kind: crate::FindingKind::Vulnerability,
            severity: Severity {
                level,
                score: None,
                vector: None,
            },
            fixed: None,
            url: None,
            modified: String::new(),
        }
    }

    #[test]
    fn unknown_severity_ranks_high_for_the_gate_by_default() {
        let policy = Policy::default();
        let unknown = finding(Level::Unknown);
        assert_eq!(policy.gate_level(&unknown), Level::High);
        assert!(!FailOn::Critical.fails(policy.gate_level(&unknown)));
        assert!(FailOn::High.fails(policy.gate_level(&unknown)));
        let lenient = Policy {
            unknown_severity: Level::Low,
            ..Policy::default()
        };
        assert!(!FailOn::Medium.fails(lenient.gate_level(&unknown)));
        let strict = Policy {
            unknown_severity: Level::Critical,
            ..Policy::default()
        };
        assert!(FailOn::Critical.fails(strict.gate_level(&unknown)));
        // A known level is never re-ranked.
        assert_eq!(policy.gate_level(&finding(Level::Low)), Level::Low);
    }
}
