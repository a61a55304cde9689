//! Planning time for a generated workflow of 1,000 jobs with `needs` chains
//! and matrices: reading it, then planning a push.
//!
//! Run with `cargo bench -p gantry-engine --bench plan`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use gantry_engine::plan::{Event, plan_workflow};
use gantry_workflow::{ReadOptions, SourceFile, read_workflow};

fn generated(jobs: usize) -> String {
    let mut s = String::from("on: [push, pull_request]\njobs:\n");
    for i in 0..jobs {
        s.push_str(&format!("  job-{i}:\n    runs-on: ubuntu-latest\n"));
        // Chains of 20, each chain also needing the head of the previous one.
        if i % 20 != 0 {
            s.push_str(&format!("    needs: [job-{}]\n", i - 1));
        } else if i >= 20 {
            s.push_str(&format!("    needs: [job-{}]\n", i - 20));
        }
        s.push_str("    if: github.ref == 'refs/heads/main'\n    strategy:\n      matrix:\n        os: [ubuntu-latest, windows-latest]\n        version: [1, 2, 3]\n        exclude:\n          - os: windows-latest\n            version: 1\n        include:\n          - os: ubuntu-latest\n            extra: true\n    steps:\n      - run: echo ${{ matrix.os }}\n");
    }
    s
}

fn main() {
    let text = generated(1000);
    let options = ReadOptions {
        max_file_size: usize::MAX,
        ..ReadOptions::default()
    };
    let event = Event {
        name: "push".into(),
        git_ref: Some("refs/heads/main".into()),
        ..Event::default()
    };
    let rounds = 20;
    let mut read_total = 0.0;
    let mut plan_total = 0.0;
    let mut runs = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        let parsed = read_workflow(SourceFile::new("big.yml", text.clone()), &options);
        read_total += start.elapsed().as_secs_f64();
        let workflow = parsed.value.expect("the generated workflow reads");
        assert!(!parsed.diagnostics.has_errors());
        let start = Instant::now();
        let plan = black_box(plan_workflow(&workflow, &event));
        plan_total += start.elapsed().as_secs_f64();
        runs = plan.jobs.iter().map(|j| j.instances()).sum::<usize>();
    }
    println!(
        "1000 jobs ({} KiB, {runs} job runs): read+validate {:.2} ms, plan {:.2} ms (mean of {rounds})",
        text.len() / 1024,
        read_total / f64::from(rounds) * 1e3,
        plan_total / f64::from(rounds) * 1e3,
    );
}
