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
    lint_workflow(&workflow, settings, &gantry_workflow::lint::NoActions)
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
            (51, 65, "undefined-input"),
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

const MY_ACTION: &str = "name: 'My action'
description: 'my action'
inputs:
  name:
    description: your name
    default: anonymous
  message:
    description: message to this action
    required: true
  addition:
    description: additional information
    required: false
  old:
    description: an input on its way out
    deprecationMessage: use `name` instead
runs:
  using: 'node20'
  main: 'index.js'
";

const USES_MY_ACTION: &str = "on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      # missing required input \"message\"
      - uses: ./.github/actions/my-action
      # unexpected input \"additions\"
      - uses: ./.github/actions/my-action
        with:
          name: rhysd
          message: hello
          additions: foo, bar
          old: x
";

/// (line, column, code, is_error) of everything `validate` says of a file.
fn checked(path: &Path, settings: &LintSettings) -> Vec<(usize, usize, &'static str, bool)> {
    let checked = gantry_workflow::check::check_file(
        &gantry_workflow::check::FileToCheck {
            path: path.to_path_buf(),
            name: "ci.yml".into(),
        },
        path.parent().unwrap(),
        &ReadOptions::default(),
        settings,
    );
    let source = &checked.diagnostics.source;
    checked
        .diagnostics
        .diagnostics
        .iter()
        .map(|d| {
            let p = source.position(d.span.unwrap().start);
            (p.line, p.column, d.code, d.is_error())
        })
        .collect()
}

#[test]
fn local_action_inputs_are_checked_against_its_action_yml() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    std::fs::create_dir_all(repo.join(".github/actions/my-action")).unwrap();
    std::fs::create_dir_all(repo.join(".github/workflows")).unwrap();
    std::fs::write(repo.join(".github/actions/my-action/action.yml"), MY_ACTION).unwrap();
    let workflow = repo.join(".github/workflows/ci.yml");
    std::fs::write(&workflow, USES_MY_ACTION).unwrap();
    assert_eq!(
        checked(&workflow, &LintSettings::default()),
        vec![
            (7, 15, "missing-action-input", true),
            (13, 11, "unknown-action-input", false),
            (14, 11, "deprecated-action-input", false),
        ]
    );
}

/// Actions held in memory, as a store would hand them out.
struct Store(Vec<(&'static str, &'static str)>);

impl gantry_workflow::lint::ActionSource for Store {
    fn action(&self, uses: &str) -> Option<std::sync::Arc<gantry_workflow::Action>> {
        let (_, text) = self.0.iter().find(|(u, _)| *u == uses)?;
        let parsed =
            gantry_workflow::read_action(SourceFile::new(uses, *text), &ReadOptions::default());
        parsed.value.map(std::sync::Arc::new)
    }
}

#[test]
fn a_store_of_actions_feeds_the_input_check() {
    let settings = LintSettings {
        actions: Some(std::sync::Arc::new(Store(vec![(
            "octo/greet@v1",
            MY_ACTION,
        )]))),
        ..LintSettings::default()
    };
    let text = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: octo/greet@v1\n        with:\n          Message: hi\n      - uses: octo/greet@v1\n      - uses: octo/other@v1\n        with:\n          anything: 1\n";
    let source = SourceFile::new("s.yml", text);
    let workflow = read_workflow(source.clone(), &ReadOptions::default())
        .value
        .unwrap();
    let got: Vec<_> = lint_workflow(&workflow, &settings, &gantry_workflow::lint::NoActions)
        .iter()
        .map(|d| (source.position(d.span.unwrap().start).line, d.code))
        .collect();
    assert_eq!(got, vec![(9, "missing-action-input")]);
}

#[test]
fn unknown_runner_labels_are_warnings_unless_declared() {
    let got = findings("runners.yml", &LintSettings::default());
    assert_eq!(
        got,
        vec![
            (10, 13, "unknown-runner-label"),
            (14, 13, "unknown-runner-label"),
            (19, 14, "unknown-runner-label"),
            (37, 14, "unknown-runner-label"),
        ]
    );
    let declared = LintSettings {
        runner_labels: vec!["gpu".into(), "linux-latest".into(), "macos-10.13".into()],
        ..LintSettings::default()
    };
    assert_eq!(
        findings("runners.yml", &declared),
        vec![(37, 14, "unknown-runner-label")]
    );
}

