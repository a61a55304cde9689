//! The GitHub Actions workflow model: YAML with source spans, typed
//! workflows and actions, and validation with located diagnostics.

pub mod cron;
pub mod filter;
