//! SLSA provenance facts: of a build gantry did not see, from the checkout
//! ([`checkout_facts`], for `gantry attest`), and of a recorded run, one
//! statement per artifact it uploaded ([`run_statements`], for
//! `gantry run --attest`). Both record the same facts about the source
//! (see [`crate::source`]); signing is the caller's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gantry_attest::provenance::{self, Artifact, RunFacts};
use gantry_attest::{AttestError, Statement, digest, statement};
use gantry_workflow::Workflow;

use crate::plan::Event;
use crate::source::{SourceError, SourceFacts, source_facts};

/// Why provenance could not be gathered.
#[derive(Debug, thiserror::Error)]
pub enum ProvenanceError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Input(#[from] crate::run::values::PairsError),
    #[error("cannot digest the log {}: {source}", path.display())]
    Log {
        path: PathBuf,
        #[source]
        source: AttestError,
    },
    #[error("cannot digest the files of artifact `{name}`: {source}")]
    Artifact {
        name: String,
        #[source]
        source: AttestError,
    },
    #[error(transparent)]
    Random(AttestError),
}

/// Who built: the `builder.id` and gantry's version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Builder {
    pub id: String,
    pub version: Option<String>,
}

/// A build described from the checkout that made it.
#[derive(Debug, Clone)]
pub struct CheckoutBuild<'a> {
    /// The checkout (any folder inside it).
    pub root: &'a Path,
    /// The workflow file and the workflow read from it.
    pub workflow_path: &'a Path,
    pub workflow: &'a Workflow,
    pub event: &'a str,
    /// The branch or tag; the checked-out branch when `None`.
    pub git_ref: Option<&'a str>,
    /// `NAME=VALUE` inputs.
    pub inputs: &'a [String],
    /// The run id (`invocationId`); random when `None`.
    pub run_id: Option<&'a str>,
    /// Log files of the build, recorded as byproducts.
    pub logs: &'a [PathBuf],
    /// The build's time, seconds since the epoch.
    pub time: i64,
    pub builder: &'a Builder,
}

/// The provenance facts of a build described by its checkout.
pub fn checkout_facts(build: &CheckoutBuild<'_>) -> Result<RunFacts, ProvenanceError> {
    let source = source_facts(build.root, build.workflow)?;
    let canon = build
        .workflow_path
        .canonicalize()
        .unwrap_or_else(|_| build.workflow_path.to_path_buf());
    let workflow_path = relative(&source.top, &canon);
    let mut given = indexmap::IndexMap::new();
    crate::run::values::parse_arguments(build.inputs, "--input", &mut given)?;
    let inputs: BTreeMap<String, serde_json::Value> = given
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    let mut logs = Vec::new();
    for log in build.logs {
        let d = digest::sha256_file(log).map_err(|source| ProvenanceError::Log {
            path: log.clone(),
            source,
        })?;
        logs.push((relative(build.root, log), d));
    }
    let run_id = match build.run_id {
        Some(id) => id.to_string(),
        None => digest::random_hex(8).map_err(ProvenanceError::Random)?,
    };
    let git_ref = build.git_ref.map(str::to_string).or(source.branch.clone());
    Ok(facts(
        source,
        workflow_path,
        git_ref,
        build.event.to_string(),
        inputs,
        build.builder,
        run_id,
        (build.time, build.time),
        logs,
    ))
}

/// A run as recorded, for its provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRun {
    pub id: u64,
    /// Start and finish, seconds since the epoch.
    pub started: i64,
    pub finished: i64,
    /// Its logs: name and file.
    pub logs: Vec<(String, PathBuf)>,
    /// The folder holding one folder per artifact, and the artifacts' names.
    pub artifacts_dir: PathBuf,
    pub artifacts: Vec<String>,
}

/// The provenance statement of one artifact.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactStatement {
    pub artifact: String,
    pub files: usize,
    /// A file name for its envelope that stays in its folder
    /// (`<artifact>.intoto.json`).
    pub file_name: String,
    pub statement: Statement,
}

