//! The history writer: queued writes are all in the database after a
//! flush, in order, and every one that failed is handed back.

use std::sync::Arc;

use gantry_store::{
    CacheEvent, Conclusion, HistoryError, HistoryWrite, HistoryWriter, JobRowId, NewStep, RunId,
    Store, StoreError,
};

fn begin(store: &Store) -> (RunId, JobRowId) {
    crate::common::begin_run_and_job(store, "build")
}

fn step(job: JobRowId, index: u32) -> HistoryWrite {
    HistoryWrite::BeginStep {
        job,
        step: NewStep {
            index,
            step_id: None,
            name: format!("step {index}"),
        },
    }
}

fn finish(job: JobRowId, index: u32) -> HistoryWrite {
    HistoryWrite::FinishStep {
        job,
        index,
        outcome: Conclusion::Success,
        conclusion: Conclusion::Success,
        exit_code: Some(0),
        outputs: vec![("n".into(), index.to_string())],
    }
}

#[test]
fn queued_writes_are_all_recorded_after_a_flush() {
    let home = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(home.path()).unwrap());
    let writer = HistoryWriter::new(store.clone());
    let (run, job) = begin(&store);
    for index in 0..3 {
        writer.queue(step(job, index));
        writer.queue(finish(job, index));
    }
    writer.queue(HistoryWrite::CacheEvent {
        run,
        key: "deps".into(),
        event: CacheEvent::Miss,
    });
    writer.queue(HistoryWrite::FinishJob {
        job,
        conclusion: Conclusion::Success,
        outputs: Vec::new(),
    });
    writer.flush().unwrap();
    let detail = store.run(run).unwrap().unwrap();
    assert_eq!(detail.jobs[0].steps.len(), 3);
    assert_eq!(
        detail.jobs[0].steps[2].outputs,
        [("n".to_string(), "2".to_string())]
    );
    assert_eq!(detail.jobs[0].conclusion, Some(Conclusion::Success));
    assert_eq!(detail.caches.len(), 1);
    writer.finish().unwrap();
}

/// Regression: the writer used to keep only the first failure between
/// flushes and turn it into a string; the others were dropped.
#[test]
fn every_failed_write_is_handed_back_and_the_others_are_kept() {
    let home = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(home.path()).unwrap());
    let writer = HistoryWriter::new(store.clone());
    let (run, job) = begin(&store);
    writer.queue(step(job, 0));
    writer.queue(finish(job, 7));
    writer.queue(step(JobRowId(999), 0));
    writer.queue(finish(job, 0));
    let err = writer.flush().unwrap_err();
    let HistoryError::Failed(failures) = &err else {
        panic!("{err}");
    };
    assert_eq!(failures.len(), 2, "{err}");
    assert!(failures[0].to_string().contains("has no step 7"), "{err}");
    assert!(
        matches!(
            failures[1],
            StoreError::NotFound {
                what: "job",
                id: 999
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("2 history writes failed"), "{err}");
    let detail = store.run(run).unwrap().unwrap();
    assert_eq!(detail.jobs[0].steps.len(), 1);
    assert_eq!(
        detail.jobs[0].steps[0].conclusion,
        Some(Conclusion::Success)
    );
    // Reported once: the next flush starts clean.
    writer.flush().unwrap();
    // A failure after the last flush comes back from finish.
    writer.queue(finish(job, 8));
    let err = writer.finish().unwrap_err();
    assert_eq!(err.failures().len(), 1, "{err}");
}
