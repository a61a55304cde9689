//! Reading the run history for the server: a page of runs with filters,
//! and the aggregates `/metrics` shows (counts by conclusion, duration
//! histograms, cache hits), each computed in SQL so it stays cheap with
//! many runs.

use rusqlite::types::Value;
use serde::Serialize;

use crate::history::{Conclusion, RUN_COLUMNS, RunId, RunSummary, run_summary};
use crate::{Store, StoreError, TxError, from_sql_int, sql_int};

/// Which runs to list: newest first, at most `limit`, older than `before`.
#[derive(Debug, Clone, Default)]
pub struct RunQuery {
    pub limit: usize,
    /// Only runs with a smaller id (the page after the one ending there).
    pub before: Option<RunId>,
    /// The workflow's name or its file path.
    pub workflow: Option<String>,
    pub conclusion: Option<Conclusion>,
    pub event: Option<String>,
    pub git_ref: Option<String>,
}

/// How many runs, jobs or steps ended which way (`running` for those
/// without a conclusion yet), by conclusion name.
pub type Counts = Vec<(String, u64)>;

/// A cumulative histogram of durations in seconds: `buckets[i]` counts
/// the durations up to `bounds[i]` (inclusive); `count` and `sum` cover all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DurationHistogram {
    pub bounds: Vec<f64>,
    pub buckets: Vec<u64>,
    pub count: u64,
    pub sum_seconds: f64,
}

/// The run history in aggregate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunStats {
    pub runs: Counts,
    pub jobs: Counts,
    pub steps: Counts,
    /// Of finished jobs.
    pub job_seconds: DurationHistogram,
    /// How long jobs waited for a runner slot once ready (jobs recorded
    /// with a queue time).
    pub job_queue_seconds: DurationHistogram,
    /// Of finished steps.
    pub step_seconds: DurationHistogram,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub cache_saves: u64,
}

fn counts(tx: &rusqlite::Transaction<'_>, table: &str) -> Result<Counts, TxError> {
    let mut stmt = tx.prepare(&format!(
        "SELECT COALESCE(conclusion, 'running'), COUNT(*) FROM {table} GROUP BY 1 ORDER BY 1"
    ))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push((row.get(0)?, from_sql_int(row.get(1)?, "count")?));
    }
    Ok(out)
}

/// Durations of finished rows of `table` (`finished_at - started_at`).
fn histogram(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    bounds: &[f64],
) -> Result<DurationHistogram, TxError> {
    histogram_of(
        tx,
        table,
        "finished_at - started_at",
        "finished_at IS NOT NULL",
        bounds,
    )
}

/// A histogram of the milliseconds `ms` (an SQL expression) over the rows
/// of `table` that `filter` keeps.
fn histogram_of(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    ms: &str,
    filter: &str,
    bounds: &[f64],
) -> Result<DurationHistogram, TxError> {
    // One pass: a SUM(CASE ...) per bound.
    let mut columns = format!("COUNT(*), COALESCE(SUM({ms}), 0)");
    for b in bounds {
        let bound = (b * 1000.0).round() as i64;
        columns.push_str(&format!(
            ", COALESCE(SUM(CASE WHEN {ms} <= {bound} THEN 1 ELSE 0 END), 0)"
        ));
    }
    let sql = format!("SELECT {columns} FROM {table} WHERE {filter}");
    tx.query_row(&sql, [], |row| {
        let count: i64 = row.get(0)?;
        let sum: i64 = row.get(1)?;
        let mut buckets = Vec::with_capacity(bounds.len());
        for i in 0..bounds.len() {
            let n: i64 = row.get(2 + i)?;
            buckets.push(u64::try_from(n).unwrap_or(0));
        }
        Ok(DurationHistogram {
            bounds: bounds.to_vec(),
            buckets,
            count: u64::try_from(count).unwrap_or(0),
            sum_seconds: sum.max(0) as f64 / 1000.0,
        })
    })
    .map_err(TxError::from)
}

impl Store {
    /// A page of runs, newest first ([`RunQuery`]).
    pub fn runs_page(&self, query: &RunQuery) -> Result<Vec<RunSummary>, StoreError> {
        self.read(|tx| {
            let mut sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE 1 = 1");
            let mut args: Vec<Value> = Vec::new();
            if let Some(before) = query.before {
                args.push(Value::Integer(sql_int(before.0)));
                sql.push_str(&format!(" AND id < ?{}", args.len()));
            }
            if let Some(w) = &query.workflow {
                args.push(Value::Text(w.clone()));
                let n = args.len();
                sql.push_str(&format!(
                    " AND (workflow_name = ?{n} OR workflow_path = ?{n})"
                ));
            }
            if let Some(c) = query.conclusion {
                args.push(Value::Text(c.as_str().to_string()));
                sql.push_str(&format!(" AND conclusion = ?{}", args.len()));
            }
            if let Some(e) = &query.event {
                args.push(Value::Text(e.clone()));
                sql.push_str(&format!(" AND event = ?{}", args.len()));
            }
            if let Some(r) = &query.git_ref {
                args.push(Value::Text(r.clone()));
                sql.push_str(&format!(" AND git_ref = ?{}", args.len()));
            }
            args.push(Value::Integer(sql_int(query.limit as u64)));
            sql.push_str(&format!(" ORDER BY id DESC LIMIT ?{}", args.len()));
            let mut stmt = tx.prepare_cached(&sql)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(run_summary(row)?);
            }
            Ok(out)
        })
    }

    /// The run history in aggregate, with duration histograms over
    /// `bounds` (seconds, ascending).
    pub fn run_stats(&self, bounds: &[f64]) -> Result<RunStats, StoreError> {
        self.read(|tx| {
            let cache = |kind: &str| -> Result<u64, TxError> {
                let n: i64 = tx.query_row(
                    "SELECT COUNT(*) FROM cache_events WHERE kind = ?1",
                    [kind],
                    |r| r.get(0),
                )?;
                from_sql_int(n, "count")
            };
            Ok(RunStats {
                runs: counts(tx, "runs")?,
                jobs: counts(tx, "jobs")?,
                steps: counts(tx, "steps")?,
                job_seconds: histogram(tx, "jobs", bounds)?,
                job_queue_seconds: histogram_of(
                    tx,
                    "jobs",
                    "queued_ms",
                    "queued_ms IS NOT NULL",
                    bounds,
                )?,
                step_seconds: histogram(tx, "steps", bounds)?,
                cache_hits: cache("hit")?,
                cache_misses: cache("miss")?,
                cache_saves: cache("saved")?,
            })
        })
    }
}
