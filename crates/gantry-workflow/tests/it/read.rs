//! Reading workflows and actions: what is accepted, what is reported, where.

use gantry_workflow::calls::{CallPolicy, MapResolver, check_calls};
use gantry_workflow::model::{JobKind, StepAction};
use gantry_workflow::{ReadOptions, SourceFile, read_action};

use crate::common::{errors, read};

#[test]
fn a_complete_workflow_reads_into_the_model() {
    let parsed = read(
        "name: CI\non:\n  push:\n    branches: [main]\n  workflow_dispatch:\n    inputs:\n      level:\n        type: choice\n        options: [a, b]\njobs:\n  build:\n    runs-on: [self-hosted, linux]\n    timeout-minutes: 30\n    env: { A: 1 }\n    steps:\n      - uses: actions/checkout@v4\n        with: { fetch-depth: 0 }\n      - run: make\n        shell: bash\n  call:\n    needs: build\n    uses: ./.github/workflows/r.yml\n    secrets: inherit\n",
    );
    assert!(!parsed.has_errors(), "{:#?}", parsed.diagnostics);
    let w = parsed.value.unwrap();
    assert_eq!(w.name.unwrap().value, "CI");
    assert_eq!(w.on.events.len(), 2);
    assert_eq!(
        w.on.get("workflow_dispatch").unwrap().inputs["level"]
            .options
            .len(),
        2
    );
    let JobKind::Steps(build) = &w.jobs["build"].kind else {
        panic!()
    };
    assert_eq!(build.env["A"].value.value, "1");
    let StepAction::Uses { with, .. } = &build.steps[0].action else {
        panic!()
    };
    assert_eq!(with["fetch-depth"].1.value, "0");
    assert!(matches!(w.jobs["call"].kind, JobKind::Call(_)));
}

#[test]
fn anchors_aliases_and_merge_keys_keep_locations() {
    let text = "on: push\njobs:\n  a:\n    runs-on: &os ubuntu-latest\n    steps:\n      - &step\n        run: echo\n  b:\n    runs-on: *os\n    env: &env { X: 1 }\n    steps:\n      - *step\n      - <<: *step\n        name: again\n        timout-minutes: 1\n";
    let errs = errors(text);
    // The typo inside the merged mapping is found at its own line.
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!((errs[0].0, errs[0].1), (15, 9));
    let w = read(text).value.unwrap();
    let JobKind::Steps(b) = &w.jobs["b"].kind else {
        panic!()
    };
    assert_eq!(b.steps.len(), 2);
}

#[test]
fn contexts_are_checked_per_place() {
    let errs = errors(
        "on: push\njobs:\n  a:\n    if: matrix.os == 'x'\n    runs-on: ubuntu-latest\n    steps:\n      - if: secrets.X\n        run: echo ${{ secrets.X }}\n      - run: echo ${{ hashFiles('a') }}\n",
    );
    let messages: Vec<&str> = errs.iter().map(|e| e.2.as_str()).collect();
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(messages[0].contains("Unrecognized named-value: 'matrix'"));
    assert!(messages[1].contains("Unrecognized named-value: 'secrets'"));
    assert_eq!((errs[1].0, errs[1].1), (7, 13));
}

#[test]
fn unknown_keys_suggest_the_intended_one() {
    let parsed = read("on: push\njobs:\n  a:\n    runs-on: x\n    step:\n      - run: echo\n");
    let d = &parsed.diagnostics.diagnostics[0];
    assert_eq!(d.message, "Unexpected value 'step'");
    assert_eq!(d.hint.as_deref(), Some("did you mean `steps`?"));
}

#[test]
fn matrices_over_256_jobs_are_rejected() {
    let errs = errors(
        "on: push\njobs:\n  a:\n    runs-on: x\n    strategy:\n      matrix:\n        a: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]\n        b: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]\n    steps:\n      - run: echo\n",
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].2.contains("256"), "{errs:?}");
}

