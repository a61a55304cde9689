//! What a recorded run left behind, as its provenance describes it: its
//! times, the log files that exist, and its artifacts laid out in a folder
//! as `download-artifact` lays them out.

use std::path::{Path, PathBuf};

use crate::{RunId, Store, StoreError};

/// A run's outputs (see [`Store::run_outputs`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutputs {
    pub run: RunId,
    /// Start and finish, seconds since the epoch (finish = start while the
    /// run has not finished).
    pub started: i64,
    pub finished: i64,
    /// Logs that exist under the home, in order: `<job>/job.log` then
    /// `<job>/<step>.log`, with their files.
    pub logs: Vec<(String, PathBuf)>,
    /// The names of the artifacts written into the folder given.
    pub artifacts: Vec<String>,
}

impl Store {
    /// The outputs of run `id`, its artifacts unpacked into `dir` (one
    /// folder per artifact); `None` when no such run is recorded.
    pub fn run_outputs(&self, id: RunId, dir: &Path) -> Result<Option<RunOutputs>, StoreError> {
        let Some(detail) = self.run(id)? else {
            return Ok(None);
        };
        let mut logs = Vec::new();
        for job in &detail.jobs {
            let step_logs = job
                .steps
                .iter()
                .map(|s| (format!("{}/{}.log", job.name, s.index), &s.log_path));
            let job_log = std::iter::once((format!("{}/job.log", job.name), &job.log_path));
            for (name, path) in job_log.chain(step_logs) {
                // Only a regular file under the home's logs is a log.
                if self.open_log(path)?.is_some() {
                    logs.push((name, path.clone()));
                }
            }
        }
        let artifacts = self
            .download_artifact(id, None, dir, true)?
            .into_iter()
            .map(|a| a.name)
            .collect();
        let started = detail.run.started_at.seconds();
        Ok(Some(RunOutputs {
            run: id,
            started,
            finished: detail.run.finished_at.map_or(started, |t| t.seconds()),
            logs,
            artifacts,
        }))
    }
}
