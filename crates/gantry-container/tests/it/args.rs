//! The exact command lines gantry gives podman and docker.

use std::path::PathBuf;

use gantry_container::EngineKind;
use gantry_container::args::{self, ContainerSpec, Mount};

fn words(args: &[String]) -> String {
    args.join(" ")
}

fn postgres() -> ContainerSpec {
    ContainerSpec {
        image: "postgres:16".into(),
        env: vec![
            ("POSTGRES_PASSWORD".into(), "s3cret".into()),
            ("PATH".into(), "/opt/bin:/bin".into()),
        ],
        ports: vec![
            "5432:5432".into(),
            "8080".into(),
            "10.0.0.1:9000:9000".into(),
        ],
        volumes: vec!["data:/var/lib/postgresql/data".into()],
        options: args::split_options(
            "--health-cmd \"pg_isready -U postgres\" --health-interval 10s --health-retries 5",
        )
        .unwrap(),
        ..ContainerSpec::default()
    }
}

#[test]
fn a_service_runs_detached_on_the_job_network_under_its_id() {
    let labels = vec![("gantry.job".to_string(), "test".to_string())];
    let (args, client) =
        args::run_service(&postgres(), "gantry-1-2-db", "gantry-1-2", "db", &labels);
    assert_eq!(
        words(&args),
        "run --detach --name gantry-1-2-db --network gantry-1-2 --label gantry.job=test \
         -e POSTGRES_PASSWORD -e PATH=/opt/bin:/bin \
         --publish 127.0.0.1:5432:5432 --publish 127.0.0.1::8080 --publish 10.0.0.1:9000:9000 \
         --volume data:/var/lib/postgresql/data --network-alias db \
         --health-cmd pg_isready -U postgres --health-interval 10s --health-retries 5 postgres:16"
    );
    // The quoted health command stays one word.
    assert!(args.contains(&"pg_isready -U postgres".to_string()));
    // The secret is not on the command line; the client's environment has it.
    assert!(!words(&args).contains("s3cret"));
    assert_eq!(
        client,
        vec![("POSTGRES_PASSWORD".to_string(), "s3cret".to_string())]
    );
}

#[test]
fn the_job_container_mounts_the_runner_folders_and_waits_with_tail() {
    let spec = ContainerSpec {
        image: "node:20".into(),
        env: vec![("NODE_ENV".into(), "test".into())],
        options: vec!["--cpus".into(), "1".into()],
        ..ContainerSpec::default()
    };
    let mounts = [
        Mount {
            host: PathBuf::from("/home/u/.gantry/work/42"),
            container: "/home/u/.gantry/work/42".into(),
            read_only: false,
        },
        Mount {
            host: PathBuf::from("/home/u/.gantry/actions"),
            container: "/home/u/.gantry/actions".into(),
            read_only: true,
        },
    ];
    let (args, client) = args::run_job_container(
        &spec,
        "gantry-1-2-job",
        "gantry-1-2",
        &mounts,
        "/home/u/.gantry/work/42/runner-1/workspace",
        &[],
    );
    assert_eq!(
        words(&args),
        "run --detach --name gantry-1-2-job --network gantry-1-2 -e NODE_ENV \
         --volume /home/u/.gantry/work/42:/home/u/.gantry/work/42 \
         --volume /home/u/.gantry/actions:/home/u/.gantry/actions:ro \
         --workdir /home/u/.gantry/work/42/runner-1/workspace --cpus 1 \
         --entrypoint tail node:20 -f /dev/null"
    );
    assert_eq!(client, vec![("NODE_ENV".to_string(), "test".to_string())]);
}

#[test]
fn a_step_runs_with_exec_and_its_variables_by_name() {
    let env = vec![
        ("GITHUB_WORKSPACE".to_string(), "/w".to_string()),
        ("TOKEN".to_string(), "abc".to_string()),
        ("PATH".to_string(), "/w/bin:/usr/bin".to_string()),
        ("BAD=NAME".to_string(), "x".to_string()),
    ];
    let script = ["-e".to_string(), "-c".into(), "echo hi".into()];
    let (args, client) = args::exec("gantry-1-2-job", "/w/sub", &env, "sh", &script);
    assert_eq!(
        words(&args),
        "exec --workdir /w/sub -e GITHUB_WORKSPACE -e TOKEN -e PATH=/w/bin:/usr/bin gantry-1-2-job sh -e -c echo hi"
    );
    assert_eq!(
        client,
        vec![
            ("GITHUB_WORKSPACE".to_string(), "/w".to_string()),
            ("TOKEN".to_string(), "abc".to_string())
        ]
    );
}

