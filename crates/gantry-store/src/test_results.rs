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

/// A test that failed in a run, as `gantry runs show` names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedTest {
    pub test: String,
    pub outcome: Outcome,
    pub job_name: Option<String>,
    pub file: Option<String>,
    pub message: Option<String>,
}

/// The failed and errored tests of `run`, in report order.
pub(crate) fn failing_of(
    tx: &rusqlite::Transaction<'_>,
    run: RunId,
) -> Result<Vec<FailedTest>, TxError> {
    let mut statement = tx.prepare_cached(
        "SELECT c.test, c.outcome, j.name, c.file, c.message
         FROM test_cases c
         JOIN test_reports r ON r.id = c.report_id
         LEFT JOIN jobs j ON j.id = r.job_row_id
         WHERE r.run_id = ?1 AND c.outcome IN ('failed', 'errored')
         ORDER BY r.id, c.id",
    )?;
    let rows = statement.query_map(params![sql_int(run.0)], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, Option<String>>(2)?,
            row.get::<_, Option<String>>(3)?,
            row.get::<_, Option<String>>(4)?,
        ))
    })?;
    let mut failed = Vec::new();
    for row in rows {
        let (test, outcome, job_name, file, message) = row?;
        failed.push(FailedTest {
            test,
            outcome: Outcome::parse(&outcome)
                .ok_or_else(|| TxError::Invalid(format!("unknown test outcome `{outcome}`")))?,
            job_name,
            file,
            message,
        });
    }
    Ok(failed)
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
                insert_cases(tx, id, &parsed.cases)?;
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

/// Rows per INSERT statement: one statement per row costs more than the
/// row itself, so cases go in batches (12 parameters each, well under
/// SQLite's limit).
const CASES_PER_INSERT: usize = 64;

fn insert_cases(
    tx: &rusqlite::Transaction<'_>,
    report: u64,
    cases: &[TestCase],
) -> Result<(), TxError> {
    let statement_for = |rows: usize| {
        let mut sql = String::from(
            "INSERT INTO test_cases (report_id, test, suite, classname, name, file,
                                     duration, outcome, retries, flaky, message, line) VALUES ",
        );
        for i in 0..rows {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str("(?,?,?,?,?,?,?,?,?,?,?,?)");
        }
        sql
    };
    let full = statement_for(CASES_PER_INSERT);
    for chunk in cases.chunks(CASES_PER_INSERT) {
        let sql = if chunk.len() == CASES_PER_INSERT {
            full.clone()
        } else {
            statement_for(chunk.len())
        };
        let mut statement = tx.prepare_cached(&sql)?;
        let ids: Vec<String> = chunk.iter().map(TestCase::id).collect();
        let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * 12);
        let report = sql_int(report);
        let lines: Vec<i64> = chunk.iter().map(|c| sql_int(c.line)).collect();
        let outcomes: Vec<&str> = chunk.iter().map(|c| c.outcome.as_str()).collect();
        for (i, case) in chunk.iter().enumerate() {
            values.push(&report);
            values.push(&ids[i]);
            values.push(&case.suite);
            values.push(&case.classname);
            values.push(&case.name);
            values.push(&case.file);
            values.push(&case.duration);
            values.push(&outcomes[i]);
            values.push(&case.retries);
            values.push(&case.flaky);
            values.push(&case.message);
            values.push(&lines[i]);
        }
        statement.execute(rusqlite::params_from_iter(values))?;
    }
    Ok(())
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

/// Counts of cases by how they ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TestCounts {
    pub total: u64,
    pub passed: u64,
    pub failed: u64,
    pub errored: u64,
    pub skipped: u64,
    /// Passed after a failed attempt within the report.
    pub flaky: u64,
}

impl TestCounts {
    fn add(&mut self, case: &TestCase) {
        self.total += 1;
        match case.outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Errored => self.errored += 1,
            Outcome::Skipped => self.skipped += 1,
        }
        self.flaky += u64::from(case.flaky);
    }
}

/// One job's share of a run's tests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobTests {
    pub job_id: Option<String>,
    pub job_name: Option<String>,
    pub counts: TestCounts,
}

/// A failing case and whether the quarantine list excuses it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailingCase {
    #[serde(flatten)]
    pub case: StoredCase,
    /// The quarantine entry's reason, while it has not expired.
    pub quarantined: Option<String>,
}

