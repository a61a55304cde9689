//! Jobs with `container:` and `services:`: against a real podman and a
//! busybox image built here (skipped, with the reason printed, where
//! podman cannot run containers), and against a FAKE engine (a recording
//! shell script) for the expression contexts and the command lines,
//! whatever this machine has.

use std::time::Duration;

use gantry_container::{Engine, EngineChoice, EngineKind};
use gantry_engine::run::{Conclusion, RunOptions};

use crate::common::{Outcome, run_with};

#[path = "../../../gantry-container/tests/it/common/fake.rs"]
mod fake;
#[path = "../../../gantry-container/tests/it/common/podman.rs"]
mod podman;

use podman::IMAGE;

fn with_engine(engine: Engine) -> impl FnOnce(&mut RunOptions) {
    move |o: &mut RunOptions| {
        o.containers.engine = EngineChoice::Given(engine);
        o.containers.health_timeout = Duration::from_secs(40);
    }
}

/// The networks a run's jobs created, from their logs.
fn networks(outcome: &Outcome) -> Vec<String> {
    outcome
        .all_lines()
        .lines()
        .filter_map(|l| l.strip_prefix("creating the network "))
        .map(str::to_string)
        .collect()
}

fn assert_nothing_left(podman: &podman::Podman, outcome: &Outcome) {
    let nets = networks(outcome);
    assert!(!nets.is_empty(), "{}", outcome.all_lines());
    for net in nets {
        podman.assert_gone(&net);
    }
}

const HEALTHY_WEB: &str = r#"
      web:
        image: IMAGE
        options: >-
          --health-cmd "wget -q -O /dev/null http://127.0.0.1:8080/bin/busybox"
          --health-interval 1s --health-retries 20
        ports: ["8080"]
"#;

fn workflow(jobs: &str) -> String {
    format!("on: push\njobs:\n{jobs}").replace("IMAGE", IMAGE)
}

#[tokio::test]
async fn a_job_container_reaches_its_service_by_name() {
    let Some(podman) = podman::podman() else {
        return;
    };
    let wf = workflow(&format!(
        r#"  inside:
    runs-on: ubuntu-latest
    container:
      image: IMAGE
      env:
        FROM_CONTAINER: set in the container
    services:{HEALTHY_WEB}
    outputs:
      size: ${{{{ steps.get.outputs.size }}}}
    steps:
      - id: get
        run: |
          wget -q -O "$RUNNER_TEMP/busybox" http://web:8080/bin/busybox
          echo "size=$(wc -c < "$RUNNER_TEMP/busybox" | tr -d ' ')" >> "$GITHUB_OUTPUT"
          echo "SEEN=yes" >> "$GITHUB_ENV"
          mkdir -p "$GITHUB_WORKSPACE/tools" && echo "$GITHUB_WORKSPACE/tools" >> "$GITHUB_PATH"
      - run: |
          echo "env: $FROM_CONTAINER, $SEEN, path: $PATH"
          echo "in: $(cat /proc/1/cmdline | tr '\0' ' ')"
          echo "net: ${{{{ job.container.network }}}} port: ${{{{ job.services.web.ports['8080'] }}}}"
  after:
    needs: inside
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "size from the container job: ${{{{ needs.inside.outputs.size }}}}"
"#
    ));
    let outcome = run_with(
        &[],
        &wf,
        with_engine(Engine::new(EngineKind::Podman, &podman.wrapper)),
        None,
    )
    .await;
    let log = outcome.all_lines();
    assert_eq!(
        outcome.job_result("inside"),
        Some(Conclusion::Success),
        "{log}"
    );
    let size = std::fs::metadata("/bin/busybox")
        .or_else(|_| std::fs::metadata("/usr/bin/busybox"))
        .unwrap()
        .len();
    assert!(
        log.contains("env: set in the container, yes, path: "),
        "{log}"
    );
    // `$GITHUB_PATH` goes before the image's PATH, inside the container.
    assert!(log.contains("/workspace/tools:/bin"), "{log}");
    // PID 1 is the job container's `tail -f /dev/null`: the steps ran in it.
    assert!(log.contains("in: tail -f /dev/null"), "{log}");
    let net = &networks(&outcome)[0];
    assert!(log.contains(&format!("net: {net} port: ")), "{log}");
    assert!(
        log.contains(&format!("size from the container job: {size}")),
        "{log}"
    );
    assert_nothing_left(podman, &outcome);
}

