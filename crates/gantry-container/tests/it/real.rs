//! The lifecycle against a real podman and an image built here (see
//! `common/podman.rs`): a service with a health check reached by name from
//! the job container, a mapped port reached from this machine, and
//! nothing left afterwards.

use std::time::Duration;

use gantry_container::{ContainerSpec, Engine, EngineKind, JobContainer, JobSetup, start};
use tokio_util::sync::CancellationToken;

use crate::common::podman::{IMAGE, podman};

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "gantry-test-{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn web(health: &str) -> ContainerSpec {
    ContainerSpec {
        image: IMAGE.into(),
        ports: vec!["8080".into()],
        options: gantry_container::split_options(&format!(
            "--health-cmd '{health}' --health-interval 1s --health-retries 3"
        ))
        .unwrap(),
        ..ContainerSpec::default()
    }
}

#[tokio::test]
async fn a_healthy_service_is_reached_by_name_and_on_its_port() {
    let Some(podman) = podman() else { return };
    let engine = Engine::new(EngineKind::Podman, &podman.wrapper);
    let dir = tempfile::tempdir().unwrap();
    let name = unique("svc");
    let setup = JobSetup {
        name: name.clone(),
        labels: vec![],
        services: vec![(
            "web".into(),
            web("wget -q -O /dev/null http://127.0.0.1:8080/bin/busybox"),
        )],
        container: Some(JobContainer {
            spec: ContainerSpec {
                image: IMAGE.into(),
                env: vec![("GREETING".into(), "hello from the job".into())],
                ..ContainerSpec::default()
            },
            mounts: vec![gantry_container::Mount {
                host: dir.path().to_path_buf(),
                container: dir.path().display().to_string(),
                read_only: false,
            }],
            workdir: dir.path().display().to_string(),
        }),
        health_timeout: Duration::from_secs(60),
        auth_dir: dir.path().join("auth"),
    };
    let mut said = Vec::new();
    let mut say = |l: String| said.push(l);
    let started = start(&engine, setup, &CancellationToken::new(), &mut say)
        .await
        .unwrap();
    let job = started.container.clone().unwrap();
    assert!(!job.has_bash);
    assert_eq!(job.path.as_deref(), Some("/bin"));
    // From the job container, by the service's id, into the mounted folder.
    let out = dir.path().join("got").display().to_string();
    let script = format!(
        "wget -q -O {out} http://web:8080/bin/busybox && echo \"$GREETING\" > {dir}/greeting",
        dir = dir.path().display()
    );
    let (args, env) = gantry_container::args::exec(
        &job.name,
        &dir.path().display().to_string(),
        &[],
        "sh",
        &["-c".into(), script],
    );
    engine.checked(&args, &env, None).await.unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("got")).unwrap(),
        std::fs::read("/bin/busybox")
            .or_else(|_| std::fs::read("/usr/bin/busybox"))
            .unwrap(),
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("greeting")).unwrap(),
        "hello from the job\n"
    );
    // From this machine, on the mapped port.
    let port: u16 = started.services["web"].ports["8080"].parse().unwrap();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    use std::io::{Read, Write};
    stream
        .write_all(b"GET /bin/busybox HTTP/1.0\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    let head = String::from_utf8_lossy(&head);
    assert!(
        head.starts_with("HTTP/1.") && head.ends_with(" 200"),
        "{head}"
    );
    assert!(
        said.iter().any(|l| l.contains("waiting for service `web`")),
        "{said:#?}"
    );

    started.cleanup.remove().await.unwrap();
    podman.assert_gone(&name);
}

#[tokio::test]
async fn an_unhealthy_service_fails_the_start_and_is_removed() {
    let Some(podman) = podman() else { return };
    let engine = Engine::new(EngineKind::Podman, &podman.wrapper);
    let dir = tempfile::tempdir().unwrap();
    let name = unique("sick");
    let setup = JobSetup {
        name: name.clone(),
        labels: vec![],
        services: vec![("db".into(), web("false"))],
        container: None,
        health_timeout: Duration::from_secs(60),
        auth_dir: dir.path().join("auth"),
    };
    let mut say = |_: String| {};
    let err = start(&engine, setup, &CancellationToken::new(), &mut say)
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("service `db` is unhealthy"),
        "{err}"
    );
    podman.assert_gone(&name);
}

#[tokio::test]
async fn dropped_mid_job_everything_goes() {
    let Some(podman) = podman() else { return };
    let engine = Engine::new(EngineKind::Podman, &podman.wrapper);
    let dir = tempfile::tempdir().unwrap();
    let name = unique("drop");
    let setup = JobSetup {
        name: name.clone(),
        labels: vec![],
        services: vec![(
            "web".into(),
            ContainerSpec {
                image: IMAGE.into(),
                ..ContainerSpec::default()
            },
        )],
        container: None,
        health_timeout: Duration::from_secs(60),
        auth_dir: dir.path().join("auth"),
    };
    let mut say = |_: String| {};
    let started = start(&engine, setup, &CancellationToken::new(), &mut say)
        .await
        .unwrap();
    assert!(podman.containers().iter().any(|c| c.starts_with(&name)));
    assert!(podman.networks().contains(&name));
    drop(started);
    podman.assert_gone(&name);
}

#[tokio::test]
async fn what_a_killed_gantry_left_is_removed_and_nothing_else() {
    let Some(podman) = podman() else { return };
    let engine = Engine::new(EngineKind::Podman, &podman.wrapper);
    // A pid that was just used and is gone.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let ns = gantry_container::sweep::pid_namespace();
    let dead_name = format!("gantry-{dead}-{}", unique("left"));
    let live_name = format!("gantry-{}-{}", std::process::id(), unique("live"));
    let other_ns = format!("gantry-{dead}-{}", unique("elsewhere"));
    for (name, ns) in [
        (&dead_name, ns.as_str()),
        (&live_name, ns.as_str()),
        (&other_ns, "1"),
    ] {
        let label = format!("gantry.ns={ns}");
        podman
            .run(&["network", "create", "--label", &label, name])
            .unwrap();
        podman
            .run(&["create", "--name", name, "--label", &label, IMAGE])
            .unwrap();
    }
    let removed = gantry_container::sweep::remove_leftovers(&engine)
        .await
        .unwrap();
    assert!(removed.contains(&dead_name), "{removed:?}");
    assert_eq!(
        removed.iter().filter(|n| **n == dead_name).count(),
        2,
        "container and network: {removed:?}"
    );
    podman.assert_gone(&dead_name);
    assert!(
        !removed.iter().any(|n| n == &live_name || n == &other_ns),
        "{removed:?}"
    );
    for name in [&live_name, &other_ns] {
        assert!(podman.containers().contains(name));
        podman.run(&["rm", "--force", name]).unwrap();
        podman.run(&["network", "rm", name]).unwrap();
    }
}
