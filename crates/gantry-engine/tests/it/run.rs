//! `gantry run` semantics on small fixture workflows: scheduling, steps,
//! command files, masking, caches, artifacts, actions, failure paths.

use std::sync::Arc;
use std::time::Duration;

use gantry_engine::plan::Event;
use gantry_engine::run::{Conclusion, Masker, RunEvent, RunOptions, Stop, run};
use gantry_workflow::{ReadOptions, SourceFile, read_workflow};
use indexmap::IndexMap;

use crate::common::{TestBackend, run_failing_history, run_wf, run_with};

#[tokio::test]
async fn jobs_start_as_soon_as_their_needs_finish() {
    let out = run_wf(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo a}]\n  slow:\n    runs-on: x\n    steps: [{run: sleep 1.5}]\n  c:\n    needs: a\n    runs-on: x\n    steps: [{run: echo c}]\n  d:\n    needs: [c, slow]\n    runs-on: x\n    steps: [{run: echo d}]\n",
    )
    .await;
    assert_eq!(out.conclusion, Conclusion::Success);
    let c_started = out.position(|e| matches!(e, RunEvent::JobStarted { job } if job == "c"));
    let slow_done =
        out.position(|e| matches!(e, RunEvent::JobFinished { job, .. } if job == "slow"));
    let d_started = out.position(|e| matches!(e, RunEvent::JobStarted { job } if job == "d"));
    assert!(
        c_started < slow_done,
        "c waited for slow, which it does not need"
    );
    assert!(d_started > slow_done, "d started before slow finished");
}

#[tokio::test]
async fn a_job_waiting_for_a_runner_slot_records_its_queue_time() {
    // One slot, two independent jobs: whichever starts second waited for
    // the first's whole run, and the queue time says so.
    let out = run_with(
        &[],
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: sleep 0.6}]\n  b:\n    runs-on: x\n    steps: [{run: sleep 0.6}]\n",
        |o| o.parallel = 1,
        None,
    )
    .await;
    assert_eq!(out.conclusion, Conclusion::Success, "{}", out.all_lines());
    let mut queued: Vec<Duration> = out
        .backend
        .recorded
        .lock()
        .unwrap()
        .queued
        .iter()
        .map(|(_, q)| q.expect("a job that ran has a queue time"))
        .collect();
    queued.sort();
    assert_eq!(queued.len(), 2);
    assert!(queued[0] < Duration::from_millis(500), "{queued:?}");
    assert!(queued[1] >= Duration::from_millis(600), "{queued:?}");
}

#[tokio::test]
async fn a_failing_step_fails_the_job_and_skips_what_follows() {
    let out = run_wf(
        "on: push\njobs:\n  test:\n    runs-on: x\n    steps:\n      - name: ok\n        run: echo fine\n      - name: broken\n        run: |\n          echo about to fail\n          exit 3\n      - name: after\n        run: echo never\n      - name: report\n        if: failure()\n        run: echo reporting\n      - name: cleanup\n        if: always()\n        run: echo cleanup\n  later:\n    needs: test\n    runs-on: x\n    steps: [{run: echo later}]\n",
    )
    .await;
    assert_eq!(out.conclusion, Conclusion::Failure);
    assert_eq!(
        out.step("test", "broken"),
        Some((Conclusion::Failure, Conclusion::Failure))
    );
    assert_eq!(
        out.step("test", "after"),
        Some((Conclusion::Skipped, Conclusion::Skipped))
    );
    assert_eq!(
        out.step("test", "report"),
        Some((Conclusion::Success, Conclusion::Success))
    );
    assert_eq!(
        out.step("test", "cleanup"),
        Some((Conclusion::Success, Conclusion::Success))
    );
    assert!(
        out.log("test").iter().any(|l| l.contains("exit code 3")),
        "{:?}",
        out.log("test")
    );
    assert!(out.skipped("later"));
}

#[tokio::test]
async fn continue_on_error_keeps_going() {
    let out = run_wf(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - id: flaky\n        continue-on-error: true\n        run: exit 1\n      - run: echo \"outcome=${{ steps.flaky.outcome }} conclusion=${{ steps.flaky.conclusion }}\"\n  b:\n    runs-on: x\n    continue-on-error: true\n    steps: [{run: exit 1}]\n",
    )
    .await;
    assert_eq!(out.conclusion, Conclusion::Success);
    assert!(
        out.log("a")
            .contains(&"outcome=failure conclusion=success".to_string()),
        "{:?}",
        out.log("a")
    );
    assert_eq!(out.job_result("b"), Some(Conclusion::Success));
}

#[tokio::test]
async fn outputs_env_and_path_flow_between_steps_and_jobs() {
    let out = run_wf(
        "on: push\njobs:\n  build:\n    runs-on: x\n    outputs:\n      version: ${{ steps.v.outputs.version }}\n      notes: ${{ steps.v.outputs.notes }}\n    steps:\n      - id: v\n        run: |\n          echo \"version=1.2.3\" >> \"$GITHUB_OUTPUT\"\n          { echo 'notes<<EOF'; echo 'line one'; echo 'line two'; echo EOF; } >> \"$GITHUB_OUTPUT\"\n          echo \"GREETING=hello\" >> \"$GITHUB_ENV\"\n          mkdir -p \"$RUNNER_TEMP/bin\" && printf '#!/bin/sh\\necho tool ran\\n' > \"$RUNNER_TEMP/bin/mytool\" && chmod +x \"$RUNNER_TEMP/bin/mytool\"\n          echo \"$RUNNER_TEMP/bin\" >> \"$GITHUB_PATH\"\n      - run: |\n          echo \"greeting=$GREETING\"\n          mytool\n  use:\n    needs: build\n    runs-on: x\n    steps:\n      - run: echo \"got ${{ needs.build.outputs.version }} ${{ needs.build.result }}\"\n      - run: echo \"${{ needs.build.outputs.notes }}\" | wc -l\n",
    )
    .await;
    assert_eq!(out.conclusion, Conclusion::Success, "{}", out.all_lines());
    let build = out.log("build");
    assert!(build.contains(&"greeting=hello".to_string()), "{build:?}");
    assert!(build.contains(&"tool ran".to_string()), "{build:?}");
    let used = out.log("use");
    assert!(used.contains(&"got 1.2.3 success".to_string()), "{used:?}");
    assert!(used.iter().any(|l| l.trim() == "2"), "{used:?}");
}

