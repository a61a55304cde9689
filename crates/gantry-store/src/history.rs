//! Run history: runs, jobs, steps, outputs, cache events, log locations;
//! and the marking of runs cut off by a crash.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::Serialize;

use crate::artifacts::ArtifactInfo;
use crate::error::StoreError;
use crate::time::Timestamp;
use crate::{Store, TxError, from_sql_int, owner, sql_int};

/// Text that is not a run, job or step number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a {what} id")]
pub struct ParseIdError {
    pub text: String,
    pub what: &'static str,
}

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;
            fn from_str(s: &str) -> Result<Self, ParseIdError> {
                s.trim()
                    .trim_start_matches('#')
                    .parse::<u64>()
                    .map($name)
                    .map_err(|_| ParseIdError {
                        text: s.to_string(),
                        what: $what,
                    })
            }
        }
    };
}

row_id!(
    /// A run's number in the history.
    RunId,
    "run"
);
row_id!(
    /// A job's row: one per job instance (matrix combination) of a run.
    JobRowId,
    "job"
);
row_id!(
    /// A step's row.
    StepRowId,
    "step"
);

/// How a run, job or step ended. `Crashed`: its process died before it
/// could say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Conclusion {
    Success,
    Failure,
    Cancelled,
    Skipped,
    Crashed,
}

impl Conclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Conclusion::Success => "success",
            Conclusion::Failure => "failure",
            Conclusion::Cancelled => "cancelled",
            Conclusion::Skipped => "skipped",
            Conclusion::Crashed => "crashed",
        }
    }

    pub fn parse(s: &str) -> Option<Conclusion> {
        Some(match s {
            "success" => Conclusion::Success,
            "failure" => Conclusion::Failure,
            "cancelled" => Conclusion::Cancelled,
            "skipped" => Conclusion::Skipped,
            "crashed" => Conclusion::Crashed,
            _ => return None,
        })
    }
}

impl fmt::Display for Conclusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run about to start.
#[derive(Debug, Clone, Default)]
pub struct NewRun {
    /// The workflow file, as shown to the user (relative to the repository).
    pub workflow_path: String,
    pub workflow_name: String,
    pub event: String,
    pub git_ref: Option<String>,
    pub commit: Option<String>,
    /// The `inputs` context as JSON (`{}` when none).
    pub inputs_json: String,
}

/// A job (instance) about to start.
#[derive(Debug, Clone, Default)]
pub struct NewJob {
    /// The job's key in `jobs:`.
    pub job_id: String,
    /// Its display name (with the matrix values, as GitHub shows it).
    pub name: String,
    pub matrix_json: Option<String>,
    /// How long it waited for a runner slot after it was ready, in
    /// milliseconds.
    pub queued_ms: Option<u64>,
}

/// A step about to start.
#[derive(Debug, Clone, Default)]
pub struct NewStep {
    /// Its position in the job, as the executor counts.
    pub index: u32,
    /// Its `id:`, if it has one.
    pub step_id: Option<String>,
    pub name: String,
}

/// What happened to a cache during a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum CacheEvent {
    /// Restored; `matched_key` is the key of the entry restored (equal to
    /// the primary key on an exact hit).
    Hit {
        matched_key: String,
    },
    Miss,
    Saved,
}

/// A run in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub id: RunId,
    pub workflow_path: String,
    pub workflow_name: String,
    pub event: String,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    pub commit: Option<String>,
    /// `None` while it runs.
    pub conclusion: Option<Conclusion>,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// The process that recorded it.
    pub pid: u32,
}

/// A step as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRecord {
    pub id: StepRowId,
    pub index: u32,
    pub step_id: Option<String>,
    pub name: String,
    /// Before `continue-on-error`.
    pub outcome: Option<Conclusion>,
    /// After `continue-on-error`.
    pub conclusion: Option<Conclusion>,
    pub exit_code: Option<i32>,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// Where its log is (absolute); the file may not exist.
    pub log_path: PathBuf,
    #[serde(serialize_with = "pairs_as_map")]
    pub outputs: Vec<(String, String)>,
}

