//! JUnit XML reports read into test cases.
//!
//! One reader covers the dialects in use:
//! - pytest (`classname` is the dotted module path, `file`/`line` with
//!   `junit_family=xunit1`),
//! - jest-junit and Vitest (`file` on the case or the suite),
//! - Playwright (`classname` is the spec file),
//! - gotestsum (a case re-run with `--rerun-fails` appears again, with
//!   the same name),
//! - cargo-nextest and Maven Surefire (`<flakyFailure>`/`<flakyError>`
//!   for failed attempts of a case that passed in the end,
//!   `<rerunFailure>`/`<rerunError>` for those of a case that still
//!   failed).
//!
//! A report that is not well-formed XML is a [`ParseError`] with its line;
//! a case with an unreadable attribute keeps what could be read and adds a
//! [`ReportWarning`] with its line. Neither is ever a panic.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde::Serialize;

/// Most test cases one report may hold.
pub const MAX_CASES: usize = 1_000_000;
/// Longest failure message kept (longer ones are cut at a character
/// boundary and end with `…`).
pub const MAX_MESSAGE: usize = 4096;
/// Deepest element nesting read.
const MAX_DEPTH: usize = 256;

/// How a test case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    /// An assertion failed (`<failure>`).
    Failed,
    /// The test could not run to its end (`<error>`).
    Errored,
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Errored => "errored",
            Outcome::Skipped => "skipped",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        Some(match text {
            "passed" => Outcome::Passed,
            "failed" => Outcome::Failed,
            "errored" => Outcome::Errored,
            "skipped" => Outcome::Skipped,
            _ => return None,
        })
    }

    /// Failed or errored.
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Failed | Outcome::Errored)
    }
}

/// One test case as the report gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestCase {
    /// The innermost `<testsuite>`'s name.
    pub suite: String,
    pub classname: String,
    pub name: String,
    /// The test's file, as the report names it (case attribute, else the
    /// suite's); `None` when the report does not say.
    pub file: Option<String>,
    /// Seconds; `None` when the report gives no (readable) time.
    pub duration: Option<f64>,
    /// How the last attempt ended.
    pub outcome: Outcome,
    /// Attempts before the last one.
    pub retries: u32,
    /// At least one attempt failed and the last one passed.
    pub flaky: bool,
    /// The failure's message (its `message` attribute, else the first line
    /// of its text), for a failed or errored case, or of a failed attempt
    /// of a flaky one.
    pub message: Option<String>,
    /// The line of the `<testcase>` in the report.
    pub line: u64,
}

impl TestCase {
    /// `classname.name`, or `name` when there is no class; what reports
    /// and quarantine entries call the test.
    pub fn id(&self) -> String {
        if self.classname.is_empty() || self.name.starts_with(&self.classname) {
            self.name.clone()
        } else {
            format!("{}.{}", self.classname, self.name)
        }
    }
}

/// Something in a report that was read past.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportWarning {
    pub line: u64,
    pub message: String,
}

/// A report read into its cases.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ParsedReport {
    pub cases: Vec<TestCase>,
    pub warnings: Vec<ReportWarning>,
}

/// Why a report could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: u64,
    pub message: String,
}

/// Line numbers of byte offsets.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(memchr_newlines(text.as_bytes()));
        Lines { starts }
    }

    fn line_of(&self, offset: u64) -> u64 {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        self.starts.partition_point(|start| *start <= offset) as u64
    }
}

fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
}

/// The case being read.
struct Open {
    case: TestCase,
    /// Set once a `<failure>`, `<error>` or `<skipped>` decided the outcome.
    failed_attempts: u32,
    /// Reading the text of a failure element, for its message.
    text: Option<String>,
}

struct Suite {
    name: String,
    file: Option<String>,
}

