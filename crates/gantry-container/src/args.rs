//! The engine command lines, built without running anything: the same for
//! podman and docker except where noted ([`remove`], [`auth_env`],
//! [`healthcheck_run`]).
//!
//! Values of environment variables never appear in a command line: `-e
//! NAME` makes the client take the value from its own environment, so
//! secrets stay out of `ps` and off the disk. Only the few variables the
//! client itself reads ([`client_variable`]) are given inline.

use std::path::PathBuf;

use indexmap::IndexMap;

use crate::EngineKind;

/// A container to run: a job's `container:` or one of its `services:`,
/// with its expressions evaluated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerSpec {
    pub image: String,
    pub env: Vec<(String, String)>,
    /// As written: `8080`, `5432:5432`, `127.0.0.1:8080:80/udp`.
    pub ports: Vec<String>,
    /// As written: `name:/path`, `/host:/path:ro`.
    pub volumes: Vec<String>,
    /// `options:`, already split into words ([`split_options`]).
    pub options: Vec<String>,
    pub credentials: Option<Credentials>,
    /// A service's `entrypoint:` (replaces the image's).
    pub entrypoint: Option<String>,
    /// A service's `command:`, as words after the image.
    pub command: Vec<String>,
}

/// A registry login (`credentials:`).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// A folder of this machine seen in the job container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub host: PathBuf,
    pub container: String,
    pub read_only: bool,
}

/// An image reference that cannot be one: empty after trimming, starting
/// with `-` (it would be read as an option), or holding whitespace or
/// control characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an image reference")]
pub struct BadImage(pub String);

/// Checks an image reference before it goes on a command line.
pub fn check_image(image: &str) -> Result<(), BadImage> {
    if image.is_empty()
        || image.starts_with('-')
        || image.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        Err(BadImage(image.to_string()))
    } else {
        Ok(())
    }
}

/// `options:` that do not split into words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("container options `{0}`: a quote is not closed")]
pub struct OptionsError(pub String);

/// Splits `options:` into words as a POSIX shell would (quotes and
/// backslashes), which is how the runner hands them to `docker create`.
pub fn split_options(text: &str) -> Result<Vec<String>, OptionsError> {
    shlex::split(text).ok_or_else(|| OptionsError(text.to_string()))
}

/// Variables the engine's client reads itself: given inline (`-e
/// NAME=VALUE`) rather than through the client's environment, where they
/// would change how the client runs.
pub fn client_variable(name: &str) -> bool {
    matches!(name, "PATH" | "HOME" | "TMPDIR" | "USER" | "SHELL")
        || [
            "CONTAINERS_",
            "DOCKER_",
            "REGISTRY_",
            "XDG_",
            "LD_",
            "BUILDAH_",
        ]
        .iter()
        .any(|p| name.starts_with(p))
}

/// `-e` arguments for `env`, and the client environment they read from.
pub fn env_args(env: &[(String, String)]) -> (Vec<String>, Vec<(String, String)>) {
    let mut args = Vec::new();
    let mut client = Vec::new();
    for (name, value) in env {
        if name.is_empty() || name.contains('=') || name.contains('\0') {
            continue;
        }
        args.push("-e".to_string());
        if client_variable(name) {
            args.push(format!("{name}={value}"));
        } else {
            args.push(name.clone());
            client.push((name.clone(), value.clone()));
        }
    }
    (args, client)
}

/// A `ports:` entry as published: an entry without a host address binds
/// to 127.0.0.1 only (`8080` → `127.0.0.1::8080`, a free port; `5432:5432`
/// → `127.0.0.1:5432:5432`), so a job's services are not reachable from
/// other machines; one with an address is kept.
pub fn publish(port: &str) -> String {
    let port = port.trim();
    match port.matches(':').count() {
        0 => format!("127.0.0.1::{port}"),
        1 => format!("127.0.0.1:{port}"),
        _ => port.to_string(),
    }
}

/// A mount as `--volume` takes it: `HOST:CONTAINER[:ro]`.
fn volume(mount: &Mount) -> String {
    format!(
        "{}:{}{}",
        mount.host.display(),
        mount.container,
        if mount.read_only { ":ro" } else { "" }
    )
}

fn labels_args(labels: &[(String, String)]) -> Vec<String> {
    labels
        .iter()
        .flat_map(|(k, v)| ["--label".to_string(), format!("{k}={v}")])
        .collect()
}

/// `network create`: the job's network.
pub fn network_create(name: &str, labels: &[(String, String)]) -> Vec<String> {
    let mut args = vec!["network".to_string(), "create".to_string()];
    args.extend(labels_args(labels));
    args.push(name.to_string());
    args
}

/// `network rm`.
pub fn network_remove(name: &str) -> Vec<String> {
    vec!["network".into(), "rm".into(), name.into()]
}