#[tokio::test]
async fn env_names_and_whole_env_mappings_may_be_expressions() {
    // GitHub reads `env:` keys with the mapping's context, and the whole
    // mapping may be one expression giving an object.
    let out = run_wf(
        "on: push\nenv:\n  WF_${{ github.event_name }}: from-workflow\njobs:\n  a:\n    runs-on: x\n    env: ${{ fromJSON('{\"JOB_A\":\"one\",\"JOB_N\":2}') }}\n    steps:\n      - run: echo \"$WF_push $JOB_A $JOB_N $STEP_push\"\n        env:\n          STEP_${{ github.event_name }}: from-step\n  b:\n    runs-on: x\n    env: ${{ fromJSON('[1]') }}\n    steps: [{run: echo never}]\n",
    )
    .await;
    let a = out.log("a");
    assert!(
        a.contains(&"from-workflow one 2 from-step".to_string()),
        "{}",
        out.all_lines()
    );
    // An expression that gives no object fails the job and says why.
    assert_eq!(out.job_result("b"), Some(Conclusion::Failure));
    let b = out.log("b").join("\n");
    assert!(b.contains("not an object of variables"), "{b}");
}

#[tokio::test]
async fn workflow_commands_are_processed() {
    let out = run_wf(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - id: s\n        run: |\n          echo '::group::Compile'\n          echo inside\n          echo '::endgroup::'\n          echo '::warning file=src/lib.rs,line=3::watch out'\n          echo '::set-output name=legacy::old'\n          echo '::stop-commands::pause'\n          echo '::error::not an error'\n          echo '::pause::'\n          echo '::set-env name=BAD::x'\n      - run: echo \"legacy=${{ steps.s.outputs.legacy }}\"\n",
    )
    .await;
    let log = out.log("a");
    assert!(log.contains(&"▸ Compile".to_string()), "{log:?}");
    assert!(
        log.contains(&"::error::not an error".to_string()),
        "{log:?}"
    );
    assert!(log.contains(&"legacy=old".to_string()), "{log:?}");
    assert!(out.events.iter().any(|e| matches!(e, RunEvent::Annotation { level, file: Some(f), line: Some(3), .. } if level == "warning" && f == "src/lib.rs")));
    assert!(
        log.iter()
            .any(|l| l.contains("`set-env` command is disabled")),
        "{log:?}"
    );
    let grouped = out.events.iter().any(|e| matches!(e, RunEvent::Log { line, group: Some(g), .. } if line == "inside" && g == "Compile"));
    assert!(grouped);
}