/// Reads one JUnit XML report.
pub fn parse(xml: &str) -> Result<ParsedReport, ParseError> {
    let lines = Lines::new(xml);
    let mut reader = Reader::from_str(xml);
    let mut report = ParsedReport::default();
    let mut suites: Vec<Suite> = Vec::new();
    let mut open: Option<Open> = None;
    let mut depth = 0usize;
    let mut seen_root = false;
    loop {
        let at = reader.buffer_position();
        let event = reader.read_event().map_err(|e| ParseError {
            line: lines.line_of(reader.error_position()),
            message: format!("not well-formed XML: {e}"),
        })?;
        let (e, empty) = match event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                end_element(e.local_name().as_ref(), &mut suites, &mut open, &mut report);
                depth = depth.saturating_sub(1);
                continue;
            }
            Event::Text(t) => {
                append_text(&mut open, t.decode().ok().as_deref());
                continue;
            }
            Event::CData(t) => {
                append_text(&mut open, t.decode().ok().as_deref());
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        if !empty {
            depth += 1;
            if depth > MAX_DEPTH {
                return Err(ParseError {
                    line: lines.line_of(at),
                    message: format!("elements nest deeper than {MAX_DEPTH}"),
                });
            }
        }
        if !seen_root {
            let local = e.local_name();
            if !matches!(local.as_ref(), b"testsuites" | b"testsuite") {
                return Err(ParseError {
                    line: lines.line_of(at),
                    message: format!(
                        "the root element is <{}>, not <testsuites> or <testsuite>",
                        String::from_utf8_lossy(local.as_ref())
                    ),
                });
            }
            seen_root = true;
        }
        start(&e, empty, &lines, at, &mut suites, &mut open, &mut report)?;
    }
    finish(&mut open, &mut report);
    if !seen_root {
        return Err(ParseError {
            line: 1,
            message: "no <testsuites> or <testsuite> element".to_string(),
        });
    }
    report.cases = merge_attempts(report.cases);
    Ok(report)
}

fn end_element(
    name: &[u8],
    suites: &mut Vec<Suite>,
    open: &mut Option<Open>,
    report: &mut ParsedReport,
) {
    match name {
        b"testcase" => finish(open, report),
        b"testsuite" => {
            suites.pop();
        }
        b"failure" | b"error" | b"flakyFailure" | b"flakyError" | b"rerunFailure"
        | b"rerunError" => {
            if let Some(o) = open.as_mut()
                && let Some(text) = o.text.take()
                && o.case.message.is_none()
            {
                o.case.message = first_line(&text);
            }
        }
        _ => {}
    }
}

/// Text inside a failure element, kept (up to a bound) for its message.
fn append_text(open: &mut Option<Open>, text: Option<&str>) {
    if let Some(buffer) = open.as_mut().and_then(|o| o.text.as_mut())
        && let Some(text) = text
        && buffer.len() < MAX_MESSAGE
    {
        buffer.push_str(text);
    }
}

fn attribute(
    e: &BytesStart<'_>,
    key: &[u8],
    lines: &Lines,
    at: u64,
    warnings: &mut Vec<ReportWarning>,
) -> Option<String> {
    for attr in e.attributes() {
        match attr {
            Ok(attr) if attr.key.local_name().as_ref() == key => {
                return match attr.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                    Ok(v) => Some(v.into_owned()),
                    Err(err) => {
                        warnings.push(ReportWarning {
                            line: lines.line_of(at),
                            message: format!(
                                "attribute `{}` is unreadable: {err}",
                                String::from_utf8_lossy(key)
                            ),
                        });
                        None
                    }
                };
            }
            Ok(_) => {}
            Err(err) => {
                warnings.push(ReportWarning {
                    line: lines.line_of(at),
                    message: format!("an attribute is unreadable: {err}"),
                });
                return None;
            }
        }
    }
    None
}

fn suite(e: &BytesStart<'_>, lines: &Lines, at: u64, warnings: &mut Vec<ReportWarning>) -> Suite {
    Suite {
        name: attribute(e, b"name", lines, at, warnings).unwrap_or_default(),
        file: attribute(e, b"file", lines, at, warnings).filter(|f| !f.is_empty()),
    }
}