/// What `gantry tests [RUN]` shows: one run's test results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestsReport {
    /// The run shown; `None` when no run has test results.
    pub run: Option<RunId>,
    pub counts: TestCounts,
    pub jobs: Vec<JobTests>,
    /// Failed and errored cases, in report order.
    pub failing: Vec<FailingCase>,
    /// The slowest cases, slowest first (as many as asked for).
    pub slowest: Vec<StoredCase>,
    /// Every report read, with its warnings or why it was unreadable.
    pub reports: Vec<StoredReport>,
}

/// One flaky test, and whether it is quarantined.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlakyEntry {
    #[serde(flatten)]
    pub test: gantry_tests::FlakyTest,
    pub quarantined: Option<String>,
}

/// What `gantry tests --flaky` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlakyReport {
    /// Runs started at or after this were looked at (all when `None`).
    pub since: Option<Timestamp>,
    pub runs: u64,
    pub tests: Vec<FlakyEntry>,
}

fn quarantined(quarantine: &gantry_tests::Quarantine, test: &str, now: i64) -> Option<String> {
    match quarantine.standing(test, now) {
        gantry_tests::Standing::Quarantined(e) => {
            Some(format!("{} (until {})", e.reason, e.expires))
        }
        _ => None,
    }
}

impl Store {
    /// The test results of `run`, or of the newest run that has any.
    pub fn tests_report(
        &self,
        run: Option<RunId>,
        slowest: usize,
        quarantine: &gantry_tests::Quarantine,
    ) -> Result<TestsReport, StoreError> {
        let run = match run {
            Some(run) => Some(run),
            None => self.read(|tx| {
                let newest: Option<i64> = tx
                    .prepare_cached("SELECT MAX(run_id) FROM test_reports")?
                    .query_row([], |r| r.get(0))?;
                newest
                    .map(|n| from_sql_int(n, "run id").map(RunId))
                    .transpose()
            })?,
        };
        let Some(run) = run else {
            return Ok(TestsReport {
                run: None,
                counts: TestCounts::default(),
                jobs: Vec::new(),
                failing: Vec::new(),
                slowest: Vec::new(),
                reports: Vec::new(),
            });
        };
        let cases = self.test_cases(&TestQuery {
            run: Some(run),
            ..TestQuery::default()
        })?;
        let now = self.now().millis() / 1000;
        let mut counts = TestCounts::default();
        let mut jobs: Vec<JobTests> = Vec::new();
        for c in &cases {
            counts.add(&c.case);
            match jobs
                .iter_mut()
                .find(|j| j.job_id == c.job_id && j.job_name == c.job_name)
            {
                Some(j) => j.counts.add(&c.case),
                None => {
                    let mut job = JobTests {
                        job_id: c.job_id.clone(),
                        job_name: c.job_name.clone(),
                        counts: TestCounts::default(),
                    };
                    job.counts.add(&c.case);
                    jobs.push(job);
                }
            }
        }
        let failing = cases
            .iter()
            .filter(|c| c.case.outcome.is_failure())
            .map(|c| FailingCase {
                quarantined: quarantined(quarantine, &c.case.id(), now),
                case: c.clone(),
            })
            .collect();
        let mut by_time: Vec<&StoredCase> =
            cases.iter().filter(|c| c.case.duration.is_some()).collect();
        by_time.sort_by(|a, b| {
            b.case
                .duration
                .unwrap_or(0.0)
                .total_cmp(&a.case.duration.unwrap_or(0.0))
                .then_with(|| a.case.id().cmp(&b.case.id()))
        });
        Ok(TestsReport {
            run: Some(run),
            counts,
            jobs,
            failing,
            slowest: by_time.into_iter().take(slowest).cloned().collect(),
            reports: self.test_reports(run)?,
        })
    }

