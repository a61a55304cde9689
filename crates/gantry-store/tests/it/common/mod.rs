//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use gantry_store::{JobRowId, NewJob, NewRun, RunId, Store, StoreOptions, Timestamp};

/// A clock the test moves by hand.
#[derive(Clone)]
pub struct TestClock(Arc<AtomicI64>);

impl TestClock {
    pub fn new() -> TestClock {
        // 2026-01-01T00:00:00Z
        TestClock(Arc::new(AtomicI64::new(1_767_225_600_000)))
    }

    pub fn advance(&self, d: Duration) {
        self.0
            .fetch_add(i64::try_from(d.as_millis()).unwrap(), Ordering::SeqCst);
    }

    pub fn options(&self) -> StoreOptions {
        let t = self.0.clone();
        StoreOptions {
            clock: Arc::new(move || Timestamp(t.load(Ordering::SeqCst))),
            ..StoreOptions::default()
        }
    }
}

pub fn open_with_clock(home: &Path) -> (Store, TestClock) {
    let clock = TestClock::new();
    let store = Store::open_with(home, clock.options()).unwrap();
    (store, clock)
}

/// Writes files (`path` → content) under `root`.
pub fn write_tree(root: &Path, files: &[(&str, &[u8])]) {
    for (path, content) in files {
        let p = root.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }
}

/// Bytes that do not compress: a xorshift stream.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Every file under `root`, relative, sorted, with `/` separators.
pub fn files_under(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd {
            let e = e.unwrap();
            let p = e.path();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(
                    p.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Begins a push run of `ci.yml` with one job named `job`.
pub fn begin_run_and_job(store: &Store, job: &str) -> (RunId, JobRowId) {
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
                job_id: job.into(),
                name: job.into(),
                matrix_json: None,
                queued_ms: None,
            },
        )
        .unwrap();
    (run, job)
}
