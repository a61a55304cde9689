//! Deployments to environments and their statuses, with GitHub's names
//! (queued, in_progress, success, failure, error, inactive), and the
//! signed approvals of reviewers that a run's job waits for.
//!
//! When a deployment succeeds, the environment's earlier successful
//! deployments become inactive, in the same transaction: an environment
//! has at most one active (successful) deployment.

use std::fmt;
use std::str::FromStr;

use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::Serialize;

use crate::error::StoreError;
use crate::history::RunId;
use crate::time::Timestamp;
use crate::{Store, TxError, from_sql_int, sql_int};

/// A deployment's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct DeploymentId(pub u64);

impl fmt::Display for DeploymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for DeploymentId {
    type Err = crate::ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .trim_start_matches('#')
            .parse::<u64>()
            .map(DeploymentId)
            .map_err(|_| crate::ParseIdError {
                text: s.to_string(),
                what: "deployment",
            })
    }
}

/// A deployment's state, as GitHub names deployment statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    /// Created, waiting (for its wait timer, reviewers or a runner).
    Queued,
    InProgress,
    Success,
    Failure,
    /// It could not be attempted or finished (refused, timed out, cancelled).
    Error,
    /// A later deployment to the same environment succeeded.
    Inactive,
}

impl DeploymentState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentState::Queued => "queued",
            DeploymentState::InProgress => "in_progress",
            DeploymentState::Success => "success",
            DeploymentState::Failure => "failure",
            DeploymentState::Error => "error",
            DeploymentState::Inactive => "inactive",
        }
    }

    pub fn parse(s: &str) -> Option<DeploymentState> {
        Some(match s {
            "queued" => DeploymentState::Queued,
            "in_progress" => DeploymentState::InProgress,
            "success" => DeploymentState::Success,
            "failure" => DeploymentState::Failure,
            "error" => DeploymentState::Error,
            "inactive" => DeploymentState::Inactive,
            _ => return None,
        })
    }

    /// Whether nothing will change it any more but a later success.
    pub fn is_final(self) -> bool {
        !matches!(self, DeploymentState::Queued | DeploymentState::InProgress)
    }
}

impl fmt::Display for DeploymentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A deployment to record.
#[derive(Debug, Clone, Default)]
pub struct NewDeployment {
    pub environment: String,
    pub git_ref: Option<String>,
    pub commit: Option<String>,
    /// When `commit` was made (its committer time), when git could say:
    /// the start of DORA's change lead time.
    pub commit_time: Option<Timestamp>,
    pub run: Option<RunId>,
    /// The job's id in the workflow.
    pub job_id: String,
    /// The job as shown (with its matrix values).
    pub job_name: String,
    pub workflow_path: String,
    pub creator: String,
    pub description: Option<String>,
    /// For a rollback: the deployment whose commit it deploys again.
    pub rollback_of: Option<DeploymentId>,
}

/// One status a deployment had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploymentStatus {
    pub state: DeploymentState,
    pub description: Option<String>,
    pub created_at: Timestamp,
}

/// A deployment as recorded, with its statuses oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deployment {
    pub id: DeploymentId,
    pub environment: String,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    pub commit: Option<String>,
    /// When `commit` was made, when it was known (see [`NewDeployment`]).
    pub commit_time: Option<Timestamp>,
    pub run: Option<RunId>,
    pub job_id: String,
    pub job_name: String,
    pub workflow_path: String,
    pub url: Option<String>,
    pub creator: String,
    pub state: DeploymentState,
    pub description: Option<String>,
    pub rollback_of: Option<DeploymentId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub statuses: Vec<DeploymentStatus>,
}

/// `gantry deployments --format json`: newest first.
#[derive(Debug, Serialize)]
pub struct DeploymentsDocument<'a> {
    pub version: u32,
    pub deployments: &'a [Deployment],
}

impl<'a> DeploymentsDocument<'a> {
    pub fn new(deployments: &'a [Deployment]) -> Self {
        DeploymentsDocument {
            version: crate::DOCUMENT_VERSION,
            deployments,
        }
    }
}

/// What changed with a new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub deployment: Deployment,
    /// The earlier successes this success made inactive.
    pub deactivated: Vec<DeploymentId>,
}

/// A reviewer's signed approval of a run's jobs in an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvironmentApproval {
    pub run: RunId,
    pub environment: String,
    pub reviewer: String,
    pub key_id: String,
    /// The DSSE envelope's JSON.
    pub envelope: String,
    pub comment: Option<String>,
    pub created_at: Timestamp,
}

const COLUMNS: &str = "id, environment, git_ref, commit_sha, run_id, job_id, job_name, \
                       workflow_path, url, creator, state, description, rollback_of, \
                       created_at, updated_at, commit_time";

fn state_column(row: &Row<'_>, index: usize) -> Result<DeploymentState, TxError> {
    let text: String = row.get(index)?;
    DeploymentState::parse(&text)
        .ok_or_else(|| TxError::Invalid(format!("unknown deployment state `{text}`")))
}

