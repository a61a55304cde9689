//! JUnit XML test reports, read into the in-toto test-result predicate.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde::Serialize;
use serde_json::Value;

use crate::error::PredicateError;

/// Most test cases a report may hold.
const MAX_CASES: usize = 1_000_000;

/// Why a JUnit XML report could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JunitError {
    #[error("more than {MAX_CASES} test cases")]
    TooManyCases,
    #[error("not well-formed XML near byte {at}: {source}")]
    Xml { at: u64, source: quick_xml::Error },
    #[error("the root element is not <testsuites> or <testsuite>")]
    Root,
    #[error("no <testsuites> or <testsuite> element")]
    NoRoot,
}

#[derive(Default)]
struct Tally {
    passed: Vec<String>,
    failed: Vec<String>,
    warned: Vec<String>,
    /// The open test case: name, failed, skipped.
    open: Option<(String, bool, bool)>,
}

impl Tally {
    fn count(&self) -> usize {
        self.passed.len() + self.failed.len() + self.warned.len()
    }

    fn start_case(&mut self, e: &BytesStart<'_>) -> Result<(), JunitError> {
        self.finish_case();
        if self.count() >= MAX_CASES {
            return Err(JunitError::TooManyCases);
        }
        let mut name = String::new();
        let mut class = String::new();
        for attr in e.attributes().flatten() {
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_default();
            match attr.key.local_name().as_ref() {
                b"name" => name = value,
                b"classname" => class = value,
                _ => {}
            }
        }
        let full = if class.is_empty() {
            name
        } else {
            format!("{class}.{name}")
        };
        self.open = Some((full, false, false));
        Ok(())
    }

    fn mark(&mut self, element: &[u8]) {
        if let Some(case) = self.open.as_mut() {
            match element {
                b"failure" | b"error" => case.1 = true,
                b"skipped" => case.2 = true,
                _ => {}
            }
        }
    }

    fn finish_case(&mut self) {
        if let Some((name, failed, skipped)) = self.open.take() {
            if failed {
                self.failed.push(name);
            } else if skipped {
                self.warned.push(name);
            } else {
                self.passed.push(name);
            }
        }
    }
}

/// Reads a JUnit XML report (`<testsuites>` or `<testsuite>`) into the
/// test-result v0.1 predicate: `result` is FAILED when any case failed or
/// errored, WARNED when some were skipped, else PASSED.
pub fn test_result_from_junit(xml: &str, report_name: &str) -> Result<Value, JunitError> {
    let mut reader = Reader::from_str(xml);
    let mut tally = Tally::default();
    let mut depth = 0usize;
    let mut seen_root = false;
    loop {
        let event = reader.read_event().map_err(|source| JunitError::Xml {
            at: reader.buffer_position(),
            source,
        })?;
        let (e, empty) = match &event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                if e.local_name().as_ref() == b"testcase" {
                    tally.finish_case();
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let local = e.local_name();
        let name = local.as_ref();
        if depth == 0 {
            if name != b"testsuites" && name != b"testsuite" {
                return Err(JunitError::Root);
            }
            seen_root = true;
        }
        if name == b"testcase" {
            tally.start_case(e)?;
            if empty {
                tally.finish_case();
            }
        } else {
            tally.mark(name);
        }
        if !empty {
            depth += 1;
        }
    }
    tally.finish_case();
    if !seen_root {
        return Err(JunitError::NoRoot);
    }
    Ok(test_result_predicate(
        &tally.passed,
        &tally.warned,
        &tally.failed,
        &[report_name],
    ))
}

/// The test-result v0.1 predicate of tests already sorted into passed,
/// warned and failed, read from the reports named in `configurations`:
/// `result` is FAILED when any failed, WARNED when any warned, else PASSED.
pub fn test_result_predicate(
    passed: &[String],
    warned: &[String],
    failed: &[String],
    configurations: &[&str],
) -> Value {
    let result = if !failed.is_empty() {
        "FAILED"
    } else if !warned.is_empty() {
        "WARNED"
    } else {
        "PASSED"
    };
    let predicate = TestResult {
        result,
        configuration: configurations
            .iter()
            .map(|name| Configuration { name })
            .collect(),
        passed_tests: passed,
        warned_tests: warned,
        failed_tests: failed,
    };
    // Strings and arrays of strings only: serialising cannot fail.
    serde_json::to_value(predicate).unwrap_or(Value::Null)
}

/// The in-toto test-result v0.1 predicate, typed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestResult<'a> {
    /// PASSED, WARNED or FAILED.
    pub result: &'static str,
    pub configuration: Vec<Configuration<'a>>,
    pub passed_tests: &'a [String],
    pub warned_tests: &'a [String],
    pub failed_tests: &'a [String],
}

/// The report a test result was read from.
#[derive(Debug, Serialize)]
pub struct Configuration<'a> {
    pub name: &'a str,
}

/// Checks the fields of the test-result v0.1 predicate.
pub fn check_test_result(p: &Value) -> Result<(), PredicateError> {
    match p.get("result").and_then(Value::as_str) {
        Some("PASSED" | "WARNED" | "FAILED") => {}
        _ => {
            return Err(PredicateError::Invalid {
                field: "result",
                want: "PASSED, WARNED or FAILED",
            });
        }
    }
    for field in ["passedTests", "warnedTests", "failedTests", "configuration"] {
        if let Some(v) = p.get(field)
            && !v.is_array()
        {
            return Err(PredicateError::Invalid {
                field,
                want: "an array",
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_cases_failures_and_skips() {
        let xml = r#"<?xml version="1.0"?>
<testsuites><testsuite name="s">
  <testcase classname="a" name="ok"/>
  <testcase classname="a" name="bad"><failure message="x">boom</failure></testcase>
  <testcase name="skip"><skipped/></testcase>
  <testcase name="err"><error/></testcase>
</testsuite></testsuites>"#;
        let p = test_result_from_junit(xml, "junit.xml").unwrap();
        assert_eq!(p["result"], "FAILED");
        assert_eq!(p["passedTests"], json!(["a.ok"]));
        assert_eq!(p["failedTests"], json!(["a.bad", "err"]));
        assert_eq!(p["warnedTests"], json!(["skip"]));
        assert_eq!(p["configuration"], json!([{ "name": "junit.xml" }]));
        // The predicate's field order is the specification's.
        let keys: Vec<&String> = p.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "result",
                "configuration",
                "passedTests",
                "warnedTests",
                "failedTests"
            ]
        );
        check_test_result(&p).unwrap();
        let only_ok =
            test_result_from_junit(r#"<testsuite><testcase name="t"/></testsuite>"#, "r").unwrap();
        assert_eq!(only_ok["result"], "PASSED");
        assert!(test_result_from_junit("<html/>", "r").is_err());
        assert!(test_result_from_junit("<testsuite><testcase", "r").is_err());
        assert!(test_result_from_junit("", "r").is_err());
    }
}
