//! `gantry attest`: sign an in-toto Statement about files into a DSSE
//! envelope.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use gantry_attest::provenance::{self, RunFacts};
use gantry_attest::{Statement, digest, predicate, statement, time};
use gantry_workflow::Workflow;
use gantry_workflow::model::{JobKind, Step, StepAction};

use super::key::load_private;
use super::key::resolve;
use super::{CliError, display_path};
use crate::Outcome;

/// Most bytes of a predicate file.
const MAX_PREDICATE_BYTES: u64 = 256 << 20;

#[derive(Debug, Args)]
pub struct AttestArgs {
    /// The predicate type: a URI, or one of slsa-provenance, cyclonedx,
    /// spdx, vulns, audit, test-result, vsa.
    #[arg(long, short = 't', value_name = "URI")]
    pub predicate_type: String,

    /// The predicate: JSON (JUnit XML for test-result). For
    /// slsa-provenance, omit it to describe this checkout (see --workflow).
    #[arg(long, short = 'p', value_name = "FILE")]
    pub predicate: Option<PathBuf>,

    /// A file or folder the statement is about (repeatable); a folder gives
    /// one subject per file.
    #[arg(long, short = 's', value_name = "PATH", required = true)]
    pub subject: Vec<PathBuf>,

    /// A private key to sign with (repeatable for several signatures).
    #[arg(long, short = 'k', value_name = "KEY", required = true)]
    pub key: Vec<PathBuf>,

    /// Write the envelope here instead of to stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Provenance: the workflow file that built the subjects.
    #[arg(long, value_name = "FILE", help_heading = "Provenance")]
    pub workflow: Option<PathBuf>,
    /// Provenance: the triggering event.
    #[arg(long, default_value = "workflow_dispatch", help_heading = "Provenance")]
    pub event: String,
    /// Provenance: the branch or tag [default: the checked-out branch].
    #[arg(long = "ref", value_name = "REF", help_heading = "Provenance")]
    pub git_ref: Option<String>,
    /// Provenance: a workflow input, NAME=VALUE (repeatable).
    #[arg(long = "input", value_name = "NAME=VALUE", help_heading = "Provenance")]
    pub inputs: Vec<String>,
    /// Provenance: the run id (`invocationId`) [default: random].
    #[arg(long, value_name = "ID", help_heading = "Provenance")]
    pub run_id: Option<String>,
    /// Provenance: the builder id.
    #[arg(long, value_name = "URI", env = "GANTRY_BUILDER_ID", default_value = provenance::DEFAULT_BUILDER_ID, help_heading = "Provenance")]
    pub builder_id: String,
    /// Provenance: a log file of the build, recorded as a byproduct (repeatable).
    #[arg(long, value_name = "FILE", help_heading = "Provenance")]
    pub log: Vec<PathBuf>,
}