#[tokio::test]
async fn a_host_job_reaches_its_service_on_a_localhost_port() {
    let Some(podman) = podman::podman() else {
        return;
    };
    let wf = workflow(&format!(
        r#"  host:
    runs-on: ubuntu-latest
    services:{HEALTHY_WEB}
    steps:
      - run: |
          port=${{{{ job.services.web.ports['8080'] }}}}
          exec 3<>/dev/tcp/127.0.0.1/$port
          printf 'GET /bin/busybox HTTP/1.0\r\n\r\n' >&3
          head -c 15 <&3; echo
"#
    ));
    let outcome = run_with(
        &[],
        &wf,
        with_engine(Engine::new(EngineKind::Podman, &podman.wrapper)),
        None,
    )
    .await;
    let log = outcome.all_lines();
    assert_eq!(
        outcome.job_result("host"),
        Some(Conclusion::Success),
        "{log}"
    );
    assert!(
        log.contains("HTTP/1.1 200 OK") || log.contains("HTTP/1.0 200 OK"),
        "{log}"
    );
    assert_nothing_left(podman, &outcome);
}

#[tokio::test]
async fn a_failing_step_still_removes_everything() {
    let Some(podman) = podman::podman() else {
        return;
    };
    let wf = workflow(
        r#"  fails:
    runs-on: ubuntu-latest
    container: IMAGE
    services:
      web:
        image: IMAGE
    steps:
      - run: exit 3
      - if: always()
        run: echo "cleanup step ran in $(cat /proc/1/cmdline | tr '\0' ' ')"
"#,
    );
    let outcome = run_with(
        &[],
        &wf,
        with_engine(Engine::new(EngineKind::Podman, &podman.wrapper)),
        None,
    )
    .await;
    let log = outcome.all_lines();
    assert_eq!(
        outcome.job_result("fails"),
        Some(Conclusion::Failure),
        "{log}"
    );
    assert!(log.contains("process completed with exit code 3"), "{log}");
    assert!(
        log.contains("cleanup step ran in tail -f /dev/null"),
        "{log}"
    );
    assert_nothing_left(podman, &outcome);
}

#[tokio::test]
async fn cancelling_while_a_service_starts_removes_it() {
    let Some(podman) = podman::podman() else {
        return;
    };
    let wf = workflow(
        r#"  waits:
    runs-on: ubuntu-latest
    services:
      never:
        image: IMAGE
        options: --health-cmd false --health-interval 1s --health-retries 1000
    steps:
      - run: echo "never printed"
"#,
    );
    let outcome = run_with(
        &[],
        &wf,
        with_engine(Engine::new(EngineKind::Podman, &podman.wrapper)),
        Some(Duration::from_secs(3)),
    )
    .await;
    let log = outcome.all_lines();
    assert_eq!(
        outcome.job_result("waits"),
        Some(Conclusion::Cancelled),
        "{log}"
    );
    assert!(!log.contains("never printed"), "{log}");
    assert!(
        log.contains("cancelled while its containers started"),
        "{log}"
    );
    assert_nothing_left(podman, &outcome);
}