#[test]
fn an_unknown_runner_label_suggests_the_nearest() {
    let text = "on: push\njobs:\n  a:\n    runs-on: ubuntu-lates\n    steps:\n      - run: echo\n";
    let source = SourceFile::new("r.yml", text);
    let workflow = read_workflow(source, &ReadOptions::default())
        .value
        .unwrap();
    let found = lint_workflow(
        &workflow,
        &LintSettings::default(),
        &gantry_workflow::lint::NoActions,
    );
    assert_eq!(found.len(), 1);
    assert!(!found[0].is_error());
    let hint = found[0].hint.as_deref().unwrap();
    assert!(hint.contains("did you mean `ubuntu-latest`?"), "{hint}");
    assert!(hint.contains(".gantry/config.yml"), "{hint}");
}

const SETUP_NODE: &str = "name: Setup Node.js environment
description: Set up a Node.js environment
inputs:
  node-version:
    description: Version spec of the version to use
  cache:
    description: Package manager for caching
runs:
  using: node20
  main: dist/setup/index.js
";

const CACHE: &str = "name: Cache
description: Cache artifacts
inputs:
  path:
    description: A list of files, directories, and wildcard patterns
    required: true
  key:
    description: An explicit key for restoring and saving the cache
    required: true
runs:
  using: node20
  main: dist/restore/index.js
";

/// actionlint's own example of a broken workflow (its README): what
/// `validate` finds of it, each at the line and column actionlint gives.
/// Of actionlint's seven: its script-injection finding at 13:41 is
/// `gantry audit`'s `template-injection` rule; `v\d+` at 5:11 is a glob
/// GitHub accepts (`\` escapes the next character); the typing of
/// `github.repository` at 22:17 is not done.
#[test]
fn actionlint_classic_mistakes_are_reported_at_their_place() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    let workflow = dir.path().join(".github/workflows/ci.yml");
    std::fs::copy(fixture("classic.yml"), &workflow).unwrap();
    let settings = LintSettings {
        actions: Some(std::sync::Arc::new(Store(vec![
            ("actions/setup-node@v4", SETUP_NODE),
            ("actions/cache@v4", CACHE),
        ]))),
        ..LintSettings::default()
    };
    let got: Vec<(usize, usize, &str)> = checked(&workflow, &settings)
        .into_iter()
        .map(|(l, c, code, _)| (l, c, code))
        .collect();
    for expected in [
        (3, 5, "unknown-key"),
        (10, 28, "unknown-runner-label"),
        (17, 11, "unknown-action-input"),
        (21, 20, "undefined-matrix-key"),
    ] {
        assert!(got.contains(&expected), "{expected:?} not in {got:?}");
    }
}

/// actionlint's example: the outputs of a step that runs a known action
/// are the outputs its `action.yml` declares.
#[test]
fn outputs_of_a_known_action_are_typed() {
    let action = "name: 'My action with output'\ndescription: d\noutputs:\n  some_value:\n    description: some value\nruns:\n  using: node20\n  main: index.js\n";
    let settings = LintSettings {
        actions: Some(std::sync::Arc::new(Store(vec![("octo/out@v1", action)]))),
        ..LintSettings::default()
    };
    let text = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ steps.my_action.outputs.some_value }}\n      - uses: octo/out@v1\n        id: my_action\n      - run: echo ${{ steps.my_action.outputs.some_value }} ${{ steps.MY_ACTION.outputs.SOME_VALUE }}\n      - run: echo ${{ steps.my_action.outputs.some-value }}\n";
    let source = SourceFile::new("o.yml", text);
    let workflow = read_workflow(source.clone(), &ReadOptions::default())
        .value
        .unwrap();
    let got: Vec<_> = lint_workflow(&workflow, &settings, &gantry_workflow::lint::NoActions)
        .iter()
        .map(|d| {
            let p = source.position(d.span.unwrap().start);
            (p.line, p.column, d.code)
        })
        .collect();
    assert_eq!(
        got,
        vec![(6, 23, "undefined-step"), (10, 23, "undefined-step-output")]
    );
}

