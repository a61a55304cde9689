//! The run engine's storage, on `gantry-store`: run history in SQLite,
//! caches and artifacts as content-addressed blobs under `$GANTRY_HOME`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gantry_engine::run::{
    ArtifactStored, Backend, BackendError, CacheRestore, Conclusion, RunRecord,
};
use gantry_store::{CacheEvent, JobRowId, NewJob, NewRun, NewStep, RunId, StepRowId, Store};

use crate::commands::CliError;

/// Opens the store under `home` as the engine's backend.
pub fn open(home: &Path) -> Result<Arc<dyn Backend>, CliError> {
    let store = Store::open(home).map_err(|e| {
        let hint = e.hint();
        CliError::usage(
            format!("cannot open the gantry home {}: {e}", home.display()),
            hint,
        )
    })?;
    Ok(Arc::new(StoreBackend { store }))
}

struct StoreBackend {
    store: Store,
}

fn conclusion(c: Conclusion) -> gantry_store::Conclusion {
    match c {
        Conclusion::Success => gantry_store::Conclusion::Success,
        Conclusion::Failure => gantry_store::Conclusion::Failure,
        Conclusion::Cancelled => gantry_store::Conclusion::Cancelled,
        Conclusion::Skipped => gantry_store::Conclusion::Skipped,
    }
}

fn err(e: impl std::fmt::Display) -> BackendError {
    e.to_string()
}

impl Backend for StoreBackend {
    fn begin_run(&self, run: &RunRecord) -> Result<u64, BackendError> {
        self.store
            .begin_run(&NewRun {
                workflow_path: run.workflow_path.clone(),
                workflow_name: run.workflow_name.clone(),
                event: run.event.clone(),
                git_ref: run.git_ref.clone(),
                commit: run.commit.clone(),
                inputs_json: run.inputs_json.clone(),
            })
            .map(|id| id.0)
            .map_err(err)
    }

    fn finish_run(&self, run: u64, c: Conclusion) -> Result<(), BackendError> {
        self.store
            .finish_run(RunId(run), conclusion(c))
            .map_err(err)
    }

    fn begin_job(
        &self,
        run: u64,
        job_id: &str,
        name: &str,
        matrix_json: Option<&str>,
    ) -> Result<u64, BackendError> {
        self.store
            .begin_job(
                RunId(run),
                &NewJob {
                    job_id: job_id.to_string(),
                    name: name.to_string(),
                    matrix_json: matrix_json.map(str::to_string),
                },
            )
            .map(|id| id.0)
            .map_err(err)
    }

    fn finish_job(
        &self,
        job: u64,
        c: Conclusion,
        outputs: &[(String, String)],
    ) -> Result<(), BackendError> {
        self.store
            .finish_job(JobRowId(job), conclusion(c), outputs)
            .map_err(err)
    }

    fn begin_step(
        &self,
        job: u64,
        index: u32,
        step_id: Option<&str>,
        name: &str,
    ) -> Result<u64, BackendError> {
        self.store
            .begin_step(
                JobRowId(job),
                &NewStep {
                    index,
                    step_id: step_id.map(str::to_string),
                    name: name.to_string(),
                },
            )
            .map(|id| id.0)
            .map_err(err)
    }

    fn finish_step(
        &self,
        step: u64,
        outcome: Conclusion,
        c: Conclusion,
        exit_code: Option<i32>,
        outputs: &[(String, String)],
    ) -> Result<(), BackendError> {
        self.store
            .finish_step(
                StepRowId(step),
                conclusion(outcome),
                conclusion(c),
                exit_code,
                outputs,
            )
            .map_err(err)
    }

    fn log_path(&self, run: u64, job: u64, step: Option<u64>) -> PathBuf {
        self.store
            .log_path(RunId(run), JobRowId(job), step.map(StepRowId))
    }

    fn record_cache(&self, run: u64, key: &str, hit: Option<&str>) -> Result<(), BackendError> {
        let event = match hit {
            Some(matched) => CacheEvent::Hit {
                matched_key: matched.to_string(),
            },
            None => CacheEvent::Miss,
        };
        self.store
            .record_cache_event(RunId(run), key, event)
            .map_err(err)
    }

    fn save_cache(
        &self,
        key: &str,
        version: &str,
        root: &Path,
        paths: &[String],
    ) -> Result<bool, BackendError> {
        self.store
            .save_cache(key, version, root, paths)
            .map(|s| s.saved)
            .map_err(err)
    }

    fn restore_cache(
        &self,
        keys: &[String],
        version: &str,
        dest: &Path,
    ) -> Result<Option<CacheRestore>, BackendError> {
        self.store
            .restore_cache(keys, version, dest)
            .map(|r| {
                r.map(|r| CacheRestore {
                    matched_key: r.matched_key,
                    exact: r.exact,
                })
            })
            .map_err(err)
    }

    fn upload_artifact(
        &self,
        run: u64,
        name: &str,
        root: &Path,
        paths: &[String],
        retention_days: Option<u32>,
    ) -> Result<ArtifactStored, BackendError> {
        self.store
            .upload_artifact(RunId(run), name, root, paths, retention_days)
            .map(|a| ArtifactStored {
                name: a.name,
                files: a.files,
                bytes: a.size,
            })
            .map_err(err)
    }

    fn download_artifact(
        &self,
        run: u64,
        pattern: Option<&str>,
        dest: &Path,
        per_artifact_dirs: bool,
    ) -> Result<Vec<ArtifactStored>, BackendError> {
        self.store
            .download_artifact(RunId(run), pattern, dest, per_artifact_dirs)
            .map(|found| {
                found
                    .into_iter()
                    .map(|a| ArtifactStored {
                        name: a.name,
                        files: a.files,
                        bytes: a.size,
                    })
                    .collect()
            })
            .map_err(err)
    }
}