#[tokio::test]
async fn service_contexts_and_command_lines_with_a_fake_engine() {
    // FAKE engine: the script records its command lines and answers as
    // podman would (ports 8080 → 40001).
    let fake = fake::Fake::new(EngineKind::Podman);
    let wf = r#"on: push
env:
  DB_USER: app
jobs:
  host:
    runs-on: ubuntu-latest
    services:
      db:
        image: ghcr.io/octo/db:${{ github.ref_name }}
        env:
          APP_USER: ${{ env.DB_USER }}
          PASSWORD: ${{ secrets.DB_PASSWORD }}
        ports: ["8080"]
        options: --health-cmd "pg_isready -U app"
        credentials:
          username: octo
          password: ${{ secrets.REGISTRY_TOKEN }}
      skipped:
        image: ${{ '' }}
    steps:
      - run: echo "port=${{ job.services.db.ports['8080'] }} id=${{ job.services.db.id }} net=${{ job.services.db.network }}"
"#;
    let engine = fake.engine.clone();
    let outcome = run_with(
        &[],
        wf,
        move |o| {
            with_engine(engine)(o);
            o.secrets.insert("DB_PASSWORD".into(), "pa55".into());
            o.secrets.insert("REGISTRY_TOKEN".into(), "t0ken".into());
        },
        None,
    )
    .await;
    let log = outcome.all_lines();
    assert_eq!(
        outcome.job_result("host"),
        Some(Conclusion::Success),
        "{log}"
    );
    // The first job of a process also looks for leftovers (`ps`,
    // `network ls`); that is tested on its own.
    let calls: Vec<String> = fake
        .calls()
        .into_iter()
        .filter(|c| !c.starts_with("ps ") && !c.starts_with("network ls "))
        .collect();
    let net = calls[0].strip_prefix("network create ").unwrap();
    let net = net.rsplit(' ').next().unwrap().to_string();
    assert!(
        log.contains(&format!("port=40001 id=0123abcd3 net={net}")),
        "{log}"
    );
    assert!(
        log.contains("service `skipped` has no image and is not started"),
        "{log}"
    );
    assert_eq!(calls[1], "login --username octo --password-stdin ghcr.io");
    assert_eq!(
        calls[2],
        format!(
            "run --detach --name {net}-db --network {net} --label gantry.pid={pid} --label gantry.ns={ns} --label gantry.job=host -e APP_USER -e PASSWORD --publish 127.0.0.1::8080 --network-alias db --health-cmd pg_isready -U app ghcr.io/octo/db:main",
            pid = std::process::id(),
            ns = gantry_container::sweep::pid_namespace()
        )
    );
    assert_eq!(fake.env(), ["APP_USER=app", "PASSWORD=pa55"]);
    assert_eq!(
        std::fs::read_to_string(fake.path("password")).unwrap(),
        "t0ken"
    );
    assert_eq!(
        calls[calls.len() - 2..],
        [
            format!("rm --force --volumes --time 0 {net}-db"),
            format!("network rm {net}"),
        ]
    );
    assert!(
        !calls
            .iter()
            .any(|c| c.contains("pa55") || c.contains("t0ken"))
    );
}

#[tokio::test]
async fn services_from_an_expression_with_entrypoint_and_command_with_a_fake_engine() {
    // FAKE engine. `services:` as one expression (GitHub's reader allows
    // it), a written service's `entrypoint` and `command`, and credentials
    // given as one expression.
    let fake = fake::Fake::new(EngineKind::Podman);
    let wf = r#"on: push
jobs:
  host:
    runs-on: ubuntu-latest
    services: ${{ fromJSON('{"cache":{"image":"ghcr.io/octo/cache:7","entrypoint":"cache-server","command":"--save 60 --port 6379","env":{"MODE":"fast"},"credentials":{"username":"octo","password":"s3cret"}}}') }}
    steps:
      - run: echo "cache=${{ job.services.cache.id }}"
  written:
    runs-on: ubuntu-latest
    services:
      redis:
        image: redis:7
        entrypoint: redis-server
        command: --save 60 1
    steps:
      - run: echo ok
"#;
    let engine = fake.engine.clone();
    let outcome = run_with(&[], wf, move |o| with_engine(engine)(o), None).await;
    let log = outcome.all_lines();
    assert_eq!(
        outcome.job_result("host"),
        Some(Conclusion::Success),
        "{log}"
    );
    assert_eq!(
        outcome.job_result("written"),
        Some(Conclusion::Success),
        "{log}"
    );
    assert!(log.contains("cache=0123abcd"), "{log}");
    let calls = fake.calls();
    let run_of = |image: &str| {
        calls
            .iter()
            .find(|c| c.starts_with("run --detach") && c.contains(image))
            .cloned()
            .unwrap_or_else(|| panic!("no run of {image}: {calls:?}"))
    };
    let cache = run_of("ghcr.io/octo/cache:7");
    assert!(cache.contains("--entrypoint cache-server"), "{cache}");
    assert!(
        cache.ends_with("ghcr.io/octo/cache:7 --save 60 --port 6379"),
        "{cache}"
    );
    assert!(cache.contains("-e MODE"), "{cache}");
    assert!(
        calls
            .iter()
            .any(|c| c == "login --username octo --password-stdin ghcr.io"),
        "{calls:?}"
    );
    let redis = run_of("redis:7");
    assert!(redis.contains("--entrypoint redis-server"), "{redis}");
    assert!(redis.ends_with("redis:7 --save 60 1"), "{redis}");
    assert!(!calls.iter().any(|c| c.contains("s3cret")), "{calls:?}");
}