#[test]
fn hostile_input_is_an_error_not_a_panic() {
    for text in [
        "",
        "[",
        "on: push\njobs: [",
        "a: &a [*a]",
        "on: push\njobs:\n  x:\n    runs-on: x\n    steps: !!binary aGk=\n",
        &"- ".repeat(5000),
        &format!(
            "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: {}\n",
            "${{ (".repeat(2000)
        ),
        "\u{feff}on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: é\n",
    ] {
        let _ = read(text);
    }
}

#[test]
fn composite_actions_need_a_shell_and_output_values() {
    let parsed = read_action(
        SourceFile::new(
            "action.yml",
            "name: a\ndescription: d\noutputs:\n  out:\n    description: x\nruns:\n  using: composite\n  steps:\n    - run: echo ${{ inputs.x }}\n    - uses: actions/cache@v4\n      with:\n        key: ${{ secrets.X }}\n",
        ),
        &ReadOptions::default(),
    );
    let messages: Vec<&str> = parsed
        .diagnostics
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        messages.contains(&"Required property is missing: shell"),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"Required property is missing: value"),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("'secrets'")),
        "{messages:?}"
    );
}

#[test]
fn calls_check_inputs_secrets_and_permissions() {
    let caller = read(
        "on: push\npermissions: { contents: read }\njobs:\n  deploy:\n    uses: ./.github/workflows/deploy.yml\n    with:\n      target: prod\n      dry-run: maybe\n",
    )
    .value
    .unwrap();
    let mut resolver = MapResolver::default();
    resolver.insert(
        "./.github/workflows/deploy.yml",
        "on:\n  workflow_call:\n    inputs:\n      environment: { type: string, required: true }\n      dry-run: { type: boolean }\n    secrets:\n      token: { required: true }\njobs:\n  go:\n    runs-on: x\n    permissions: { contents: write }\n    steps:\n      - run: echo\n",
    );
    let found: Vec<String> = check_calls(&caller, &resolver, &CallPolicy::default())
        .into_iter()
        .map(|d| d.message)
        .collect();
    assert!(
        found
            .iter()
            .any(|m| m == "Invalid input, target is not defined in the referenced workflow."),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|m| m == "Unexpected value 'maybe'"),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|m| m == "Input environment is required, but not provided while calling."),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|m| m == "Secret token is required, but not provided while calling."),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|m| m
                .contains("is requesting 'contents: write', but is only allowed 'contents: read'")),
        "{found:#?}"
    );
}