#[allow(clippy::too_many_arguments)]
fn start(
    e: &BytesStart<'_>,
    empty: bool,
    lines: &Lines,
    at: u64,
    suites: &mut Vec<Suite>,
    open: &mut Option<Open>,
    report: &mut ParsedReport,
) -> Result<(), ParseError> {
    let warnings = &mut report.warnings;
    match e.local_name().as_ref() {
        b"testsuite" => {
            let s = suite(e, lines, at, warnings);
            if !empty {
                suites.push(s);
            }
        }
        b"testcase" => {
            finish(open, report);
            if report.cases.len() >= MAX_CASES {
                return Err(ParseError {
                    line: lines.line_of(at),
                    message: format!("more than {MAX_CASES} test cases"),
                });
            }
            let warnings = &mut report.warnings;
            let line = lines.line_of(at);
            let duration = match attribute(e, b"time", lines, at, warnings) {
                None => None,
                Some(t) => match parse_seconds(&t) {
                    Some(seconds) => Some(seconds),
                    None => {
                        warnings.push(ReportWarning {
                            line,
                            message: format!("time=\"{t}\" is not a number of seconds"),
                        });
                        None
                    }
                },
            };
            let innermost = suites.last();
            let case = TestCase {
                suite: innermost.map(|s| s.name.clone()).unwrap_or_default(),
                classname: attribute(e, b"classname", lines, at, warnings).unwrap_or_default(),
                name: attribute(e, b"name", lines, at, warnings).unwrap_or_default(),
                file: attribute(e, b"file", lines, at, warnings)
                    .filter(|f| !f.is_empty())
                    .or_else(|| innermost.and_then(|s| s.file.clone())),
                duration,
                outcome: Outcome::Passed,
                retries: 0,
                flaky: false,
                message: None,
                line,
            };
            if case.name.is_empty() {
                warnings.push(ReportWarning {
                    line,
                    message: "a <testcase> without a name".to_string(),
                });
            }
            *open = Some(Open {
                case,
                failed_attempts: 0,
                text: None,
            });
            if empty {
                finish(open, report);
            }
        }
        element @ (b"failure" | b"error" | b"skipped" | b"flakyFailure" | b"flakyError"
        | b"rerunFailure" | b"rerunError") => {
            let Some(o) = open.as_mut() else {
                return Ok(());
            };
            match element {
                b"failure" => o.case.outcome = Outcome::Failed,
                b"error" => {
                    if o.case.outcome != Outcome::Failed {
                        o.case.outcome = Outcome::Errored;
                    }
                }
                b"skipped" => {
                    if o.case.outcome == Outcome::Passed {
                        o.case.outcome = Outcome::Skipped;
                    }
                    return Ok(());
                }
                _ => {
                    // A failed attempt before the last one.
                    o.failed_attempts += 1;
                }
            }
            if o.case.message.is_none() {
                o.case.message =
                    attribute(e, b"message", lines, at, warnings).and_then(|m| first_line(&m));
            }
            if o.case.message.is_none() && !empty {
                o.text = Some(String::new());
            }
        }
        _ => {}
    }
    Ok(())
}

fn finish(open: &mut Option<Open>, report: &mut ParsedReport) {
    if let Some(Open {
        mut case,
        failed_attempts,
        ..
    }) = open.take()
    {
        case.retries = failed_attempts;
        case.flaky = failed_attempts > 0 && case.outcome == Outcome::Passed;
        report.cases.push(case);
    }
}

/// gotestsum and others list a re-run case again under the same name:
/// one case per test, its last attempt deciding, earlier ones counted as
/// retries.
fn merge_attempts(cases: Vec<TestCase>) -> Vec<TestCase> {
    let mut merged: Vec<TestCase> = Vec::with_capacity(cases.len());
    let mut index: std::collections::HashMap<(String, String, String), usize> =
        std::collections::HashMap::with_capacity(cases.len());
    for case in cases {
        let key = (
            case.suite.clone(),
            case.classname.clone(),
            case.name.clone(),
        );
        match index.get(&key) {
            Some(&at) => {
                let earlier = &mut merged[at];
                let failed_before = earlier.outcome.is_failure() || earlier.flaky;
                let message = earlier.message.take();
                let retries = earlier.retries + 1 + case.retries;
                let duration = match (earlier.duration, case.duration) {
                    (Some(a), Some(b)) => Some(a + b),
                    (a, b) => a.or(b),
                };
                *earlier = TestCase {
                    retries,
                    duration,
                    flaky: case.outcome == Outcome::Passed && (failed_before || case.flaky),
                    message: case.message.clone().or(message),
                    ..case
                };
            }
            None => {
                index.insert(key, merged.len());
                merged.push(case);
            }
        }
    }
    merged
}

