//! A run whose process is killed is marked as crashed by the next process
//! that opens the store; a run whose process lives is not.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use gantry_store::{Conclusion, DeploymentState, NewDeployment, NewStep, RunId, Store};

/// Set in the child process: the home folder to record into.
const CHILD_HOME: &str = "GANTRY_STORE_TEST_CRASH_HOME";
const TEST_NAME: &str = "crash::a_killed_run_is_marked_crashed_and_a_live_one_is_not";

/// The child: begins a run, says so, and waits until its stdin closes.
fn child(home: &Path) {
    let store = Store::open(home).unwrap();
    let (run, job) = crate::common::begin_run_and_job(&store, "build");
    store
        .begin_step(
            job,
            &NewStep {
                index: 0,
                step_id: None,
                name: "make".into(),
            },
        )
        .unwrap();
    // Its job deploys.
    let deployment = store
        .create_deployment(&NewDeployment {
            environment: "production".into(),
            run: Some(run),
            job_id: "build".into(),
            ..NewDeployment::default()
        })
        .unwrap();
    store
        .set_deployment_state(deployment.id, DeploymentState::InProgress, None, None)
        .unwrap();
    // The test harness may have printed part of a line: start a new one.
    println!("\nready {run}");
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
}

fn spawn_child(home: &Path) -> (Child, RunId) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD_HOME, home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let run = loop {
        let line = lines
            .next()
            .expect("the child ended before it began a run")
            .unwrap();
        if let Some(id) = line.strip_prefix("ready ") {
            break id.trim().parse::<RunId>().unwrap();
        }
    };
    // Keep reading, so that the child can write its test report.
    std::thread::spawn(move || lines.for_each(drop));
    (child, run)
}

#[test]
fn a_killed_run_is_marked_crashed_and_a_live_one_is_not() {
    if let Some(home) = std::env::var_os(CHILD_HOME) {
        child(Path::new(&home));
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let (mut live, live_run) = spawn_child(home.path());
    let (mut doomed, doomed_run) = spawn_child(home.path());

    // Both alive: nothing is marked.
    let store = Store::open(home.path()).unwrap();
    assert!(store.crashed_on_open().is_empty());
    assert_eq!(store.run(doomed_run).unwrap().unwrap().run.conclusion, None);
    drop(store);

    doomed.kill().unwrap();
    doomed.wait().unwrap();

    let store = Store::open(home.path()).unwrap();
    assert_eq!(store.crashed_on_open(), [doomed_run]);
    let detail = store.run(doomed_run).unwrap().unwrap();
    assert_eq!(detail.run.conclusion, Some(Conclusion::Crashed));
    assert_eq!(detail.jobs[0].conclusion, Some(Conclusion::Crashed));
    assert_eq!(
        detail.jobs[0].steps[0].conclusion,
        Some(Conclusion::Crashed)
    );
    // Its deployment ended in error; the live run's goes on.
    let deployment = &store.deployments_of_run(doomed_run).unwrap()[0];
    assert_eq!(deployment.state, DeploymentState::Error);
    assert_eq!(
        deployment.description.as_deref(),
        Some("the run's process died")
    );
    assert_eq!(
        store.deployments_of_run(live_run).unwrap()[0].state,
        DeploymentState::InProgress
    );
    // The live run is untouched.
    assert_eq!(store.run(live_run).unwrap().unwrap().run.conclusion, None);
    // Marking is done once.
    assert!(store.mark_crashed_runs().unwrap().is_empty());

    drop(live.stdin.take());
    assert!(live.wait().unwrap().success());
}
