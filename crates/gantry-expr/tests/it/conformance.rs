//! GitHub's expression conformance suite.
//!
//! Runs every case of `shared/testdata/github-actions/expressions/testdata/`
//! (data from actions/languageservices, see its SOURCE.md): each expression
//! must give the expected value and kind, or fail with the expected message
//! at the expected stage (lexing, parsing or evaluation).
//!
//! Messages are compared the way GitHub's own runner of this data compares
//! them: the expected text must appear in ours. A few expected messages are
//! deliberately shortened there (`Too few parameters supplied: `) because
//! GitHub's implementations word the tail differently.

use std::fmt::Write as _;
use std::path::PathBuf;

use gantry_expr::{Allowed, MapContext, Value, evaluate, parse};
use serde_json::Value as Json;

/// How a case turned out, in the test data's vocabulary.
#[derive(Debug)]
enum Outcome {
    Value(Value),
    Error {
        stage: &'static str,
        message: String,
    },
}

fn run(expr: &str, contexts: Option<&Json>) -> Outcome {
    let mut allowed = Allowed::core_only();
    let mut ctx = MapContext::new();
    if let Some(Json::Object(map)) = contexts {
        for (name, value) in map {
            allowed = allowed.with_named_value(name);
            ctx.insert(name.clone(), Value::from_json(value.clone()));
        }
    }
    let parsed = match parse(expr, &allowed) {
        Ok(parsed) => parsed,
        Err(err) => {
            let stage = if err.kind().is_lexical() {
                "lexing"
            } else {
                "parsing"
            };
            return Outcome::Error {
                stage,
                message: err.to_string(),
            };
        }
    };
    match evaluate(&parsed, &ctx) {
        Ok(value) => Outcome::Value(value),
        Err(err) => Outcome::Error {
            stage: "evaluation",
            message: err.to_string(),
        },
    }
}

/// Equality of our value with the expected JSON, numbers compared as doubles
/// and object keys in order.
fn same(value: &Value, expected: &Json) -> bool {
    match (value, expected) {
        (Value::Null, Json::Null) => true,
        (Value::Bool(a), Json::Bool(b)) => a == b,
        (Value::Number(a), Json::Number(b)) => b.as_f64().is_some_and(|b| *a == b),
        (Value::String(a), Json::String(b)) => a == b,
        (Value::Array(a), Json::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::Object(a), Json::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        _ => false,
    }
}

#[test]
fn expressions_conformance() {
    let Some(dir) = crate::common::testdata("github-actions/expressions/testdata") else {
        return;
    };

    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read the conformance directory")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no conformance files in {}",
        dir.display()
    );

    let mut total = 0;
    let mut exact_messages = 0;
    let mut failures = String::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(file).expect("read a conformance file");
        let groups: serde_json::Map<String, Json> =
            serde_json::from_str(&text).expect("conformance JSON");
        for (group, cases) in &groups {
            for case in cases.as_array().expect("a list of cases") {
                total += 1;
                let expr = case["expr"].as_str().expect("expr");
                let outcome = run(expr, case.get("contexts"));
                let failure = if let Some(err) = case.get("err") {
                    let stage = err["kind"].as_str().expect("err.kind");
                    let expected = err["value"].as_str().expect("err.value");
                    match &outcome {
                        Outcome::Error {
                            stage: got_stage,
                            message,
                        } if *got_stage == stage && message.contains(expected) => {
                            if message == expected {
                                exact_messages += 1;
                            } else if std::env::var("SHOW_INEXACT").is_ok() {
                                println!("inexact: {expected:?}\n     ours: {message:?}");
                            }
                            None
                        }
                        _ => Some(format!("{stage} error {expected:?}")),
                    }
                } else {
                    let result = &case["result"];
                    let kind = result["kind"].as_str().expect("result.kind");
                    match &outcome {
                        Outcome::Value(value)
                            if value.kind_name() == kind && same(value, &result["value"]) =>
                        {
                            None
                        }
                        _ => Some(format!("{kind} {}", result["value"])),
                    }
                };
                if let Some(expected) = failure {
                    let got = match &outcome {
                        Outcome::Value(v) => format!("{} {}", v.kind_name(), v.to_json()),
                        Outcome::Error { stage, message } => format!("{stage} error {message:?}"),
                    };
                    let _ = writeln!(
                        failures,
                        "{name} / {group}: {expr:?}\n    expected: {expected}\n    got:      {got}"
                    );
                }
            }
        }
    }

    let failed = failures.lines().filter(|l| !l.starts_with(' ')).count();
    println!("expressions conformance: {}/{total} passed", total - failed);
    println!(
        "({exact_messages} error messages matched exactly, the rest contain the expected text)"
    );
    assert!(
        failures.is_empty(),
        "{failed} conformance case(s) failed:\n{failures}"
    );
}