#[test]
fn the_client_reads_its_own_variables_inline() {
    for name in [
        "PATH",
        "HOME",
        "DOCKER_HOST",
        "CONTAINERS_CONF",
        "XDG_RUNTIME_DIR",
        "REGISTRY_AUTH_FILE",
    ] {
        assert!(args::client_variable(name), "{name}");
    }
    for name in ["GITHUB_ENV", "DATABASE_URL", "PATHS"] {
        assert!(!args::client_variable(name), "{name}");
    }
}

#[test]
fn removal_kills_at_once_on_both_engines() {
    let names = ["a".to_string(), "b".to_string()];
    assert_eq!(
        words(&args::remove(EngineKind::Podman, &names)),
        "rm --force --volumes --time 0 a b"
    );
    assert_eq!(
        words(&args::remove(EngineKind::Docker, &names)),
        "rm --force --volumes a b"
    );
    assert_eq!(words(&args::network_remove("n")), "network rm n");
    assert_eq!(
        words(&args::network_create("n", &[("k".into(), "v".into())])),
        "network create --label k=v n"
    );
}

#[test]
fn health_and_state_commands() {
    assert_eq!(
        args::healthcheck_run(EngineKind::Podman, "c").map(|a| words(&a)),
        Some("healthcheck run c".to_string())
    );
    assert_eq!(args::healthcheck_run(EngineKind::Docker, "c"), None);
    assert_eq!(
        args::inspect_state("c"),
        ["inspect", "--format", args::STATE_FORMAT, "c"]
    );
    assert_eq!(
        args::parse_state("running starting\n"),
        ("running".into(), "starting".into())
    );
    assert_eq!(
        args::parse_state("running \n"),
        ("running".into(), String::new())
    );
    assert_eq!(
        args::parse_state("exited"),
        ("exited".into(), String::new())
    );
    assert_eq!(words(&args::logs_tail("c")), "logs --tail 20 c");
    assert_eq!(words(&args::port("c")), "port c");
}

#[test]
fn credentials_go_through_stdin_and_a_private_auth_location() {
    assert_eq!(
        words(&args::login("ghcr.io", "octo")),
        "login --username octo --password-stdin ghcr.io"
    );
    let dir = std::path::Path::new("/t/auth");
    assert_eq!(
        args::auth_env(EngineKind::Podman, dir),
        (
            "REGISTRY_AUTH_FILE".to_string(),
            "/t/auth/auth.json".to_string()
        )
    );
    assert_eq!(
        args::auth_env(EngineKind::Docker, dir),
        ("DOCKER_CONFIG".to_string(), "/t/auth".to_string())
    );
    assert_eq!(args::registry_of("ghcr.io/octo/app:1"), "ghcr.io");
    assert_eq!(args::registry_of("localhost/app"), "localhost");
    assert_eq!(args::registry_of("registry:5000/app"), "registry:5000");
    assert_eq!(args::registry_of("postgres:16"), "docker.io");
    assert_eq!(args::registry_of("library/postgres"), "docker.io");
    let creds = gantry_container::Credentials {
        username: "octo".into(),
        password: "hunter2".into(),
    };
    assert!(!format!("{creds:?}").contains("hunter2"));
}

#[test]
fn ports_published_and_read_back() {
    assert_eq!(args::publish("8080"), "127.0.0.1::8080");
    assert_eq!(args::publish("8080/udp"), "127.0.0.1::8080/udp");
    assert_eq!(args::publish("5432:5432"), "127.0.0.1:5432:5432");
    assert_eq!(args::publish("0.0.0.0:80:8080"), "0.0.0.0:80:8080");
    let text =
        "5432/tcp -> 127.0.0.1:49153\n5432/tcp -> [::]:49153\n53/udp -> 0.0.0.0:49154\ngarbage\n";
    let ports = args::parse_ports(text);
    assert_eq!(
        ports.into_iter().collect::<Vec<_>>(),
        vec![
            ("5432".to_string(), "49153".to_string()),
            ("53/udp".to_string(), "49154".to_string())
        ]
    );
}

