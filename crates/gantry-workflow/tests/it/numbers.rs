//! Regression tests: numbers outside GitHub's ranges (`timeout-minutes`,
//! `cancel-timeout-minutes`, `strategy.max-parallel`) are errors at their
//! value, and what the model stores is always usable.

use gantry_workflow::model::{JobKind, OrExpr};

use crate::common::{errors, read};

fn job_with(line: &str) -> String {
    format!("on: push\njobs:\n  a:\n    runs-on: x\n    {line}\n    steps:\n      - run: echo\n")
}

fn step_with(line: &str) -> String {
    format!(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n        {line}\n"
    )
}

fn matrix_with(line: &str) -> String {
    format!(
        "on: push\njobs:\n  a:\n    runs-on: x\n    strategy:\n      matrix: {{ os: [a, b] }}\n      {line}\n    steps:\n      - run: echo\n"
    )
}

#[test]
fn huge_negative_and_nan_timeouts_are_errors_at_the_value() {
    for value in [
        "1e300",
        "18446744073709551616",
        "-1",
        "0",
        ".nan",
        ".inf",
        "-.inf",
        "50401",
        "+99999999999999999999999999999999999999999999999999",
    ] {
        for text in [
            job_with(&format!("timeout-minutes: {value}")),
            job_with(&format!("cancel-timeout-minutes: {value}")),
        ] {
            let errs = errors(&text);
            assert_eq!(errs.len(), 1, "{value}: {errs:?}");
            assert_eq!(
                (errs[0].0, errs[0].1),
                (5, 22 + usize::from(text.contains("cancel")) * 7),
                "{value}"
            );
            assert!(errs[0].2.contains("timeout-minutes must be"), "{errs:?}");
        }
        let errs = errors(&step_with(&format!("timeout-minutes: {value}")));
        assert_eq!(errs.len(), 1, "{value}: {errs:?}");
        assert_eq!((errs[0].0, errs[0].1), (7, 26), "{value}");
    }
}

#[test]
fn timeouts_in_range_are_stored_as_durations() {
    let parsed = read(&job_with("timeout-minutes: 50400"));
    assert!(!parsed.has_errors(), "{:#?}", parsed.diagnostics);
    let w = parsed.value.unwrap();
    let JobKind::Steps(job) = &w.jobs["a"].kind else {
        panic!("a steps job")
    };
    let Some(OrExpr::Value(t)) = job.timeout_minutes.as_ref().map(|t| &t.value) else {
        panic!("a timeout")
    };
    assert_eq!(t.duration().as_secs(), 50_400 * 60);
    // Expressions are checked when they are evaluated.
    assert!(errors(&job_with("timeout-minutes: ${{ fromJSON('1e300') }}")).is_empty());
}

#[test]
fn max_parallel_is_a_positive_32_bit_whole_number() {
    for value in ["0", "-3", "1.5", "2147483648", "1e300", ".nan", ".inf"] {
        let errs = errors(&matrix_with(&format!("max-parallel: {value}")));
        assert_eq!(errs.len(), 1, "{value}: {errs:?}");
        assert_eq!((errs[0].0, errs[0].1), (7, 21), "{value}");
        assert!(errs[0].2.starts_with("max-parallel must be"), "{errs:?}");
    }
    let parsed = read(&matrix_with("max-parallel: 2147483647"));
    assert!(!parsed.has_errors(), "{:#?}", parsed.diagnostics);
    let w = parsed.value.unwrap();
    let max = w.jobs["a"].strategy.as_ref().unwrap().max_parallel.as_ref();
    assert!(matches!(max.map(|m| &m.value), Some(OrExpr::Value(m)) if m.get() == 2_147_483_647));
}

#[test]
fn numbers_are_not_accepted_as_continue_on_error() {
    for text in [
        job_with("continue-on-error: 1e300"),
        step_with("continue-on-error: 1"),
    ] {
        let errs = errors(&text);
        assert_eq!(errs.len(), 1, "{errs:?}");
    }
}
