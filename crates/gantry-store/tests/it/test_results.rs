//! Test reports and cases kept with their runs.

use std::time::Duration;

use gantry_store::{NewJob, NewRun, NewTestReport, RunId, TestQuery, Timestamp};
use gantry_tests::{Outcome, parse};

use crate::common::{begin_run_and_job, open_with_clock};

const REPORT: &str = r#"<testsuite name="unit">
<testcase classname="tests.test_a" name="test_ok" time="0.5"/>
<testcase classname="tests.test_a" name="test_bad" time="1.5"><failure message="assert 1 == 2"/></testcase>
<testcase classname="tests.test_a" name="test_when" time="later"/>
</testsuite>"#;

#[test]
fn a_report_and_its_cases_come_back_with_their_run_and_job() {
    let home = tempfile::tempdir().unwrap();
    let (store, _) = open_with_clock(home.path());
    let (run, job) = begin_run_and_job(&store, "test");
    let parsed = parse(REPORT).unwrap();
    store
        .record_test_report(&NewTestReport {
            run,
            job: Some(job),
            path: "reports/junit.xml",
            result: Ok(&parsed),
        })
        .unwrap();
    let broken = parse("<testsuite>\n<testcase").unwrap_err();
    store
        .record_test_report(&NewTestReport {
            run,
            job: Some(job),
            path: "reports/broken.xml",
            result: Err(&broken),
        })
        .unwrap();

    let reports = store.test_reports(run).unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].cases, 3);
    assert_eq!(reports[0].job_id.as_deref(), Some("test"));
    assert_eq!(reports[0].warnings.len(), 1);
    assert_eq!(reports[0].warnings[0].line, 4);
    assert!(reports[0].error.is_none());
    assert_eq!(reports[1].cases, 0);
    assert!(
        reports[1]
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("line 2:")),
        "{:?}",
        reports[1].error
    );

    let cases = store.test_cases(&TestQuery::default()).unwrap();
    assert_eq!(cases.len(), 3);
    assert_eq!(cases[1].case, parsed.cases[1]);
    assert_eq!(cases[1].report, "reports/junit.xml");
    let failed = store
        .test_cases(&TestQuery {
            failed_only: true,
            ..TestQuery::default()
        })
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].case.outcome, Outcome::Failed);
    assert_eq!(failed[0].case.message.as_deref(), Some("assert 1 == 2"));
}

#[test]
fn queries_pick_one_run_the_newest_runs_or_a_time_window() {
    let home = tempfile::tempdir().unwrap();
    let (store, clock) = open_with_clock(home.path());
    let parsed = parse(REPORT).unwrap();
    let mut runs = Vec::new();
    for commit in ["aaa", "bbb", "ccc"] {
        let run = store
            .begin_run(&NewRun {
                workflow_path: "ci.yml".into(),
                workflow_name: "CI".into(),
                event: "push".into(),
                commit: Some(commit.into()),
                ..NewRun::default()
            })
            .unwrap();
        let job = store
            .begin_job(
                run,
                &NewJob {
                    job_id: "test".into(),
                    name: "test (3.12)".into(),
                    matrix_json: Some("{\"python\":\"3.12\"}".into()),
                    queued_ms: None,
                },
            )
            .unwrap();
        store
            .record_test_report(&NewTestReport {
                run,
                job: Some(job),
                path: "junit.xml",
                result: Ok(&parsed),
            })
            .unwrap();
        runs.push(run);
        clock.advance(Duration::from_secs(86_400));
    }
    let of = |query: TestQuery| -> Vec<RunId> {
        let mut r: Vec<RunId> = store
            .test_cases(&query)
            .unwrap()
            .iter()
            .map(|c| c.run)
            .collect();
        r.dedup();
        r
    };
    assert_eq!(
        of(TestQuery {
            run: Some(runs[1]),
            ..TestQuery::default()
        }),
        [runs[1]]
    );
    assert_eq!(
        of(TestQuery {
            last_runs: Some(2),
            ..TestQuery::default()
        }),
        [runs[1], runs[2]]
    );
    // 2026-01-02T00:00:00Z: the second and third runs.
    assert_eq!(
        of(TestQuery {
            since: Some(Timestamp(1_767_312_000_000)),
            ..TestQuery::default()
        }),
        [runs[1], runs[2]]
    );
    let cases = store.test_cases(&TestQuery::default()).unwrap();
    assert_eq!(cases[0].commit.as_deref(), Some("aaa"));
    assert_eq!(cases[0].job_name.as_deref(), Some("test (3.12)"));
    assert_eq!(
        cases[0].matrix_json.as_deref(),
        Some("{\"python\":\"3.12\"}")
    );
}

#[test]
fn a_report_of_several_insert_batches_keeps_every_case_in_order() {
    let home = tempfile::tempdir().unwrap();
    let (store, _) = open_with_clock(home.path());
    let (run, job) = begin_run_and_job(&store, "test");
    let mut xml = String::from("<testsuite name=\"many\">\n");
    for i in 0..150 {
        xml.push_str(&format!(
            "<testcase classname=\"c\" name=\"t{i:03}\" time=\"{i}\"/>\n"
        ));
    }
    xml.push_str("</testsuite>\n");
    let parsed = parse(&xml).unwrap();
    store
        .record_test_report(&NewTestReport {
            run,
            job: Some(job),
            path: "many.xml",
            result: Ok(&parsed),
        })
        .unwrap();
    let cases = store.test_cases(&TestQuery::default()).unwrap();
    let stored: Vec<_> = cases.iter().map(|c| c.case.clone()).collect();
    assert_eq!(stored, parsed.cases);
}