#[tokio::test]
async fn a_service_that_cannot_start_fails_the_job_before_its_steps() {
    let fake = fake::Fake::new(EngineKind::Docker);
    fake.set("fail-run", "");
    let wf = "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    services:\n      db: postgres:16\n    steps:\n      - run: echo step ran\n";
    let outcome = run_with(&[], wf, with_engine(fake.engine.clone()), None).await;
    let log = outcome.all_lines();
    assert_eq!(outcome.job_result("j"), Some(Conclusion::Failure), "{log}");
    assert!(
        log.contains(
            "starting service `db`: `docker run` failed with exit code 125: Error: run refused"
        ),
        "{log}"
    );
    assert!(!log.contains("step ran"), "{log}");
    let calls = fake.calls();
    assert!(
        calls.last().unwrap().starts_with("network rm gantry-"),
        "{calls:#?}"
    );
}

const DOCKER_ACTION: &str = r#"name: hello
inputs:
  who:
    required: true
  greeting:
    default: hello
outputs:
  said:
    description: what it said
runs:
  using: docker
  image: Dockerfile
  args: ["${{ inputs.greeting }}", "${{ inputs.who }}"]
  env:
    FROM_ACTION: set by action.yml
  post-entrypoint: /post.sh
"#;

const ENTRYPOINT: &str = r#"#!/bin/sh
echo "args: $*"
echo "input: $INPUT_WHO, env: $FROM_ACTION, workdir: $(pwd), home: $HOME"
cat "$GITHUB_EVENT_PATH" > /dev/null && echo "event readable"
test -f checked-out.txt && echo "workspace mounted"
echo "said=$1 $2" >> "$GITHUB_OUTPUT"
echo "FROM_DOCKER=yes" >> "$GITHUB_ENV"
"#;

#[tokio::test]
async fn docker_actions_build_run_and_post_as_on_github() {
    let Some(podman) = podman::podman() else {
        return;
    };
    let dockerfile = format!(
        "FROM {IMAGE}\nCOPY entrypoint.sh post.sh /\nRUN chmod +x /entrypoint.sh /post.sh\nENTRYPOINT [\"/entrypoint.sh\"]\n"
    );
    let wf = r#"on: push
jobs:
  act:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo hi > checked-out.txt
      - id: hello
        uses: ./.github/actions/hello
        with:
          who: octocat
      - run: |
          echo "output: ${{ steps.hello.outputs.said }}, env: $FROM_DOCKER"
      - uses: docker://IMAGE
        with:
          entrypoint: /bin/sh
          args: -c "echo from a docker step in $(pwd) with $INPUT_COLOR"
          color: blue
"#
    .replace("IMAGE", IMAGE);
    let files = [
        (".github/actions/hello/action.yml", DOCKER_ACTION),
        (".github/actions/hello/Dockerfile", dockerfile.as_str()),
        (".github/actions/hello/entrypoint.sh", ENTRYPOINT),
        (
            ".github/actions/hello/post.sh",
            "#!/bin/sh\necho \"post ran for $INPUT_WHO\"\n",
        ),
    ];
    let outcome = run_with(
        &files,
        &wf,
        with_engine(Engine::new(EngineKind::Podman, &podman.wrapper)),
        None,
    )
    .await;
    let log = outcome.all_lines();
    assert_eq!(
        outcome.job_result("act"),
        Some(Conclusion::Success),
        "{log}"
    );
    for line in [
        "args: hello octocat",
        "input: octocat, env: set by action.yml, workdir: /github/workspace, home: /github/home",
        "event readable",
        "workspace mounted",
        "output: hello octocat, env: yes",
        "from a docker step in /github/workspace with blue",
        "post ran for octocat",
    ] {
        assert!(log.contains(line), "{line}\n{log}");
    }
    let left: Vec<String> = podman
        .containers()
        .into_iter()
        .filter(|c| c.starts_with(&format!("gantry-{}-action-", std::process::id())))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // The image built for the action (tagged per action) goes with the test.
    let tag = log
        .lines()
        .find_map(|l| l.strip_prefix("building the image of `./.github/actions/hello` ("))
        .and_then(|t| t.strip_suffix(')'))
        .unwrap();
    assert!(tag.starts_with("localhost/gantry-action-"), "{tag}");
    podman.run(&["rmi", tag]).unwrap();
}

