//! `gantry run --attest`: SLSA v1 provenance for every artifact a
//! successful run uploaded, signed into DSSE envelopes.
//!
//! The run's outputs come from the store, the statements from
//! [`gantry_engine::provenance::run_statements`]; this module signs them
//! and writes the envelopes.

use std::path::{Path, PathBuf};

use gantry_attest::PrivateKey;
use gantry_engine::plan::Event;
use gantry_engine::provenance::{self, Builder, RecordedRun};
use gantry_store::{Home, RunId, Store, StoreOptions};
use gantry_workflow::Workflow;

use super::CliError;

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
    let store = Store::open_in(home, StoreOptions::default()).map_err(store_error)?;
    // The artifacts' files, as `download-artifact` lays them out.
    let scratch = tempfile::tempdir().map_err(CliError::Write)?;
    let Some(outputs) = store
        .run_outputs(RunId(run), scratch.path())
        .map_err(store_error)?
    else {
        return Err(CliError::usage(format!("run {run} is not recorded"), None));
    };
    let recorded = RecordedRun {
        id: run,
        started: outputs.started,
        finished: outputs.finished,
        logs: outputs.logs,
        artifacts_dir: scratch.path().to_path_buf(),
        artifacts: outputs.artifacts,
    };
    let builder = Builder {
        id: attesting.builder_id.clone(),
        version: Some(env!("CARGO_PKG_VERSION").to_string()),
    };
    let statements = provenance::run_statements(root, workflow, event, &recorded, &builder)
        .map_err(|e| CliError::usage(e.to_string(), None))?;

    let dir = attesting
        .dir
        .clone()
        .unwrap_or_else(|| home.attestations().join(run.to_string()));
    let keys: Vec<&PrivateKey> = attesting.keys.iter().collect();
    let mut written = Vec::new();
    for s in statements {
        let envelope = gantry_attest::attest(&s.statement, &keys)
            .map_err(|e| CliError::usage(e.to_string(), None))?;
        std::fs::create_dir_all(&dir).map_err(|source| CliError::Read {
            path: dir.clone(),
            source,
        })?;
        let path = dir.join(&s.file_name);
        let mut text = envelope.to_json_pretty();
        text.push('\n');
        std::fs::write(&path, text).map_err(|source| CliError::Read {
            path: path.clone(),
            source,
        })?;
        written.push(Written {
            artifact: s.artifact,
            files: s.files,
            path,
        });
    }
    Ok(written)
}
