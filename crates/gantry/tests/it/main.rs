//! The command-line tests, linked as one binary: each module drives the
//! `gantry` executable the way a user does and checks its exit code,
//! stdout and stderr (insta snapshots of the human output in
//! `snapshots/`, with times and temporary paths redacted).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod actions;
mod audit;
mod cli;
mod containers;
mod deploy;
mod dora;
mod evidence;
mod history;
mod image;
mod load;
mod notifications;
mod parallel;
mod posture;
mod promote;
mod rollout;
mod run;
mod sbom_scan;
mod scan_fix;
mod serve;
mod services;
mod tests_cmd;
