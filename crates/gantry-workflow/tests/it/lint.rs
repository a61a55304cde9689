//! The checks beyond GitHub's parser (`gantry_workflow::lint`), each
//! finding at the line and column actionlint reports it.

use std::path::{Path, PathBuf};

use gantry_workflow::lint::{LintSettings, lint_workflow};
use gantry_workflow::{ReadOptions, SourceFile, read_workflow};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lint")
        .join(name)
}

/// The lint findings of a workflow text: (line, column, code).
pub(crate) fn findings_of(
    name: &str,
    text: &str,
    settings: &LintSettings,
) -> Vec<(usize, usize, &'static str)> {
    let source = SourceFile::new(name, text);
    let parsed = read_workflow(source.clone(), &ReadOptions::default());
    assert!(
        !parsed.has_errors(),
        "{name} must be a valid workflow: {:?}",
        parsed.diagnostics.diagnostics
    );
    let workflow = parsed.value.unwrap();
    lint_workflow(&workflow, settings)
        .iter()
        .map(|d| {
            let p = source.position(d.span.expect("located").start);
            (p.line, p.column, d.code)
        })
        .collect()
}

fn findings(name: &str, settings: &LintSettings) -> Vec<(usize, usize, &'static str)> {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    findings_of(name, &text, settings)
}

#[test]
fn typed_contexts_are_reported_where_actionlint_reports_them() {
    let got = findings("contexts.yml", &LintSettings::default());
    assert_eq!(
        got,
        vec![
            (14, 20, "undefined-job-output"),
            (16, 20, "undefined-job"),
            (17, 43, "undefined-input"),
            (24, 24, "undefined-needs-job"),
            (40, 24, "undefined-step"),
            (44, 20, "undefined-matrix-key"),
            (46, 23, "undefined-step-property"),
            (48, 23, "undefined-job-output"),
            (49, 13, "undefined-needs-job"),
            (50, 23, "undefined-needs-job"),
            (51, 23, "undefined-input"),
            (58, 46, "undefined-needs-job"),
        ]
    );
}

#[test]
fn a_job_without_matrix_has_no_matrix_keys() {
    let text = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo \"${{ matrix.os }}\"\n";
    assert_eq!(
        findings_of("m.yml", text, &LintSettings::default()),
        vec![(6, 24, "undefined-matrix-key")]
    );
}

#[test]
fn matrix_include_given_by_an_expression_makes_keys_unknown() {
    let text = "on: push\njobs:\n  a:\n    strategy:\n      matrix:\n        os: [x]\n        include: ${{ fromJSON('[]') }}\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.other }}\n";
    assert_eq!(findings_of("m.yml", text, &LintSettings::default()), vec![]);
}

#[test]
fn expressions_in_quoted_and_folded_values_keep_their_columns() {
    let text = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: \"echo \\\"${{ matrix.x }}\\\"\"\n      - run: >-\n          echo one\n          ${{ steps.nope.outputs.y }}\n      - run: 'it''s ${{ inputs.z }}'\n";
    assert_eq!(
        findings_of("q.yml", text, &LintSettings::default()),
        vec![
            (6, 26, "undefined-matrix-key"),
            (9, 15, "undefined-step"),
            (10, 25, "undefined-input"),
        ]
    );
}