/// One statement per artifact (with files) of the run `run` of `workflow`
/// from the checkout at `repo`.
pub fn run_statements(
    repo: &Path,
    workflow: &Workflow,
    event: &Event,
    run: &RecordedRun,
    builder: &Builder,
) -> Result<Vec<ArtifactStatement>, ProvenanceError> {
    let mut artifacts = Vec::new();
    for name in &run.artifacts {
        let files = statement::subjects_from_paths(&run.artifacts_dir, &[PathBuf::from(name)])
            .map_err(|source| ProvenanceError::Artifact {
                name: name.clone(),
                source,
            })?;
        if !files.is_empty() {
            artifacts.push(Artifact {
                name: name.clone(),
                files,
            });
        }
    }
    let mut logs = Vec::new();
    for (name, path) in &run.logs {
        let d = digest::sha256_file(path).map_err(|source| ProvenanceError::Log {
            path: path.clone(),
            source,
        })?;
        logs.push((name.clone(), d));
    }
    let source = source_facts(repo, workflow)?;
    let facts = facts(
        source,
        workflow.source.name().to_string(),
        event.git_ref.clone(),
        event.name.clone(),
        event
            .inputs
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect(),
        builder,
        run.id.to_string(),
        (run.started, run.finished),
        logs,
    );
    let mut out = Vec::new();
    for artifact in artifacts {
        for statement in provenance::statements_for_run(&facts, std::slice::from_ref(&artifact)) {
            out.push(ArtifactStatement {
                file_name: format!("{}.intoto.json", envelope_stem(&artifact.name)),
                artifact: artifact.name.clone(),
                files: artifact.files.len(),
                statement,
            });
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn facts(
    source: SourceFacts,
    workflow_path: String,
    git_ref: Option<String>,
    event: String,
    inputs: BTreeMap<String, serde_json::Value>,
    builder: &Builder,
    run_id: String,
    (started, finished): (i64, i64),
    logs: Vec<(String, String)>,
) -> RunFacts {
    RunFacts {
        workflow_path,
        git_ref,
        event,
        inputs,
        repository: source.repository,
        commit: source.commit,
        local_actions: source.local_actions,
        lockfiles: source.lockfiles,
        builder_id: builder.id.clone(),
        builder_version: builder.version.clone(),
        run_id,
        started,
        finished,
        logs,
    }
}

/// `path` relative to `base` when inside it.
fn relative(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// An artifact name as a file name: path separators, control characters
/// and a leading dot replaced, so a name can never leave the folder.
fn envelope_stem(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if out.starts_with('.') || out.is_empty() {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn artifact_names_stay_in_the_folder() {
        assert_eq!(envelope_stem("dist"), "dist");
        assert_eq!(envelope_stem("../etc/passwd"), "_.._etc_passwd");
        assert_eq!(envelope_stem(".hidden"), "_.hidden");
        assert_eq!(envelope_stem(""), "_");
    }

    #[test]
    fn an_input_that_is_not_a_pair_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let parsed = gantry_workflow::read_workflow(
            gantry_workflow::SourceFile::new(
                "w.yml",
                "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n",
            ),
            &gantry_workflow::ReadOptions::default(),
        );
        let workflow = parsed.value.unwrap();
        let builder = Builder {
            id: "b".into(),
            version: None,
        };
        let build = CheckoutBuild {
            root: dir.path(),
            workflow_path: &dir.path().join("w.yml"),
            workflow: &workflow,
            event: "push",
            git_ref: None,
            inputs: &["novalue".to_string()],
            run_id: Some("1"),
            logs: &[],
            time: 0,
            builder: &builder,
        };
        let err = checkout_facts(&build).unwrap_err();
        assert_eq!(err.to_string(), "--input 'novalue' is not NAME=VALUE");
    }
}
