//! The run engine's storage, on `gantry-store`: run history in SQLite,
//! caches and artifacts as content-addressed blobs under `$GANTRY_HOME`.
//!
//! History writes the executor needs no answer from (a step began or
//! ended, a job ended, a cache was looked up) go to gantry-store's
//! [`HistoryWriter`]; the end of a run waits for every write queued before
//! it, so the database is complete when a run is over, and every write
//! that failed is reported then.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gantry_deliver::deploy::{Admitted, DeployRequest, Deployer, Notice};
use gantry_engine::run::environment::{
    Admission, BoxFuture, EnvironmentEntry, EnvironmentExit, Environments, Say, Sayer,
};
use gantry_engine::run::{
    ArtifactStored, Backend, BackendError, CacheRestore, Conclusion, RunRecord,
};
use gantry_store::{
    CacheEvent, HistoryWrite, HistoryWriter, JobRowId, NewJob, NewRun, NewStep, RunId, Store,
};
use indexmap::IndexMap;
use tokio_util::sync::CancellationToken;

use crate::commands::CliError;

/// Opens the store under `home`.
pub fn open_store(home: &Path) -> Result<Arc<Store>, CliError> {
    let store = Store::open(home).map_err(|e| {
        let hint = e.hint();
        CliError::usage(
            format!("cannot open the gantry home {}: {e}", home.display()),
            hint,
        )
    })?;
    Ok(Arc::new(store))
}

/// The engine's backend on `store`; jobs with `environment:` deploy
/// through `deployer`.
pub fn backend(store: Arc<Store>, deployer: Arc<Deployer>) -> Arc<dyn Backend> {
    let mut backend = StoreBackend::new(store);
    backend.environments = Some(Arc::new(DeliverHooks { deployer }));
    Arc::new(backend)
}

struct StoreBackend {
    store: Arc<Store>,
    writer: HistoryWriter,
    environments: Option<Arc<dyn Environments>>,
}

impl StoreBackend {
    fn new(store: Arc<Store>) -> Self {
        Self {
            writer: HistoryWriter::new(store.clone()),
            store,
            environments: None,
        }
    }

    fn queue(&self, write: HistoryWrite) {
        self.writer.queue(write);
    }

    /// Waits for every queued write; what failed, if anything.
    fn flush(&self) -> Result<(), BackendError> {
        self.writer.flush().map_err(|e| {
            BackendError::with_context("some of the run's history was not recorded", e)
        })
    }
}

fn conclusion(c: Conclusion) -> gantry_store::Conclusion {
    match c {
        Conclusion::Success => gantry_store::Conclusion::Success,
        Conclusion::Failure => gantry_store::Conclusion::Failure,
        Conclusion::Cancelled => gantry_store::Conclusion::Cancelled,
        Conclusion::Skipped => gantry_store::Conclusion::Skipped,
    }
}

fn err(e: gantry_store::StoreError) -> BackendError {
    BackendError::new(e)
}

