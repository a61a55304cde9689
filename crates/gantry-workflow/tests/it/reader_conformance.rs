//! GitHub's own workflow-parser reader cases, from
//! `../shared/testdata/github-actions/workflow-parser/testdata/reader/`.
//!
//! Each case is a set of YAML documents: options, the workflow, any called
//! reusable workflows (a name document, then its content), and the expected
//! result as JSON. A case GitHub accepts must be accepted; a case GitHub
//! rejects must be rejected with errors at the same lines and columns.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gantry_workflow::calls::{CallPolicy, MapResolver, check_calls};
use gantry_workflow::config::TokenDefault;
use gantry_workflow::{ReadOptions, SourceFile, read_workflow};

/// Cases where gantry deliberately differs from GitHub's reference parser.
const KNOWN_DEVIATIONS: &[(&str, &str)] = &[
    (
        "errors-anchor-tag.yml",
        "GitHub.com has accepted YAML anchors since 2025 and gantry supports them; the reference \
         parser still rejects them (its TypeScript port skips this case too)",
    ),
    (
        "errors-max-result-size.yml",
        "`max-result-size` limits the in-memory size of the parsed template by the reference \
         parser's own internal accounting (the same workflow passes at 1128 and fails at 1141); \
         gantry bounds input by file size, nesting depth and alias expansion instead",
    ),
    (
        "round-to-infinity.yml",
        "the reference parser rounds huge `timeout-minutes` to +/-Infinity and accepts them; \
         gantry refuses timeouts that are not above 0 and at most 35 days (GitHub's limit on a \
         workflow run), so the executor never computes an unusable duration",
    ),
    (
        "errors-reusable-workflow-max-result-size.yml",
        "the same `max-result-size` accounting, applied to a called workflow",
    ),
];

fn reader_dir() -> Option<PathBuf> {
    crate::common::testdata("github-actions/workflow-parser/testdata/reader")
}

/// Splits a case file into its YAML documents.
fn documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            docs.push(String::new());
        } else if let Some(doc) = docs.last_mut() {
            doc.push_str(line);
            doc.push('\n');
        }
    }
    docs
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
enum Place {
    At(usize, usize),
    File,
}

/// Where GitHub reports each expected error of the main file.
fn expected_places(messages: &[String], file: &str) -> BTreeSet<Place> {
    let mut places = BTreeSet::new();
    for message in messages {
        let Some(rest) = message.strip_prefix(file) else {
            // An error located in a called workflow: reported at the call.
            places.insert(Place::File);
            continue;
        };
        if let Some(pos) = rest.strip_prefix(" (Line: ") {
            let (line, rest) = pos.split_once(", Col: ").unwrap();
            let (col, _) = rest.split_once(')').unwrap();
            places.insert(Place::At(line.parse().unwrap(), col.parse().unwrap()));
        } else if let Some(at) = rest.find(" on line ") {
            let tail = &rest[at + " on line ".len()..];
            let (line, tail) = tail.split_once(" and column ").unwrap();
            let col: String = tail.chars().take_while(char::is_ascii_digit).collect();
            places.insert(Place::At(line.parse().unwrap(), col.parse().unwrap()));
        } else {
            places.insert(Place::File);
        }
    }
    places
}

struct Outcome {
    passed: bool,
    detail: String,
    /// Expected messages, and how many of them gantry words the same.
    messages: usize,
    same_words: usize,
}

