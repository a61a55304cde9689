//! Test results: ingesting 100,000 JUnit test cases (read and recorded
//! with their run and job; target under one second), and the balance of a
//! split on a generated history (target: the slowest shard within 5% of
//! the optimum, measured against a lower bound of the optimum, so the true
//! gap is no larger than printed).
//!
//! Run with `cargo bench -p gantry-store --bench test_results`.
//! `GANTRY_BENCH_CASES` sets the case count, `GANTRY_BENCH_ROUNDS` the
//! rounds (default 3, the median is reported).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use gantry_store::{NewJob, NewRun, NewTestReport, Store};
use gantry_tests::{FileWeight, split};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn report(cases: usize) -> String {
    let mut rng = Rng(7);
    let mut xml = String::with_capacity(cases * 120);
    xml.push_str("<?xml version=\"1.0\"?>\n<testsuites>\n<testsuite name=\"bench\">\n");
    for i in 0..cases {
        let t = rng.unit() * 2.0;
        if i % 97 == 0 {
            let _ = writeln!(
                xml,
                "<testcase classname=\"tests.test_mod{}\" name=\"test_case_{i}\" time=\"{t:.4}\"><failure message=\"assert {i} == 0\">trace</failure></testcase>",
                i % 500
            );
        } else {
            let _ = writeln!(
                xml,
                "<testcase classname=\"tests.test_mod{}\" name=\"test_case_{i}\" time=\"{t:.4}\"/>",
                i % 500
            );
        }
    }
    xml.push_str("</testsuite>\n</testsuites>\n");
    xml
}

fn ingest_once(xml: &str) -> (Duration, Duration, usize) {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let run = store
        .begin_run(&NewRun {
            workflow_path: "ci.yml".into(),
            workflow_name: "CI".into(),
            event: "push".into(),
            ..NewRun::default()
        })
        .unwrap();
    let job = store
        .begin_job(
            run,
            &NewJob {
                job_id: "test".into(),
                name: "test".into(),
                matrix_json: None,
                queued_ms: None,
            },
        )
        .unwrap();
    let start = Instant::now();
    let parsed = gantry_tests::parse(xml).unwrap();
    let parse = start.elapsed();
    store
        .record_test_report(&NewTestReport {
            run,
            job: Some(job),
            path: "junit.xml",
            result: Ok(&parsed),
        })
        .unwrap();
    (parse, start.elapsed(), parsed.cases.len())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let cases = env_usize("GANTRY_BENCH_CASES", 100_000);
    let rounds = env_usize("GANTRY_BENCH_ROUNDS", 3).max(1);
    let xml = report(cases);
    let mut parse = Vec::new();
    let mut total = Vec::new();
    let mut read = 0;
    for _ in 0..rounds {
        let (p, t, n) = ingest_once(&xml);
        parse.push(p);
        total.push(t);
        read = n;
    }
    let (parse, total) = (median(parse), median(total));
    println!(
        "ingest: {read} cases ({:.1} MB of JUnit XML): read {:.0} ms, read and recorded {:.0} ms (target under 1000 ms: {})",
        xml.len() as f64 / 1e6,
        parse.as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3,
        if total < Duration::from_secs(1) {
            "met"
        } else {
            "MISSED"
        }
    );

    // Histories: test files whose times spread over three orders of
    // magnitude (a few slow integration files, many quick unit files); the
    // fewer the files, the harder a split is to balance.
    for count in [600, 60] {
        let mut rng = Rng(11 + count as u64);
        let files: Vec<FileWeight> = (0..count)
            .map(|i| FileWeight {
                file: format!("tests/test_{i:03}.py"),
                seconds: Some((rng.unit() * 7.0).exp() / 10.0),
                size: 1000,
            })
            .collect();
        for shards in [2, 4, 8] {
            let start = Instant::now();
            let plan = split(&files, shards).unwrap();
            let took = start.elapsed();
            let gap = plan.makespan() / plan.lower_bound - 1.0;
            println!(
                "split: {count} files into {shards} shards in {:.1} ms: slowest shard {:.1} s, lower bound of the optimum {:.1} s, at most {:.2}% above the optimum (target 5%: {})",
                took.as_secs_f64() * 1e3,
                plan.makespan(),
                plan.lower_bound,
                gap * 100.0,
                if gap <= 0.05 { "met" } else { "MISSED" }
            );
        }
    }
}
