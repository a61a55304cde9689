//! A job's containers from start to removal: the network, each service
//! (logged in if it has credentials, waited for until healthy), the job
//! container, and a [`Cleanup`] that removes all of it when the job ends,
//! or when it is dropped (a run stopped by Ctrl-C, a panic).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use tokio_util::sync::CancellationToken;

use crate::args::{self, ContainerSpec, Mount};
use crate::{Engine, EngineError, last_lines};

/// What a job needs started.
#[derive(Debug, Clone)]
pub struct JobSetup {
    /// Unique on this machine: the network's name, and the start of each
    /// container's (`<name>-<service id>`, `<name>-job`).
    pub name: String,
    /// Labels on everything created, so leftovers can be found.
    pub labels: Vec<(String, String)>,
    /// By service id, in the workflow's order.
    pub services: Vec<(String, ContainerSpec)>,
    pub container: Option<JobContainer>,
    /// How long a service may take to become healthy.
    pub health_timeout: Duration,
    /// A private folder for registry credentials (removed at the end).
    pub auth_dir: PathBuf,
}

/// The job container: its spec, the runner's folders it sees, and where
/// steps start.
#[derive(Debug, Clone)]
pub struct JobContainer {
    pub spec: ContainerSpec,
    pub mounts: Vec<Mount>,
    pub workdir: String,
}

/// A started service, for `job.services.<id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    /// The container's id.
    pub id: String,
    /// Container port → host port on 127.0.0.1.
    pub ports: IndexMap<String, String>,
}

/// The started job container, for `job.container` and the steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    pub id: String,
    pub name: String,
    /// The image's `PATH`, when it sets one.
    pub path: Option<String>,
    /// Whether `bash` runs in it (the default shell), else `sh`.
    pub has_bash: bool,
}

/// What [`start`] started.
#[derive(Debug)]
pub struct Started {
    pub network: String,
    pub services: IndexMap<String, ServiceInfo>,
    pub container: Option<ContainerInfo>,
    /// Variables every later engine command needs (the auth file).
    pub client_env: Vec<(String, String)>,
    pub cleanup: Cleanup,
}

/// Why a job's containers did not start (what was started is removed).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{doing}: {source}")]
    Engine { doing: String, source: EngineError },
    #[error("cannot create the credentials folder {}: {source}", path.display())]
    AuthDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("service `{service}` is unhealthy{}", logs_suffix(logs))]
    Unhealthy { service: String, logs: String },
    #[error("service `{service}` stopped ({status}){}", logs_suffix(logs))]
    Exited {
        service: String,
        status: String,
        logs: String,
    },
    #[error(
        "service `{service}` was not healthy after {} seconds (its health check still says `{health}`)",
        waited.as_secs()
    )]
    HealthTimeout {
        service: String,
        health: String,
        waited: Duration,
    },
    #[error("the job was cancelled while its containers started")]
    Cancelled,
}

fn logs_suffix(logs: &str) -> String {
    if logs.is_empty() {
        String::new()
    } else {
        format!("; its last output: {logs}")
    }
}

/// Removes a job's containers and network. [`Cleanup::remove`] at the
/// job's end; if it is dropped first, `Drop` removes them with blocking
/// commands.
#[derive(Debug)]
pub struct Cleanup {
    engine: Engine,
    containers: Vec<String>,
    network: Option<String>,
    auth_dir: Option<PathBuf>,
}

impl Cleanup {
    fn new(engine: &Engine) -> Self {
        Cleanup {
            engine: engine.clone(),
            containers: Vec::new(),
            network: None,
            auth_dir: None,
        }
    }

