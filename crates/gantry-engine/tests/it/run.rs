//! `gantry run` semantics on small fixture workflows: scheduling, steps,
//! command files, masking, caches, artifacts, actions, failure paths.

use std::time::Duration;

use gantry_engine::run::{Conclusion, RunEvent};

use crate::common::{run_wf, run_with};

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
    let skipped = run_with(&[], wf, |o| o.skip_unsupported = true, None).await;
    assert_eq!(skipped.conclusion, Conclusion::Success);
    assert!(skipped.log("a").contains(&"next".to_string()));
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
