//! `gantry db`: the offline vulnerability database under
//! `$GANTRY_HOME/vuln/`: import OSV data, show what it holds.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use gantry_store::Home;
use gantry_vuln::import::{self, Options};
use gantry_vuln::{Database, DbError};

use super::CliError;
use super::user_path;
use crate::Outcome;

/// Output format of `db`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum DbFormat {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Import OSV records: folders of .json/.yaml files, osv.dev all.zip
    /// exports, or newline-delimited JSON.
    Import(ImportArgs),
    /// Show records per ecosystem, the newest `modified` date and the
    /// sources.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Folders, .zip files or .ndjson/.json files of OSV records.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,

    /// Start from an empty database instead of merging into the current
    /// one.
    #[arg(long)]
    pub replace: bool,

    #[arg(long, value_enum, default_value_t)]
    pub format: DbFormat,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long, value_enum, default_value_t)]
    pub format: DbFormat,
}

/// Opens the database of `home` (`$GANTRY_HOME/vuln`), or explains how
/// to create one.
pub(crate) fn open(home: &Home) -> Result<Database, CliError> {
    Database::open(&home.vuln()).map_err(db_error)
}

pub(crate) fn db_error(e: DbError) -> CliError {
    let hint = match &e {
        DbError::Missing { .. } => Some(
            "import OSV data first, e.g. `gantry db import crates.io-all.zip` (osv.dev's \
             export for an ecosystem) or a folder of OSV .json files; $GANTRY_HOME chooses \
             where it is kept"
                .to_string(),
        ),
        DbError::Corrupt { .. } => {
            Some("import the data again with `gantry db import --replace PATH...`".to_string())
        }
        _ => None,
    };
    CliError::usage(e.to_string(), hint)
}

pub fn run(root: &Path, home: &Home, args: DbArgs) -> Result<Outcome, CliError> {
    match args.command {
        DbCommand::Import(a) => run_import(root, home, a),
        DbCommand::Status(a) => run_status(home, a),
    }
}

fn run_import(root: &Path, home: &Home, args: ImportArgs) -> Result<Outcome, CliError> {
    let paths: Vec<PathBuf> = args.paths.iter().map(|p| user_path(root, p)).collect();
    let dir = home.vuln();
    let started = std::time::Instant::now();
    let options = Options {
        replace: args.replace,
        now: gantry_sbom::time::now(),
        ..Options::default()
    };
    let summary = import::import(&dir, &paths, &options).map_err(|e| match e {
        import::ImportError::Database(db) => db_error(db),
        other => CliError::usage(
            format!("{other}; the database was not changed"),
            Some(
                "give folders of OSV .json/.yaml files, osv.dev all.zip exports or .ndjson files"
                    .into(),
            ),
        ),
    })?;
    for w in &summary.warnings {
        eprintln!("warning: {w}");
    }
    let mut out = String::new();
    match args.format {
        DbFormat::Json => {
            out =
                serde_json::to_string_pretty(&summary.document()).map_err(std::io::Error::from)?;
            out.push('\n');
        }
        DbFormat::Human => {
            for s in &summary.sources {
                let _ = writeln!(
                    out,
                    "read {} records from {} ({})",
                    s.records, s.path, s.kind
                );
            }
            let _ = writeln!(
                out,
                "{} added, {} updated, {} unchanged; {} records in {} ({:.2}s)",
                summary.added,
                summary.updated,
                summary.unchanged,
                summary.meta.records,
                Database::file_in(&dir).display(),
                started.elapsed().as_secs_f64()
            );
            if summary.skipped > 0 {
                let _ = writeln!(
                    out,
                    "skipped {} file{} that are not OSV records",
                    summary.skipped,
                    if summary.skipped == 1 { "" } else { "s" }
                );
            }
            if !summary.warnings.is_empty() {
                let _ = writeln!(
                    out,
                    "{} records could not be read (see warnings)",
                    summary.warnings.len()
                );
            }
        }
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(Outcome::Success)
}

fn run_status(home: &Home, args: StatusArgs) -> Result<Outcome, CliError> {
    let db = open(home)?;
    let status = db.status();
    let mut out = String::new();
    match args.format {
        DbFormat::Json => {
            out = serde_json::to_string_pretty(&status.document()).map_err(std::io::Error::from)?;
            out.push('\n');
        }
        DbFormat::Human => {
            let m = &status.meta;
            let _ = writeln!(out, "database  {}", status.path);
            let _ = writeln!(
                out,
                "records   {} ({} withdrawn), newest modified {}",
                m.records,
                m.withdrawn,
                m.newest_modified.as_deref().unwrap_or("-")
            );
            let _ = writeln!(
                out,
                "imported  {}",
                gantry_sbom::time::format_rfc3339(m.imported_at)
            );
            let _ = writeln!(out, "\nper ecosystem:");
            for (eco, n) in &m.per_ecosystem {
                let newest = m.newest_per_ecosystem.get(eco).map_or("-", String::as_str);
                let _ = writeln!(out, "  {eco:<14} {n:>7}  newest {newest}");
            }
            let _ = writeln!(out, "\nsources:");
            for s in &m.sources {
                let _ = writeln!(
                    out,
                    "  {}  ({}, {} records, imported {})",
                    s.path,
                    s.kind,
                    s.records,
                    gantry_sbom::time::format_rfc3339(s.imported_at)
                );
            }
        }
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(Outcome::Success)
}
