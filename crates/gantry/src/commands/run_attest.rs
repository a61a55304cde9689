//! `gantry run --attest`: SLSA v1 provenance for every artifact a
//! successful run uploaded, signed into DSSE envelopes.
//!
//! The facts come from the run as recorded (times, logs, artifacts) and
//! from the checkout (commit, local actions, lockfiles), the same facts
//! `gantry attest -t slsa-provenance` records for a build it did not see.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gantry_attest::PrivateKey;
use gantry_attest::provenance::{self, Artifact, RunFacts};
use gantry_attest::{digest, statement};
use gantry_engine::plan::Event;
use gantry_store::{Home, RunId, Store};
use gantry_workflow::Workflow;

use super::CliError;
use super::attest::{SourceFacts, local_uses};

/// How to sign a run's provenance.
pub struct Attesting {
    pub keys: Vec<PrivateKey>,
    /// Where envelopes go [default: `$GANTRY_HOME/attestations/<run>`].
    pub dir: Option<PathBuf>,
    pub builder_id: String,
}

/// One envelope written.
pub struct Written {
    pub artifact: String,
    pub files: usize,
    pub path: PathBuf,
}

/// Signs provenance for each artifact of run `run`, returning what it
/// wrote (nothing when the run uploaded no files).
pub fn attest_run(
    root: &Path,
    home: &Home,
    workflow: &Workflow,
    event: &Event,
    run: u64,
    attesting: &Attesting,
) -> Result<Vec<Written>, CliError> {
    let store_error = |e: gantry_store::StoreError| {
        CliError::usage(
            format!("cannot read run {run} for its provenance: {e}"),
            None,
        )
    };
    let store = Store::open_in(home, gantry_store::StoreOptions::default()).map_err(store_error)?;
    let Some(detail) = store.run(RunId(run)).map_err(store_error)? else {
        return Err(CliError::usage(format!("run {run} is not recorded"), None));
    };

    // The artifacts' files, as `download-artifact` lays them out.
    let scratch = tempfile::tempdir().map_err(CliError::Write)?;
    let downloaded = store
        .download_artifact(RunId(run), None, scratch.path(), true)
        .map_err(store_error)?;
    let mut artifacts = Vec::new();
    for a in &downloaded {
        let files = statement::subjects_from_paths(scratch.path(), &[PathBuf::from(&a.name)])
            .unwrap_or_default();
        artifacts.push(Artifact {
            name: a.name.clone(),
            files,
        });
    }

    // Logs are byproducts: each step's log that has any lines.
    let mut logs = Vec::new();
    for job in &detail.jobs {
        let step_logs = job
            .steps
            .iter()
            .map(|s| (format!("{}/{}.log", job.name, s.index), &s.log_path));
        let job_log = std::iter::once((format!("{}/job.log", job.name), &job.log_path));
        for (name, path) in job_log.chain(step_logs) {
            if path.is_file() {
                let d =
                    digest::sha256_file(path).map_err(|e| CliError::usage(e.to_string(), None))?;
                logs.push((name, d));
            }
        }
    }

    let source = SourceFacts::gather(root, &local_uses(workflow))?;
    let facts = RunFacts {
        workflow_path: workflow.source.name().to_string(),
        git_ref: event.git_ref.clone(),
        event: event.name.clone(),
        inputs: event
            .inputs
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect::<BTreeMap<_, _>>(),
        repository: source.repository,
        commit: source.commit,
        local_actions: source.local_actions,
        lockfiles: source.lockfiles,
        builder_id: attesting.builder_id.clone(),
        builder_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        run_id: run.to_string(),
        started: detail.run.started_at.seconds(),
        finished: detail
            .run
            .finished_at
            .unwrap_or(detail.run.started_at)
            .seconds(),
        logs,
    };

    let dir = attesting
        .dir
        .clone()
        .unwrap_or_else(|| home.attestations().join(run.to_string()));
    let keys: Vec<&PrivateKey> = attesting.keys.iter().collect();
    let mut written = Vec::new();
    for artifact in artifacts.iter().filter(|a| !a.files.is_empty()) {
        let statements = provenance::statements_for_run(&facts, std::slice::from_ref(artifact));
        for statement in statements {
            let envelope = gantry_attest::attest(&statement, &keys)
                .map_err(|e| CliError::usage(e.to_string(), None))?;
            std::fs::create_dir_all(&dir).map_err(|source| CliError::Read {
                path: dir.clone(),
                source,
            })?;
            let path = dir.join(format!("{}.intoto.json", file_name(&artifact.name)));
            let mut text = envelope.to_json_pretty();
            text.push('\n');
            std::fs::write(&path, text).map_err(|source| CliError::Read {
                path: path.clone(),
                source,
            })?;
            written.push(Written {
                artifact: artifact.name.clone(),
                files: artifact.files.len(),
                path,
            });
        }
    }
    Ok(written)
}

/// An artifact name as a file name: path separators and leading dots
/// replaced, so a name can never leave the folder.
fn file_name(name: &str) -> String {
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
    use super::file_name;

    #[test]
    fn artifact_names_stay_in_the_folder() {
        assert_eq!(file_name("dist"), "dist");
        assert_eq!(file_name("../etc/passwd"), "_.._etc_passwd");
        assert_eq!(file_name(".hidden"), "_.hidden");
        assert_eq!(file_name(""), "_");
    }
}