/// A job as recorded, with its steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobRecord {
    pub id: JobRowId,
    pub job_id: String,
    pub name: String,
    pub matrix_json: Option<String>,
    pub conclusion: Option<Conclusion>,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// The job-level log (set-up and tear-down); the file may not exist.
    pub log_path: PathBuf,
    #[serde(serialize_with = "pairs_as_map")]
    pub outputs: Vec<(String, String)>,
    pub steps: Vec<StepRecord>,
}

/// A cache event of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheEventRecord {
    pub key: String,
    #[serde(flatten)]
    pub event: CacheEvent,
    pub at: Timestamp,
}

/// Everything recorded about one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunSummary,
    pub inputs_json: String,
    pub jobs: Vec<JobRecord>,
    pub caches: Vec<CacheEventRecord>,
    pub artifacts: Vec<ArtifactInfo>,
    /// Tests that failed or errored in the run's test reports.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failing_tests: Vec<crate::test_results::FailedTest>,
}

impl RunDetail {
    /// The versioned `runs show --format json` document.
    pub fn document(&self) -> RunDetailDocument<'_> {
        RunDetailDocument {
            version: crate::DOCUMENT_VERSION,
            detail: self,
        }
    }
}

/// `gantry runs show --format json`: the run's fields, its jobs, caches
/// and artifacts.
#[derive(Debug, Serialize)]
pub struct RunDetailDocument<'a> {
    pub version: u32,
    #[serde(flatten)]
    pub detail: &'a RunDetail,
}

/// `gantry runs --format json`: the runs listed, newest first.
#[derive(Debug, Serialize)]
pub struct RunsDocument<'a> {
    pub version: u32,
    pub runs: &'a [RunSummary],
}

impl<'a> RunsDocument<'a> {
    pub fn new(runs: &'a [RunSummary]) -> Self {
        Self {
            version: crate::DOCUMENT_VERSION,
            runs,
        }
    }
}