/// A composite action's steps read the action's own inputs and the steps
/// before them.
#[test]
fn composite_action_contexts_are_typed_against_the_action() {
    let text = "name: a\ndescription: d\ninputs:\n  name:\n    description: n\noutputs:\n  greeting:\n    description: g\n    value: ${{ steps.say.outputs.text }}\nruns:\n  using: composite\n  steps:\n    - run: echo ${{ inputs.nme }} ${{ steps.say.outcome }}\n      shell: bash\n    - id: say\n      run: echo ${{ inputs.NAME }}\n      shell: bash\n";
    let source = SourceFile::new("action.yml", text);
    let parsed = gantry_workflow::read_action(source.clone(), &ReadOptions::default());
    assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics.diagnostics);
    let found = gantry_workflow::lint::lint_action(
        &parsed.value.unwrap(),
        &LintSettings::default(),
        &gantry_workflow::lint::NoActions,
    );
    let got: Vec<_> = found
        .iter()
        .map(|d| {
            let p = source.position(d.span.unwrap().start);
            (p.line, p.column, d.code)
        })
        .collect();
    assert_eq!(
        got,
        vec![(13, 21, "undefined-input"), (13, 39, "undefined-step")]
    );
    assert!(
        found[0]
            .message
            .contains("the action declares no input \"nme\"")
    );
    assert!(
        found[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("did you mean `inputs.name`?")
    );
}

/// Regression: a strategy the reader refuses (an `exclude` naming a key
/// the matrix lacks) left the job without a matrix, so `matrix.os` was
/// reported although `os` is right there.
#[test]
fn matrix_keys_come_from_the_file_even_when_the_strategy_is_refused() {
    let text = "on: push\njobs:\n  test:\n    strategy:\n      matrix:\n        os: [ubuntu-latest]\n        exclude:\n          - platform: x\n    runs-on: ${{ matrix.os }}\n    steps:\n      - run: echo ${{ matrix.nope }}\n";
    let source = SourceFile::new("m.yml", text);
    let parsed = read_workflow(source.clone(), &ReadOptions::default());
    let found = lint_workflow(
        &parsed.value.unwrap(),
        &LintSettings::default(),
        &gantry_workflow::lint::NoActions,
    );
    let got: Vec<_> = found
        .iter()
        .map(|d| (source.position(d.span.unwrap().start).line, d.code))
        .collect();
    assert_eq!(got, vec![(11, "undefined-matrix-key")]);
}

/// `github.event.inputs.X` holds the `workflow_dispatch` inputs.
#[test]
fn dispatch_event_inputs_are_typed() {
    let text = "on:\n  workflow_dispatch:\n    inputs:\n      message: { type: string }\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.inputs.message }} ${{ github.event.inputs.massage }} ${{ github.event.ref }}\n";
    assert_eq!(
        findings_of("d.yml", text, &LintSettings::default()),
        vec![(9, 58, "undefined-input")]
    );
    let push = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.inputs.anything }}\n";
    assert_eq!(findings_of("p.yml", push, &LintSettings::default()), vec![]);
}

#[test]
fn two_github_hosted_images_in_one_runs_on_conflict() {
    let text = "on: push\njobs:\n  test:\n    runs-on: [ubuntu-latest, windows-latest]\n    steps:\n      - run: echo ...\n";
    assert_eq!(
        findings_of("c.yml", text, &LintSettings::default()),
        vec![(4, 30, "runner-label-conflict")]
    );
}

/// A workflow only `workflow_call` triggers gets the secrets it declares
/// (and `GITHUB_TOKEN`); one that other events trigger too sees the
/// repository's secrets, which are not known here.
#[test]
fn secrets_of_a_reusable_workflow_are_the_declared_ones() {
    let text = "on:\n  workflow_call:\n    secrets:\n      token: { required: true }\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n        env:\n          A: ${{ secrets.token }}\n          B: ${{ secrets.GITHUB_TOKEN }}\n          C: ${{ secrets.tokn }}\n";
    assert_eq!(
        findings_of("s.yml", text, &LintSettings::default()),
        vec![(13, 18, "undefined-secret")]
    );
    let both = text.replace("on:\n", "on:\n  push:\n");
    assert_eq!(
        findings_of("s.yml", &both, &LintSettings::default()),
        vec![]
    );
}
