//! Which log files of a recorded run to show, in order: `gantry logs`.

use std::path::PathBuf;

use serde::Serialize;

use crate::Store;
use crate::error::StoreError;
use crate::history::{Conclusion, JobRecord, RunId, StepRecord};

/// One log file of a run, with what it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogSection {
    /// The job's display name.
    pub job: String,
    /// `None`: the job's own log (set-up and tear-down), which exists only
    /// when there was something to say.
    pub step: Option<LogStep>,
    /// Where the log is; open it with [`Store::open_log`].
    pub path: PathBuf,
}

/// The step a [`LogSection`] belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogStep {
    pub index: u32,
    pub name: String,
    /// `None` while it runs.
    pub conclusion: Option<Conclusion>,
}

/// The log files of a run that a selection picked, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunLogs {
    pub run: RunId,
    pub sections: Vec<LogSection>,
}

fn job_matches(job: &JobRecord, wanted: &str) -> bool {
    job.job_id == wanted || job.name == wanted || job.id.to_string() == wanted
}

fn step_matches(step: &StepRecord, wanted: &str) -> bool {
    step.index.to_string() == wanted
        || step.step_id.as_deref() == Some(wanted)
        || step.name == wanted
}

impl Store {
    /// The logs of run `id`: of every job, or only `job` (its id in
    /// `jobs:`, display name or row number); of every step, or only `step`
    /// (its number, `id:` or name). Without `step`, each job's own log
    /// comes first.
    pub fn run_logs(
        &self,
        id: RunId,
        job: Option<&str>,
        step: Option<&str>,
    ) -> Result<RunLogs, StoreError> {
        let Some(detail) = self.run(id)? else {
            return Err(StoreError::NotFound {
                what: "run",
                id: id.0,
            });
        };
        let jobs: Vec<&JobRecord> = detail
            .jobs
            .iter()
            .filter(|j| job.is_none_or(|w| job_matches(j, w)))
            .collect();
        if let (Some(wanted), true) = (job, jobs.is_empty()) {
            return Err(StoreError::NoSuchJob {
                run: id.0,
                wanted: wanted.to_string(),
                known: detail.jobs.iter().map(|j| j.job_id.clone()).collect(),
            });
        }
        let mut sections = Vec::new();
        for j in &jobs {
            if step.is_none() {
                sections.push(LogSection {
                    job: j.name.clone(),
                    step: None,
                    path: j.log_path.clone(),
                });
            }
            for s in j
                .steps
                .iter()
                .filter(|s| step.is_none_or(|w| step_matches(s, w)))
            {
                sections.push(LogSection {
                    job: j.name.clone(),
                    step: Some(LogStep {
                        index: s.index,
                        name: s.name.clone(),
                        conclusion: s.conclusion,
                    }),
                    path: s.log_path.clone(),
                });
            }
        }
        if let Some(wanted) = step
            && sections.is_empty()
        {
            return Err(StoreError::NoSuchStep {
                run: id.0,
                wanted: wanted.to_string(),
                known: jobs
                    .iter()
                    .flat_map(|j| &j.steps)
                    .map(|s| format!("{}. {}", s.index, s.name))
                    .collect(),
            });
        }
        Ok(RunLogs { run: id, sections })
    }
}