/// Outputs as a JSON object, in the order they were recorded.
fn pairs_as_map<S: serde::Serializer>(pairs: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(pairs.len()))?;
    for (k, v) in pairs {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

fn conclusion_column(row: &Row<'_>, index: usize) -> Result<Option<Conclusion>, TxError> {
    let text: Option<String> = row.get(index)?;
    match text {
        None => Ok(None),
        Some(t) => Conclusion::parse(&t)
            .map(Some)
            .ok_or_else(|| TxError::Invalid(format!("unknown conclusion `{t}`"))),
    }
}

fn id_column(row: &Row<'_>, index: usize, what: &str) -> Result<u64, TxError> {
    from_sql_int(row.get(index)?, what)
}

pub(crate) const RUN_COLUMNS: &str = "id, workflow_path, workflow_name, event, git_ref, commit_sha, \
     conclusion, started_at, finished_at, pid";

pub(crate) fn run_summary(row: &Row<'_>) -> Result<RunSummary, TxError> {
    Ok(RunSummary {
        id: RunId(id_column(row, 0, "run id")?),
        workflow_path: row.get(1)?,
        workflow_name: row.get(2)?,
        event: row.get(3)?,
        git_ref: row.get(4)?,
        commit: row.get(5)?,
        conclusion: conclusion_column(row, 6)?,
        started_at: Timestamp(row.get(7)?),
        finished_at: row.get::<_, Option<i64>>(8)?.map(Timestamp),
        pid: u32::try_from(row.get::<_, i64>(9)?).unwrap_or(0),
    })
}

impl Store {
    /// Records the start of a run, owned by this process.
    pub fn begin_run(&self, run: &NewRun) -> Result<RunId, StoreError> {
        let token = self.owner_token()?;
        let now = self.now();
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO runs (workflow_path, workflow_name, event, git_ref, commit_sha,
                                   inputs_json, started_at, pid, owner_token)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                run.workflow_path,
                run.workflow_name,
                run.event,
                run.git_ref,
                run.commit,
                if run.inputs_json.is_empty() {
                    "{}"
                } else {
                    &run.inputs_json
                },
                now.millis(),
                std::process::id(),
                token,
            ])?;
            Ok(RunId(from_sql_int(tx.last_insert_rowid(), "run id")?))
        })
    }

    /// Records the end of a run.
    pub fn finish_run(&self, id: RunId, conclusion: Conclusion) -> Result<(), StoreError> {
        let now = self.now();
        self.write(|tx| {
            let n = tx
                .prepare_cached("UPDATE runs SET conclusion = ?1, finished_at = ?2 WHERE id = ?3")?
                .execute(params![conclusion.as_str(), now.millis(), sql_int(id.0)])?;
            not_found_if_zero(n, "run", id.0)
        })
    }

    /// Records the start of a job of a run. Its log folder is made by whoever
    /// writes the first line: most steps print nothing.
    pub fn begin_job(&self, run: RunId, job: &NewJob) -> Result<JobRowId, StoreError> {
        let now = self.now();
        let id = self.write(|tx| {
            if !exists(tx, "SELECT 1 FROM runs WHERE id = ?1", run.0)? {
                return Err(StoreError::NotFound {
                    what: "run",
                    id: run.0,
                }
                .into());
            }
            tx.prepare_cached(
                "INSERT INTO jobs (run_id, job_id, name, matrix_json, started_at, log_path, queued_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, '', ?6)",
            )?
            .execute(params![
                sql_int(run.0),
                job.job_id,
                job.name,
                job.matrix_json,
                now.millis(),
                job.queued_ms.map(sql_int)
            ])?;
            let id = JobRowId(from_sql_int(tx.last_insert_rowid(), "job id")?);
            tx.prepare_cached("UPDATE jobs SET log_path = ?1 WHERE id = ?2")?
                .execute(params![relative_log_path(run, id, None), sql_int(id.0)])?;
            Ok(id)
        })?;
        Ok(id)
    }

    /// Records the end of a job and its outputs.
    pub fn finish_job(
        &self,
        id: JobRowId,
        conclusion: Conclusion,
        outputs: &[(String, String)],
    ) -> Result<(), StoreError> {
        let now = self.now();
        self.write(|tx| finish_job_in(tx, now, id, conclusion, outputs))
    }

    /// Records the start of a step. A step is known by its job and its
    /// index there, which is also what names its log file: the executor
    /// needs no answer from the database to go on.
    pub fn begin_step(&self, job: JobRowId, step: &NewStep) -> Result<StepRowId, StoreError> {
        let now = self.now();
        self.write(|tx| begin_step_in(tx, now, job, step))
    }

    /// Records the end of step `index` of a job: its outcome (before
    /// `continue-on-error`), conclusion (after), exit code and outputs.
    pub fn finish_step(
        &self,
        job: JobRowId,
        index: u32,
        outcome: Conclusion,
        conclusion: Conclusion,
        exit_code: Option<i32>,
        outputs: &[(String, String)],
    ) -> Result<(), StoreError> {
        let now = self.now();
        self.write(|tx| {
            finish_step_in(tx, now, job, index, outcome, conclusion, exit_code, outputs)
        })
    }

    /// Records several writes in one transaction. Each has its own
    /// savepoint: one that fails is left out and its error returned, the
    /// others are kept. One commit for many writes is what keeps a run's
    /// bookkeeping cheap next to its steps.
    pub fn record(&self, writes: &[HistoryWrite]) -> Result<Vec<StoreError>, StoreError> {
        let now = self.now();
        self.write(|tx| {
            let mut failed = Vec::new();
            for write in writes {
                tx.prepare_cached("SAVEPOINT write")?.execute([])?;
                match write.apply_in(tx, now) {
                    Ok(()) => {
                        tx.prepare_cached("RELEASE write")?.execute([])?;
                    }
                    Err(e) => {
                        tx.prepare_cached("ROLLBACK TO write")?.execute([])?;
                        tx.prepare_cached("RELEASE write")?.execute([])?;
                        failed.push(self.tx_error(e));
                    }
                }
            }
            Ok(failed)
        })
    }

    /// Where the executor writes the log of a job (`step: None`: set-up
    /// and tear-down) or of its step with that index. This does no I/O:
    /// the writer of the first line makes the folder.
    pub fn log_path(&self, run: RunId, job: JobRowId, step: Option<u32>) -> PathBuf {
        self.home.root().join(relative_log_path(run, job, step))
    }

    /// Records a cache hit, miss or save of a run.
    pub fn record_cache_event(
        &self,
        run: RunId,
        key: &str,
        event: CacheEvent,
    ) -> Result<(), StoreError> {
        let now = self.now();
        self.write(|tx| cache_event_in(tx, now, run, key, &event))
    }

    /// The latest `limit` runs, newest first.
    pub fn runs(&self, limit: usize) -> Result<Vec<RunSummary>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare(&format!(
                "SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?1"
            ))?;
            let mut rows = stmt.query([sql_int(limit as u64)])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(run_summary(row)?);
            }
            Ok(out)
        })
    }

    /// Everything about one run, or `None` if there is no such run.
    pub fn run(&self, id: RunId) -> Result<Option<RunDetail>, StoreError> {
        let now = self.now();
        self.read(|tx| {
            let mut stmt = tx.prepare(&format!(
                "SELECT {RUN_COLUMNS}, inputs_json FROM runs WHERE id = ?1"
            ))?;
            let mut rows = stmt.query([sql_int(id.0)])?;
            let Some(row) = rows.next()? else {
                return Ok(None);
            };
            let run = run_summary(row)?;
            let inputs_json: String = row.get(10)?;
            let jobs = self.jobs_of(tx, id)?;
            let caches = cache_events_of(tx, id)?;
            let artifacts = crate::artifacts::artifacts_of(tx, id, now)?;
            let failing_tests = crate::test_results::failing_of(tx, id)?;
            Ok(Some(RunDetail {
                run,
                inputs_json,
                jobs,
                caches,
                artifacts,
                failing_tests,
            }))
        })
    }

    /// A log path read from the database, which must name a file under
    /// `logs/` of the home: an absolute path, `..` or anything else is a
    /// tampered record and is refused.
    fn stored_log_path(&self, stored: &str) -> Result<PathBuf, TxError> {
        let path = self.home.join_stored(stored)?;
        if !path.starts_with(self.home.logs()) || path == self.home.logs() {
            return Err(StoreError::UnsafeStoredPath {
                path: stored.to_string(),
                home: self.home.root().to_path_buf(),
                reason: "log paths are under logs/".to_string(),
            }
            .into());
        }
        Ok(path)
    }

    /// Opens a log file of a run record ([`JobRecord::log_path`],
    /// [`StepRecord::log_path`]); `None` when it was never written. A log
    /// that resolves outside the home through a link, or that is not a
    /// regular file, is refused and not opened.
    pub fn open_log(&self, path: &Path) -> Result<Option<std::fs::File>, StoreError> {
        if !path.starts_with(self.home.logs()) {
            return Err(StoreError::OutsideHome {
                path: path.to_path_buf(),
                resolved: path.to_path_buf(),
                home: self.home.root().to_path_buf(),
            });
        }
        self.home.open_file_inside(path)
    }

    /// The jobs of the newest successful run of `workflow_path` at
    /// `commit`: what `gantry run --job J --no-deps` takes the results of
    /// J's needs from. `None` when there is no such run.
    pub fn latest_success(
        &self,
        workflow_path: &str,
        commit: &str,
    ) -> Result<Option<(RunId, Vec<JobRecord>)>, StoreError> {
        self.read(|tx| {
            let newest: Option<i64> = tx
                .prepare_cached(
                    "SELECT MAX(id) FROM runs
                     WHERE workflow_path = ?1 AND commit_sha = ?2 AND conclusion = 'success'",
                )?
                .query_row(params![workflow_path, commit], |r| r.get(0))?;
            let Some(id) = newest else {
                return Ok(None);
            };
            let run = RunId(from_sql_int(id, "run id")?);
            Ok(Some((run, self.jobs_of(tx, run)?)))
        })
    }

    fn jobs_of(&self, tx: &Transaction<'_>, run: RunId) -> Result<Vec<JobRecord>, TxError> {
        let mut outputs = tx.prepare(
            "SELECT job_row_id, step_row_id, name, value FROM outputs
             WHERE job_row_id IN (SELECT id FROM jobs WHERE run_id = ?1) ORDER BY id",
        )?;
        let mut job_outputs: Vec<(u64, Option<u64>, String, String)> = Vec::new();
        let mut rows = outputs.query([sql_int(run.0)])?;
        while let Some(row) = rows.next()? {
            let step = row
                .get::<_, Option<i64>>(1)?
                .map(|s| from_sql_int(s, "step id"))
                .transpose()?;
            job_outputs.push((id_column(row, 0, "job id")?, step, row.get(2)?, row.get(3)?));
        }
        let pick = |job: u64, step: Option<u64>| -> Vec<(String, String)> {
            job_outputs
                .iter()
                .filter(|o| o.0 == job && o.1 == step)
                .map(|o| (o.2.clone(), o.3.clone()))
                .collect()
        };

        let mut steps_stmt = tx.prepare(
            "SELECT s.id, s.job_row_id, s.idx, s.step_id, s.name, s.outcome, s.conclusion,
                    s.exit_code, s.started_at, s.finished_at, s.log_path
             FROM steps s JOIN jobs j ON j.id = s.job_row_id
             WHERE j.run_id = ?1 ORDER BY s.job_row_id, s.idx, s.id",
        )?;
        let mut steps: Vec<(u64, StepRecord)> = Vec::new();
        let mut rows = steps_stmt.query([sql_int(run.0)])?;
        while let Some(row) = rows.next()? {
            let id = id_column(row, 0, "step id")?;
            let job = id_column(row, 1, "job id")?;
            let log: String = row.get(10)?;
            steps.push((
                job,
                StepRecord {
                    id: StepRowId(id),
                    index: u32::try_from(row.get::<_, i64>(2)?).unwrap_or(0),
                    step_id: row.get(3)?,
                    name: row.get(4)?,
                    outcome: conclusion_column(row, 5)?,
                    conclusion: conclusion_column(row, 6)?,
                    exit_code: row.get(7)?,
                    started_at: Timestamp(row.get(8)?),
                    finished_at: row.get::<_, Option<i64>>(9)?.map(Timestamp),
                    log_path: self.stored_log_path(&log)?,
                    outputs: pick(job, Some(id)),
                },
            ));
        }

        let mut jobs_stmt = tx.prepare(
            "SELECT id, job_id, name, matrix_json, conclusion, started_at, finished_at, log_path
             FROM jobs WHERE run_id = ?1 ORDER BY id",
        )?;
        let mut jobs = Vec::new();
        let mut rows = jobs_stmt.query([sql_int(run.0)])?;
        while let Some(row) = rows.next()? {
            let id = id_column(row, 0, "job id")?;
            let log: String = row.get(7)?;
            jobs.push(JobRecord {
                id: JobRowId(id),
                job_id: row.get(1)?,
                name: row.get(2)?,
                matrix_json: row.get(3)?,
                conclusion: conclusion_column(row, 4)?,
                started_at: Timestamp(row.get(5)?),
                finished_at: row.get::<_, Option<i64>>(6)?.map(Timestamp),
                log_path: self.stored_log_path(&log)?,
                outputs: pick(id, None),
                steps: steps
                    .iter()
                    .filter(|(job, _)| *job == id)
                    .map(|(_, s)| s.clone())
                    .collect(),
            });
        }
        Ok(jobs)
    }

    /// Marks the unfinished runs (and their unfinished jobs and steps) of
    /// processes that no longer exist as crashed. [`Store::open`] calls
    /// this; it returns the runs it marked.
    pub fn mark_crashed_runs(&self) -> Result<Vec<RunId>, StoreError> {
        let tokens: Vec<String> = self.read(|tx| {
            let mut stmt =
                tx.prepare("SELECT DISTINCT owner_token FROM runs WHERE conclusion IS NULL")?;
            let tokens = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(tokens)
        })?;
        let dead: Vec<String> = tokens
            .into_iter()
            .filter(|t| !owner::is_alive(self.home.root(), t))
            .collect();
        if dead.is_empty() {
            return Ok(Vec::new());
        }
        self.write(|tx| {
            let mut marked = Vec::new();
            for token in &dead {
                let mut stmt = tx.prepare_cached(
                    "SELECT id FROM runs WHERE conclusion IS NULL AND owner_token = ?1",
                )?;
                let ids = stmt
                    .query_map([token], |r| r.get::<_, i64>(0))?
                    .collect::<Result<Vec<_>, _>>()?;
                for id in ids {
                    tx.prepare_cached(
                        "UPDATE steps SET conclusion = 'crashed', outcome = 'crashed'
                         WHERE conclusion IS NULL
                           AND job_row_id IN (SELECT id FROM jobs WHERE run_id = ?1)",
                    )?
                    .execute(
                        [id],
                    )?;
                    tx.prepare_cached(
                        "UPDATE jobs SET conclusion = 'crashed'
                         WHERE conclusion IS NULL AND run_id = ?1",
                    )?
                    .execute(
                        [id],
                    )?;
                    tx.prepare_cached(
                        "UPDATE runs SET conclusion = 'crashed' WHERE id = ?1 AND conclusion IS NULL",
                    )?
                    .execute(
                        [id],
                    )?;
                    crate::deployments::end_crashed(tx, id, self.now())?;
                    marked.push(RunId(from_sql_int(id, "run id")?));
                }
            }
            marked.sort();
            Ok(marked)
        })
    }
}