fn run_case(path: &Path) -> Outcome {
    let text = std::fs::read_to_string(path).unwrap();
    let docs = documents(&text);
    let options: serde_json::Value = {
        let yaml = &docs[0];
        let mut map = serde_json::Map::new();
        for line in yaml.lines() {
            let line = line.split('#').next().unwrap_or("");
            if let Some((k, v)) = line.split_once(':') {
                let v = v.trim();
                if !v.is_empty() {
                    map.insert(
                        k.trim().to_string(),
                        serde_json::Value::String(v.to_string()),
                    );
                }
            }
        }
        serde_json::Value::Object(map)
    };
    let opt = |name: &str| {
        options
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let expected: serde_json::Value = serde_json::from_str(docs.last().unwrap()).unwrap();
    let messages: Vec<String> = expected
        .get("errors")
        .and_then(|e| e.as_array())
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["Message"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();

    let name = format!(
        ".github/workflows/{}",
        path.file_name().unwrap().to_str().unwrap()
    );
    let mut read_options = ReadOptions::default();
    if let Some(size) = opt("max-file-size") {
        read_options.max_file_size = size.parse().unwrap();
    }
    if let Some(depth) = opt("max-depth") {
        read_options.max_depth = depth.parse().unwrap();
    }
    if let Some(jobs) = opt("max-job-limit") {
        read_options.max_jobs = Some(jobs.parse().unwrap());
    }
    let source = SourceFile::new(name.clone(), docs[1].clone());
    let parsed = read_workflow(source.clone(), &read_options);

    let mut resolver = MapResolver::default();
    let mut i = 2;
    while i + 1 < docs.len() - 1 {
        resolver.insert(docs[i].trim(), docs[i + 1].clone());
        i += 2;
    }
    // GitHub's reference parser knows the repository's setting; its
    // default is the read-only token.
    let mut policy = CallPolicy {
        default_permissions: Some(TokenDefault::Read),
        ..CallPolicy::default()
    };
    if let Some(depth) = opt("max-nested-reusable-workflows-depth") {
        policy.max_depth = depth.parse().unwrap();
    }
    if let Some(p) = opt("permissions-policy") {
        policy.default_permissions = Some(if p == "Write" {
            TokenDefault::Write
        } else {
            TokenDefault::Read
        });
    }
    if let Some(jobs) = opt("max-job-limit") {
        policy.max_jobs = Some(jobs.parse().unwrap());
    }
    let mut errors: Vec<(Option<(usize, usize)>, String)> = parsed
        .diagnostics
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let pos = d.span.map(|s| source.position(s.start));
            (pos.map(|p| (p.line, p.column)), d.message.clone())
        })
        .collect();
    if let Some(workflow) = &parsed.value
        && !parsed.has_errors()
        && opt("skip-reusable-workflows").is_none()
    {
        for d in check_calls(workflow, &resolver, &policy) {
            let pos = d.span.map(|s| source.position(s.start));
            errors.push((pos.map(|p| (p.line, p.column)), d.message.clone()));
        }
    }

    let expect_places = expected_places(&messages, &name);
    let ours: BTreeSet<Place> = errors
        .iter()
        .map(|(pos, _)| pos.map_or(Place::File, |(l, c)| Place::At(l, c)))
        .collect();
    let passed = if messages.is_empty() {
        errors.is_empty()
    } else if expect_places.contains(&Place::File) {
        // A file-level error: any error of ours will do, as long as every
        // located expected error is found too.
        !errors.is_empty()
            && expect_places
                .iter()
                .filter(|p| **p != Place::File)
                .all(|p| ours.contains(p))
    } else {
        let ours_located: BTreeSet<Place> = ours
            .iter()
            .filter(|p| **p != Place::File)
            .cloned()
            .collect();
        ours_located == expect_places
    };
    let ours_text: Vec<&str> = errors.iter().map(|(_, m)| m.as_str()).collect();
    let same_words = messages
        .iter()
        .filter(|m| {
            let text = m.rsplit_once("): ").map_or_else(
                || m.rsplit_once(": ").map_or(m.as_str(), |(_, t)| t),
                |(_, t)| t,
            );
            ours_text.iter().any(|o| *o == text || o.ends_with(text))
        })
        .count();
    Outcome {
        passed,
        messages: messages.len(),
        same_words,
        detail: format!(
            "expected:\n    {}\n  got:\n    {}",
            messages.join("\n    "),
            errors
                .iter()
                .map(|(p, m)| format!("{p:?} {m}"))
                .collect::<Vec<_>>()
                .join("\n    ")
        ),
    }
}

#[test]
fn reader_cases_match_github() {
    let Some(dir) = reader_dir() else { return };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    cases.sort();
    let mut failures = Vec::new();
    let mut passed = 0;
    let mut deviations_now_passing = Vec::new();
    let mut messages = 0;
    let mut same_words = 0;
    for case in &cases {
        let file = case.file_name().unwrap().to_str().unwrap().to_string();
        let outcome = std::panic::catch_unwind(|| run_case(case)).unwrap_or_else(|_| Outcome {
            passed: false,
            detail: "panicked".into(),
            messages: 0,
            same_words: 0,
        });
        messages += outcome.messages;
        same_words += outcome.same_words;
        let deviation = KNOWN_DEVIATIONS.iter().any(|(name, _)| *name == file);
        match (outcome.passed, deviation) {
            (true, false) => passed += 1,
            (true, true) => deviations_now_passing.push(file),
            (false, true) => {}
            (false, false) => failures.push(format!("{file}:\n  {}", outcome.detail)),
        }
    }
    println!(
        "workflow reader conformance: {passed}/{} passed, {} known deviations; \
         {same_words}/{messages} expected messages worded the same",
        cases.len(),
        KNOWN_DEVIATIONS.len()
    );
    assert!(
        deviations_now_passing.is_empty(),
        "remove from KNOWN_DEVIATIONS, these pass now: {deviations_now_passing:?}"
    );
    assert!(
        failures.is_empty(),
        "{} cases differ from GitHub:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The checks beyond GitHub's parser (`lint`) must not reject a workflow
/// GitHub accepts: every accepted reader case has no lint error.
#[test]
fn lint_accepts_every_workflow_github_accepts() {
    let Some(dir) = reader_dir() else { return };
    let mut rejected = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yml") {
            continue;
        }
        let docs = documents(&std::fs::read_to_string(&path).unwrap());
        let expected: serde_json::Value = serde_json::from_str(docs.last().unwrap()).unwrap();
        let source = SourceFile::new("w.yml", docs[1].clone());
        let parsed = read_workflow(source.clone(), &ReadOptions::default());
        if expected
            .get("errors")
            .is_some_and(|e| e.as_array().is_some_and(|a| !a.is_empty()))
        {
            // Rejected workflows are linted too, as validate does: no panic.
            if let Some(workflow) = &parsed.value {
                let settings = gantry_workflow::lint::LintSettings::default();
                gantry_workflow::lint::lint_workflow(
                    workflow,
                    &settings,
                    &gantry_workflow::lint::NoActions,
                );
            }
            continue;
        }
        let Some(workflow) = parsed.value.filter(|_| !parsed.diagnostics.has_errors()) else {
            continue;
        };
        checked += 1;
        let settings = gantry_workflow::lint::LintSettings::default();
        for d in gantry_workflow::lint::lint_workflow(
            &workflow,
            &settings,
            &gantry_workflow::lint::NoActions,
        ) {
            if d.is_error() {
                let at = d.span.map(|s| source.position(s.start));
                rejected.push(format!(
                    "{}: {at:?} {} {}",
                    path.display(),
                    d.code,
                    d.message
                ));
            }
        }
    }
    assert!(checked > 50, "only {checked} accepted cases found");
    assert!(
        rejected.is_empty(),
        "lint rejects accepted workflows:\n{}",
        rejected.join("\n")
    );
}