/// The parts of `run` every container shares: detached, named, on the
/// job's network, labelled, its env, ports and volumes. Gives the client
/// environment the `-e NAME` arguments read from.
fn run_common(
    spec: &ContainerSpec,
    name: &str,
    network: &str,
    labels: &[(String, String)],
) -> (Vec<String>, Vec<(String, String)>) {
    let mut args: Vec<String> = ["run", "--detach", "--name", name, "--network", network]
        .map(String::from)
        .to_vec();
    args.extend(labels_args(labels));
    let (env, client) = env_args(&spec.env);
    args.extend(env);
    for port in &spec.ports {
        args.push("--publish".into());
        args.push(publish(port));
    }
    for volume in &spec.volumes {
        args.push("--volume".into());
        args.push(volume.clone());
    }
    (args, client)
}

/// `run` for a service: reachable by its id from the job's other
/// containers (`--network-alias`).
pub fn run_service(
    spec: &ContainerSpec,
    name: &str,
    network: &str,
    alias: &str,
    labels: &[(String, String)],
) -> (Vec<String>, Vec<(String, String)>) {
    let (mut args, client) = run_common(spec, name, network, labels);
    args.push("--network-alias".into());
    args.push(alias.to_string());
    args.extend(spec.options.iter().cloned());
    if let Some(entrypoint) = &spec.entrypoint {
        args.extend(["--entrypoint".into(), entrypoint.clone()]);
    }
    args.push(spec.image.clone());
    args.extend(spec.command.iter().cloned());
    (args, client)
}

/// `run` for the job container: the runner's folders mounted, kept alive
/// with `tail -f /dev/null` (as GitHub's runner does) while the steps run
/// in it with [`exec`].
pub fn run_job_container(
    spec: &ContainerSpec,
    name: &str,
    network: &str,
    mounts: &[Mount],
    workdir: &str,
    labels: &[(String, String)],
) -> (Vec<String>, Vec<(String, String)>) {
    let (mut args, client) = run_common(spec, name, network, labels);
    for mount in mounts {
        args.extend(["--volume".into(), volume(mount)]);
    }
    args.push("--workdir".into());
    args.push(workdir.to_string());
    args.extend(spec.options.iter().cloned());
    args.extend(["--entrypoint".into(), "tail".into(), spec.image.clone()]);
    args.extend(["-f".into(), "/dev/null".into()]);
    (args, client)
}

/// `exec`: a step's process in the job container, in `workdir`, with
/// `env`. Gives the client environment the `-e NAME` arguments read from.
pub fn exec(
    container: &str,
    workdir: &str,
    env: &[(String, String)],
    program: &str,
    program_args: &[String],
) -> (Vec<String>, Vec<(String, String)>) {
    let mut args = vec!["exec".to_string(), "--workdir".into(), workdir.to_string()];
    let (env_args, client) = env_args(env);
    args.extend(env_args);
    args.push(container.to_string());
    args.push(program.to_string());
    args.extend(program_args.iter().cloned());
    (args, client)
}

/// `port`: the host ports a container's ports are published on.
pub fn port(container: &str) -> Vec<String> {
    vec!["port".into(), container.into()]
}

/// The template [`inspect_state`] prints: the container's status and, when
/// it has a health check, its health.
pub const STATE_FORMAT: &str =
    "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}";

/// `inspect` of a container's status and health (`running healthy`).
pub fn inspect_state(container: &str) -> Vec<String> {
    vec![
        "inspect".into(),
        "--format".into(),
        STATE_FORMAT.into(),
        container.into(),
    ]
}

/// `inspect` of the image's environment (one `NAME=VALUE` a line), for its
/// `PATH`.
pub fn inspect_env(container: &str) -> Vec<String> {
    vec![
        "inspect".into(),
        "--format".into(),
        "{{range .Config.Env}}{{println .}}{{end}}".into(),
        container.into(),
    ]
}

/// podman only: runs the health check now. podman schedules health checks
/// with systemd timers, which do not exist without systemd, so gantry runs
/// them itself while it waits; docker's daemon runs its own.
pub fn healthcheck_run(kind: EngineKind, container: &str) -> Option<Vec<String>> {
    (kind == EngineKind::Podman).then(|| vec!["healthcheck".into(), "run".into(), container.into()])
}

/// `logs --tail 20`: what a service that failed printed last.
pub fn logs_tail(container: &str) -> Vec<String> {
    vec![
        "logs".into(),
        "--tail".into(),
        "20".into(),
        container.into(),
    ]
}

/// `rm`: the containers, killed at once (podman's `--time 0`; docker's
/// `--force` already kills) with their anonymous volumes.
pub fn remove(kind: EngineKind, containers: &[String]) -> Vec<String> {
    let mut args = vec!["rm".to_string(), "--force".into(), "--volumes".into()];
    if kind == EngineKind::Podman {
        args.extend(["--time".into(), "0".into()]);
    }
    args.extend(containers.iter().cloned());
    args
}

/// `login` with the password on stdin.
pub fn login(registry: &str, username: &str) -> Vec<String> {
    vec![
        "login".into(),
        "--username".into(),
        username.into(),
        "--password-stdin".into(),
        registry.into(),
    ]
}