#[test]
fn options_split_as_a_shell_would() {
    assert_eq!(
        args::split_options("--health-cmd 'redis-cli ping' --name=\"a b\" x\\ y").unwrap(),
        ["--health-cmd", "redis-cli ping", "--name=a b", "x y"]
    );
    let err = args::split_options("--health-cmd 'pg_isready").unwrap_err();
    assert_eq!(
        err.to_string(),
        "container options `--health-cmd 'pg_isready`: a quote is not closed"
    );
    assert!(args::split_options("").unwrap().is_empty());
}

#[test]
fn a_docker_action_is_built_and_run_in_the_foreground() {
    assert_eq!(
        words(&args::build(
            "localhost/gantry-action-ab12",
            std::path::Path::new("/s/act/Dockerfile"),
            std::path::Path::new("/s/act")
        )),
        "build --tag localhost/gantry-action-ab12 --file /s/act/Dockerfile /s/act"
    );
    let mounts = [Mount {
        host: PathBuf::from("/w/ws"),
        container: "/github/workspace".into(),
        read_only: false,
    }];
    let env = [("INPUT_WHO".to_string(), "octo".to_string())];
    let run_args = ["hello".to_string(), "octo".to_string()];
    let (line, client) = args::run_action(&args::ActionRun {
        name: "gantry-1-action-1",
        image: "localhost/gantry-action-ab12",
        network: Some("gantry-1-2"),
        mounts: &mounts,
        workdir: "/github/workspace",
        env: &env,
        entrypoint: Some("/post.sh"),
        args: &run_args,
        labels: &[],
    });
    assert_eq!(
        words(&line),
        "run --rm --name gantry-1-action-1 --network gantry-1-2 --workdir /github/workspace -e INPUT_WHO \
         --volume /w/ws:/github/workspace --entrypoint /post.sh localhost/gantry-action-ab12 hello octo"
    );
    assert_eq!(client, env);
}

#[test]
fn owners_are_read_from_names_and_labelled_with_their_namespace() {
    use gantry_container::sweep;
    assert_eq!(sweep::owner_pid("gantry-4242-7-db"), Some(4242));
    assert_eq!(sweep::owner_pid("gantry-4242-action-1"), Some(4242));
    assert_eq!(sweep::owner_pid("gantry-x-1"), None);
    assert_eq!(sweep::owner_pid("postgres"), None);
    let labels = sweep::owner_labels("test (3.12)");
    assert_eq!(
        labels[0],
        ("gantry.pid".to_string(), std::process::id().to_string())
    );
    assert_eq!(labels[1].0, "gantry.ns");
    assert!(
        labels[1].1.chars().all(|c| c.is_ascii_digit()),
        "{labels:?}"
    );
    assert_eq!(
        labels[2],
        ("gantry.job".to_string(), "test (3.12)".to_string())
    );
}

#[test]
fn an_image_that_would_be_read_as_an_option_is_refused() {
    for bad in ["--privileged", "-v/:/host", "", "a b", "img\n--rm"] {
        let err = args::check_image(bad).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("`{bad}` is not an image reference")
        );
    }
    for good in ["postgres:16", "ghcr.io/o/a@sha256:abc", "localhost/x"] {
        args::check_image(good).unwrap();
    }
}

#[test]
fn health_intervals_are_read_as_the_engines_read_them() {
    let opts = |text: &str| args::split_options(text).unwrap();
    let secs = |text: &str| args::health_interval(&opts(text)).as_secs_f64();
    assert_eq!(
        secs("--health-cmd x --health-interval 10s --health-retries 5"),
        10.0
    );
    assert_eq!(secs("--health-interval=1m30s"), 90.0);
    assert_eq!(secs("--health-interval 500ms"), 0.5);
    assert_eq!(secs("--health-interval 1.5s"), 1.5);
    // Not given, not a duration, zero or absurd: the engines' 30s.
    for text in [
        "--health-cmd x",
        "--health-interval ten",
        "--health-interval 0s",
        "--health-interval 10",
        "--health-interval 9999h",
        "--health-interval",
    ] {
        assert_eq!(secs(text), 30.0, "{text}");
    }
}

#[test]
fn a_services_entrypoint_and_command_frame_its_image() {
    let spec = ContainerSpec {
        image: "redis:7".into(),
        entrypoint: Some("redis-server".into()),
        command: vec!["--port".into(), "6380".into()],
        ..ContainerSpec::default()
    };
    let (args, _) = args::run_service(&spec, "g-1-cache", "g-1", "cache", &[]);
    assert_eq!(
        words(&args),
        "run --detach --name g-1-cache --network g-1 --network-alias cache --entrypoint redis-server redis:7 --port 6380"
    );
}