#[test]
fn self_repository_references_are_accepted() {
    let errs = errors(
        "on: push\njobs:\n  a:\n    runs-on: x\n    environment:\n      name: prod\n      deployment: ${{ github.ref == 'refs/heads/main' }}\n    steps:\n      - uses: $/.github/actions/setup\n  b:\n    uses: $/.github/workflows/build.yml\n  c:\n    uses: $/.github/workflows/build.yml@v1\n",
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!((errs[0].0, errs[0].1), (13, 11));
}

#[test]
fn action_metadata_is_read_loosely() {
    let parsed = read_action(
        SourceFile::new(
            "action.yml",
            "name: a\ndescription: d\nx-custom: 1\ninputs:\n  token:\n    default: null\n    extra: 1\nruns:\n  using: node20\n  main: index.js\n",
        ),
        &ReadOptions::default(),
    );
    assert!(!parsed.has_errors(), "{:#?}", parsed.diagnostics);
    assert_eq!(parsed.diagnostics.diagnostics.len(), 2);
}

/// A call that asks for more than the read-only default token: an error
/// when the repository's default is known to be read, a warning when it
/// is not known, nothing when it is write; explicit permissions decide by
/// themselves.
#[test]
fn call_permissions_follow_the_default_token_setting() {
    use gantry_workflow::config::TokenDefault;
    let called = "on: workflow_call\njobs:\n  go:\n    runs-on: x\n    permissions: { contents: write }\n    steps:\n      - run: echo\n";
    let mut resolver = MapResolver::default();
    resolver.insert("./.github/workflows/deploy.yml", called);
    let severities = |caller: &str, default: Option<TokenDefault>| -> Vec<bool> {
        let caller = read(caller).value.unwrap();
        let policy = CallPolicy {
            default_permissions: default,
            ..CallPolicy::default()
        };
        check_calls(&caller, &resolver, &policy)
            .into_iter()
            .filter(|d| d.code == "call-permissions")
            .map(|d| d.is_error())
            .collect()
    };
    let implicit = "on: push\njobs:\n  deploy:\n    uses: ./.github/workflows/deploy.yml\n";
    assert_eq!(severities(implicit, Some(TokenDefault::Read)), vec![true]);
    assert_eq!(severities(implicit, None), vec![false]);
    assert_eq!(
        severities(implicit, Some(TokenDefault::Write)),
        Vec::<bool>::new()
    );
    let explicit = "on: push\npermissions: { contents: read }\njobs:\n  deploy:\n    uses: ./.github/workflows/deploy.yml\n";
    assert_eq!(severities(explicit, None), vec![true]);
    assert_eq!(severities(explicit, Some(TokenDefault::Write)), vec![true]);
}

/// Keys GitHub's current schema added, and expressions where its reader
/// allows them: schedule time zones, a service's entrypoint and command,
/// computed env names, and `services`/`credentials`/`env` as one
/// expression. Each is accepted and kept in the model.
#[test]
fn newer_schema_keys_and_whole_value_expressions_are_read() {
    let parsed = read(
        "on:\n  schedule:\n    - cron: '30 5 * * 1-5'\n      timezone: America/New_York\n    - cron: '0 6 * * *'\nenv:\n  ${{ github.event_name }}-x: ''\njobs:\n  a:\n    runs-on: x\n    env: ${{ fromJSON('{}') }}\n    container:\n      image: img\n      credentials: ${{ fromJSON(secrets.CREDS) }}\n    services:\n      redis:\n        image: redis\n        entrypoint: redis-server\n        command: --save 60 1\n    steps: [{run: echo}]\n  b:\n    runs-on: x\n    services: ${{ fromJSON('{}') }}\n    steps: [{run: echo}]\n",
    );
    assert!(!parsed.has_errors(), "{:#?}", parsed.diagnostics);
    let w = parsed.value.unwrap();
    let schedules = &w.on.get("schedule").unwrap().schedules;
    assert_eq!(schedules.len(), 2);
    assert_eq!(
        schedules[0].timezone.as_ref().unwrap().value,
        "America/New_York"
    );
    assert!(schedules[1].timezone.is_none());
    assert!(w.env.contains_key("${{ github.event_name }}-x"));
    let JobKind::Steps(a) = &w.jobs["a"].kind else {
        panic!()
    };
    assert!(a.env.values().all(|v| v.spread) && a.env.len() == 1);
    let container = a.container.as_ref().unwrap();
    assert!(container.credentials.is_none() && container.credentials_expr.is_some());
    let redis = &a.services["redis"];
    assert_eq!(redis.entrypoint.as_ref().unwrap().value, "redis-server");
    assert_eq!(redis.command.as_ref().unwrap().value, "--save 60 1");
    let JobKind::Steps(b) = &w.jobs["b"].kind else {
        panic!()
    };
    assert!(b.services.is_empty() && b.services_expr.is_some());
}

/// Where the schema still says no: `entrypoint` on a job container, an
/// empty time zone, and an expression in a computed env name that uses a
/// context its place does not have.
#[test]
fn newer_keys_are_refused_where_the_schema_refuses_them() {
    let errs = errors(
        "on:\n  schedule:\n    - cron: '0 6 * * *'\n      timezone: ''\nenv:\n  ${{ matrix.x }}: ''\njobs:\n  a:\n    runs-on: x\n    container:\n      image: img\n      entrypoint: sh\n    steps: [{run: echo}]\n",
    );
    let places: Vec<(usize, usize)> = errs.iter().map(|e| (e.0, e.1)).collect();
    assert_eq!(places, vec![(4, 17), (6, 3), (12, 7)], "{errs:?}");
    assert!(errs[1].2.contains("matrix"), "{errs:?}");
    assert!(errs[2].2.contains("entrypoint"), "{errs:?}");
}