fn deployment_row(row: &Row<'_>) -> Result<Deployment, TxError> {
    let run: Option<i64> = row.get(4)?;
    let rollback_of: Option<i64> = row.get(12)?;
    Ok(Deployment {
        id: DeploymentId(from_sql_int(row.get(0)?, "deployment id")?),
        environment: row.get(1)?,
        git_ref: row.get(2)?,
        commit: row.get(3)?,
        commit_time: row.get::<_, Option<i64>>(15)?.map(Timestamp),
        run: run
            .map(|r| from_sql_int(r, "run id").map(RunId))
            .transpose()?,
        job_id: row.get(5)?,
        job_name: row.get(6)?,
        workflow_path: row.get(7)?,
        url: row.get(8)?,
        creator: row.get(9)?,
        state: state_column(row, 10)?,
        description: row.get(11)?,
        rollback_of: rollback_of
            .map(|r| from_sql_int(r, "deployment id").map(DeploymentId))
            .transpose()?,
        created_at: Timestamp(row.get(13)?),
        updated_at: Timestamp(row.get(14)?),
        statuses: Vec::new(),
    })
}

fn statuses_of(tx: &Transaction<'_>, id: DeploymentId) -> Result<Vec<DeploymentStatus>, TxError> {
    let mut stmt = tx.prepare_cached(
        "SELECT state, description, created_at FROM deployment_statuses
         WHERE deployment_id = ?1 ORDER BY id",
    )?;
    let mut rows = stmt.query([sql_int(id.0)])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(DeploymentStatus {
            state: state_column(row, 0)?,
            description: row.get(1)?,
            created_at: Timestamp(row.get(2)?),
        });
    }
    Ok(out)
}

fn get(tx: &Transaction<'_>, id: DeploymentId) -> Result<Option<Deployment>, TxError> {
    let found = tx
        .prepare_cached(&format!("SELECT {COLUMNS} FROM deployments WHERE id = ?1"))?
        .query_row([sql_int(id.0)], |row| Ok(deployment_row(row)))
        .optional()?;
    match found {
        None => Ok(None),
        Some(d) => {
            let mut d = d?;
            d.statuses = statuses_of(tx, d.id)?;
            Ok(Some(d))
        }
    }
}

fn add_status(
    tx: &Transaction<'_>,
    id: DeploymentId,
    state: DeploymentState,
    description: Option<&str>,
    now: Timestamp,
) -> Result<(), TxError> {
    tx.prepare_cached(
        "INSERT INTO deployment_statuses (deployment_id, state, description, created_at)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        sql_int(id.0),
        state.as_str(),
        description,
        now.millis()
    ])?;
    Ok(())
}

