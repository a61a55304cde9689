//! Marketplace actions from the actions store: a JavaScript action with
//! `pre`, `post` and state, a composite action from a folder, and a run
//! that needs an action the store lacks stopping before any job.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use gantry_actions::{ActionStore, RemoteUses, Source};
use gantry_engine::run::{Conclusion, RunError, RunEvent};

use crate::common::run_with;

/// `node` is needed; under CI=true its absence fails the test.
fn have_node() -> bool {
    let ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "node is not installed (Debian: nodejs)"
        );
        eprintln!("skipped: node is not installed");
    }
    ok
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

const GREET_YML: &str = "name: greet
inputs:
  who:
    required: true
  greeting:
    default: hello
outputs:
  message:
    description: the greeting
runs:
  using: node20
  pre: pre.js
  main: index.js
  post: post.js
";

const PRE_JS: &str = r#"const fs = require("fs");
fs.appendFileSync(process.env.GITHUB_STATE, "from_pre=early\n");
console.log("pre for " + process.env.INPUT_WHO);
"#;

const INDEX_JS: &str = r#"const fs = require("fs");
const path = require("path");
const who = process.env.INPUT_WHO;
const greeting = process.env.INPUT_GREETING;
fs.appendFileSync(process.env.GITHUB_OUTPUT, "message=" + greeting + " " + who + "\n");
fs.appendFileSync(process.env.GITHUB_STATE, "started=yes\n");
console.log("main sees pre state " + process.env.STATE_from_pre);
console.log("action path has action.yml: " + fs.existsSync(path.join(process.env.GITHUB_ACTION_PATH, "action.yml")));
console.log("::save-state name=legacy::old-style");
"#;

const POST_JS: &str = r#"console.log("post sees started=" + process.env.STATE_started + " from_pre=" + process.env.STATE_from_pre + " legacy=" + process.env.STATE_legacy);
"#;

/// A git repository of the greet action, tagged v1, in the store.
fn store_with_greet(dir: &Path) -> ActionStore {
    let src = dir.join("greet");
    write(
        &src,
        &[
            ("action.yml", GREET_YML),
            ("pre.js", PRE_JS),
            ("index.js", INDEX_JS),
            ("post.js", POST_JS),
        ],
    );
    git(&src, &["init", "-q", "-b", "main"]);
    git(&src, &["add", "-A"]);
    git(&src, &["commit", "-qm", "greet"]);
    git(&src, &["tag", "v1"]);
    let store = ActionStore::new(dir.join("actions"));
    store
        .add(
            &RemoteUses::parse_remote("acme/greet@v1").unwrap(),
            &Source::Path(src),
        )
        .unwrap();
    store
}