pub fn run(root: &Path, args: AttestArgs) -> Result<Outcome, CliError> {
    let uri = predicate::resolve(&args.predicate_type).to_string();
    let keys = args
        .key
        .iter()
        .map(|k| load_private(root, k))
        .collect::<Result<Vec<_>, _>>()?;
    let subjects = statement::subjects_from_paths(root, &args.subject).map_err(|e| {
        CliError::usage(
            e.to_string(),
            Some("give existing files or folders with --subject".to_string()),
        )
    })?;

    let predicate = match &args.predicate {
        Some(path) => {
            let full = resolve(root, path);
            let bytes = gantry_attest::read_limited(&full, MAX_PREDICATE_BYTES)
                .map_err(|e| CliError::usage(e.to_string(), None))?;
            predicate::read_predicate(&uri, &display_path(root, &full), &bytes).map_err(|e| {
                CliError::usage(
                    format!("{}: {e}", full.display()),
                    Some(format!("built-in predicate types: {}", aliases())),
                )
            })?
        }
        None if uri == provenance::PROVENANCE_V1 => {
            provenance::provenance_predicate(&run_facts(root, &args)?)
        }
        None => {
            return Err(CliError::usage(
                "--predicate is required for this predicate type",
                Some("only slsa-provenance can be built without one (from --workflow and the checkout)".to_string()),
            ));
        }
    };
    let statement = Statement::new(subjects, &uri, predicate);
    let refs: Vec<_> = keys.iter().collect();
    let envelope = gantry_attest::attest(&statement, &refs)
        .map_err(|e| CliError::usage(e.to_string(), None))?;
    let mut text = envelope.to_json_pretty();
    text.push('\n');
    match &args.out {
        Some(path) => {
            let full = resolve(root, path);
            std::fs::write(&full, &text).map_err(|source| CliError::Read {
                path: full.clone(),
                source,
            })?;
            eprintln!(
                "attested {} subject(s) as {uri}, signed by {}: {}",
                statement.subject.len(),
                keys.iter()
                    .map(|k| &k.key_id()[..16])
                    .collect::<Vec<_>>()
                    .join(", "),
                full.display()
            );
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(Outcome::Success)
}

fn aliases() -> String {
    predicate::PREDICATES
        .iter()
        .map(|p| p.alias)
        .collect::<Vec<_>>()
        .join(", ")
}

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// Lockfiles recorded as resolved dependencies when present at the root.
const LOCKFILES: &[&str] = &[
    "Cargo.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "poetry.lock",
    "Pipfile.lock",
    "uv.lock",
    "requirements.txt",
    "go.sum",
    "Gemfile.lock",
    "composer.lock",
    "gradle.lockfile",
];

fn digest_file(path: &Path) -> Result<String, CliError> {
    digest::sha256_file(path).map_err(|e| CliError::usage(e.to_string(), None))
}

/// What a checkout says about a build, for provenance: where the source
/// comes from, its commit, and digests of the local actions a workflow
/// uses and of the lockfiles.
pub(crate) struct SourceFacts {
    /// The top of the repository (or `root` outside git).
    pub top: PathBuf,
    pub repository: Option<String>,
    pub commit: Option<String>,
    /// The checked-out branch (`refs/heads/...`), if any.
    pub branch: Option<String>,
    pub local_actions: Vec<(String, String)>,
    pub lockfiles: Vec<(String, String)>,
}

impl SourceFacts {
    /// `uses` are the workflow's local references (see [`local_uses`]).
    pub(crate) fn gather(root: &Path, uses: &[String]) -> Result<SourceFacts, CliError> {
        let top = git(root, &["rev-parse", "--show-toplevel"])
            .map_or_else(|| root.to_path_buf(), PathBuf::from);
        // Every file of each local action (or the reusable workflow file).
        let mut local_actions = Vec::new();
        for path in uses {
            let full = top.join(path);
            if full.is_dir() {
                for s in
                    statement::subjects_from_paths(&top, &[PathBuf::from(path)]).unwrap_or_default()
                {
                    if let Some(d) = s.sha256_hex() {
                        local_actions.push((s.name.clone(), d.to_string()));
                    }
                }
            } else if full.is_file() {
                local_actions.push((path.clone(), digest_file(&full)?));
            }
        }
        local_actions.sort();
        local_actions.dedup();
        let mut lockfiles = Vec::new();
        for name in LOCKFILES {
            let p = top.join(name);
            if p.is_file() {
                lockfiles.push((name.to_string(), digest_file(&p)?));
            }
        }
        let repository = git(root, &["config", "--get", "remote.origin.url"])
            .map(|u| {
                if u.contains("://") {
                    format!("git+{u}")
                } else {
                    format!("git+ssh://{u}")
                }
            })
            .or_else(|| Some(format!("file://{}", top.display())));
        Ok(SourceFacts {
            repository,
            commit: git(root, &["rev-parse", "HEAD"]),
            branch: git(root, &["symbolic-ref", "-q", "HEAD"]),
            local_actions,
            lockfiles,
            top,
        })
    }
}

/// The local actions and reusable workflows (`uses: ./path`, `$/path`) a
/// workflow names, relative to the repository, in order of first use.
pub(crate) fn local_uses(workflow: &Workflow) -> Vec<String> {
    fn push(uses: &str, out: &mut Vec<String>) {
        let path = uses.strip_prefix("./").or_else(|| uses.strip_prefix("$/"));
        if let Some(path) = path.map(|p| p.trim_end_matches('/'))
            && !path.is_empty()
            && !out.iter().any(|p| p == path)
        {
            out.push(path.to_string());
        }
    }
    fn steps(list: &[Step], out: &mut Vec<String>) {
        for step in list {
            match &step.action {
                StepAction::Uses { uses, .. } => push(&uses.value, out),
                StepAction::Parallel(inner) => steps(inner, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for job in workflow.jobs.values() {
        match &job.kind {
            JobKind::Steps(job) => steps(&job.steps, &mut out),
            JobKind::Call(call) => push(&call.uses.value, &mut out),
        }
    }
    out
}

/// What this checkout says about a build: the workflow, the commit, local
/// actions, lockfiles and logs.
fn run_facts(root: &Path, args: &AttestArgs) -> Result<RunFacts, CliError> {
    let Some(workflow) = &args.workflow else {
        return Err(CliError::usage(
            "slsa-provenance without --predicate needs --workflow",
            Some(
                "e.g. --workflow .github/workflows/release.yml --event push --ref refs/tags/v1.0"
                    .to_string(),
            ),
        ));
    };
    let workflow_full = resolve(root, workflow);
    let (read, invalid) = super::read_workflows(root, std::slice::from_ref(&workflow_full))?;
    if invalid {
        return Err(CliError::usage(
            format!("{} has errors (shown above)", workflow_full.display()),
            Some("check it with `gantry validate`".to_string()),
        ));
    }
    let uses = read.first().map(local_uses).unwrap_or_default();
    let source = SourceFacts::gather(root, &uses)?;
    let rel = |p: &Path| {
        let canon = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        display_path(&source.top, &canon)
    };
    let mut inputs = BTreeMap::new();
    for item in &args.inputs {
        let Some((k, v)) = item.split_once('=') else {
            return Err(CliError::usage(
                format!("--input '{item}' is not NAME=VALUE"),
                None,
            ));
        };
        inputs.insert(k.to_string(), serde_json::Value::String(v.to_string()));
    }
    let mut logs = Vec::new();
    for log in &args.log {
        let full = resolve(root, log);
        logs.push((display_path(root, &full), digest_file(&full)?));
    }
    let now = time::now_or_source_date_epoch();
    let run_id = match &args.run_id {
        Some(id) => id.clone(),
        None => digest::random_hex(8).map_err(|e| CliError::usage(e.to_string(), None))?,
    };
    Ok(RunFacts {
        workflow_path: rel(&workflow_full),
        git_ref: args.git_ref.clone().or(source.branch),
        event: args.event.clone(),
        inputs,
        repository: source.repository,
        commit: source.commit,
        local_actions: source.local_actions,
        lockfiles: source.lockfiles,
        builder_id: args.builder_id.clone(),
        builder_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        run_id,
        started: now,
        finished: now,
        logs,
    })
}