fn cache_events_of(tx: &Transaction<'_>, run: RunId) -> Result<Vec<CacheEventRecord>, TxError> {
    let mut stmt = tx.prepare(
        "SELECT key, kind, matched_key, at FROM cache_events WHERE run_id = ?1 ORDER BY id",
    )?;
    let mut rows = stmt.query([sql_int(run.0)])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let kind: String = row.get(1)?;
        let event = match kind.as_str() {
            "hit" => CacheEvent::Hit {
                matched_key: row.get::<_, Option<String>>(2)?.unwrap_or_default(),
            },
            "miss" => CacheEvent::Miss,
            "saved" => CacheEvent::Saved,
            other => return Err(TxError::Invalid(format!("unknown cache event `{other}`"))),
        };
        out.push(CacheEventRecord {
            key: row.get(0)?,
            event,
            at: Timestamp(row.get(3)?),
        });
    }
    Ok(out)
}

/// A write to the run history that [`Store::record`] can batch.
#[derive(Debug, Clone)]
pub enum HistoryWrite {
    BeginStep {
        job: JobRowId,
        step: NewStep,
    },
    FinishStep {
        job: JobRowId,
        index: u32,
        outcome: Conclusion,
        conclusion: Conclusion,
        exit_code: Option<i32>,
        outputs: Vec<(String, String)>,
    },
    FinishJob {
        job: JobRowId,
        conclusion: Conclusion,
        outputs: Vec<(String, String)>,
    },
    CacheEvent {
        run: RunId,
        key: String,
        event: CacheEvent,
    },
}

