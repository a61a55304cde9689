//! Test results as data: JUnit XML reports read into test cases (the
//! dialects of pytest, jest-junit, Playwright, gotestsum, cargo-nextest and
//! Maven Surefire), flaky tests found across attempts of the same commit,
//! the quarantine list, and test files split into shards balanced by their
//! recorded durations.
//!
//! Nothing here prints or touches the store: the store keeps the cases,
//! and the binary renders the reports.

pub mod files;
pub mod flaky;
pub mod junit;
pub mod quarantine;
pub mod split;
pub mod timing;

pub use files::{FilesError, find_files, load_quarantine};
pub use flaky::{Attempt, FlakyTest, find_flaky};
pub use junit::{Outcome, ParseError, ParsedReport, ReportWarning, TestCase, parse};
pub use quarantine::{Quarantine, QuarantineError, Standing};
pub use split::{FileWeight, Shard, SplitError, SplitPlan, split};
pub use timing::{SplitFile, file_weights};
