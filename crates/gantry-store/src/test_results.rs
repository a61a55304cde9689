//! Test reports and their cases, kept with the run and job that produced
//! them: what `gantry tests` shows, flaky tests are found in, and test
//! files are split by.

use gantry_tests::{Outcome, ParseError, ParsedReport, ReportWarning, TestCase};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::history::{JobRowId, RunId};
use crate::time::Timestamp;
use crate::{Store, StoreError, TxError, from_sql_int, sql_int};

/// A report to record: what was read, or why it could not be.
#[derive(Debug, Clone, Copy)]
pub struct NewTestReport<'a> {
    pub run: RunId,
    pub job: Option<JobRowId>,
    /// Where the report was found (workspace-relative, or in an artifact).
    pub path: &'a str,
    pub result: Result<&'a ParsedReport, &'a ParseError>,
}

/// A recorded report, without its cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredReport {
    pub id: u64,
    pub run: RunId,
    /// The job's id in the workflow and its shown name (with the matrix).
    pub job_id: Option<String>,
    pub job_name: Option<String>,
    pub path: String,
    pub error: Option<String>,
    pub warnings: Vec<ReportWarning>,
    pub cases: u64,
}

/// A recorded test case, with where and when it ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredCase {
    pub run: RunId,
    pub job_id: Option<String>,
    pub job_name: Option<String>,
    pub matrix_json: Option<String>,
    pub commit: Option<String>,
    pub run_started_at: Timestamp,
    pub report: String,
    #[serde(flatten)]
    pub case: TestCase,
}

/// Which cases [`Store::test_cases`] returns.
#[derive(Debug, Clone, Default)]
pub struct TestQuery {
    /// Only this run's.
    pub run: Option<RunId>,
    /// Only runs started at or after this.
    pub since: Option<Timestamp>,
    /// Only failed and errored cases.
    pub failed_only: bool,
    /// Only the newest `n` runs that have test results (newest first).
    pub last_runs: Option<usize>,
}