impl HistoryWrite {
    fn apply_in(&self, tx: &Transaction<'_>, now: Timestamp) -> Result<(), TxError> {
        match self {
            HistoryWrite::BeginStep { job, step } => begin_step_in(tx, now, *job, step).map(drop),
            HistoryWrite::FinishStep {
                job,
                index,
                outcome,
                conclusion,
                exit_code,
                outputs,
            } => finish_step_in(
                tx,
                now,
                *job,
                *index,
                *outcome,
                *conclusion,
                *exit_code,
                outputs,
            ),
            HistoryWrite::FinishJob {
                job,
                conclusion,
                outputs,
            } => finish_job_in(tx, now, *job, *conclusion, outputs),
            HistoryWrite::CacheEvent { run, key, event } => {
                cache_event_in(tx, now, *run, key, event)
            }
        }
    }
}

fn finish_job_in(
    tx: &Transaction<'_>,
    now: Timestamp,
    id: JobRowId,
    conclusion: Conclusion,
    outputs: &[(String, String)],
) -> Result<(), TxError> {
    let n = tx
        .prepare_cached("UPDATE jobs SET conclusion = ?1, finished_at = ?2 WHERE id = ?3")?
        .execute(params![conclusion.as_str(), now.millis(), sql_int(id.0)])?;
    not_found_if_zero(n, "job", id.0)?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO outputs (job_row_id, step_row_id, name, value) VALUES (?1, NULL, ?2, ?3)",
    )?;
    for (name, value) in outputs {
        insert.execute(params![sql_int(id.0), name, value])?;
    }
    Ok(())
}

