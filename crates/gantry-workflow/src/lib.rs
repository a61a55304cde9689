//! The GitHub Actions workflow model: YAML with source spans, typed
//! workflows and actions, and validation with located diagnostics.
//!
//! Reading a file never executes anything: [`read_workflow`] and
//! [`read_action`] turn text into a [`model`] and a list of
//! [`Diagnostic`]s, each pointing at the key or value it is about.
//!
//! ```
//! use gantry_workflow::{SourceFile, ReadOptions, read_workflow};
//!
//! let file = SourceFile::new("ci.yml", "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: cargo test\n");
//! let parsed = read_workflow(file, &ReadOptions::default());
//! assert!(!parsed.has_errors());
//! assert_eq!(parsed.value.unwrap().jobs.len(), 1);
//! ```

pub mod calls;
pub mod check;
pub mod config;
pub mod contexts;
pub mod cron;
mod diagnostic;
mod discover;
pub mod events;
mod file;
pub mod filter;
pub mod graph;
pub mod lint;
pub mod local;
pub mod matrix;
pub mod model;
pub mod numbers;
mod read;
mod scalar;
mod source;
pub mod yaml;

pub use diagnostic::{
    Diagnostic, DiagnosticDocument, DiagnosticLocation, FileDiagnostics, Severity, did_you_mean,
};
pub use discover::{
    FileKind, ListError, ROOT_MARKERS, discover, file_kind, files_to_check, find_root,
    workflow_files,
};
pub use file::{FileError, read_source};
pub use model::{Action, Job, Step, Workflow};
pub use read::{Parsed, ReadOptions, read_action, read_workflow};
pub use source::{Position, SourceFile, Span};