    /// Removes everything: the containers first (the network cannot go
    /// while one is on it), then the network and the credentials.
    pub async fn remove(mut self) -> Result<(), EngineError> {
        let mut first_error = None;
        if !self.containers.is_empty() {
            let args = args::remove(self.engine.kind, &self.containers);
            if let Err(e) = self.engine.checked(&args, &[], None).await {
                first_error.get_or_insert(e);
            }
            self.containers.clear();
        }
        if let Some(network) = self.network.take()
            && let Err(e) = self
                .engine
                .checked(&args::network_remove(&network), &[], None)
                .await
        {
            first_error.get_or_insert(e);
        }
        if let Some(dir) = self.auth_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if !self.containers.is_empty() {
            self.engine
                .blocking(&args::remove(self.engine.kind, &self.containers));
        }
        if let Some(network) = self.network.take() {
            self.engine.blocking(&args::network_remove(&network));
        }
        if let Some(dir) = self.auth_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Starts a job's network, services and container, saying each step
/// through `say`. On any failure what was started is removed before the
/// error is returned; `cancel` stops the wait (and removes them too).
pub async fn start(
    engine: &Engine,
    setup: JobSetup,
    cancel: &CancellationToken,
    say: &mut (dyn FnMut(String) + Send),
) -> Result<Started, StartError> {
    let mut cleanup = Cleanup::new(engine);
    let mut client_env = Vec::new();
    let result = tokio::select! {
        r = start_all(engine, &setup, &mut cleanup, &mut client_env, say) => r,
        () = cancel.cancelled() => Err(StartError::Cancelled),
    };
    match result {
        Ok((services, container)) => Ok(Started {
            network: setup.name.clone(),
            services,
            container,
            client_env,
            cleanup,
        }),
        Err(e) => {
            // The removal's own errors would hide why the start failed.
            let _ = cleanup.remove().await;
            Err(e)
        }
    }
}

type StartedParts = (IndexMap<String, ServiceInfo>, Option<ContainerInfo>);

async fn start_all(
    engine: &Engine,
    setup: &JobSetup,
    cleanup: &mut Cleanup,
    client_env: &mut Vec<(String, String)>,
    say: &mut (dyn FnMut(String) + Send),
) -> Result<StartedParts, StartError> {
    let failed = |doing: String| move |source| StartError::Engine { doing, source };
    let wants_login = setup
        .services
        .iter()
        .map(|(_, s)| s)
        .chain(setup.container.as_ref().map(|c| &c.spec))
        .any(|s| s.credentials.is_some());
    if wants_login {
        std::fs::create_dir_all(&setup.auth_dir).map_err(|source| StartError::AuthDir {
            path: setup.auth_dir.clone(),
            source,
        })?;
        cleanup.auth_dir = Some(setup.auth_dir.clone());
        client_env.push(args::auth_env(engine.kind, &setup.auth_dir));
    }
    say(format!("creating the network {}", setup.name));
    engine
        .checked(&args::network_create(&setup.name, &setup.labels), &[], None)
        .await
        .map_err(failed(format!("creating the network {}", setup.name)))?;
    cleanup.network = Some(setup.name.clone());

    let mut services = IndexMap::new();
    for (id, spec) in &setup.services {
        login(engine, spec, client_env, say).await?;
        let name = format!("{}-{}", setup.name, safe_name(id));
        say(format!("starting service `{id}` ({})", spec.image));
        let (args, env) = args::run_service(spec, &name, &setup.name, id, &setup.labels);
        let env: Vec<_> = client_env.iter().cloned().chain(env).collect();
        // Listed before it runs: a `run` that fails after creating the
        // container still leaves one to remove.
        cleanup.containers.push(name.clone());
        let out = engine
            .checked(&args, &env, None)
            .await
            .map_err(failed(format!("starting service `{id}`")))?;
        let container_id = last_word(&out).unwrap_or(&name).to_string();
        let ports = if spec.ports.is_empty() {
            IndexMap::new()
        } else {
            let text = engine
                .checked(&args::port(&name), &[], None)
                .await
                .map_err(failed(format!("reading the ports of service `{id}`")))?;
            args::parse_ports(&text)
        };
        services.insert(
            id.clone(),
            ServiceInfo {
                id: container_id,
                ports,
            },
        );
    }
    for (id, spec) in &setup.services {
        let name = format!("{}-{}", setup.name, safe_name(id));
        let interval = args::health_interval(&spec.options);
        wait_healthy(engine, id, &name, (setup.health_timeout, interval), say).await?;
    }

    let container = match &setup.container {
        None => None,
        Some(job) => {
            login(engine, &job.spec, client_env, say).await?;
            let name = format!("{}-job", setup.name);
            say(format!("starting the job container ({})", job.spec.image));
            let (args, env) = args::run_job_container(
                &job.spec,
                &name,
                &setup.name,
                &job.mounts,
                &job.workdir,
                &setup.labels,
            );
            let env: Vec<_> = client_env.iter().cloned().chain(env).collect();
            cleanup.containers.push(name.clone());
            let out = engine
                .checked(&args, &env, None)
                .await
                .map_err(failed("starting the job container".into()))?;
            let id = last_word(&out).unwrap_or(&name).to_string();
            let text = engine
                .checked(&args::inspect_env(&name), &[], None)
                .await
                .map_err(failed("reading the job container's environment".into()))?;
            let path = text
                .lines()
                .find_map(|l| l.strip_prefix("PATH="))
                .map(str::to_string);
            let bash = [
                "exec".to_string(),
                name.clone(),
                "bash".into(),
                "-c".into(),
                "true".into(),
            ];
            let has_bash = engine
                .output(&bash, &[], None)
                .await
                .is_ok_and(|o| o.success());
            Some(ContainerInfo {
                id,
                name,
                path,
                has_bash,
            })
        }
    };
    Ok((services, container))
}

/// Logs in to the registry of `spec`'s image when it has credentials.
async fn login(
    engine: &Engine,
    spec: &ContainerSpec,
    client_env: &[(String, String)],
    say: &mut (dyn FnMut(String) + Send),
) -> Result<(), StartError> {
    let Some(creds) = &spec.credentials else {
        return Ok(());
    };
    let registry = args::registry_of(&spec.image);
    say(format!("logging in to {registry} as {}", creds.username));
    engine
        .checked(
            &args::login(&registry, &creds.username),
            client_env,
            Some(&creds.password),
        )
        .await
        .map(|_| ())
        .map_err(|source| StartError::Engine {
            doing: format!("logging in to {registry}"),
            source,
        })
}

/// Waits until a service is healthy (or has no health check), up to
/// `timeout`. docker runs the checks itself and is asked each second;
/// with podman gantry runs them, the first at once and then each
/// `interval` (the service's `--health-interval`), so a check's retries
/// mean the time they mean with docker.
async fn wait_healthy(
    engine: &Engine,
    id: &str,
    name: &str,
    (timeout, interval): (Duration, Duration),
    say: &mut (dyn FnMut(String) + Send),
) -> Result<(), StartError> {
    let started = Instant::now();
    let mut said = false;
    let mut next_check = started;
    loop {
        let text = engine
            .checked(&args::inspect_state(name), &[], None)
            .await
            .map_err(|source| StartError::Engine {
                doing: format!("reading the state of service `{id}`"),
                source,
            })?;
        let (status, health) = args::parse_state(&text);
        if status != "running" && status != "created" {
            return Err(StartError::Exited {
                service: id.to_string(),
                status,
                logs: logs(engine, name).await,
            });
        }
        match health.as_str() {
            "" | "healthy" => return Ok(()),
            "unhealthy" => {
                return Err(StartError::Unhealthy {
                    service: id.to_string(),
                    logs: logs(engine, name).await,
                });
            }
            _ => {}
        }
        if started.elapsed() >= timeout {
            return Err(StartError::HealthTimeout {
                service: id.to_string(),
                health,
                waited: started.elapsed(),
            });
        }
        if !said {
            say(format!("waiting for service `{id}` to be healthy"));
            said = true;
        }
        match args::healthcheck_run(engine.kind, name) {
            Some(check) => {
                let now = Instant::now();
                let left = timeout.saturating_sub(started.elapsed());
                if next_check > now {
                    tokio::time::sleep((next_check - now).min(left)).await;
                }
                if started.elapsed() < timeout {
                    // Its exit code is the check's; the state read next
                    // says whether the retries are used up.
                    let _ = engine.output(&check, &[], None).await;
                    next_check = Instant::now() + interval;
                }
            }
            None => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}

async fn logs(engine: &Engine, name: &str) -> String {
    match engine.output(&args::logs_tail(name), &[], None).await {
        Ok(out) => last_lines(&format!("{}\n{}", out.stdout, out.stderr), 5),
        Err(_) => String::new(),
    }
}

fn last_word(text: &str) -> Option<&str> {
    text.split_whitespace().last()
}

/// A service id as part of a container name (`[a-zA-Z0-9_.-]`).
fn safe_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}