/// Ends the unfinished deployments of run `run`, whose process died:
/// `error`, saying so.
pub(crate) fn end_crashed(tx: &Transaction<'_>, run: i64, now: Timestamp) -> Result<(), TxError> {
    let mut stmt = tx.prepare_cached(
        "SELECT id FROM deployments
         WHERE run_id = ?1 AND state IN ('queued', 'in_progress') ORDER BY id",
    )?;
    let ids: Vec<i64> = stmt
        .query_map([run], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let why = "the run's process died";
    for id in ids {
        tx.prepare_cached(
            "UPDATE deployments SET state = 'error', description = ?1, updated_at = ?2
             WHERE id = ?3",
        )?
        .execute(params![why, now.millis(), id])?;
        let id = DeploymentId(from_sql_int(id, "deployment id")?);
        add_status(tx, id, DeploymentState::Error, Some(why), now)?;
    }
    Ok(())
}

impl Store {
    /// Records a new deployment, `queued`.
    pub fn create_deployment(&self, new: &NewDeployment) -> Result<Deployment, StoreError> {
        let now = self.now();
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO deployments (environment, git_ref, commit_sha, run_id, job_id,
                     job_name, workflow_path, creator, state, description, rollback_of,
                     created_at, updated_at, commit_time)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', ?9, ?10, ?11, ?11, ?12)",
            )?
            .execute(params![
                new.environment,
                new.git_ref,
                new.commit,
                new.run.map(|r| sql_int(r.0)),
                new.job_id,
                new.job_name,
                new.workflow_path,
                new.creator,
                new.description,
                new.rollback_of.map(|d| sql_int(d.0)),
                now.millis(),
                new.commit_time.map(Timestamp::millis),
            ])?;
            let id = DeploymentId(from_sql_int(tx.last_insert_rowid(), "deployment id")?);
            add_status(
                tx,
                id,
                DeploymentState::Queued,
                new.description.as_deref(),
                now,
            )?;
            get(tx, id)?.ok_or(TxError::Store(StoreError::NotFound {
                what: "deployment",
                id: id.0,
            }))
        })
    }

    /// Gives deployment `id` a new state (and its URL, when known). A
    /// success makes the environment's earlier successes inactive.
    pub fn set_deployment_state(
        &self,
        id: DeploymentId,
        state: DeploymentState,
        description: Option<&str>,
        url: Option<&str>,
    ) -> Result<StateChange, StoreError> {
        let now = self.now();
        self.write(|tx| {
            let Some(current) = get(tx, id)? else {
                return Err(StoreError::NotFound {
                    what: "deployment",
                    id: id.0,
                }
                .into());
            };
            tx.prepare_cached(
                "UPDATE deployments SET state = ?1, description = COALESCE(?2, description),
                     url = COALESCE(?3, url), updated_at = ?4 WHERE id = ?5",
            )?
            .execute(params![
                state.as_str(),
                description,
                url,
                now.millis(),
                sql_int(id.0)
            ])?;
            add_status(tx, id, state, description, now)?;
            let mut deactivated = Vec::new();
            if state == DeploymentState::Success {
                let mut stmt = tx.prepare_cached(
                    "SELECT id FROM deployments
                     WHERE environment = ?1 AND state = 'success' AND id <> ?2 ORDER BY id",
                )?;
                let ids: Vec<i64> = stmt
                    .query_map(params![current.environment, sql_int(id.0)], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                for old in ids {
                    let old = DeploymentId(from_sql_int(old, "deployment id")?);
                    tx.prepare_cached(
                        "UPDATE deployments SET state = 'inactive', updated_at = ?1 WHERE id = ?2",
                    )?
                    .execute(params![now.millis(), sql_int(old.0)])?;
                    let why = format!("superseded by deployment {id}");
                    add_status(tx, old, DeploymentState::Inactive, Some(&why), now)?;
                    deactivated.push(old);
                }
            }
            let deployment = get(tx, id)?.ok_or(TxError::Store(StoreError::NotFound {
                what: "deployment",
                id: id.0,
            }))?;
            Ok(StateChange {
                deployment,
                deactivated,
            })
        })
    }

    /// One deployment.
    pub fn deployment(&self, id: DeploymentId) -> Result<Option<Deployment>, StoreError> {
        self.read(|tx| get(tx, id))
    }

    /// Deployments newest first, of one environment (case-insensitive)
    /// or of all; at most `limit`.
    pub fn deployments(
        &self,
        environment: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Deployment>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM deployments
                 WHERE (?1 IS NULL OR environment = ?1 COLLATE NOCASE)
                 ORDER BY id DESC LIMIT ?2"
            ))?;
            let mut rows = stmt.query(params![environment, sql_int(limit as u64)])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(deployment_row(row)?);
            }
            for d in &mut out {
                d.statuses = statuses_of(tx, d.id)?;
            }
            Ok(out)
        })
    }

    /// How many deployments each environment has in each state, by
    /// environment then state.
    pub fn deployment_counts(&self) -> Result<Vec<(String, DeploymentState, u64)>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT environment, state, COUNT(*) FROM deployments
                 GROUP BY environment, state ORDER BY environment, state",
            )?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push((
                    row.get(0)?,
                    state_column(row, 1)?,
                    from_sql_int(row.get(2)?, "deployment count")?,
                ));
            }
            Ok(out)
        })
    }

    /// Every deployment to `environment` (case-insensitive), oldest
    /// first, with its statuses: the history DORA's figures come from.
    pub fn environment_history(&self, environment: &str) -> Result<Vec<Deployment>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM deployments
                 WHERE environment = ?1 COLLATE NOCASE ORDER BY id"
            ))?;
            let mut rows = stmt.query([environment])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(deployment_row(row)?);
            }
            for d in &mut out {
                d.statuses = statuses_of(tx, d.id)?;
            }
            Ok(out)
        })
    }

    /// The deployments a run made, oldest first.
    pub fn deployments_of_run(&self, run: RunId) -> Result<Vec<Deployment>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM deployments WHERE run_id = ?1 ORDER BY id"
            ))?;
            let mut rows = stmt.query([sql_int(run.0)])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(deployment_row(row)?);
            }
            for d in &mut out {
                d.statuses = statuses_of(tx, d.id)?;
            }
            Ok(out)
        })
    }

    /// Records a reviewer's approval; `false` when that reviewer already
    /// approved that run's environment (the first is kept).
    pub fn record_environment_approval(
        &self,
        approval: &EnvironmentApproval,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO environment_approvals
                     (run_id, environment, reviewer, key_id, envelope, comment, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    sql_int(approval.run.0),
                    approval.environment,
                    approval.reviewer,
                    approval.key_id,
                    approval.envelope,
                    approval.comment,
                    approval.created_at.millis(),
                ])?;
            Ok(n == 1)
        })
    }

    /// The approvals of a run's jobs in `environment` (case-insensitive),
    /// oldest first.
    pub fn environment_approvals(
        &self,
        run: RunId,
        environment: &str,
    ) -> Result<Vec<EnvironmentApproval>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT run_id, environment, reviewer, key_id, envelope, comment, created_at
                 FROM environment_approvals
                 WHERE run_id = ?1 AND environment = ?2 COLLATE NOCASE ORDER BY id",
            )?;
            let mut rows = stmt.query(params![sql_int(run.0), environment])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(EnvironmentApproval {
                    run: RunId(from_sql_int(row.get(0)?, "run id")?),
                    environment: row.get(1)?,
                    reviewer: row.get(2)?,
                    key_id: row.get(3)?,
                    envelope: row.get(4)?,
                    comment: row.get(5)?,
                    created_at: Timestamp(row.get(6)?),
                });
            }
            Ok(out)
        })
    }
}
