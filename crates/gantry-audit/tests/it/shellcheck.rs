//! shellcheck over `run:` scripts, each finding at its line and column in
//! the workflow file, in every way a YAML scalar can be written.

use std::path::Path;
use std::sync::Arc;

use gantry_audit::shellcheck::Shellcheck;
use gantry_workflow::lint::{LintSettings, NoActions, lint_workflow};
use gantry_workflow::{ReadOptions, SourceFile, read_workflow};

fn shellcheck() -> Option<Shellcheck> {
    let found = Shellcheck::find();
    assert!(
        found.is_some() || std::env::var("CI").as_deref() != Ok("true"),
        "shellcheck must be installed in CI"
    );
    found
}

/// (line, column, code) of the shellcheck findings of a workflow text.
fn findings(text: &str, checker: Shellcheck) -> Vec<(usize, usize, String)> {
    let source = SourceFile::new("ci.yml", text);
    let parsed = read_workflow(source.clone(), &ReadOptions::default());
    assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics.diagnostics);
    let settings = LintSettings {
        scripts: Some(Arc::new(checker)),
        ..LintSettings::default()
    };
    lint_workflow(&parsed.value.unwrap(), &settings, &NoActions)
        .into_iter()
        .filter(|d| d.code.starts_with("SC") || d.code == "script-check")
        .map(|d| {
            let p = d.span.map(|s| source.position(s.start));
            (
                p.map_or(0, |p| p.line),
                p.map_or(0, |p| p.column),
                d.code.to_string(),
            )
        })
        .collect()
}

#[test]
fn findings_are_placed_in_block_folded_plain_and_quoted_scripts() {
    let Some(checker) = shellcheck() else { return };
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shellcheck/scripts.yml"),
    )
    .unwrap();
    let at = |line, column, code: &str| (line, column, code.to_string());
    assert_eq!(
        findings(&text, checker),
        vec![
            at(9, 19, "SC2086"),  // plain
            at(12, 18, "SC2086"), // literal block, more indented line
            at(15, 16, "SC2086"), // folded block: one script line, two file lines
            at(16, 15, "SC2164"), // double-quoted, after a placeholder
            at(16, 49, "SC2086"),
            at(17, 26, "SC2086"), // single-quoted with '' escapes
            at(19, 14, "SC2035"), // shell: sh
        ]
    );
}

#[test]
fn wide_characters_in_expressions_keep_later_columns() {
    let Some(checker) = shellcheck() else { return };
    let text = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          echo \"${{ format('\u{e9}\u{e9}') }}\" $X\n";
    assert_eq!(findings(text, checker), vec![(7, 38, "SC2086".to_string())]);
}

#[test]
fn a_checker_that_cannot_run_is_one_note_for_the_file() {
    let text = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo $A\n      - run: echo $B\n";
    let missing = Shellcheck::at("/nonexistent/shellcheck");
    assert_eq!(
        findings(text, missing),
        vec![(0, 0, "script-check".to_string())]
    );
}

#[test]
fn composite_action_scripts_are_checked_with_their_shell() {
    let Some(checker) = shellcheck() else { return };
    let text = "name: a\ndescription: d\nruns:\n  using: composite\n  steps:\n    - run: echo $A\n      shell: bash\n    - run: Write-Output $B\n      shell: pwsh\n";
    let source = SourceFile::new("action.yml", text);
    let parsed = gantry_workflow::read_action(source.clone(), &ReadOptions::default());
    let settings = LintSettings {
        scripts: Some(Arc::new(checker)),
        ..LintSettings::default()
    };
    let got: Vec<_> =
        gantry_workflow::lint::lint_action(&parsed.value.unwrap(), &settings, &NoActions)
            .iter()
            .map(|d| {
                let p = source.position(d.span.unwrap().start);
                (p.line, p.column, d.code)
            })
            .collect();
    assert_eq!(got, vec![(6, 17, "SC2086")]);
}

/// A variable the step's `env:` sets is not a misspelling (SC2153 is left
/// out, as actionlint leaves it out).
#[test]
fn variables_from_the_step_env_are_not_misspellings() {
    let Some(checker) = shellcheck() else { return };
    let text = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - env:\n          BRANCH: ${{ github.ref }}\n        run: |\n          branch=\"${BRANCH}\"\n          echo \"$branch\"\n";
    assert_eq!(findings(text, checker), vec![]);
}