/// The variable that points the client at a job's own credentials, kept
/// in `dir` and removed with the job: podman reads `REGISTRY_AUTH_FILE`,
/// docker a config folder in `DOCKER_CONFIG`.
pub fn auth_env(kind: EngineKind, dir: &std::path::Path) -> (String, String) {
    match kind {
        EngineKind::Podman => (
            "REGISTRY_AUTH_FILE".into(),
            dir.join("auth.json").display().to_string(),
        ),
        EngineKind::Docker => ("DOCKER_CONFIG".into(), dir.display().to_string()),
    }
}

/// The registry an image comes from: its first part when that names a
/// host (has a `.` or `:`, or is `localhost`), else Docker Hub.
pub fn registry_of(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first.to_string(),
        _ => "docker.io".to_string(),
    }
}

/// Reads what [`port`] printed (`5432/tcp -> 127.0.0.1:49153`, one a
/// line) into container port → host port (`5432` → `49153`), the first
/// host address of each; `udp` ports keep their suffix (`53/udp`).
pub fn parse_ports(text: &str) -> IndexMap<String, String> {
    let mut ports = IndexMap::new();
    for line in text.lines() {
        let Some((inside, outside)) = line.split_once("->") else {
            continue;
        };
        let inside = inside.trim();
        let inside = inside.strip_suffix("/tcp").unwrap_or(inside);
        let Some((_, host_port)) = outside.trim().rsplit_once(':') else {
            continue;
        };
        if inside.is_empty() || host_port.is_empty() {
            continue;
        }
        ports
            .entry(inside.to_string())
            .or_insert_with(|| host_port.to_string());
    }
    ports
}

/// Reads what [`inspect_state`] printed: `(status, health)`, the health
/// empty when the container has no health check.
pub fn parse_state(text: &str) -> (String, String) {
    let mut words = text.split_whitespace();
    let status = words.next().unwrap_or_default().to_string();
    let health = words.next().unwrap_or_default().to_string();
    (status, health)
}

/// `build`: a Docker action's image from its Dockerfile, `context` being
/// the action's folder.
pub fn build(tag: &str, dockerfile: &std::path::Path, context: &std::path::Path) -> Vec<String> {
    vec![
        "build".into(),
        "--tag".into(),
        tag.into(),
        "--file".into(),
        dockerfile.display().to_string(),
        context.display().to_string(),
    ]
}

/// A Docker action's container, run to its end in the foreground.
#[derive(Debug, Clone, Default)]
pub struct ActionRun<'a> {
    pub name: &'a str,
    pub image: &'a str,
    /// The job's network, so services resolve by name.
    pub network: Option<&'a str>,
    pub mounts: &'a [Mount],
    pub workdir: &'a str,
    pub env: &'a [(String, String)],
    pub entrypoint: Option<&'a str>,
    pub args: &'a [String],
    pub labels: &'a [(String, String)],
}

/// `run --rm` of a Docker action: its output is the step's, its exit code
/// the step's.
pub fn run_action(run: &ActionRun<'_>) -> (Vec<String>, Vec<(String, String)>) {
    let mut args: Vec<String> = ["run", "--rm", "--name", run.name]
        .map(String::from)
        .to_vec();
    args.extend(labels_args(run.labels));
    if let Some(network) = run.network {
        args.extend(["--network".into(), network.to_string()]);
    }
    args.extend(["--workdir".into(), run.workdir.to_string()]);
    let (env, client) = env_args(run.env);
    args.extend(env);
    for mount in run.mounts {
        args.extend(["--volume".into(), volume(mount)]);
    }
    if let Some(entrypoint) = run.entrypoint {
        args.extend(["--entrypoint".into(), entrypoint.to_string()]);
    }
    args.push(run.image.to_string());
    args.extend(run.args.iter().cloned());
    (args, client)
}

/// How often a service's health check runs: `--health-interval` in its
/// options (a Go duration: `10s`, `1m30s`, `500ms`), else 30 seconds,
/// the default of both engines.
pub fn health_interval(options: &[String]) -> std::time::Duration {
    const DEFAULT: std::time::Duration = std::time::Duration::from_secs(30);
    let mut words = options.iter();
    let mut given = None;
    while let Some(word) = words.next() {
        if word == "--health-interval" {
            given = words.next().cloned();
        } else if let Some(value) = word.strip_prefix("--health-interval=") {
            given = Some(value.to_string());
        }
    }
    given
        .and_then(|text| go_duration(&text))
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT)
}

/// A Go duration (`1h2m3.5s`, `250ms`), at most a day; `None` if it is
/// not one.
fn go_duration(text: &str) -> Option<std::time::Duration> {
    let mut seconds = 0.0f64;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_end].parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_end..];
        seconds += number * scale;
    }
    (seconds.is_finite() && seconds <= 86_400.0)
        .then(|| std::time::Duration::from_secs_f64(seconds))
}