fn started(events: &[RunEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            RunEvent::StepStarted { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_javascript_action_runs_pre_main_and_post_with_inputs_outputs_and_state() {
    if !have_node() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_greet(dir.path());
    let wf = "on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo first
      - id: g
        uses: acme/greet@v1
        with:
          who: world
      - run: echo \"got ${{ steps.g.outputs.message }}\"
";
    let out = run_with(&[], wf, |o| o.actions = Some(store), None).await;
    let lines = out.log("a");
    assert_eq!(out.conclusion, Conclusion::Success, "{}", out.all_lines());
    assert_eq!(
        started(&out.events),
        [
            "Pre Run acme/greet@v1",
            "Run echo first",
            "Run acme/greet@v1",
            "Run echo \"got ${{ steps.g.outputs.message }}\"",
            "Post acme/greet@v1",
        ]
    );
    for want in [
        "pre for world",
        "main sees pre state early",
        "action path has action.yml: true",
        "got hello world",
        "post sees started=yes from_pre=early legacy=old-style",
    ] {
        assert!(lines.contains(&want.to_string()), "{want}: {lines:#?}");
    }
}

#[tokio::test]
async fn post_if_decides_the_post_step_and_another_node_version_warns() {
    if !have_node() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("old");
    write(
        &src,
        &[
            (
                "action.yml",
                "name: old\nruns:\n  using: node16\n  main: main.js\n  post: post.js\n  post-if: failure()\n",
            ),
            ("main.js", "console.log('old main');\n"),
            ("post.js", "console.log('old post');\n"),
        ],
    );
    let store = ActionStore::new(dir.path().join("actions"));
    // A plain folder (a vendored copy): keyed by its content.
    store
        .add(
            &RemoteUses::parse_remote("acme/old@v1").unwrap(),
            &Source::Path(src),
        )
        .unwrap();
    let wf = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: acme/old@v1\n";
    let out = run_with(&[], wf, |o| o.actions = Some(store), None).await;
    assert_eq!(out.conclusion, Conclusion::Success, "{}", out.all_lines());
    let all = out.all_lines();
    assert!(all.contains("old main"), "{all}");
    assert!(!all.contains("old post"), "post-if: failure() ran: {all}");
    assert!(
        all.contains("asks for node16; running it with the installed node v"),
        "{all}"
    );
    assert_eq!(
        out.step("a", "Post acme/old@v1").map(|s| s.0),
        Some(Conclusion::Skipped)
    );
}

#[tokio::test]
async fn a_composite_action_at_a_sub_path_runs_its_steps_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("tools");
    write(
        &src,
        &[
            (
                "hello/action.yml",
                "name: hello
inputs:
  name:
    default: you
outputs:
  said:
    value: ${{ steps.s.outputs.said }}
runs:
  using: composite
  steps:
    - id: s
      shell: bash
      run: |
        bash \"${{ github.action_path }}/say.sh\" \"${{ inputs.name }}\"
        echo \"said=hi ${{ inputs.name }}\" >> \"$GITHUB_OUTPUT\"
",
            ),
            (
                "hello/say.sh",
                "echo \"say.sh for $1 in $GITHUB_ACTION_PATH\" | sed 's|/.*/||'\n",
            ),
        ],
    );
    let store = ActionStore::new(dir.path().join("actions"));
    store
        .add(
            &RemoteUses::parse_remote("acme/tools@v2").unwrap(),
            &Source::Path(src),
        )
        .unwrap();
    let wf = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - id: h\n        uses: acme/tools/hello@v2\n        with:\n          name: gantry\n      - run: echo \"out ${{ steps.h.outputs.said }}\"\n";
    let out = run_with(&[], wf, |o| o.actions = Some(store), None).await;
    assert_eq!(out.conclusion, Conclusion::Success, "{}", out.all_lines());
    let all = out.all_lines();
    assert!(all.contains("say.sh for gantry in"), "{all}");
    assert!(all.contains("out hi gantry"), "{all}");
}

#[tokio::test]
async fn actions_the_store_lacks_are_all_named_before_any_job_runs() {
    let dir = tempfile::tempdir().unwrap();
    let store = ActionStore::new(dir.path().join("actions"));
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let wf = "on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo should not run
      - uses: actions/checkout@v4
      - uses: docker/setup-buildx-action@v3
  b:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/tools/hello@v2
";
    let workflow = gantry_workflow::read_workflow(
        gantry_workflow::SourceFile::new("w.yml", wf),
        &gantry_workflow::ReadOptions::default(),
    )
    .value
    .unwrap();
    let mut options = crate::common::options(&repo, dir.path());
    options.actions = Some(store);
    let backend = Arc::new(crate::common::TestBackend::new(&dir.path().join("backend")));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let e = gantry_engine::run::run(
        Arc::new(workflow),
        Arc::new(options),
        backend.clone(),
        gantry_engine::run::Masker::new(),
        tx,
        Default::default(),
    )
    .await
    .unwrap_err();
    match &e {
        RunError::MissingActions { missing } => {
            assert_eq!(missing, &["docker/setup-buildx-action@v3", "acme/tools@v2"])
        }
        other => panic!("{other}"),
    }
    assert!(rx.try_recv().is_err(), "an event was sent");
    assert!(backend.recorded.lock().unwrap().runs.is_empty());
}