#[tokio::test]
async fn steps_of_a_container_job_run_with_exec_with_a_fake_engine() {
    // FAKE engine: `exec` prints a line and succeeds; its image has no bash.
    let fake = fake::Fake::new(EngineKind::Docker);
    let wf = r#"on: push
jobs:
  build:
    runs-on: ubuntu-latest
    container:
      image: node:20
      env:
        NODE_ENV: test
    steps:
      - run: echo "hi $SECRET"
        env:
          SECRET: ${{ secrets.TOKEN }}
      - run: echo "/opt/tools" >> "$GITHUB_PATH"
        shell: bash
"#;
    let engine = fake.engine.clone();
    let outcome = run_with(
        &[],
        wf,
        move |o| {
            with_engine(engine)(o);
            o.secrets.insert("TOKEN".into(), "s3cr3t".into());
        },
        None,
    )
    .await;
    let log = outcome.all_lines();
    assert_eq!(
        outcome.job_result("build"),
        Some(Conclusion::Success),
        "{log}"
    );
    assert!(log.contains("ran in the fake container"), "{log}");
    let calls: Vec<String> = fake
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("exec "))
        .collect();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    assert!(calls[0].ends_with(" bash -c true"), "{calls:#?}");
    for step in &calls[1..] {
        assert!(step.starts_with("exec --workdir /"), "{step}");
        assert!(
            step.contains("/workspace -e CI -e GITHUB_ACTIONS -e GITHUB_WORKSPACE "),
            "{step}"
        );
        // This machine's variables stay out of the container.
        assert!(
            !step.contains("-e HOME") && !step.contains("-e CARGO"),
            "{step}"
        );
    }
    // No bash in the image: the default shell is sh; `shell: bash` is
    // asked for by name, not looked up on this machine.
    assert!(calls[1].contains(" -e SECRET "), "{}", calls[1]);
    assert!(
        calls[1].ends_with("-job sh -e -c echo \"hi $SECRET\""),
        "{}",
        calls[1]
    );
    assert!(
        calls[2].ends_with(
            "-job bash --noprofile --norc -eo pipefail -c echo \"/opt/tools\" >> \"$GITHUB_PATH\""
        ),
        "{}",
        calls[2]
    );
    assert!(
        fake.env().contains(&"SECRET=s3cr3t".to_string()),
        "{:?}",
        fake.env()
    );
    assert!(!fake.calls().iter().any(|c| c.contains("s3cr3t")));
}

#[tokio::test]
async fn an_image_from_an_expression_cannot_smuggle_options() {
    let fake = fake::Fake::new(EngineKind::Podman);
    let wf = "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    container: ${{ vars.IMAGE }}\n    steps:\n      - run: echo never\n";
    let engine = fake.engine.clone();
    let outcome = run_with(
        &[],
        wf,
        move |o| {
            with_engine(engine)(o);
            o.vars.insert("IMAGE".into(), "--privileged".into());
        },
        None,
    )
    .await;
    let log = outcome.all_lines();
    assert_eq!(outcome.job_result("j"), Some(Conclusion::Failure), "{log}");
    assert!(
        log.contains("container image: `--privileged` is not an image reference"),
        "{log}"
    );
    assert!(fake.calls().is_empty(), "{:#?}", fake.calls());
}

#[tokio::test]
async fn a_timed_out_step_in_the_container_ends_there_and_background_ones_live_on() {
    let Some(podman) = podman::podman() else {
        return;
    };
    let wf = workflow(
        r#"  inside:
    runs-on: ubuntu-latest
    container: IMAGE
    steps:
      - run: sleep 301 > /dev/null 2>&1 &
      - run: sleep 302
        timeout-minutes: 0.05
      - if: always()
        run: |
          ps -o pid,args | grep -v grep | grep -c 'sleep 30[12]$' || true
          ps -o pid,args | grep -v grep | grep 'sleep 30[12]$' | sed 's/.* //'
"#,
    );
    let outcome = run_with(
        &[],
        &wf,
        with_engine(Engine::new(EngineKind::Podman, &podman.wrapper)),
        None,
    )
    .await;
    let log = outcome.log("inside");
    assert_eq!(
        outcome.job_result("inside"),
        Some(Conclusion::Failure),
        "{log:#?}"
    );
    assert!(
        log.iter()
            .any(|l| l == "the step ran past its timeout and was stopped"
                || l.ends_with("ran past its timeout and was stopped")),
        "{log:#?}"
    );
    // The timed-out step's sleep is gone from the container (its tracking
    // id); the background one of the first step lives until the job ends.
    let i = log
        .iter()
        .position(|l| l == "1")
        .unwrap_or_else(|| panic!("{log:#?}"));
    assert_eq!(log[i + 1], "301", "{log:#?}");
    assert_nothing_left(podman, &outcome);
}