#[tokio::test]
async fn secrets_and_added_masks_never_appear_unmasked() {
    let dir_check = run_with(
        &[],
        "on: push\njobs:\n  a:\n    runs-on: x\n    outputs:\n      leaked: ${{ steps.s.outputs.token }}\n    steps:\n      - id: s\n        run: |\n          echo \"token=${{ secrets.TOKEN }}\" >> \"$GITHUB_OUTPUT\"\n          echo \"the token is ${{ secrets.TOKEN }}\"\n          echo \"$MULTI\"\n          echo '::add-mask::dynamic-value-42'\n          echo 'now dynamic-value-42 is hidden'\n        env:\n          MULTI: ${{ secrets.MULTI }}\n",
        |o| {
            o.secrets.insert("TOKEN".into(), "s3cr3t-t0ken".into());
            o.secrets.insert("MULTI".into(), "first-line-secret\nsecond-line-secret".into());
        },
        None,
    )
    .await;
    let text = dir_check.all_lines();
    for secret in [
        "s3cr3t-t0ken",
        "first-line-secret",
        "second-line-secret",
        "dynamic-value-42",
    ] {
        assert!(!text.contains(secret), "{secret} leaked:\n{text}");
    }
    assert!(text.contains("the token is ***"), "{text}");
    // Stored outputs and logs on disk are masked too.
    let rec = dir_check.backend.recorded.lock().unwrap();
    let stored: Vec<&(String, String)> = rec
        .steps
        .iter()
        .filter_map(|s| s.3.as_ref())
        .flat_map(|s| s.3.iter())
        .collect();
    assert!(
        stored.iter().all(|(_, v)| !v.contains("s3cr3t")),
        "{stored:?}"
    );
    for entry in walk(&dir_check.backend.dir) {
        let content = std::fs::read_to_string(&entry).unwrap_or_default();
        assert!(
            !content.contains("s3cr3t-t0ken"),
            "{} holds the secret",
            entry.display()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.path().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[tokio::test]
async fn step_and_job_timeouts_stop_the_process_tree() {
    let out = run_wf(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - name: hangs\n        timeout-minutes: 0.01\n        run: sleep 30\n      - name: cleanup\n        if: always()\n        run: echo cleaned\n  b:\n    runs-on: x\n    timeout-minutes: 0.01\n    steps:\n      - run: sleep 30\n",
    )
    .await;
    assert_eq!(
        out.step("a", "hangs"),
        Some((Conclusion::Failure, Conclusion::Failure))
    );
    assert!(out.log("a").contains(&"cleaned".to_string()));
    assert_eq!(out.job_result("b"), Some(Conclusion::Failure));
    assert!(
        out.log("b")
            .iter()
            .any(|l| l.contains("longer than its timeout")),
        "{:?}",
        out.log("b")
    );
}

#[tokio::test]
async fn cancelling_runs_always_steps_then_stops() {
    let out = run_with(
        &[],
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: sleep 30\n      - name: normal\n        run: echo should not run\n      - name: on-cancel\n        if: cancelled()\n        run: echo cancelled step ran\n      - name: always\n        if: always()\n        run: echo always step ran\n  b:\n    needs: a\n    runs-on: x\n    steps: [{run: echo b}]\n",
        |_| {},
        Some(Duration::from_millis(500)),
    )
    .await;
    assert_eq!(out.conclusion, Conclusion::Cancelled);
    let log = out.log("a");
    assert!(log.contains(&"cancelled step ran".to_string()), "{log:?}");
    assert!(log.contains(&"always step ran".to_string()), "{log:?}");
    assert!(!log.contains(&"should not run".to_string()));
    assert!(out.skipped("b"));
}

#[tokio::test]
async fn fail_fast_cancels_the_rest_of_the_matrix() {
    let out = run_with(
        &[],
        "on: push\njobs:\n  t:\n    runs-on: x\n    strategy:\n      max-parallel: 2\n      matrix:\n        n: [1, 2, 3, 4, 5]\n    steps:\n      - run: |\n          if [ ${{ matrix.n }} = 1 ]; then exit 1; fi\n          sleep 5\n",
        |o| o.parallel = 2,
        None,
    )
    .await;
    assert_eq!(out.conclusion, Conclusion::Failure);
    assert_eq!(out.job_result("t (1)"), Some(Conclusion::Failure));
    assert_eq!(out.job_result("t (2)"), Some(Conclusion::Cancelled));
    // Queued instances never start.
    assert!(out.skipped("t (5)"));
    let no_fail_fast = run_wf(
        "on: push\njobs:\n  t:\n    runs-on: x\n    strategy:\n      fail-fast: false\n      matrix:\n        n: [1, 2]\n    steps:\n      - run: test ${{ matrix.n }} = 2\n",
    )
    .await;
    assert_eq!(no_fail_fast.job_result("t (2)"), Some(Conclusion::Success));
}

#[tokio::test]
async fn matrix_instances_get_their_values_and_include_extras() {
    let out = run_wf(
        "on: push\njobs:\n  t:\n    runs-on: x\n    strategy:\n      matrix:\n        os: [linux, mac]\n        include:\n          - os: linux\n            extra: yes\n    steps:\n      - run: echo \"${{ matrix.os }} extra=${{ matrix.extra }} ${{ strategy.job-index }}/${{ strategy.job-total }}\"\n",
    )
    .await;
    assert!(
        out.log("t (linux)")
            .contains(&"linux extra=yes 0/2".to_string()),
        "{}",
        out.all_lines()
    );
    assert!(out.log("t (mac)").contains(&"mac extra= 1/2".to_string()));
}

#[tokio::test]
async fn caches_restore_by_exact_key_then_newest_prefix() {
    let workflow = "on: push\njobs:\n  first:\n    runs-on: x\n    steps:\n      - uses: actions/cache@v4\n        id: c\n        with:\n          path: deps\n          key: deps-v1-aaa\n      - run: echo \"hit=${{ steps.c.outputs.cache-hit }}\"; mkdir -p deps; echo built > deps/lib.txt\n  second:\n    needs: first\n    runs-on: x\n    steps:\n      - uses: actions/cache@v4\n        id: c\n        with:\n          path: deps\n          key: deps-v1-bbb\n          restore-keys: |\n            deps-v1-\n      - run: echo \"hit=${{ steps.c.outputs.cache-hit }} matched=${{ steps.c.outputs.cache-matched-key }}\"; cat deps/lib.txt\n  third:\n    needs: second\n    runs-on: x\n    steps:\n      - uses: actions/cache/restore@v4\n        id: c\n        with:\n          path: deps\n          key: deps-v1-aaa\n      - run: echo \"hit=${{ steps.c.outputs.cache-hit }}\"\n";
    let out = run_wf(workflow).await;
    assert_eq!(out.conclusion, Conclusion::Success, "{}", out.all_lines());
    assert!(out.log("first").contains(&"hit=false".to_string()));
    let second = out.log("second");
    assert!(
        second.contains(&"hit=false matched=deps-v1-aaa".to_string()),
        "{second:?}"
    );
    assert!(second.contains(&"built".to_string()));
    assert!(out.log("third").contains(&"hit=true".to_string()));
}

#[tokio::test]
async fn artifacts_pass_from_one_job_to_the_next() {
    let out = run_wf(
        "on: push\njobs:\n  build:\n    runs-on: x\n    steps:\n      - run: mkdir dist && echo payload > dist/app.txt\n      - uses: actions/upload-artifact@v4\n        with:\n          name: dist\n          path: dist\n      - uses: actions/upload-artifact@v4\n        with:\n          name: missing\n          path: nothing-here\n          if-no-files-found: ignore\n  consume:\n    needs: build\n    runs-on: x\n    steps:\n      - uses: actions/download-artifact@v4\n        with:\n          name: dist\n          path: got\n      - run: cat got/app.txt\n",
    )
    .await;
    assert_eq!(out.conclusion, Conclusion::Success, "{}", out.all_lines());
    assert!(
        out.log("consume").contains(&"payload".to_string()),
        "{:?}",
        out.log("consume")
    );
}

const COMPOSITE: &str = "name: greet\ndescription: says hello\ninputs:\n  who:\n    description: whom\n    default: world\noutputs:\n  said:\n    description: what it said\n    value: ${{ steps.say.outputs.text }}\nruns:\n  using: composite\n  steps:\n    - id: say\n      shell: bash\n      run: |\n        echo \"hello ${{ inputs.who }}\"\n        echo \"text=hello ${{ inputs.who }}\" >> \"$GITHUB_OUTPUT\"\n    - uses: ./.github/actions/inner\n";

const INNER: &str = "name: inner\ndescription: nested\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo inner ran\n";

const REUSABLE: &str = "on:\n  workflow_call:\n    inputs:\n      target:\n        type: string\n        required: true\n      dry:\n        type: boolean\n        default: true\n    secrets:\n      key:\n        required: true\n    outputs:\n      where:\n        value: ${{ jobs.deploy.outputs.where }}\njobs:\n  deploy:\n    runs-on: x\n    outputs:\n      where: ${{ steps.d.outputs.where }}\n    steps:\n      - id: d\n        run: |\n          echo \"deploying to ${{ inputs.target }} dry=${{ inputs.dry }} key=${{ secrets.key }}\"\n          echo \"where=${{ inputs.target }}\" >> \"$GITHUB_OUTPUT\"\n";

#[tokio::test]
async fn composite_actions_and_reusable_workflows_nest() {
    let out = run_with(
        &[
            (".github/actions/greet/action.yml", COMPOSITE),
            (".github/actions/inner/action.yml", INNER),
            (".github/workflows/deploy.yml", REUSABLE),
        ],
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - id: co\n        uses: actions/checkout@v4\n      - run: echo \"checked out ${{ steps.co.outputs.ref }}\"\n      - id: g\n        uses: ./.github/actions/greet\n        with:\n          who: gantry\n      - run: 'echo \"action said: ${{ steps.g.outputs.said }}\"'\n  call:\n    needs: a\n    uses: ./.github/workflows/deploy.yml\n    with:\n      target: staging\n    secrets:\n      key: ${{ secrets.DEPLOY_KEY }}\n  after:\n    needs: call\n    runs-on: x\n    steps:\n      - run: echo \"deployed to ${{ needs.call.outputs.where }}\"\n",
        |o| {
            o.secrets.insert("DEPLOY_KEY".into(), "k3y-value".into());
        },
        None,
    )
    .await;
    assert_eq!(out.conclusion, Conclusion::Success, "{}", out.all_lines());
    let a = out.log("a");
    assert!(
        a.contains(&"checked out refs/heads/main".to_string()),
        "{a:?}"
    );
    assert!(a.contains(&"hello gantry".to_string()), "{a:?}");
    assert!(a.contains(&"inner ran".to_string()), "{a:?}");
    assert!(
        a.contains(&"action said: hello gantry".to_string()),
        "{a:?}"
    );
    let nested = out.log("call / deploy");
    assert!(
        nested.contains(&"deploying to staging dry=true key=***".to_string()),
        "{nested:?}"
    );
    assert!(
        out.log("after")
            .contains(&"deployed to staging".to_string()),
        "{}",
        out.all_lines()
    );
}

#[tokio::test]
async fn remote_actions_fail_clearly_unless_skipped() {
    let wf = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: some/action@v1\n      - run: echo next\n";
    let out = run_wf(wf).await;
    assert_eq!(out.conclusion, Conclusion::Failure);
    assert!(
        out.all_lines()
            .contains("not one of gantry's built-in actions"),
        "{}",
        out.all_lines()
    );
    // Skipped, the other steps run, but the job did not do all its work:
    // it concludes `skipped`, saying what did not run, never `success`.
    let skipped = run_with(&[], wf, |o| o.skip_unsupported = true, None).await;
    assert!(skipped.log("a").contains(&"next".to_string()));
    assert_eq!(
        skipped.job_result("a"),
        Some(Conclusion::Skipped),
        "{}",
        skipped.all_lines()
    );
    assert!(
        skipped.all_lines().contains(
            "the job is `skipped`, not `success`: 1 of its steps did not run (some/action@v1)"
        ),
        "{}",
        skipped.all_lines()
    );
}

#[tokio::test]
async fn job_if_sees_needs_results_and_skips() {
    let out = run_wf(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: exit 1}]\n  on-failure:\n    needs: a\n    if: failure()\n    runs-on: x\n    steps: [{run: echo handled}]\n  normal:\n    needs: a\n    runs-on: x\n    steps: [{run: echo no}]\n  tag-only:\n    if: startsWith(github.ref, 'refs/tags/')\n    runs-on: x\n    steps: [{run: echo no}]\n",
    )
    .await;
    assert!(out.log("on-failure").contains(&"handled".to_string()));
    assert!(out.skipped("normal"));
    assert!(out.skipped("tag-only"));
}

/// A secret with every character an encoding treats specially.
const ODD_SECRET: &str = "p4ss'w\"o%r:d,/+ x&<ü>\\z";

#[tokio::test]
async fn secrets_stay_masked_in_every_encoding() {
    let script = include_str!("common/encodings.sh");
    let out = run_with(
        &[("enc.sh", script)],
        "on: push\njobs:\n  a:\n    runs-on: x\n    outputs:\n      all: ${{ steps.e.outputs.all }}\n    steps:\n      - uses: actions/checkout@v4\n      - id: e\n        name: encode ${{ secrets.S }}\n        env:\n          S: ${{ secrets.S }}\n        run: |\n          bash enc.sh | tee encoded.txt\n          bash enc.sh >> \"$GITHUB_STEP_SUMMARY\"\n          { echo 'all<<EOF'; cat encoded.txt; echo EOF; } >> \"$GITHUB_OUTPUT\"\n",
        |o| {
            o.secrets.insert("S".into(), ODD_SECRET.into());
        },
        None,
    )
    .await;
    assert_eq!(out.conclusion, Conclusion::Success, "{}", out.all_lines());
    let s = ODD_SECRET;
    let escaped = |from: &[(&str, &str)]| {
        from.iter()
            .fold(s.to_string(), |acc, (a, b)| acc.replace(a, b))
    };
    let json = serde_json::to_string(s).unwrap();
    let forbidden = [
        s.to_string(),
        "p4ss%27w%22o%25r%3Ad%2C%2F%2B%20x%26%3C%C3%BC%3E%5Cz".to_string(),
        json.trim_matches('"').to_string(),
        escaped(&[("%", "%25")]),
        escaped(&[("%", "%25"), (":", "%3A"), (",", "%2C")]),
        escaped(&[("'", "''")]),
    ];
    // Every line of the run, as events, as JSON, and as stored files.
    let lines = out.all_lines();
    let events_json: String = out
        .events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let mut stored = String::new();
    for entry in walk(&out.backend.dir) {
        stored.push_str(&std::fs::read_to_string(&entry).unwrap_or_default());
    }
    {
        let rec = out.backend.recorded.lock().unwrap();
        for step in &rec.steps {
            stored.push_str(&step.2);
            for (_, v) in step.3.iter().flat_map(|s| s.3.iter()) {
                stored.push_str(v);
            }
        }
    }
    for (place, text) in [
        ("log lines", &lines),
        ("JSON events", &events_json),
        ("the store", &stored),
    ] {
        for f in &forbidden {
            assert!(!text.contains(f.as_str()), "{f} is in {place}:\n{text}");
        }
    }
    assert!(stored.contains("json: {\"v\":\"***\"}"), "{stored}");
    // Base64 lines: the secret's part of each encoding is hidden, leaving
    // at most the characters it shares with its neighbours.
    let encoded: Vec<&str> = lines
        .lines()
        .skip_while(|l| !l.starts_with("raw: "))
        .skip(1)
        .take(30)
        .collect();
    assert_eq!(encoded.len(), 30, "{lines}");
    for line in &encoded {
        assert!(line.contains("***"), "{line} is not masked:\n{lines}");
        // The longest line encodes 5 + 26 + 2 bytes (44 characters); the
        // secret's stable part is at least 28 of them.
        assert!(line.len() - 3 <= 16, "too much of {line} is left");
    }
    let step_names: Vec<String> = out
        .events
        .iter()
        .filter_map(|e| match e {
            RunEvent::StepStarted { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    assert!(
        step_names.contains(&"encode ***".to_string()),
        "{step_names:?}"
    );
}

/// Processes whose environment holds `LEFTOVER_MARK=<mark>`.
fn marked(mark: &str) -> Vec<i32> {
    let needle = format!("LEFTOVER_MARK={mark}");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|env| env.split(|&b| b == 0).any(|v| v == needle.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

/// The marked processes still running after up to five seconds.
fn survivors(mark: &str) -> Vec<i32> {
    for _ in 0..50 {
        if marked(mark).is_empty() {
            return Vec::new();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    marked(mark)
}

/// Kills what a test left running, even when it fails.
struct KillMarked(String);

impl KillMarked {
    fn new(name: &str) -> Self {
        Self(format!("{name}-{}", std::process::id()))
    }
}

impl Drop for KillMarked {
    fn drop(&mut self) {
        for pid in marked(&self.0) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// Starts a `setsid` child, a `nohup` child and a double-forked child,
/// and gives them a moment to get going.
const ESCAPE: &str =
    "setsid sleep 300 & nohup sleep 300 >/dev/null 2>&1 & ( ( sleep 300 & ) & ) ; sleep 1;";

/// The everyday pattern: `server &` in one step, used by the next. On
/// GitHub a step's background processes live until the job ends; then
/// they are ended.
#[tokio::test]
async fn a_background_process_serves_later_steps_and_ends_with_the_job() {
    let mark = KillMarked::new("background");
    let out = run_with(
        &[],
        &format!(
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: 'sleep 300 & echo \"BG=$!\" >> \"$GITHUB_ENV\"'\n        env:\n          LEFTOVER_MARK: {m}\n      - run: 'kill -0 \"$BG\" && echo still-running'\n",
            m = mark.0
        ),
        |_| {},
        None,
    )
    .await;
    assert_eq!(out.conclusion, Conclusion::Success, "{}", out.all_lines());
    assert!(
        out.log("a").contains(&"still-running".to_string()),
        "{:?}",
        out.log("a")
    );
    assert_eq!(
        survivors(&mark.0),
        Vec::<i32>::new(),
        "the background process outlived the job"
    );
}

#[tokio::test]
async fn no_process_outlives_its_job() {
    let mark = KillMarked::new("job-end");
    let count = format!(
        "grep -alzx LEFTOVER_MARK={} /proc/[0-9]*/environ 2>/dev/null | wc -l",
        mark.0
    );
    let out = run_with(
        &[],
        &format!(
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: '{ESCAPE} echo started'\n        env:\n          LEFTOVER_MARK: {m}\n      - name: still there\n        run: 'echo \"alive=$({count})\"'\n",
            m = mark.0
        ),
        |_| {},
        None,
    )
    .await;
    assert_eq!(out.conclusion, Conclusion::Success, "{}", out.all_lines());
    // What escaped its step's process group lives on to the job's end, as
    // on GitHub, so a step can start a service for the next ones.
    assert!(
        out.log("a")
            .iter()
            .any(|l| l.starts_with("alive=") && l != "alive=0"),
        "{:?}",
        out.log("a")
    );
    assert_eq!(
        survivors(&mark.0),
        Vec::<i32>::new(),
        "processes outlived the job"
    );
}

/// A step that runs even after a failure or cancellation and prints
/// `left=N`, the number of processes still carrying `mark`.
fn leftover_check(mark: &str) -> String {
    format!(
        "      - name: check\n        if: always()\n        run: 'n=$(grep -alzx LEFTOVER_MARK={mark} /proc/[0-9]*/environ 2>/dev/null | wc -l || true); echo \"left=$n\"'\n"
    )
}

#[tokio::test]
async fn a_step_timeout_ends_what_the_step_started() {
    let mark = KillMarked::new("step-timeout");
    let out = run_with(
        &[],
        &format!(
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - name: hangs\n        timeout-minutes: 0.03\n        run: '{ESCAPE} sleep 30'\n        env:\n          LEFTOVER_MARK: {m}\n{check}",
            m = mark.0,
            check = leftover_check(&mark.0),
        ),
        |_| {},
        None,
    )
    .await;
    assert_eq!(
        out.step("a", "hangs"),
        Some((Conclusion::Failure, Conclusion::Failure))
    );
    assert!(
        out.log("a").contains(&"left=0".to_string()),
        "{:?}",
        out.log("a")
    );
    assert_eq!(survivors(&mark.0), Vec::<i32>::new());
}

#[tokio::test]
async fn cancelling_ends_what_the_steps_started() {
    let mark = KillMarked::new("cancel");
    let out = run_with(
        &[],
        &format!(
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: '{ESCAPE} sleep 30'\n        env:\n          LEFTOVER_MARK: {m}\n{check}",
            m = mark.0,
            check = leftover_check(&mark.0),
        ),
        |_| {},
        Some(Duration::from_millis(1800)),
    )
    .await;
    assert_eq!(out.conclusion, Conclusion::Cancelled);
    assert!(
        out.log("a").contains(&"left=0".to_string()),
        "{:?}",
        out.log("a")
    );
    assert_eq!(survivors(&mark.0), Vec::<i32>::new());
}

/// A gantry process that was killed (`kill -9`) left processes behind:
/// the next start ends them and says whose they were.
#[tokio::test]
async fn the_next_start_ends_what_a_killed_gantry_left() {
    use gantry_engine::run::reaper::{Leftover, TRACKING_VAR, end_leftovers};
    let mark = KillMarked::new("crashed");
    // Stands in for the gantry process that dies.
    let mut owner = std::process::Command::new("sleep")
        .arg("300")
        .spawn()
        .unwrap();
    let pid = owner.id();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let start = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(19)
        .unwrap()
        .to_string();
    let ns = std::fs::read_link("/proc/self/ns/pid").unwrap();
    let ns = ns
        .to_str()
        .unwrap()
        .trim_start_matches("pid:[")
        .trim_end_matches(']');
    let id = format!("gantry_{ns}_{pid}_{start}_1_4077_2_3");
    // The same owner seen from another pid namespace is left alone.
    let foreign = format!("gantry_1_{pid}_{start}_1_4078_2_3");
    let status = std::process::Command::new("bash")
        .args(["-c", ESCAPE])
        .env("LEFTOVER_MARK", &mark.0)
        .env(TRACKING_VAR, &id)
        .status()
        .unwrap();
    assert!(status.success());
    let foreign_mark = KillMarked::new("foreign");
    let mut other = std::process::Command::new("sleep")
        .arg("300")
        .env("LEFTOVER_MARK", &foreign_mark.0)
        .env(TRACKING_VAR, &foreign)
        .spawn()
        .unwrap();
    assert!(!marked(&mark.0).is_empty());
    // While the owner runs, nothing of it is touched.
    assert!(end_leftovers().iter().all(|l| l.owner_pid != pid));
    assert!(!marked(&mark.0).is_empty());
    owner.kill().unwrap();
    // A dead owner nobody has reaped yet (a zombie) is dead all the same.
    for _ in 0..100 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        if stat[stat.rfind(')').unwrap() + 1..]
            .trim_start()
            .starts_with('Z')
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let ended: Vec<Leftover> = end_leftovers()
        .into_iter()
        .filter(|l| l.owner_pid == pid)
        .collect();
    owner.wait().unwrap();
    // Three sleeps, and a subshell of the double fork if it is not gone yet.
    assert!(
        matches!(
            ended.as_slice(),
            [Leftover {
                run_id: 4077,
                processes: 3..=4,
                ..
            }]
        ),
        "{ended:?}"
    );
    let n = ended[0].processes;
    assert_eq!(
        ended[0].to_string(),
        format!("ended {n} processes left by run 4077 (pid {pid} crashed)")
    );
    assert_eq!(survivors(&mark.0), Vec::<i32>::new());
    assert_eq!(
        marked(&foreign_mark.0).len(),
        1,
        "another namespace's process was ended"
    );
    other.kill().unwrap();
    other.wait().unwrap();
}

#[tokio::test]
async fn huge_numbers_are_clear_errors_not_panics() {
    // Literal numbers out of range are reader errors (gantry-workflow's
    // numbers tests); numbers that expressions yield are checked at run time
    // with the same ranges.
    let out = run_wf(
        "on: push\njobs:\n  step:\n    runs-on: x\n    steps:\n      - name: huge\n        timeout-minutes: ${{ fromJSON('1e300') }}\n        run: echo never\n      - name: two-to-the-64\n        if: always()\n        timeout-minutes: ${{ fromJSON('18446744073709551616') }}\n        run: echo never\n  job:\n    runs-on: x\n    timeout-minutes: ${{ fromJSON('1e300') }}\n    steps: [{run: echo never}]\n  matrix:\n    runs-on: x\n    strategy:\n      max-parallel: ${{ fromJSON('1e300') }}\n      matrix:\n        n: [1, 2]\n    steps: [{run: echo never}]\n",
    )
    .await;
    assert_eq!(out.conclusion, Conclusion::Failure);
    let lines = out.all_lines();
    assert!(!lines.contains("never"), "{lines}");
    assert!(
        lines.contains("timeout-minutes must be at most 50400, not 1E+300"),
        "{lines}"
    );
    assert!(
        lines.contains("timeout-minutes must be at most 50400, not 1.84467440737096E+19"),
        "{lines}"
    );
    assert_eq!(out.job_result("job"), Some(Conclusion::Failure));
    let skipped = out.events.iter().find_map(|e| match e {
        RunEvent::JobSkipped { job, reason } if job == "matrix" => Some(reason.clone()),
        _ => None,
    });
    assert_eq!(
        skipped.as_deref(),
        Some("its strategy failed: max-parallel must be at most 2147483647, not 1E+300")
    );
    // `--jobs` out of range stops the run before it starts.
    let parsed = read_workflow(
        SourceFile::new(
            "w.yml",
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n",
        ),
        &ReadOptions::default(),
    );
    let dir = tempfile::tempdir().unwrap();
    for jobs in [0, usize::MAX] {
        let options = RunOptions {
            repo: dir.path().to_path_buf(),
            work_dir: dir.path().join("work"),
            event: Event::default(),
            sha: None,
            secrets: IndexMap::new(),
            vars: IndexMap::new(),
            parallel: jobs,
            include_uncommitted: false,
            skip_unsupported: false,
            grace: Duration::from_millis(300),
            keep_workspaces: false,
            selection: Default::default(),
            platforms: Vec::new(),
            actions: None,
            toolchain_mismatch: Default::default(),
            containers: Default::default(),
        };
        let backend = Arc::new(TestBackend::new(&dir.path().join("backend")));
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let result = run(
            Arc::new(parsed.value.clone().unwrap()),
            Arc::new(options),
            backend.clone(),
            Masker::new(),
            tx,
            Stop::default(),
        )
        .await;
        let error = result.unwrap_err();
        assert!(error.to_string().contains("--jobs"), "{error}");
        assert!(backend.recorded.lock().unwrap().runs.is_empty());
    }
}

#[tokio::test]
async fn artifacts_and_local_actions_stay_inside_the_workspace() {
    let step = |name: &str, body: &str| format!("  {name}:\n    runs-on: x\n    steps:\n{body}");
    let upload = |path: &str| {
        format!(
            "      - uses: actions/upload-artifact@v4\n        with:\n          name: n\n          path: {path}\n"
        )
    };
    let download =
        |with: &str| format!("      - uses: actions/download-artifact@v4\n        with:\n{with}");
    let jobs = [
        step("up-parent", &upload("../x")),
        step("up-glob-parent", &upload("'*/../../x'")),
        step("up-absolute", &upload("/etc/hostname")),
        step(
            "up-link",
            &format!(
                "      - run: mkdir d && echo ok > d/f && ln -s /etc d/etc && ln -s f d/inside\n{}",
                upload("d")
            ),
        ),
        step(
            "up-inside-link",
            &format!(
                "      - run: mkdir d && echo ok > d/f && ln -s f d/inside\n{}",
                upload("d")
            ),
        ),
        step("down-name", &download("          name: ../x\n")),
        step("down-path", &download("          path: ../out\n")),
        step(
            "down-absolute",
            &download("          path: /tmp/gantry-out\n"),
        ),
        step("action-parent", "      - uses: ./../outside\n"),
        step(
            "action-link",
            "      - run: mkdir -p \"$RUNNER_TEMP/act\" && ln -s \"$RUNNER_TEMP/act\" evil\n      - uses: ./evil\n",
        ),
    ];
    let workflow = format!("on: push\njobs:\n{}", jobs.concat());
    let out = run_wf(&workflow).await;
    let expect = [
        (
            "up-parent",
            "`../x` is outside the workspace; artifacts are uploaded from the workspace only",
        ),
        ("up-glob-parent", "`*/../../x` is outside the workspace"),
        ("up-absolute", "`/etc/hostname` is outside the workspace"),
        (
            "up-link",
            "`d/etc` is a symbolic link to /etc, outside the workspace",
        ),
        ("down-name", "`../x` is not an artifact name"),
        ("down-path", "`../out` is outside the workspace"),
        (
            "down-absolute",
            "`/tmp/gantry-out` is outside the workspace",
        ),
        (
            "action-parent",
            "'./../outside' resolves outside the repository",
        ),
        (
            "action-link",
            "'./evil' resolves outside the repository through the symbolic link 'evil'",
        ),
    ];
    for (job, message) in expect {
        assert_eq!(out.job_result(job), Some(Conclusion::Failure), "{job}");
        let log = out.log(job);
        assert!(log.iter().any(|l| l.contains(message)), "{job}: {log:?}");
    }
    assert_eq!(
        out.job_result("up-inside-link"),
        Some(Conclusion::Success),
        "{:?}",
        out.log("up-inside-link")
    );
    assert!(!std::path::Path::new("/tmp/gantry-out").exists());
}

#[tokio::test]
async fn every_failed_history_write_is_a_warning_of_the_run() {
    let o = run_failing_history(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n",
    )
    .await;
    // The run itself succeeds; only its record is incomplete, and says so.
    assert_eq!(o.conclusion, Conclusion::Success);
    let warnings = o.log("");
    for what in [
        "a step's start",
        "a step's end",
        "a job's end",
        "the run's end",
    ] {
        let line = format!("warning: failed to record {what}: the disk is full");
        assert!(warnings.contains(&line), "{line:?} not in {warnings:#?}");
    }
}

#[tokio::test]
async fn the_event_stream_starts_with_its_version() {
    let o = run_wf(
        "name: W\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n",
    )
    .await;
    let first = serde_json::to_value(&o.events[0]).unwrap();
    assert_eq!(first["type"], "run-started");
    assert_eq!(first["version"], 1);
    assert_eq!(first["workflow"], "W");
    assert_eq!(first["ref"], "refs/heads/main");
}

/// A job skipped because its `if:` failed says why, and the reason may
/// quote the value that broke it: a value masked earlier in the run
/// (`::add-mask::`) stays masked there as in any log line.
#[tokio::test]
async fn a_skip_reason_that_quotes_a_masked_value_is_masked() {
    let out = run_with(
        &[],
        "on: push\njobs:\n  mask:\n    runs-on: x\n    steps: [{run: 'echo ::add-mask::hunter2-{'}]\n  a:\n    needs: mask\n    runs-on: x\n    if: ${{ format(vars.V) }}\n    steps: [{run: echo never}]\n",
        |o| {
            o.vars.insert("V".into(), "hunter2-{".into());
        },
        None,
    )
    .await;
    let reason = out
        .events
        .iter()
        .find_map(|e| match e {
            RunEvent::JobSkipped { job, reason } if job == "a" => Some(reason.clone()),
            _ => None,
        })
        .expect("job a was skipped");
    assert!(reason.contains("***"), "{reason}");
    assert!(!reason.contains("hunter2"), "{reason}");
}

#[tokio::test]
async fn a_windows_or_macos_job_is_refused_unless_its_label_is_mapped_here() {
    let wf = "on: push\njobs:\n  win:\n    runs-on: windows-latest\n    steps: [{run: echo ran}]\n  mac:\n    strategy:\n      fail-fast: false\n      matrix:\n        os: [ubuntu-latest, macos-14]\n    runs-on: ${{ matrix.os }}\n    steps: [{run: echo ran}]\n";
    let out = run_wf(wf).await;
    assert_eq!(out.job_result("win"), Some(Conclusion::Failure));
    assert!(
        out.all_lines().contains(
            "`runs-on: windows-latest` asks for a Windows runner, and gantry runs jobs on this Linux machine; if the job runs here too, map the label to it with `-P windows-latest=host`"
        ),
        "{}",
        out.all_lines()
    );
    assert_eq!(
        out.job_result("mac (ubuntu-latest)"),
        Some(Conclusion::Success)
    );
    assert_eq!(out.job_result("mac (macos-14)"), Some(Conclusion::Failure));
    assert!(!out.log("win").contains(&"ran".to_string()));

    let mapped = run_with(
        &[],
        wf,
        |o| o.platforms = vec![("windows-latest".into(), "host".into())],
        None,
    )
    .await;
    assert_eq!(mapped.job_result("win"), Some(Conclusion::Success));
    assert!(mapped.log("win").contains(&"ran".to_string()));
}

/// A folder of stand-in interpreters that print the version they are.
fn fake_pythons(dir: &std::path::Path, versions: &[&str]) {
    use std::os::unix::fs::PermissionsExt;
    for v in versions {
        let minor = v.rsplit_once('.').map_or(*v, |(head, _)| head);
        let path = dir.join(format!("python{minor}"));
        std::fs::write(&path, format!("#!/bin/sh\necho 'Python {v}'\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// setup-python picks the installed interpreter the request names (here
/// `python3.12` on the PATH beside another), and the job's later steps
/// call it as `python` and `python3`; a version nothing satisfies fails
/// naming what is installed, or, with `--toolchain-mismatch warn`, runs
/// the nearest with a warning.
#[tokio::test]
async fn setup_python_uses_the_installed_interpreter_the_request_names() {
    let tools = tempfile::tempdir().unwrap();
    fake_pythons(tools.path(), &["3.12.4", "3.9.18"]);
    let workflow = |version: &str| {
        format!(
            "on: push\njobs:\n  a:\n    runs-on: x\n    env:\n      PATH: {dir}:/usr/bin:/bin\n      HOME: {dir}\n    steps:\n      - id: py\n        uses: actions/setup-python@v5\n        with:\n          python-version: '{version}'\n      - run: echo \"$(python --version) $(python3 --version) ${{{{ steps.py.outputs.python-version }}}}\"\n",
            dir = tools.path().display()
        )
    };
    let out = run_wf(&workflow("3.12")).await;
    assert_eq!(out.conclusion, Conclusion::Success, "{}", out.all_lines());
    assert!(
        out.log("a")
            .contains(&"Python 3.12.4 Python 3.12.4 3.12.4".to_string()),
        "{}",
        out.all_lines()
    );

    let out = run_wf(&workflow("3.99")).await;
    assert_eq!(out.conclusion, Conclusion::Failure);
    let log = out.log("a").join("\n");
    assert!(
        log.contains("asks for Python 3.99") && log.contains("3.12.4") && log.contains("3.9.18"),
        "{log}"
    );
    assert!(log.contains("--toolchain-mismatch warn"), "{log}");

    let out = run_with(
        &[],
        &workflow("3.99"),
        |o| o.toolchain_mismatch = gantry_engine::run::ToolchainMismatch::Warn,
        None,
    )
    .await;
    assert_eq!(out.conclusion, Conclusion::Success, "{}", out.all_lines());
    let log = out.log("a").join("\n");
    assert!(log.contains("using the nearest, 3.12.4"), "{log}");
    assert!(log.contains("Python 3.12.4 Python 3.12.4 3.12.4"), "{log}");
}
