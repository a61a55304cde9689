//! The lifecycle against a FAKE engine (a shell script that records its
//! command lines and answers as podman or docker would): the order of the
//! commands, what reaches the client's environment and stdin, and that
//! everything started is removed on every path. The same lifecycle runs
//! against a real podman in `real.rs`.

use std::time::Duration;

use gantry_container::{
    ContainerSpec, Credentials, EngineKind, JobContainer, JobSetup, Mount, StartError, start,
};
use tokio_util::sync::CancellationToken;

use crate::common::Fake;

fn setup(fake: &Fake, with_container: bool) -> JobSetup {
    JobSetup {
        name: "gantry-7-1".into(),
        labels: vec![("gantry.job".into(), "test".into())],
        services: vec![(
            "db".into(),
            ContainerSpec {
                image: "ghcr.io/octo/db:1".into(),
                env: vec![("POSTGRES_PASSWORD".into(), "pw 1".into())],
                ports: vec!["8080".into()],
                options: vec!["--health-cmd".into(), "true".into()],
                credentials: Some(Credentials {
                    username: "octo".into(),
                    password: "hunter2".into(),
                }),
                ..ContainerSpec::default()
            },
        )],
        container: with_container.then(|| JobContainer {
            spec: ContainerSpec {
                image: "localhost/build:1".into(),
                ..ContainerSpec::default()
            },
            mounts: vec![Mount {
                host: "/w".into(),
                container: "/w".into(),
                read_only: false,
            }],
            workdir: "/w/ws".into(),
        }),
        health_timeout: Duration::from_secs(3),
        auth_dir: fake.path("auth"),
    }
}

async fn start_quietly(
    fake: &Fake,
    setup: JobSetup,
    cancel: &CancellationToken,
) -> Result<gantry_container::Started, StartError> {
    let mut said = Vec::new();
    let mut say = |line: String| said.push(line);
    start(&fake.engine, setup, cancel, &mut say).await
}

#[tokio::test]
async fn a_job_starts_logs_in_and_is_removed_in_order() {
    let fake = Fake::new(EngineKind::Podman);
    let started = start_quietly(&fake, setup(&fake, true), &CancellationToken::new())
        .await
        .unwrap();
    let state = gantry_container::args::STATE_FORMAT;
    assert_eq!(
        fake.calls(),
        vec![
            "network create --label gantry.job=test gantry-7-1".to_string(),
            "login --username octo --password-stdin ghcr.io".into(),
            "run --detach --name gantry-7-1-db --network gantry-7-1 --label gantry.job=test -e POSTGRES_PASSWORD --publish 127.0.0.1::8080 --network-alias db --health-cmd true ghcr.io/octo/db:1".into(),
            "port gantry-7-1-db".into(),
            format!("inspect --format {state} gantry-7-1-db"),
            "run --detach --name gantry-7-1-job --network gantry-7-1 --label gantry.job=test --volume /w:/w --workdir /w/ws --entrypoint tail localhost/build:1 -f /dev/null".into(),
            "inspect --format {{range .Config.Env}}{{println .}}{{end}} gantry-7-1-job".into(),
            "exec gantry-7-1-job bash -c true".into(),
        ]
    );
    // The password went through stdin, the auth file is the job's own,
    // and the service's variable reached the client by name.
    assert_eq!(
        std::fs::read_to_string(fake.path("password")).unwrap(),
        "hunter2"
    );
    let auth_file = fake.path("auth").join("auth.json").display().to_string();
    assert_eq!(
        std::fs::read_to_string(fake.path("auth-env"))
            .unwrap()
            .trim(),
        auth_file
    );
    assert_eq!(fake.env(), vec!["POSTGRES_PASSWORD=pw 1".to_string()]);
    assert!(
        !fake
            .calls()
            .iter()
            .any(|c| c.contains("hunter2") || c.contains("pw 1"))
    );
    assert_eq!(
        started.client_env,
        vec![("REGISTRY_AUTH_FILE".to_string(), auth_file)]
    );

    let db = &started.services["db"];
    assert_eq!(db.id, "0123abcd3");
    assert_eq!(
        db.ports
            .iter()
            .map(|(a, b)| format!("{a}>{b}"))
            .collect::<Vec<_>>(),
        ["8080>40001", "53/udp>40002"]
    );
    let job = started.container.as_ref().unwrap();
    assert_eq!(job.name, "gantry-7-1-job");
    assert_eq!(job.path.as_deref(), Some("/usr/local/bin:/usr/bin:/bin"));
    assert!(!job.has_bash, "the fake's exec fails, so there is no bash");
    assert_eq!(started.network, "gantry-7-1");

    let before = fake.calls().len();
    started.cleanup.remove().await.unwrap();
    assert_eq!(
        fake.calls()[before..],
        [
            "rm --force --volumes --time 0 gantry-7-1-db gantry-7-1-job".to_string(),
            "network rm gantry-7-1".into(),
        ]
    );
    assert!(
        !fake.path("auth").exists(),
        "the credentials are removed with the job"
    );
}

