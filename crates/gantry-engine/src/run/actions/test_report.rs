//! `gantry/test-report`: reads the job's JUnit XML reports, records every
//! test case with the run and job, and decides the step by the tests that
//! failed and are not quarantined (`.gantry/quarantine.yml`).
//!
//! A report that cannot be read is a warning with its file and line and
//! never fails the step on its own.

use gantry_tests::{Quarantine, Standing};

use super::super::job::{JobRun, LogSink, StepExec};
use super::lines;

/// Largest report read.
const MAX_REPORT_BYTES: u64 = 256 << 20;

#[derive(Default)]
pub(crate) struct Tally {
    total: u64,
    passed: u64,
    failed: u64,
    skipped: u64,
    retried: u64,
    quarantined: u64,
}

pub(crate) fn test_report(
    run: &mut JobRun,
    input: &(dyn Fn(&str) -> Option<String> + Sync),
    log: &mut LogSink,
) -> StepExec {
    let Some(patterns) = input("path").map(|p| lines(&p)) else {
        return StepExec::failed(
            "input `path` is required: the JUnit XML reports, as files or globs (reports/*.xml)",
            log,
        );
    };
    let (globs, files): (Vec<String>, Vec<String>) = patterns
        .into_iter()
        .partition(|p| p.contains(['*', '?', '[', '{']));
    let found = match gantry_tests::find_files(&run.workspace, &files, &globs, false) {
        Ok(found) => found,
        Err(e) => return StepExec::failed(format!("test reports: {e}"), log),
    };
    let quarantine = match gantry_tests::load_quarantine(&run.workspace) {
        Ok(q) => q,
        Err(e) => {
            log.warning(&format!("{e}; every failing test counts"));
            Quarantine::default()
        }
    };
    let fail_on_failure = input("fail-on-failure").is_none_or(|v| v != "false");
    if found.is_empty() {
        let message = "no test reports found; check `path` (relative to the workspace)";
        return match input("if-no-files-found").as_deref() {
            Some("error") => StepExec::failed(message, log),
            Some("ignore") => StepExec::ok(Vec::new()),
            _ => {
                log.warning(message);
                StepExec::ok(Vec::new())
            }
        };
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let mut tally = Tally::default();
    let mut summary = String::from(
        "### Tests\n\n| report | tests | passed | failed | skipped |\n|---|---|---|---|---|\n",
    );
    for file in &found {
        let Some(here) = read_and_record(run, &file.path, &file.path, &quarantine, now, log) else {
            continue;
        };
        summary.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            file.path,
            here.total,
            here.passed,
            here.failed + here.quarantined,
            here.skipped
        ));
        tally.total += here.total;
        tally.passed += here.passed;
        tally.failed += here.failed;
        tally.skipped += here.skipped;
        tally.retried += here.retried;
        tally.quarantined += here.quarantined;
    }
    run.summary.push_str(&summary);
    run.summary.push('\n');
    let outputs = vec![
        ("total".to_string(), tally.total.to_string()),
        ("passed".to_string(), tally.passed.to_string()),
        ("failed".to_string(), tally.failed.to_string()),
        ("skipped".to_string(), tally.skipped.to_string()),
        ("quarantined".to_string(), tally.quarantined.to_string()),
    ];
    if tally.failed > 0 && fail_on_failure {
        let mut exec = StepExec::failed(
            format!(
                "{} of {} tests failed (`gantry tests --failed` lists them)",
                tally.failed, tally.total
            ),
            log,
        );
        exec.outputs = outputs;
        return exec;
    }
    StepExec::ok(outputs)
}

