//! `gantry actions`: the store of marketplace actions under
//! `$GANTRY_HOME/actions` (add, fetch, list).

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use gantry_actions::{
    ActionList, ActionStore, ActionsError, AddReport, FetchReport, MIRROR_ENV, REPORT_VERSION,
    RemoteUses, Source,
};
use gantry_store::Home;

use super::CliError;
use crate::Outcome;
use crate::cli::Format;

#[derive(Debug, Args)]
pub struct ActionsArgs {
    #[command(subcommand)]
    pub command: ActionsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ActionsCommand {
    /// Add OWNER/REPO@REF to the store from a git repository, a URL or a
    /// folder (without --from: $GANTRY_ACTIONS_MIRROR, else GitHub).
    Add(AddArgs),
    /// Add every marketplace action the workflows use that the store
    /// lacks ($GANTRY_ACTIONS_MIRROR, else GitHub; needs the network).
    Fetch(FetchArgs),
    /// List the actions in the store.
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The action, `OWNER/REPO@REF` (a tag, a branch or a full commit SHA).
    #[arg(value_name = "OWNER/REPO@REF")]
    pub action: String,

    /// Where to take it from: a git repository (work tree or bare), a
    /// plain folder (keyed by its content), or a git URL.
    #[arg(long, value_name = "PATH|URL")]
    pub from: Option<String>,

    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Workflow files, or names under `.github/workflows/` [default: all].
    pub workflows: Vec<PathBuf>,

    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(root: &Path, home: &Home, args: ActionsArgs) -> Result<Outcome, CliError> {
    let store = ActionStore::new(home.actions());
    match args.command {
        ActionsCommand::Add(add) => run_add(&store, add),
        ActionsCommand::Fetch(fetch) => run_fetch(root, &store, fetch),
        ActionsCommand::List(list) => run_list(&store, list),
    }
}

/// `$GANTRY_ACTIONS_MIRROR`, when set.
fn mirror() -> Option<String> {
    std::env::var(MIRROR_ENV).ok().filter(|m| !m.is_empty())
}

pub(super) fn actions_error(e: ActionsError) -> CliError {
    CliError::usage(e.to_string(), e.hint())
}

fn run_add(store: &ActionStore, args: AddArgs) -> Result<Outcome, CliError> {
    let uses = RemoteUses::parse_remote(args.action.trim()).map_err(|e| {
        CliError::usage(
            e.to_string(),
            Some("e.g. gantry actions add actions/setup-node@v4 --from ../setup-node".into()),
        )
    })?;
    let source = match &args.from {
        Some(from) => Source::from_arg(from),
        None => Source::default_for(&uses, mirror().as_deref()),
    };
    let added = match store.add(&uses, &source) {
        Ok(added) => added,
        Err(e @ ActionsError::Fetch { .. }) => {
            eprintln!("error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("hint: {hint}");
            }
            return Ok(Outcome::Failure);
        }
        Err(e) => return Err(actions_error(e)),
    };
    if added.unchecked_commit {
        eprintln!(
            "gantry: warning: {} is not a git repository, so nothing shows its files are commit {}; \
             `uses: {}` now runs this copy (add from a clone of the repository to have the commit checked)",
            added.source, uses.reference, added.action
        );
    }
    let mut out = String::new();
    match args.format {
        Format::Json => {
            let report = AddReport {
                version: REPORT_VERSION,
                added,
            };
            out = serde_json::to_string_pretty(&report).map_err(std::io::Error::from)?;
            out.push('\n');
        }
        Format::Human => {
            let what = match &added.commit {
                Some(c) => format!("commit {}", c.get(..12).unwrap_or(c)),
                None => format!("folder {}", added.key.get(..19).unwrap_or(&added.key)),
            };
            let _ = writeln!(
                out,
                "added {} ({what}) from {}{}",
                added.action,
                added.source,
                if added.new_tree {
                    ""
                } else {
                    ", already stored"
                }
            );
            let _ = writeln!(out, "  {}", added.path.display());
        }
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(Outcome::Success)
}

fn run_fetch(root: &Path, store: &ActionStore, args: FetchArgs) -> Result<Outcome, CliError> {
    let files = super::plan::workflow_files(root, &args.workflows)?;
    let (workflows, invalid) = super::read_workflows(root, &files)?;
    let refs: Vec<&gantry_workflow::Workflow> = workflows.iter().collect();
    let report: FetchReport =
        gantry_engine::marketplace::fetch(&refs, root, store, mirror().as_deref());
    let mut out = String::new();
    match args.format {
        Format::Json => {
            out = serde_json::to_string_pretty(&report).map_err(std::io::Error::from)?;
            out.push('\n');
        }
        Format::Human => {
            for a in &report.added {
                let _ = writeln!(out, "added {} from {}", a.action, a.source);
            }
            for p in &report.present {
                let _ = writeln!(out, "in the store: {p}");
            }
            if report.added.is_empty() && report.present.is_empty() && report.failed.is_empty() {
                let _ = writeln!(out, "the workflows use no marketplace actions");
            }
        }
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    for f in &report.failed {
        eprintln!("error: {}", f.error);
        if let Some(hint) = &f.hint {
            eprintln!("hint: {hint}");
        }
    }
    if invalid {
        return Ok(Outcome::Usage);
    }
    Ok(if report.failed.is_empty() {
        Outcome::Success
    } else {
        Outcome::Failure
    })
}

fn run_list(store: &ActionStore, args: ListArgs) -> Result<Outcome, CliError> {
    let actions = store.list().map_err(actions_error)?;
    let mut out = String::new();
    match args.format {
        Format::Json => {
            let list = ActionList {
                version: REPORT_VERSION,
                actions,
            };
            out = serde_json::to_string_pretty(&list).map_err(std::io::Error::from)?;
            out.push('\n');
        }
        Format::Human if actions.is_empty() => {
            let _ = writeln!(
                out,
                "no actions in {} (add one with `gantry actions add OWNER/REPO@REF --from PATH`)",
                store.root().display()
            );
        }
        Format::Human => {
            let rows: Vec<[String; 3]> = actions
                .iter()
                .map(|a| {
                    [
                        format!("{}/{}@{}", a.owner, a.repo, a.reference),
                        a.record.key.get(..19).unwrap_or(&a.record.key).to_string(),
                        if a.record.unchecked_commit {
                            format!("{} (not checked to be that commit)", a.record.source)
                        } else {
                            a.record.source.clone()
                        },
                    ]
                })
                .collect();
            let width = |i: usize| rows.iter().map(|r| r[i].len()).max().unwrap_or(0).max(6);
            let (w0, w1) = (width(0), width(1));
            let _ = writeln!(out, "{:w0$}  {:w1$}  SOURCE", "ACTION", "KEY");
            for r in &rows {
                let _ = writeln!(out, "{:w0$}  {:w1$}  {}", r[0], r[1], r[2]);
            }
        }
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(Outcome::Success)
}

/// The error a run gives before any job when the store lacks actions.
pub(super) fn missing_error(missing: &[String]) -> CliError {
    let mut hint = String::from("add each to the store from a local copy:");
    for m in missing {
        let _ = write!(hint, "\n  gantry actions add {m} --from PATH");
    }
    hint.push_str(
        "\nor, with the network, `gantry actions fetch`; --skip-unsupported skips their steps",
    );
    CliError::usage(
        format!(
            "{} not in the actions store: {}",
            if missing.len() == 1 {
                "an action the run needs is"
            } else {
                "actions the run needs are"
            },
            missing.join(", ")
        ),
        Some(hint),
    )
}
