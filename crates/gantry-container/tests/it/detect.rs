//! Which engine runs a job's containers: `--container-engine`, else the
//! first of podman and docker on `PATH`, else a clear error.

use std::path::Path;

use gantry_container::{DetectError, Engine, EngineChoice, EngineKind, detect};

fn program(dir: &Path, name: &str, executable: bool) {
    std::fs::write(dir.join(name), "#!/bin/sh\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(mode)).unwrap();
}

fn path_of(dirs: &[&Path]) -> String {
    std::env::join_paths(dirs).unwrap().into_string().unwrap()
}

#[test]
fn podman_is_tried_before_docker_wherever_each_is() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    program(a.path(), "docker", true);
    program(b.path(), "podman", true);
    let path = path_of(&[a.path(), b.path()]);
    let engine = detect(&EngineChoice::Detect, &path).unwrap();
    assert_eq!(
        engine,
        Engine::new(EngineKind::Podman, b.path().join("podman"))
    );
    // Named, the other one is found.
    let engine = detect(&EngineChoice::Named(EngineKind::Docker), &path).unwrap();
    assert_eq!(
        engine,
        Engine::new(EngineKind::Docker, a.path().join("docker"))
    );
}

#[test]
fn docker_alone_is_found() {
    let a = tempfile::tempdir().unwrap();
    program(a.path(), "docker", true);
    // A podman that is not executable does not count.
    program(a.path(), "podman", false);
    let engine = detect(&EngineChoice::Detect, &path_of(&[a.path()])).unwrap();
    assert_eq!(engine.kind, EngineKind::Docker);
}

#[test]
fn without_an_engine_the_error_names_both_and_the_flag() {
    let empty = tempfile::tempdir().unwrap();
    let path = path_of(&[empty.path()]);
    let err = detect(&EngineChoice::Detect, &path).unwrap_err();
    assert_eq!(err, DetectError::NoEngine);
    let text = err.to_string();
    for part in [
        "podman",
        "docker",
        "--container-engine podman|docker",
        "`container:` or `services:`",
    ] {
        assert!(text.contains(part), "{text}");
    }
    let err = detect(&EngineChoice::Named(EngineKind::Docker), &path).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`--container-engine docker`: `docker` is not on PATH; install it, or use `--container-engine podman`"
    );
}

#[test]
fn a_given_engine_is_used_as_is() {
    let given = Engine::new(EngineKind::Docker, "/opt/wrapper");
    assert_eq!(
        detect(&EngineChoice::Given(given.clone()), "").unwrap(),
        given
    );
}

#[test]
fn engine_names_parse() {
    assert_eq!("podman".parse::<EngineKind>().unwrap(), EngineKind::Podman);
    assert_eq!(
        " Docker ".parse::<EngineKind>().unwrap(),
        EngineKind::Docker
    );
    assert_eq!(
        "nerdctl".parse::<EngineKind>().unwrap_err().to_string(),
        "unknown container engine `nerdctl`: use `podman` or `docker`"
    );
}
