//! The `gantry` command line: argument parsing, output rendering and exit
//! codes. Everything else lives in the library crates.

// A binary has no public API: `pub` marks what modules share.
#![allow(unreachable_pub)]

use std::process::ExitCode;

use clap::Parser;

mod backend;
mod cli;
mod commands;
mod render;

/// How a command ended; mapped to the documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: everything checked out.
    Success,
    /// 1: the checked thing failed (invalid files, an expression error).
    Failure,
    /// 2: bad usage or input that could not be read.
    Usage,
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let outcome = match commands::run(cli) {
        Ok(outcome) => outcome,
        Err(err) => {
            if err.is_broken_pipe() {
                return ExitCode::SUCCESS;
            }
            render::error(&err);
            Outcome::Usage
        }
    };
    match outcome {
        Outcome::Success => ExitCode::SUCCESS,
        Outcome::Failure => ExitCode::from(1),
        Outcome::Usage => ExitCode::from(2),
    }
}