fn begin_step_in(
    tx: &Transaction<'_>,
    now: Timestamp,
    job: JobRowId,
    step: &NewStep,
) -> Result<StepRowId, TxError> {
    let run: Option<i64> = tx
        .prepare_cached("SELECT run_id FROM jobs WHERE id = ?1")?
        .query_row([sql_int(job.0)], |r| r.get(0))
        .optional()?;
    let Some(run) = run else {
        return Err(StoreError::NotFound {
            what: "job",
            id: job.0,
        }
        .into());
    };
    let run = RunId(from_sql_int(run, "run id")?);
    tx.prepare_cached(
        "INSERT INTO steps (job_row_id, idx, step_id, name, started_at, log_path)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        sql_int(job.0),
        step.index,
        step.step_id,
        step.name,
        now.millis(),
        relative_log_path(run, job, Some(step.index)),
    ])?;
    Ok(StepRowId(from_sql_int(tx.last_insert_rowid(), "step id")?))
}

#[allow(clippy::too_many_arguments)]
fn finish_step_in(
    tx: &Transaction<'_>,
    now: Timestamp,
    job: JobRowId,
    index: u32,
    outcome: Conclusion,
    conclusion: Conclusion,
    exit_code: Option<i32>,
    outputs: &[(String, String)],
) -> Result<(), TxError> {
    let id: Option<i64> = tx
        .prepare_cached(
            "UPDATE steps SET outcome = ?1, conclusion = ?2, exit_code = ?3, finished_at = ?4
             WHERE job_row_id = ?5 AND idx = ?6
             RETURNING id",
        )?
        .query_row(
            params![
                outcome.as_str(),
                conclusion.as_str(),
                exit_code,
                now.millis(),
                sql_int(job.0),
                index
            ],
            |r| r.get(0),
        )
        .optional()?;
    let Some(id) = id else {
        return Err(TxError::Invalid(format!(
            "job {job} has no step {index} to finish"
        )));
    };
    let mut insert = tx.prepare_cached(
        "INSERT INTO outputs (job_row_id, step_row_id, name, value) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (name, value) in outputs {
        insert.execute(params![sql_int(job.0), id, name, value])?;
    }
    Ok(())
}