impl Backend for StoreBackend {
    fn environments(&self) -> Option<Arc<dyn Environments>> {
        self.environments.clone()
    }

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
        let queued = self.flush();
        self.store
            .finish_run(RunId(run), conclusion(c))
            .map_err(err)?;
        queued
    }

    fn begin_job(
        &self,
        run: u64,
        job_id: &str,
        name: &str,
        matrix_json: Option<&str>,
        queued: Option<std::time::Duration>,
    ) -> Result<u64, BackendError> {
        self.store
            .begin_job(
                RunId(run),
                &NewJob {
                    job_id: job_id.to_string(),
                    name: name.to_string(),
                    matrix_json: matrix_json.map(str::to_string),
                    queued_ms: queued.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
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
        self.queue(HistoryWrite::FinishJob {
            job: JobRowId(job),
            conclusion: conclusion(c),
            outputs: outputs.to_vec(),
        });
        Ok(())
    }

    fn begin_step(
        &self,
        job: u64,
        index: u32,
        step_id: Option<&str>,
        name: &str,
    ) -> Result<(), BackendError> {
        self.queue(HistoryWrite::BeginStep {
            job: JobRowId(job),
            step: NewStep {
                index,
                step_id: step_id.map(str::to_string),
                name: name.to_string(),
            },
        });
        Ok(())
    }

    fn finish_step(
        &self,
        job: u64,
        index: u32,
        outcome: Conclusion,
        c: Conclusion,
        exit_code: Option<i32>,
        outputs: &[(String, String)],
    ) -> Result<(), BackendError> {
        self.queue(HistoryWrite::FinishStep {
            job: JobRowId(job),
            index,
            outcome: conclusion(outcome),
            conclusion: conclusion(c),
            exit_code,
            outputs: outputs.to_vec(),
        });
        Ok(())
    }

    fn log_path(&self, run: u64, job: u64, step: Option<u32>) -> PathBuf {
        self.store.log_path(RunId(run), JobRowId(job), step)
    }

    fn record_cache(&self, run: u64, key: &str, hit: Option<&str>) -> Result<(), BackendError> {
        let event = match hit {
            Some(matched) => CacheEvent::Hit {
                matched_key: matched.to_string(),
            },
            None => CacheEvent::Miss,
        };
        self.queue(HistoryWrite::CacheEvent {
            run: RunId(run),
            key: key.to_string(),
            event,
        });
        Ok(())
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

    fn record_test_report(
        &self,
        run: u64,
        job: u64,
        path: &str,
        report: Result<&gantry_tests::ParsedReport, &gantry_tests::ParseError>,
    ) -> Result<(), BackendError> {
        self.store
            .record_test_report(&gantry_store::NewTestReport {
                run: RunId(run),
                job: Some(gantry_store::JobRowId(job)),
                path,
                result: report,
            })
            .map(|_| ())
            .map_err(err)
    }
}

/// The engine's environment hooks on gantry-deliver's [`Deployer`].
struct DeliverHooks {
    deployer: Arc<Deployer>,
}

fn request(entry: &EnvironmentEntry) -> DeployRequest {
    DeployRequest {
        run: RunId(entry.run_id),
        job_id: entry.job_id.clone(),
        job_name: entry.job_key.clone(),
        workflow_path: entry.workflow_path.clone(),
        environment: entry.environment.clone(),
        git_ref: entry.git_ref.clone(),
        commit: entry.sha.clone(),
        record: entry.deployment,
    }
}

fn say(say: Sayer<'_>) -> impl Fn(Notice) + Send + Sync + '_ {
    move |n| {
        say(match n {
            Notice::Info(t) => Say::Info(t),
            Notice::Warning(t) => Say::Warning(t),
            Notice::Waiting(t) => Say::Waiting(t),
        })
    }
}

impl Environments for DeliverHooks {
    fn enter<'a>(
        &'a self,
        entry: &'a EnvironmentEntry,
        sayer: Sayer<'a>,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<Admission, String>> {
        Box::pin(async move {
            let notice = say(sayer);
            let cancelled = move || cancel.is_cancelled();
            let admitted = self
                .deployer
                .enter(&request(entry), &notice, &cancelled)
                .await?;
            Ok(Admission {
                deployment: admitted.deployment.map(|d| d.0),
                secrets: admitted.secrets,
                vars: admitted.vars,
            })
        })
    }

    fn leave<'a>(
        &'a self,
        entry: &'a EnvironmentEntry,
        admission: &'a Admission,
        exit: EnvironmentExit,
        sayer: Sayer<'a>,
    ) -> BoxFuture<'a, Conclusion> {
        Box::pin(async move {
            let notice = say(sayer);
            let admitted = Admitted {
                deployment: admission.deployment.map(gantry_store::DeploymentId),
                ..Admitted::default()
            };
            let succeeded = match exit.conclusion {
                Conclusion::Success => Some(true),
                Conclusion::Failure => Some(false),
                Conclusion::Cancelled | Conclusion::Skipped => None,
            };
            let good = self
                .deployer
                .leave(
                    &request(entry),
                    &admitted,
                    succeeded,
                    exit.url.as_deref(),
                    &notice,
                )
                .await;
            match exit.conclusion {
                Conclusion::Success if !good => Conclusion::Failure,
                other => other,
            }
        })
    }

    fn health_check<'a>(
        &'a self,
        inputs: &'a IndexMap<String, String>,
        sayer: Sayer<'a>,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let notice = say(sayer);
            let input = |key: &str| {
                inputs
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v.clone())
                    .filter(|v| !v.is_empty())
            };
            self.deployer.health_check_action(&input, &notice).await
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn queued_writes_are_complete_when_the_run_ends_and_failures_are_told() {
        let home = tempfile::tempdir().unwrap();
        let backend = StoreBackend::new(Arc::new(Store::open(home.path()).unwrap()));
        let run = backend
            .begin_run(&RunRecord {
                workflow_path: ".github/workflows/ci.yml".into(),
                workflow_name: "CI".into(),
                event: "push".into(),
                git_ref: None,
                commit: None,
                inputs_json: String::new(),
            })
            .unwrap();
        let job = backend
            .begin_job(run, "build", "build", None, None)
            .unwrap();
        for index in 0..3 {
            backend.begin_step(job, index, None, "step").unwrap();
            let outputs = [("n".to_string(), index.to_string())];
            backend
                .finish_step(
                    job,
                    index,
                    Conclusion::Success,
                    Conclusion::Success,
                    Some(0),
                    &outputs,
                )
                .unwrap();
        }
        backend.record_cache(run, "deps-abc", None).unwrap();
        backend.finish_job(job, Conclusion::Success, &[]).unwrap();
        // Everything queued is in the database once the run is finished.
        backend.finish_run(run, Conclusion::Success).unwrap();
        let detail = backend.store.run(RunId(run)).unwrap().unwrap();
        let steps = &detail.jobs[0].steps;
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[2].outputs, [("n".to_string(), "2".to_string())]);
        assert_eq!(
            detail.jobs[0].conclusion,
            Some(gantry_store::Conclusion::Success)
        );
        assert_eq!(detail.caches.len(), 1);

        // A write that fails (no such step) does not take the others with
        // it, and the end of the run says so.
        let run2 = backend.begin_run(&RunRecord {
            workflow_path: "w.yml".into(),
            workflow_name: "w".into(),
            event: "push".into(),
            git_ref: None,
            commit: None,
            inputs_json: String::new(),
        });
        let run2 = run2.unwrap();
        let job2 = backend.begin_job(run2, "j", "j", None, None).unwrap();
        backend.begin_step(job2, 0, None, "kept").unwrap();
        backend
            .finish_step(
                job2,
                7,
                Conclusion::Success,
                Conclusion::Success,
                Some(0),
                &[],
            )
            .unwrap();
        let error = backend.finish_run(run2, Conclusion::Success).unwrap_err();
        assert!(error.to_string().contains("has no step 7"), "{error}");
        // The store's own error, not its text.
        assert!(
            error
                .inner()
                .downcast_ref::<gantry_store::HistoryError>()
                .is_some(),
            "{error:?}"
        );
        let detail = backend.store.run(RunId(run2)).unwrap().unwrap();
        assert_eq!(detail.jobs[0].steps[0].name, "kept");
    }
}
