//! `gantry posture`: how a checkout scores on OSSF Scorecard's checks,
//! offline, with what to change for each point lost.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use gantry_posture::{Level, Options, Posture, PostureError};

use super::CliError;
use super::user_path;
use crate::Outcome;

/// Output format of `posture`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum PostureFormat {
    /// Each check's score and what to change.
    #[default]
    Human,
    /// Stable JSON for tools.
    Json,
    /// SARIF 2.1.0: one result per point lost.
    Sarif,
}

#[derive(Debug, Args)]
pub struct PostureArgs {
    /// The checkout to assess [default: .].
    pub path: Option<PathBuf>,

    #[arg(long, value_enum, default_value_t)]
    pub format: PostureFormat,
}

pub fn run(root: &Path, home: &gantry_store::Home, args: PostureArgs) -> Result<Outcome, CliError> {
    let path = args
        .path
        .as_deref()
        .map_or_else(|| root.to_path_buf(), |p| user_path(root, p));
    let mut options = Options::new(path);
    options.vuln_db = Some(home.vuln());
    options.ledger = Some(home.ledger());
    let posture = gantry_posture::assess(&options).map_err(|e| match e {
        PostureError::NotADirectory { .. } => CliError::usage(
            e.to_string(),
            Some("give the folder of a checkout".to_string()),
        ),
        other => CliError::usage(other.to_string(), None),
    })?;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        PostureFormat::Human => stdout.write_all(human(&posture).as_bytes())?,
        PostureFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &posture.document())
                .map_err(std::io::Error::from)?;
            writeln!(stdout)?;
        }
        PostureFormat::Sarif => {
            serde_json::to_writer_pretty(&mut stdout, &posture.sarif(env!("CARGO_PKG_VERSION")))
                .map_err(std::io::Error::from)?;
            writeln!(stdout)?;
        }
    }
    // Posture informs; it does not gate.
    Ok(Outcome::Success)
}

/// How many reasons of a check the human format shows.
const SHOWN: usize = 5;

fn human(posture: &Posture) -> String {
    let mut out = String::new();
    for check in &posture.checks {
        let score = check
            .score
            .map_or_else(|| " ?".to_string(), |s| format!("{s:>2}"));
        let _ = writeln!(
            out,
            "{score}/10  {:<24} {:<8} {}",
            check.name,
            check.risk.name(),
            check.summary
        );
        let lost: Vec<_> = check
            .reasons
            .iter()
            .filter(|r| r.level == Level::Warn)
            .collect();
        for r in lost.iter().take(SHOWN) {
            let at = match (&r.file, r.line) {
                (Some(f), Some(l)) => format!("{f}:{l}: "),
                (Some(f), None) => format!("{f}: "),
                _ => String::new(),
            };
            let _ = writeln!(out, "          - {at}{}", r.message);
            if let Some(fix) = &r.remediation {
                let _ = writeln!(out, "            fix: {fix}");
            }
        }
        if lost.len() > SHOWN {
            let _ = writeln!(
                out,
                "          ... and {} more (`--format json` lists them all)",
                lost.len() - SHOWN
            );
        }
    }
    let conclusive = posture.checks.iter().filter(|c| c.score.is_some()).count();
    match posture.score {
        Some(s) => {
            let _ = writeln!(
                out,
                "\nAggregate score: {s:.1} / 10 ({conclusive} of {} checks conclusive; inconclusive ones, shown as ?, are left out)",
                posture.checks.len()
            );
        }
        None => {
            let _ = writeln!(out, "\nAggregate score: ? (no check could be answered)");
        }
    }
    if !posture.git {
        let _ = writeln!(
            out,
            "note: not a git repository; history-based checks are inconclusive"
        );
    }
    out
}