fn cache_event_in(
    tx: &Transaction<'_>,
    now: Timestamp,
    run: RunId,
    key: &str,
    event: &CacheEvent,
) -> Result<(), TxError> {
    let (kind, matched) = match event {
        CacheEvent::Hit { matched_key } => ("hit", Some(matched_key.as_str())),
        CacheEvent::Miss => ("miss", None),
        CacheEvent::Saved => ("saved", None),
    };
    tx.prepare_cached(
        "INSERT INTO cache_events (run_id, key, kind, matched_key, at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![sql_int(run.0), key, kind, matched, now.millis()])?;
    Ok(())
}

fn relative_log_path(run: RunId, job: JobRowId, step: Option<u32>) -> String {
    let file = match step {
        Some(index) => format!("{index}.log"),
        None => "job.log".to_string(),
    };
    Path::new("logs")
        .join(run.to_string())
        .join(job.to_string())
        .join(file)
        .to_string_lossy()
        .into_owned()
}

fn exists(tx: &Transaction<'_>, sql: &str, id: u64) -> Result<bool, TxError> {
    Ok(tx
        .prepare_cached(sql)?
        .query_row([sql_int(id)], |_| Ok(()))
        .optional()?
        .is_some())
}

fn not_found_if_zero(changed: usize, what: &'static str, id: u64) -> Result<(), TxError> {
    if changed == 0 {
        Err(StoreError::NotFound { what, id }.into())
    } else {
        Ok(())
    }
}