/// Seconds as JUnit writers give them: `1.5`, `0`, `1,234.5` (Surefire in
/// some locales).
fn parse_seconds(text: &str) -> Option<f64> {
    let cleaned: String = text.trim().chars().filter(|c| *c != ',').collect();
    cleaned
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
}

fn first_line(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    if line.len() <= MAX_MESSAGE {
        return Some(line.to_string());
    }
    let mut end = MAX_MESSAGE;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    Some(format!("{}…", &line[..end]))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn case<'a>(report: &'a ParsedReport, name: &str) -> &'a TestCase {
        report
            .cases
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no case {name} in {report:#?}"))
    }

    #[test]
    fn pytest_report_gives_outcomes_messages_and_times() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="4" time="0.5">
<testcase classname="tests.unit.test_greet" name="test_hello" time="0.001" />
<testcase classname="tests.unit.test_greet" name="test_bye" time="0.25">
  <failure message="AssertionError: assert 'bye' == 'hi'">def test_bye():
&gt;       assert greet() == 'hi'</failure>
</testcase>
<testcase classname="tests.unit.test_greet" name="test_skip" time="0.000"><skipped type="pytest.skip" message="later">skip</skipped></testcase>
<testcase classname="tests.unit.test_greet" name="test_fixture" time="0.1"><error message="failed on setup with &quot;KeyError&quot;">trace</error></testcase>
</testsuite></testsuites>"#;
        let report = parse(xml).unwrap();
        assert_eq!(report.cases.len(), 4);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        let hello = case(&report, "test_hello");
        assert_eq!(hello.outcome, Outcome::Passed);
        assert_eq!(hello.suite, "pytest");
        assert_eq!(hello.line, 3);
        assert_eq!(hello.id(), "tests.unit.test_greet.test_hello");
        let bye = case(&report, "test_bye");
        assert_eq!(bye.outcome, Outcome::Failed);
        assert_eq!(bye.duration, Some(0.25));
        assert_eq!(
            bye.message.as_deref(),
            Some("AssertionError: assert 'bye' == 'hi'")
        );
        assert_eq!(case(&report, "test_skip").outcome, Outcome::Skipped);
        let fixture = case(&report, "test_fixture");
        assert_eq!(fixture.outcome, Outcome::Errored);
        assert_eq!(
            fixture.message.as_deref(),
            Some("failed on setup with \"KeyError\"")
        );
    }

    #[test]
    fn a_failure_without_a_message_attribute_takes_its_first_text_line() {
        let xml = "<testsuite name=\"s\"><testcase name=\"t\"><failure><![CDATA[\n  \n  expected 1, got 2\n  at line 3]]></failure></testcase></testsuite>";
        let report = parse(xml).unwrap();
        assert_eq!(
            report.cases[0].message.as_deref(),
            Some("expected 1, got 2")
        );
    }

    #[test]
    fn jest_and_playwright_files_come_from_the_case_or_the_suite() {
        let xml = r#"<testsuites name="jest tests">
  <testsuite name="greet" file="src/greet.test.js">
    <testcase classname="greet says hi" name="greet says hi" time="0.003"/>
    <testcase classname="greet" name="own" file="src/other.test.js" time="0.001"/>
  </testsuite>
  <testsuite name="example.spec.ts">
    <testcase name="has title" classname="example.spec.ts" time="1.2"/>
  </testsuite>
</testsuites>"#;
        let report = parse(xml).unwrap();
        let hi = case(&report, "greet says hi");
        assert_eq!(hi.file.as_deref(), Some("src/greet.test.js"));
        assert_eq!(hi.id(), "greet says hi");
        assert_eq!(
            case(&report, "own").file.as_deref(),
            Some("src/other.test.js")
        );
        let title = case(&report, "has title");
        assert_eq!(title.suite, "example.spec.ts");
        assert_eq!(title.file, None);
    }

    #[test]
    fn nextest_and_surefire_flaky_and_rerun_failures_are_retries() {
        let xml = r#"<testsuites name="nextest-run">
<testsuite name="gantry::it" tests="2">
  <testcase name="flips" classname="gantry::it" time="0.3">
    <flakyFailure message="timed out" type="test failure">first attempt</flakyFailure>
    <flakyFailure message="timed out again" type="test failure"/>
  </testcase>
  <testcase name="broken" classname="gantry::it" time="0.2">
    <failure message="panicked at src/lib.rs:3" type="test failure"/>
    <rerunFailure message="panicked at src/lib.rs:3" type="test failure"/>
  </testcase>
</testsuite></testsuites>"#;
        let report = parse(xml).unwrap();
        let flips = case(&report, "flips");
        assert_eq!(flips.outcome, Outcome::Passed);
        assert_eq!(flips.retries, 2);
        assert!(flips.flaky);
        assert_eq!(flips.message.as_deref(), Some("timed out"));
        let broken = case(&report, "broken");
        assert_eq!(broken.outcome, Outcome::Failed);
        assert_eq!(broken.retries, 1);
        assert!(!broken.flaky);
    }

    #[test]
    fn gotestsum_reruns_listed_again_are_one_flaky_case() {
        let xml = r#"<testsuites>
<testsuite name="example.com/pkg" tests="3" failures="1">
  <testcase classname="example.com/pkg" name="TestFlip" time="0.01"><failure message="Failed">flip_test.go:9: boom</failure></testcase>
  <testcase classname="example.com/pkg" name="TestOk" time="0.02"></testcase>
  <testcase classname="example.com/pkg" name="TestFlip" time="0.03"></testcase>
</testsuite></testsuites>"#;
        let report = parse(xml).unwrap();
        assert_eq!(report.cases.len(), 2);
        let flip = case(&report, "TestFlip");
        assert_eq!(flip.outcome, Outcome::Passed);
        assert_eq!(flip.retries, 1);
        assert!(flip.flaky);
        assert_eq!(flip.duration, Some(0.04));
        assert_eq!(flip.message.as_deref(), Some("Failed"));
    }

    #[test]
    fn surefire_times_with_grouping_commas_are_read() {
        let xml = r#"<testsuite name="com.example.FooTest"><testcase name="slow" classname="com.example.FooTest" time="1,234.5"/></testsuite>"#;
        let report = parse(xml).unwrap();
        assert_eq!(report.cases[0].duration, Some(1234.5));
        assert_eq!(report.cases[0].suite, "com.example.FooTest");
    }

    #[test]
    fn an_unreadable_time_is_a_warning_at_its_line_and_the_case_is_kept() {
        let xml = "<testsuite name=\"s\">\n<testcase name=\"a\" time=\"soon\"/>\n</testsuite>";
        let report = parse(xml).unwrap();
        assert_eq!(report.cases.len(), 1);
        assert_eq!(report.cases[0].duration, None);
        assert_eq!(
            report.warnings,
            [ReportWarning {
                line: 2,
                message: "time=\"soon\" is not a number of seconds".to_string()
            }]
        );
    }

    #[test]
    fn malformed_reports_are_errors_with_their_line() {
        let err = parse("<testsuite name=\"s\">\n<testcase name=\"a\">\n</testsuit>").unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        let err = parse("<html>\n</html>").unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.message.contains("<html>"), "{err}");
        let err = parse("   ").unwrap_err();
        assert!(err.message.contains("no <testsuites>"), "{err}");
    }

    #[test]
    fn a_long_message_is_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_MESSAGE);
        let xml = format!(
            "<testsuite name=\"s\"><testcase name=\"a\"><failure message=\"{long}\"/></testcase></testsuite>"
        );
        let message = parse(&xml).unwrap().cases[0].message.clone().unwrap();
        assert!(message.ends_with('…'));
        assert!(message.len() <= MAX_MESSAGE + '…'.len_utf8());
    }

    proptest::proptest! {
        #[test]
        fn any_input_is_read_or_refused_without_a_panic(text in "\\PC{0,300}") {
            let _ = parse(&text);
            let wrapped = format!("<testsuite name=\"s\"><testcase name=\"a\">{text}</testcase></testsuite>");
            let _ = parse(&wrapped);
        }
    }
}