#[tokio::test]
async fn dropping_what_started_removes_it_too() {
    let fake = Fake::new(EngineKind::Docker);
    let started = start_quietly(&fake, setup(&fake, false), &CancellationToken::new())
        .await
        .unwrap();
    let before = fake.calls().len();
    drop(started);
    assert_eq!(
        fake.calls()[before..],
        [
            "rm --force --volumes gantry-7-1-db".to_string(),
            "network rm gantry-7-1".into(),
        ]
    );
}

#[tokio::test]
async fn a_service_that_does_not_start_leaves_nothing() {
    let fake = Fake::new(EngineKind::Podman);
    fake.set("fail-run", "");
    let err = start_quietly(&fake, setup(&fake, true), &CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "starting service `db`: `podman run` failed with exit code 125: Error: run refused"
    );
    let calls = fake.calls();
    assert_eq!(
        calls[calls.len() - 2..],
        [
            "rm --force --volumes --time 0 gantry-7-1-db".to_string(),
            "network rm gantry-7-1".into(),
        ]
    );
    assert!(
        !calls.iter().any(|c| c.contains("gantry-7-1-job")),
        "{calls:#?}"
    );
}

#[tokio::test]
async fn podman_health_checks_are_run_by_gantry_until_the_timeout() {
    let fake = Fake::new(EngineKind::Podman);
    fake.set("state", "running starting\n");
    let mut s = setup(&fake, false);
    s.health_timeout = Duration::from_secs(2);
    let err = start_quietly(&fake, s, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StartError::HealthTimeout { service, health, .. } if service == "db" && health == "starting"),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("service `db` was not healthy after 2 seconds"),
        "{err}"
    );
    let calls = fake.calls();
    // No `--health-interval`: the engines' 30 s, so only the first check
    // (at once) fits in the 2 s.
    let checks = calls
        .iter()
        .filter(|c| *c == "healthcheck run gantry-7-1-db")
        .count();
    assert_eq!(checks, 1, "{calls:#?}");
    assert_eq!(calls.last().unwrap(), "network rm gantry-7-1");
}

#[tokio::test]
async fn docker_runs_its_own_health_checks() {
    let fake = Fake::new(EngineKind::Docker);
    fake.set("state", "running starting\n");
    let mut s = setup(&fake, false);
    s.health_timeout = Duration::from_secs(1);
    let err = start_quietly(&fake, s, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, StartError::HealthTimeout { .. }), "{err}");
    assert!(!fake.calls().iter().any(|c| c.starts_with("healthcheck")));
}

#[tokio::test]
async fn an_unhealthy_or_stopped_service_says_what_it_printed() {
    let fake = Fake::new(EngineKind::Podman);
    fake.set("state", "running unhealthy\n");
    let err = start_quietly(&fake, setup(&fake, false), &CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "service `db` is unhealthy; its last output: database system is starting up"
    );
    fake.set("state", "exited \n");
    let err = start_quietly(&fake, setup(&fake, false), &CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "service `db` stopped (exited); its last output: database system is starting up"
    );
}

#[tokio::test]
async fn cancelling_the_wait_removes_what_started() {
    let fake = Fake::new(EngineKind::Podman);
    fake.set("state", "running starting\n");
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        c.cancel();
    });
    let mut s = setup(&fake, true);
    s.health_timeout = Duration::from_secs(60);
    let started = std::time::Instant::now();
    let err = start_quietly(&fake, s, &cancel).await.unwrap_err();
    assert!(matches!(err, StartError::Cancelled), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let calls = fake.calls();
    assert_eq!(
        calls[calls.len() - 2..],
        [
            "rm --force --volumes --time 0 gantry-7-1-db".to_string(),
            "network rm gantry-7-1".into(),
        ]
    );
}

#[tokio::test]
async fn podman_health_checks_keep_the_services_interval() {
    let fake = Fake::new(EngineKind::Podman);
    fake.set("state", "running starting\n");
    let mut s = setup(&fake, false);
    s.services[0].1.options = vec![
        "--health-cmd".into(),
        "true".into(),
        "--health-interval".into(),
        "1s".into(),
    ];
    s.health_timeout = Duration::from_millis(3500);
    let err = start_quietly(&fake, s, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, StartError::HealthTimeout { .. }), "{err}");
    // At 0, 1, 2 and 3 seconds.
    let checks = fake
        .calls()
        .iter()
        .filter(|c| *c == "healthcheck run gantry-7-1-db")
        .count();
    assert!((3..=5).contains(&checks), "{checks} checks");
}
