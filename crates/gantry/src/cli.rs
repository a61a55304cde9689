//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Run, harden, secure and ship software-delivery pipelines.
///
/// gantry reads GitHub Actions workflows exactly as GitHub does, offline.
#[derive(Debug, Parser)]
#[command(name = "gantry", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Run as if started in this directory.
    #[arg(short = 'C', long = "directory", global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check workflow and action files for errors.
    #[command(after_long_help = VALIDATE_EXAMPLES)]
    Validate(ValidateArgs),
    /// Show which workflows and jobs an event would run.
    #[command(after_long_help = PLAN_EXAMPLES)]
    Plan(PlanArgs),
    /// Evaluate a GitHub Actions expression.
    #[command(after_long_help = EVAL_EXAMPLES)]
    Eval(EvalArgs),
    /// Find security weaknesses in workflows and actions, and fix them.
    #[command(after_long_help = AUDIT_EXAMPLES)]
    Audit(crate::commands::AuditArgs),
}

const AUDIT_EXAMPLES: &str = "\
Examples:
  gantry audit                                 every workflow and action of the repository
  gantry audit --fix --dry-run                 show the safe fixes as a diff
  gantry audit --fix                           apply them
  gantry audit --format sarif > audit.sarif    for code-scanning upload
  gantry audit --persona pedantic --min-severity medium
  gantry audit --explain template-injection    what a rule finds and why

Suppress a finding with a comment on its line or the line above:
  run: ./deploy.sh  # gantry: ignore[download-and-execute] vetted installer

Configure rules in .gantry/audit.yml (disable, severity, settings such as
unpinned-uses policies and missing-timeout default-minutes).

Exit status: 0 when nothing is at or above --min-severity, 1 when something
is, 2 for bad usage or files that do not parse.";

const VALIDATE_EXAMPLES: &str = "\
Examples:
  gantry validate                          every workflow and action of the repository
  gantry validate .github/workflows/ci.yml one file
  gantry validate --format json            machine-readable diagnostics

Exit status: 0 when every file is valid, 1 when any has an error, 2 for bad usage.";

const PLAN_EXAMPLES: &str = "\
Examples:
  gantry plan                                        what a push to the current branch runs
  gantry plan --event pull_request --ref main --changed src/lib.rs
  gantry plan ci.yml --event workflow_dispatch --input environment=staging
  gantry plan --event-file payload.json --event push --format json
  gantry plan --format mermaid > jobs.mmd            the job graph as a diagram

The plan assumes that every job succeeds: conditions that read other jobs'
results or outputs, and matrices computed by expressions, are shown as decided
at run time.";

const EVAL_EXAMPLES: &str = "\
Examples:
  gantry eval \"format('{0}-{1}', 'a', 1)\"
  gantry eval \"contains(github.event.pull_request.labels.*.name, 'ci')\" --context ctx.json
  gantry eval 'fromJSON(inputs.matrix).os' --context ctx.json

The context file is a JSON object whose keys are the named values
(`github`, `env`, `inputs`, `matrix`, ...). The result is printed as JSON.";

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Text for people, with source snippets.
    #[default]
    Human,
    /// Stable JSON for tools.
    Json,
}

/// Output format of `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum PlanFormat {
    #[default]
    Human,
    Json,
    /// Graphviz DOT of the job graph.
    Dot,
    /// A Mermaid flowchart of the job graph.
    Mermaid,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Files or directories to check [default: the repository's workflows
    /// and actions].
    pub paths: Vec<PathBuf>,

    #[arg(long, value_enum, default_value_t, env = "GANTRY_FORMAT")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Workflow files, or names under `.github/workflows/` [default: all].
    pub workflows: Vec<PathBuf>,

    /// The event: push, pull_request, workflow_dispatch, schedule, ...
    #[arg(long, short = 'e', default_value = "push")]
    pub event: String,

    /// The branch or tag (`main`, `refs/tags/v1.0`) [default: the current
    /// branch]. For pull requests, the base branch.
    #[arg(long = "ref", value_name = "REF")]
    pub git_ref: Option<String>,

    /// The event's activity type (`opened`, `closed`, ...).
    #[arg(long = "type", value_name = "TYPE")]
    pub activity: Option<String>,

    /// A file the event changed (repeatable); path filters use these.
    #[arg(long, value_name = "PATH")]
    pub changed: Vec<String>,

    /// A workflow input, `NAME=VALUE` (repeatable).
    #[arg(long = "input", short = 'i', value_name = "NAME=VALUE")]
    pub inputs: Vec<String>,

    /// A webhook payload as JSON (`github.event`).
    #[arg(long, value_name = "FILE")]
    pub event_file: Option<PathBuf>,

    #[arg(long, value_enum, default_value_t)]
    pub format: PlanFormat,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The expression, with or without `${{ }}`.
    pub expression: String,

    /// A JSON file with the contexts: `{"github": {...}, "env": {...}}`.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub context: Option<PathBuf>,
}
