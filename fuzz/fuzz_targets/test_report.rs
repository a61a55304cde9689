//! Feeds arbitrary text to the test-result readers: the JUnit XML reader
//! of `gantry/test-report` and the quarantine list. An error with a line,
//! or cases that keep the reader's own rules, never a panic.

#![no_main]

use gantry_tests::{Outcome, Quarantine, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count().max(1) as u64;
    match parse(text) {
        Ok(report) => {
            for case in &report.cases {
                assert!(case.line >= 1 && case.line <= lines + 1, "line {} of {lines}", case.line);
                assert!(!case.flaky || (case.retries > 0 && case.outcome == Outcome::Passed), "{case:?}");
                assert!(case.duration.is_none_or(|d| d.is_finite() && d >= 0.0), "{case:?}");
            }
            for w in &report.warnings {
                assert!(w.line >= 1 && w.line <= lines + 1, "{w:?}");
            }
        }
        Err(e) => assert!(e.line >= 1 && e.line <= lines + 1, "{e}"),
    }
    if let Ok(list) = Quarantine::parse("q.yml", text) {
        for entry in &list.entries {
            assert!(!entry.test.is_empty() && !entry.reason.is_empty(), "{entry:?}");
        }
    }
});
