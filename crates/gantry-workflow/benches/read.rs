//! Validation throughput: files per second for reading and checking
//! workflows, over GitHub's conformance workflows plus generated large ones.
//!
//! Run with `cargo bench -p gantry-workflow --bench read`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use gantry_workflow::{ReadOptions, SourceFile, read_workflow};

/// The workflow document of each conformance case.
fn conformance_corpus() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/github-actions/workflow-parser/testdata/reader");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "note: {} not found; benchmarking generated workflows only",
            dir.display()
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        // The second `---` document is the workflow.
        if let Some(doc) = text.split("\n---\n").nth(1) {
            out.push((
                entry.file_name().to_string_lossy().into_owned(),
                doc.to_string(),
            ));
        }
    }
    out
}

/// A large, realistic workflow: `jobs` jobs in chains, each with a matrix,
/// steps with expressions, env and conditions.
pub fn generated(jobs: usize) -> String {
    let mut s = String::from(
        "name: generated\non:\n  push:\n    branches: [main, 'release/**']\n    paths-ignore: ['docs/**']\n  pull_request:\npermissions:\n  contents: read\nenv:\n  GLOBAL: value\njobs:\n",
    );
    for i in 0..jobs {
        s.push_str(&format!(
            "  job-{i}:\n    runs-on: ubuntu-latest\n    timeout-minutes: 15\n"
        ));
        if i % 10 != 0 {
            s.push_str(&format!("    needs: [job-{}]\n", i - 1));
        }
        s.push_str(
            "    if: ${{ github.event_name == 'push' || contains(github.event.pull_request.labels.*.name, 'full') }}\n    strategy:\n      matrix:\n        os: [ubuntu-latest, macos-latest]\n        node: [18, 20]\n        include:\n          - os: ubuntu-latest\n            experimental: true\n    env:\n      NODE: ${{ matrix.node }}\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n      - id: build\n        run: |\n          echo \"building ${{ matrix.os }}\"\n          echo \"out=ok\" >> \"$GITHUB_OUTPUT\"\n      - if: ${{ steps.build.outputs.out == 'ok' && !cancelled() }}\n        run: echo done\n",
        );
    }
    s
}

fn measure(label: &str, corpus: &[(String, String)], min_time: Duration) {
    let bytes: usize = corpus.iter().map(|(_, t)| t.len()).sum();
    let options = ReadOptions {
        max_file_size: usize::MAX,
        ..ReadOptions::default()
    };
    let start = Instant::now();
    let mut files = 0usize;
    while start.elapsed() < min_time {
        for (name, text) in corpus {
            let parsed = read_workflow(SourceFile::new(name.clone(), text.clone()), &options);
            black_box(parsed);
            files += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let rounds = files as f64 / corpus.len().max(1) as f64;
    println!(
        "{label:<40} {:>10.0} files/s  {:>8.1} MB/s  ({} files, {:.1} KiB each)",
        files as f64 / secs,
        bytes as f64 * rounds / secs / 1e6,
        corpus.len(),
        bytes as f64 / corpus.len().max(1) as f64 / 1024.0
    );
}

fn main() {
    let min_time = Duration::from_secs(2);
    let conformance = conformance_corpus();
    if !conformance.is_empty() {
        measure("conformance workflows", &conformance, min_time);
    }
    let large: Vec<(String, String)> = (0..4)
        .map(|i| (format!("large-{i}.yml"), generated(100)))
        .collect();
    measure("generated, 100 jobs each", &large, min_time);
    let huge = vec![("huge.yml".to_string(), generated(1000))];
    measure("generated, 1000 jobs", &huge, min_time);
}