    /// Tests that failed and passed on one commit in runs since `since`.
    pub fn flaky_report(
        &self,
        since: Option<Timestamp>,
        quarantine: &gantry_tests::Quarantine,
    ) -> Result<FlakyReport, StoreError> {
        let cases = self.test_cases(&TestQuery {
            since,
            ..TestQuery::default()
        })?;
        let now = self.now().millis() / 1000;
        let times: Vec<String> = cases.iter().map(|c| c.run_started_at.to_string()).collect();
        let ids: Vec<String> = cases.iter().map(|c| c.case.id()).collect();
        let mut runs: Vec<u64> = cases.iter().map(|c| c.run.0).collect();
        runs.dedup();
        let attempts = cases.iter().enumerate().filter_map(|(i, c)| {
            Some(gantry_tests::Attempt {
                test: &ids[i],
                // A run without a commit cannot be compared with another.
                commit: c.commit.as_deref()?,
                run: c.run.0,
                job: c.job_name.as_deref().unwrap_or(""),
                outcome: c.case.outcome,
                flaky_in_report: c.case.flaky,
                time: &times[i],
            })
        });
        let tests = gantry_tests::find_flaky(attempts)
            .into_iter()
            .map(|t| FlakyEntry {
                quarantined: quarantined(quarantine, &t.test, now),
                test: t,
            })
            .collect();
        Ok(FlakyReport {
            since,
            runs: runs.len() as u64,
            tests,
        })
    }

    /// The recorded weight of each of `files` over the newest `last_runs`
    /// runs with test results, for [`gantry_tests::split`].
    pub fn file_weights(
        &self,
        files: &[gantry_tests::SplitFile],
        last_runs: usize,
    ) -> Result<Vec<gantry_tests::FileWeight>, StoreError> {
        let cases = self.test_cases(&TestQuery {
            last_runs: Some(last_runs),
            ..TestQuery::default()
        })?;
        Ok(gantry_tests::file_weights(
            files,
            cases
                .iter()
                .map(|c| ((c.run, c.job_id.as_deref(), c.job_name.as_deref()), &c.case)),
        ))
    }
}

/// A run's tests sorted for a test-result attestation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TestEvidence {
    pub run: Option<RunId>,
    pub passed: Vec<String>,
    /// Skipped tests, and failures the quarantine list excuses.
    pub warned: Vec<String>,
    /// Failures that are not quarantined, and tests that are flaky (in
    /// this run, or on one commit in the history looked at) and not
    /// quarantined: a flaky test failed at least once.
    pub failed: Vec<String>,
    /// The reports the tests were read from.
    pub reports: Vec<String>,
}

impl Store {
    /// The tests of `run`, as a test-result attestation states them: each
    /// test once (its worst outcome over the run's jobs).
    pub fn test_evidence(
        &self,
        run: RunId,
        quarantine: &gantry_tests::Quarantine,
        flaky_since: Option<Timestamp>,
    ) -> Result<TestEvidence, StoreError> {
        let cases = self.test_cases(&TestQuery {
            run: Some(run),
            ..TestQuery::default()
        })?;
        if cases.is_empty() {
            return Ok(TestEvidence::default());
        }
        let now = self.now().millis() / 1000;
        let flaky_in_history: std::collections::HashSet<String> = self
            .flaky_report(flaky_since, quarantine)?
            .tests
            .into_iter()
            .map(|t| t.test.test)
            .collect();
        // test → (worst outcome rank, flaky)
        let mut tests: std::collections::BTreeMap<String, (u8, bool)> = Default::default();
        let mut reports: Vec<String> = Vec::new();
        for c in &cases {
            let rank = match c.case.outcome {
                Outcome::Passed => 0,
                Outcome::Skipped => 1,
                Outcome::Failed | Outcome::Errored => 2,
            };
            let entry = tests.entry(c.case.id()).or_insert((0, false));
            entry.0 = entry.0.max(rank);
            entry.1 |= c.case.flaky;
            if !reports.contains(&c.report) {
                reports.push(c.report.clone());
            }
        }
        reports.sort();
        let mut evidence = TestEvidence {
            run: Some(run),
            reports,
            ..TestEvidence::default()
        };
        for (test, (rank, flaky)) in tests {
            let excused = matches!(
                quarantine.standing(&test, now),
                gantry_tests::Standing::Quarantined(_)
            );
            let flaky = flaky || flaky_in_history.contains(&test);
            match (rank, excused) {
                (2, true) => evidence.warned.push(test),
                (2, false) => evidence.failed.push(test),
                (_, false) if flaky => evidence.failed.push(test),
                (1, _) => evidence.warned.push(test),
                _ => evidence.passed.push(test),
            }
        }
        Ok(evidence)
    }
}
