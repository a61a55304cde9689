//! `gantry posture`: how a checkout would score on OSSF Scorecard's checks,
//! answered offline.
//!
//! Each check (one module under [`checks`], registered in
//! [`checks::CHECKS`]) scores 0 to 10 by Scorecard's documented rules, or
//! is inconclusive when the checkout cannot answer it; [`assess`] runs
//! them all over one [`Checkout`] (files, workflows read and audited once,
//! git history) and [`model::aggregate`] weighs the conclusive ones by
//! risk (critical 10, high 7.5, medium 5, low 2.5). Checks Scorecard
//! answers from the GitHub API get offline stand-ins: Maintained and
//! Code-Review from git history, Signed-Releases and the release half of
//! SBOM from gantry's own attestations (envelope files in the checkout and
//! the evidence ledger).

pub mod checkout;
pub mod checks;
pub mod evidence;
pub mod git;
pub mod model;
mod report;

use std::path::PathBuf;

pub use checkout::Checkout;
pub use model::{CheckMeta, CheckResult, Level, MAX_SCORE, Reason, Risk, aggregate};
pub use report::{POSTURE_DOCUMENT_VERSION, Posture, PostureDocument};

/// What to assess and with what.
#[derive(Debug, Clone)]
pub struct Options {
    /// The checkout (a folder).
    pub path: PathBuf,
    /// Now, seconds since the epoch (Maintained's 90 days end here).
    pub now: i64,
    /// The vulnerability database folder (`$GANTRY_HOME/vuln`); without
    /// one, Vulnerabilities is inconclusive.
    pub vuln_db: Option<PathBuf>,
    /// The evidence ledger folder (`$GANTRY_HOME/ledger`), searched for
    /// signed release evidence besides the checkout's envelope files.
    pub ledger: Option<PathBuf>,
}

impl Options {
    /// Assess `path` now, with no database or ledger.
    pub fn new(path: impl Into<PathBuf>) -> Options {
        Options {
            path: path.into(),
            now: now(),
            vuln_db: None,
            ledger: None,
        }
    }
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A failure that stops an assessment: the input is not a folder.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostureError {
    #[error("failed to read {}: {source}", path.display())]
    Missing {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a directory", path.display())]
    NotADirectory { path: PathBuf },
}

/// Runs every check over the checkout at `options.path`.
pub fn assess(options: &Options) -> Result<Posture, PostureError> {
    let checkout = Checkout::open(options)?;
    let checks: Vec<CheckResult> = checks::CHECKS.iter().map(|c| c.run(&checkout)).collect();
    Ok(Posture {
        path: options.path.clone(),
        score: aggregate(&checks),
        checks,
        git: checkout.is_git,
    })
}