/// Reads the report at `path` (relative to the workspace), records it as
/// `shown`, annotates its failures and warnings and logs one line; `None`
/// when it could not be read.
fn read_and_record(
    run: &mut JobRun,
    path: &str,
    shown: &str,
    quarantine: &Quarantine,
    now: i64,
    log: &mut LogSink,
) -> Option<Tally> {
    let full = run.workspace.join(path);
    let text = match gantry_fs::read_text_bounded(&full, MAX_REPORT_BYTES) {
        Ok(text) => text,
        Err(e) => {
            log.warning(&format!("{shown}: {e}"));
            return None;
        }
    };
    let parsed = gantry_tests::parse(&text);
    let recorded = run.shared.backend.record_test_report(
        run.shared.run_id,
        run.job_row,
        shown,
        parsed.as_ref(),
    );
    if let Err(e) = recorded {
        log.warning(&format!("{shown}: not recorded: {e}"));
    }
    let report = match parsed {
        Ok(report) => report,
        Err(e) => {
            log.annotate(
                "warning",
                &format!("unreadable test report: {}", e.message),
                Some(shown.to_string()),
                u32::try_from(e.line).ok(),
            );
            return None;
        }
    };
    for w in &report.warnings {
        log.annotate(
            "warning",
            &w.message,
            Some(shown.to_string()),
            u32::try_from(w.line).ok(),
        );
    }
    let mut here = Tally::default();
    for case in &report.cases {
        here.total += 1;
        here.retried += u64::from(case.flaky);
        match case.outcome {
            gantry_tests::Outcome::Passed => here.passed += 1,
            gantry_tests::Outcome::Skipped => here.skipped += 1,
            gantry_tests::Outcome::Failed | gantry_tests::Outcome::Errored => {
                let id = case.id();
                let message = case.message.as_deref().unwrap_or("no message");
                let line = u32::try_from(case.line).ok();
                match quarantine.standing(&id, now) {
                    Standing::Quarantined(e) => {
                        here.quarantined += 1;
                        log.annotate(
                            "warning",
                            &format!(
                                "{id} {} (quarantined until {}: {}): {message}",
                                case.outcome.as_str(),
                                e.expires,
                                e.reason
                            ),
                            Some(shown.to_string()),
                            line,
                        );
                    }
                    standing => {
                        here.failed += 1;
                        if let Standing::Expired(e) = standing {
                            log.warning(&format!(
                                "the quarantine of {id} expired on {} (.gantry/quarantine.yml line {}); its failure counts again",
                                e.expires, e.line
                            ));
                        }
                        log.annotate(
                            "error",
                            &format!("{id} {}: {message}", case.outcome.as_str()),
                            Some(shown.to_string()),
                            line,
                        );
                    }
                }
            }
        }
    }
    log.info(&format!(
        "{shown}: {} tests: {} passed, {} failed, {} skipped{}{}",
        here.total,
        here.passed,
        here.failed + here.quarantined,
        here.skipped,
        if here.quarantined > 0 {
            format!(" ({} quarantined)", here.quarantined)
        } else {
            String::new()
        },
        if here.retried > 0 {
            format!(", {} passed on a retry", here.retried)
        } else {
            String::new()
        }
    ));
    Some(here)
}

/// Most files of an artifact looked at for JUnit reports.
const MAX_ARTIFACT_REPORTS: usize = 1000;

/// Records the JUnit reports among the files an artifact upload took
/// (`.xml` files whose root is `<testsuites>` or `<testsuite>`), as
/// `artifact NAME: PATH`. Reports here only inform: they never change the
/// upload step's outcome.
pub(crate) fn record_from_artifact(
    run: &mut JobRun,
    name: &str,
    paths: &[String],
    log: &mut LogSink,
) {
    let mut globs = Vec::new();
    for p in paths.iter().filter(|p| !p.starts_with('!')) {
        let trimmed = p.trim_end_matches('/');
        if run.workspace.join(trimmed).is_dir() {
            globs.push(format!("{trimmed}/**/*.xml"));
        } else if p.ends_with(".xml") || p.contains(['*', '?', '[']) {
            globs.push(p.clone());
        }
    }
    let Ok(found) = gantry_tests::find_files(&run.workspace, &[], &globs, false) else {
        return;
    };
    let quarantine = gantry_tests::load_quarantine(&run.workspace).unwrap_or_default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    for file in found
        .iter()
        .filter(|f| f.path.ends_with(".xml"))
        .take(MAX_ARTIFACT_REPORTS)
    {
        if !looks_like_junit(&run.workspace.join(&file.path)) {
            continue;
        }
        let shown = format!("artifact {name}: {}", file.path);
        let _ = read_and_record(run, &file.path, &shown, &quarantine, now, log);
    }
}

/// Whether the file's first element is `<testsuites` or `<testsuite`.
fn looks_like_junit(path: &std::path::Path) -> bool {
    use std::io::Read as _;
    let Ok(file) = gantry_fs::open_regular(path) else {
        return false;
    };
    let mut head = Vec::with_capacity(1024);
    if file.take(1024).read_to_end(&mut head).is_err() {
        return false;
    }
    let text = String::from_utf8_lossy(&head);
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    // Skip the XML declaration, comments and processing instructions.
    while let Some(tail) = rest
        .strip_prefix("<?")
        .or_else(|| rest.strip_prefix("<!--"))
    {
        let end = if rest.starts_with("<?") { "?>" } else { "-->" };
        match tail.find(end) {
            Some(at) => rest = tail[at + end.len()..].trim_start(),
            None => return false,
        }
    }
    rest.starts_with("<testsuites") || rest.starts_with("<testsuite")
}