impl Store {
    /// Records one report and all its cases in one transaction.
    pub fn record_test_report(&self, report: &NewTestReport<'_>) -> Result<u64, StoreError> {
        let now = self.now();
        self.write(|tx| {
            let (error, warnings) = match report.result {
                Ok(parsed) => (None, warnings_json(&parsed.warnings)),
                Err(e) => (Some(e.to_string()), "[]".to_string()),
            };
            tx.prepare_cached(
                "INSERT INTO test_reports (run_id, job_row_id, path, error, warnings, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                sql_int(report.run.0),
                report.job.map(|j| sql_int(j.0)),
                report.path,
                error,
                warnings,
                now.millis()
            ])?;
            let id = from_sql_int(tx.last_insert_rowid(), "test report id")?;
            if let Ok(parsed) = report.result {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO test_cases (report_id, test, suite, classname, name, file,
                                             duration, outcome, retries, flaky, message, line)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )?;
                for case in &parsed.cases {
                    insert.execute(params![
                        sql_int(id),
                        case.id(),
                        case.suite,
                        case.classname,
                        case.name,
                        case.file,
                        case.duration,
                        case.outcome.as_str(),
                        case.retries,
                        case.flaky,
                        case.message,
                        sql_int(case.line),
                    ])?;
                }
            }
            Ok(id)
        })
    }

    /// The reports recorded for `run`, in the order they were recorded.
    pub fn test_reports(&self, run: RunId) -> Result<Vec<StoredReport>, StoreError> {
        self.read(|tx| {
            let mut statement = tx.prepare_cached(
                "SELECT r.id, r.path, r.error, r.warnings, j.job_id, j.name,
                        (SELECT COUNT(*) FROM test_cases c WHERE c.report_id = r.id)
                 FROM test_reports r LEFT JOIN jobs j ON j.id = r.job_row_id
                 WHERE r.run_id = ?1 ORDER BY r.id",
            )?;
            let rows = statement.query_map(params![sql_int(run.0)], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, Option<String>>(4)?,
                    row.get::<_, Option<String>>(5)?,
                    row.get::<_, i64>(6)?,
                ))
            })?;
            let mut reports = Vec::new();
            for row in rows {
                let (id, path, error, warnings, job_id, job_name, cases) = row?;
                reports.push(StoredReport {
                    id: from_sql_int(id, "test report id")?,
                    run,
                    job_id,
                    job_name,
                    path,
                    error,
                    warnings: parse_warnings(&warnings)?,
                    cases: from_sql_int(cases, "case count")?,
                });
            }
            Ok(reports)
        })
    }

    /// Recorded cases, oldest run first, in the order each report gave them.
    pub fn test_cases(&self, query: &TestQuery) -> Result<Vec<StoredCase>, StoreError> {
        self.read(|tx| {
            let oldest_run = match query.last_runs {
                Some(n) => tx
                    .prepare_cached(
                        "SELECT MIN(run_id) FROM (SELECT DISTINCT run_id FROM test_reports
                                                  ORDER BY run_id DESC LIMIT ?1)",
                    )?
                    .query_row(params![sql_int(n as u64)], |r| r.get::<_, Option<i64>>(0))
                    .optional()?
                    .flatten(),
                None => None,
            };
            if query.last_runs.is_some() && oldest_run.is_none() {
                return Ok(Vec::new());
            }
            let mut statement = tx.prepare_cached(
                "SELECT r.run_id, j.job_id, j.name, j.matrix_json, runs.commit_sha,
                        runs.started_at, r.path,
                        c.suite, c.classname, c.name, c.file, c.duration, c.outcome,
                        c.retries, c.flaky, c.message, c.line
                 FROM test_cases c
                 JOIN test_reports r ON r.id = c.report_id
                 JOIN runs ON runs.id = r.run_id
                 LEFT JOIN jobs j ON j.id = r.job_row_id
                 WHERE (?1 IS NULL OR r.run_id = ?1)
                   AND (?2 IS NULL OR runs.started_at >= ?2)
                   AND (?3 = 0 OR c.outcome IN ('failed', 'errored'))
                   AND (?4 IS NULL OR r.run_id >= ?4)
                 ORDER BY r.run_id, r.id, c.id",
            )?;
            let rows = statement.query_map(
                params![
                    query.run.map(|r| sql_int(r.0)),
                    query.since.map(Timestamp::millis),
                    query.failed_only,
                    oldest_run,
                ],
                |row| {
                    Ok((
                        (
                            row.get::<_, i64>(0)?,
                            row.get::<_, Option<String>>(1)?,
                            row.get::<_, Option<String>>(2)?,
                            row.get::<_, Option<String>>(3)?,
                            row.get::<_, Option<String>>(4)?,
                            row.get::<_, i64>(5)?,
                            row.get::<_, String>(6)?,
                        ),
                        (
                            row.get::<_, String>(7)?,
                            row.get::<_, String>(8)?,
                            row.get::<_, String>(9)?,
                            row.get::<_, Option<String>>(10)?,
                            row.get::<_, Option<f64>>(11)?,
                            row.get::<_, String>(12)?,
                            row.get::<_, i64>(13)?,
                            row.get::<_, bool>(14)?,
                            row.get::<_, Option<String>>(15)?,
                            row.get::<_, i64>(16)?,
                        ),
                    ))
                },
            )?;
            let mut cases = Vec::new();
            for row in rows {
                let (
                    (run, job_id, job_name, matrix_json, commit, started, report),
                    (
                        suite,
                        classname,
                        name,
                        file,
                        duration,
                        outcome,
                        retries,
                        flaky,
                        message,
                        line,
                    ),
                ) = row?;
                let outcome = Outcome::parse(&outcome)
                    .ok_or_else(|| TxError::Invalid(format!("unknown test outcome `{outcome}`")))?;
                cases.push(StoredCase {
                    run: RunId(from_sql_int(run, "run id")?),
                    job_id,
                    job_name,
                    matrix_json,
                    commit,
                    run_started_at: Timestamp(started),
                    report,
                    case: TestCase {
                        suite,
                        classname,
                        name,
                        file,
                        duration,
                        outcome,
                        retries: u32::try_from(retries).unwrap_or(u32::MAX),
                        flaky,
                        message,
                        line: from_sql_int(line, "line")?,
                    },
                });
            }
            Ok(cases)
        })
    }
}

fn warnings_json(warnings: &[ReportWarning]) -> String {
    // Numbers and strings only: serialising cannot fail.
    serde_json::to_string(warnings).unwrap_or_else(|_| "[]".to_string())
}

fn parse_warnings(text: &str) -> Result<Vec<ReportWarning>, TxError> {
    #[derive(serde::Deserialize)]
    struct Raw {
        line: u64,
        message: String,
    }
    let raw: Vec<Raw> = serde_json::from_str(text)
        .map_err(|e| TxError::Invalid(format!("test report warnings are not JSON: {e}")))?;
    Ok(raw
        .into_iter()
        .map(|r| ReportWarning {
            line: r.line,
            message: r.message,
        })
        .collect())
}
