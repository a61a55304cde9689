//! `gantry actions` and marketplace actions in `gantry run` and `plan`:
//! an action added from a local git repository runs end to end; a run
//! that needs actions the store lacks names them all before any job.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{commit_all, git};

fn gantry(dir: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .current_dir(dir)
        .env("GANTRY_HOME", home)
        .env("NO_COLOR", "1")
        .env_remove("GANTRY_ACTIONS_MIRROR")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (path, body) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
}

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

const WORKFLOW: &str = "on: push
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - id: g
        uses: acme/greet@v1
        with:
          who: gantry
      - run: echo \"said ${{ steps.g.outputs.message }}\"
";

fn greet_action(dir: &Path) {
    write(
        dir,
        &[
            (
                "action.yml",
                "name: greet\ninputs:\n  who:\n    required: true\nruns:\n  using: node20\n  main: index.js\n  post: post.js\n",
            ),
            (
                "index.js",
                "const fs = require('fs');\nfs.appendFileSync(process.env.GITHUB_OUTPUT, 'message=hi ' + process.env.INPUT_WHO + '\\n');\nfs.appendFileSync(process.env.GITHUB_STATE, 'done=1\\n');\n",
            ),
            (
                "post.js",
                "console.log('post state ' + process.env.STATE_done);\n",
            ),
        ],
    );
    commit_all(dir);
    git(dir, &["tag", "v1"]);
}

#[test]
fn an_action_added_from_a_local_repository_runs_and_is_listed() {
    if !have_node() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let action = dir.path().join("greet");
    greet_action(&action);
    let repo = dir.path().join("repo");
    write(&repo, &[(".github/workflows/ci.yml", WORKFLOW)]);
    commit_all(&repo);

    // Before it is added, the run stops before any job and says how.
    let out = gantry(&repo, &home, &["run"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("an action the run needs is not in the actions store: acme/greet@v1"),
        "{said}"
    );
    assert!(
        said.contains("gantry actions add acme/greet@v1 --from PATH"),
        "{said}"
    );
    assert!(!said.contains("said hi"), "{said}");
    let plan = gantry(&repo, &home, &["plan"]);
    assert!(
        text(&plan)
            .contains("uses acme/greet@v1 (missing: gantry actions add acme/greet@v1 --from PATH)"),
        "{}",
        text(&plan)
    );

    let add = gantry(
        &repo,
        &home,
        &[
            "actions",
            "add",
            "acme/greet@v1",
            "--from",
            &action.display().to_string(),
        ],
    );
    assert_eq!(add.status.code(), Some(0), "{}", text(&add));
    assert!(
        text(&add).starts_with("added acme/greet@v1 (commit "),
        "{}",
        text(&add)
    );

    let list = gantry(&repo, &home, &["actions", "list", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["actions"][0]["owner"], "acme");
    assert_eq!(doc["actions"][0]["ref"], "v1");
    assert_eq!(doc["actions"][0]["key"].as_str().unwrap().len(), 40);

    let plan = gantry(&repo, &home, &["plan", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let used = &doc["workflows"][0]["jobs"][0]["actions"][0];
    assert_eq!(used["uses"], "acme/greet@v1");
    assert_eq!(used["status"], "stored");

    let out = gantry(&repo, &home, &["run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("said hi gantry"), "{said}");
    assert!(said.contains("post state 1"), "{said}");
}

#[test]
fn fetch_uses_the_mirror_and_fails_clearly_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let action = dir.path().join("greet");
    greet_action(&action);
    let mirror = dir.path().join("mirror");
    std::fs::create_dir_all(mirror.join("acme")).unwrap();
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--bare",
            &action.display().to_string(),
            &mirror.join("acme/greet.git").display().to_string(),
        ],
    );
    let repo = dir.path().join("repo");
    write(&repo, &[(".github/workflows/ci.yml", WORKFLOW)]);

    // Offline: a mirror URL nobody answers (127.0.0.1, port 1).
    let out = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["actions", "fetch"])
        .current_dir(&repo)
        .env("GANTRY_HOME", &home)
        .env("GANTRY_ACTIONS_MIRROR", "http://127.0.0.1:1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("error: failed to fetch acme/greet from http://127.0.0.1:1/acme/greet.git"),
        "{said}"
    );
    assert!(said.contains("hint: without the network"), "{said}");

    let out = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["actions", "fetch", "--format", "json"])
        .current_dir(&repo)
        .env("GANTRY_HOME", &home)
        .env("GANTRY_ACTIONS_MIRROR", &mirror)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["added"][0]["action"], "acme/greet@v1");

    let bad = gantry(
        &repo,
        &home,
        &["actions", "add", "acme/greet", "--from", "x"],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("has no `@REF`"), "{}", text(&bad));
}

/// The example's integration workflow as its README runs it: the vendored
/// action goes into the store, the run starts the service in the
/// background, the action waits for its port, and the next step calls it.
/// Without the action in the store, the run says how to add it.
#[test]
fn the_example_integration_workflow_runs_with_its_vendored_action() {
    if !have_node() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let home = dir.path().join("home");
    crate::common::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/pipeline"),
        &repo,
    );
    git(&repo, &["init", "-q", "-b", "main"]);
    commit_all(&repo);
    // The `api` job needs no container engine (the `service` job is
    // tested with podman in containers.rs).
    let run = [
        "run",
        "integration.yml",
        "--event",
        "workflow_dispatch",
        "--job",
        "api",
    ];

    let out = gantry(&repo, &home, &run);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("gantry actions add example-org/wait-for-port@v1"),
        "{}",
        text(&out)
    );

    let out = gantry(
        &repo,
        &home,
        &[
            "actions",
            "add",
            "example-org/wait-for-port@v1",
            "--from",
            "vendor/wait-for-port",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = gantry(&repo, &home, &run);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("the service was up after"), "{all}");
    assert!(all.contains("200"), "{all}");
}

#[test]
fn a_folder_added_under_a_commit_sha_is_stored_with_a_warning_that_nothing_checked_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let copy = dir.path().join("vendored");
    write(
        &copy,
        &[(
            "action.yml",
            "name: greet\nruns:\n  using: composite\n  steps:\n    - run: echo hi\n      shell: bash\n",
        )],
    );
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let pinned = format!("acme/greet@{sha}");
    let from = copy.display().to_string();
    let add = gantry(
        dir.path(),
        &home,
        &["actions", "add", &pinned, "--from", &from],
    );
    assert_eq!(add.status.code(), Some(0), "{}", text(&add));
    let said = String::from_utf8_lossy(&add.stderr);
    assert!(
        said.contains(&format!(
            "is not a git repository, so nothing shows its files are commit {sha}"
        )),
        "{said}"
    );
    let json = gantry(
        dir.path(),
        &home,
        &[
            "actions", "add", &pinned, "--from", &from, "--format", "json",
        ],
    );
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["unchecked_commit"], true, "{doc}");
    assert!(doc["commit"].is_null(), "{doc}");
    // The store remembers it.
    let list = gantry(dir.path(), &home, &["actions", "list"]);
    assert!(
        text(&list).contains("(not checked to be that commit)"),
        "{}",
        text(&list)
    );
    // A tag names no commit to check: no warning.
    let tagged = gantry(
        dir.path(),
        &home,
        &["actions", "add", "acme/greet@v1", "--from", &from],
    );
    assert_eq!(tagged.status.code(), Some(0), "{}", text(&tagged));
    assert!(tagged.stderr.is_empty(), "{}", text(&tagged));
}
