//! Jobs with `container:` or `services:`, through gantry-container: the
//! workflow's settings evaluated into specs, the containers started before
//! the first step and removed after the last, the `job.container` and
//! `job.services` contexts, and the environment of a step run in the job
//! container.
//!
//! The job container sees the run's work folder (workspace, temp folder,
//! tool cache, command files, event payload) and the actions store at the
//! same paths as this machine, so `GITHUB_WORKSPACE`, `RUNNER_TEMP`,
//! `$GITHUB_OUTPUT` and an action's path mean the same inside and out.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use gantry_container::{
    ContainerInfo, ContainerSpec, Credentials, Engine, JobContainer, JobSetup, Mount, ServiceInfo,
    Started,
};
use gantry_expr::{Object, Value};
use gantry_workflow::model::{Container, StepsJob};
use indexmap::IndexMap;

use super::expand::{expand, expand_env, expand_value};
use super::job::JobRun;
use super::log::LogSink;
use super::process::Stream;
use super::scope::Scope;

/// PATH in a container whose image sets none (the runner's default).
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A job's running containers.
pub(crate) struct JobContainers {
    pub engine: Engine,
    pub started: Started,
}

impl JobContainers {
    /// The job container, when steps run in one.
    pub(crate) fn job_container(&self) -> Option<&ContainerInfo> {
        self.started.container.as_ref()
    }

    /// `job.container` and `job.services` for the `job` context.
    pub(crate) fn contexts(&self) -> (Option<Value>, Value) {
        let network = Value::String(self.started.network.clone());
        let container = self.started.container.as_ref().map(|c| {
            let mut o = Object::new();
            o.insert("id".into(), Value::String(c.id.clone()));
            o.insert("network".into(), network.clone());
            Value::Object(o)
        });
        let mut services = Object::new();
        for (id, info) in &self.started.services {
            services.insert(id.clone(), service_value(info, &network));
        }
        (container, Value::Object(services))
    }
}

fn service_value(info: &ServiceInfo, network: &Value) -> Value {
    let mut ports = Object::new();
    for (inside, outside) in &info.ports {
        ports.insert(inside.clone(), Value::String(outside.clone()));
    }
    let mut o = Object::new();
    o.insert("id".into(), Value::String(info.id.clone()));
    o.insert("network".into(), network.clone());
    o.insert("ports".into(), Value::Object(ports));
    Value::Object(o)
}

/// Whether a job asks for containers at all.
pub(crate) fn wanted(job: &StepsJob) -> bool {
    job.container.is_some() || !job.services.is_empty() || job.services_expr.is_some()
}

/// A `container:` or service, its expressions evaluated.
fn spec(container: &Container, scope: &Scope, what: &str) -> Result<ContainerSpec, String> {
    let text = |t: &gantry_workflow::model::Text, part: &str| {
        expand(&t.value, scope).map_err(|e| format!("{what} {part}: {e}"))
    };
    let image = match &container.image {
        Some(i) => text(i, "image")?.trim().to_string(),
        None => String::new(),
    };
    if !image.is_empty() {
        gantry_container::args::check_image(&image).map_err(|e| format!("{what} image: {e}"))?;
    }
    let env = expand_env(&container.env, scope).map_err(|e| format!("{what} {e}"))?;
    let ports = container
        .ports
        .iter()
        .map(|p| text(p, "ports"))
        .collect::<Result<Vec<_>, _>>()?;
    let volumes = container
        .volumes
        .iter()
        .map(|v| text(v, "volumes"))
        .collect::<Result<Vec<_>, _>>()?;
    let options = match &container.options {
        Some(o) => gantry_container::split_options(&text(o, "options")?)
            .map_err(|e| format!("{what}: {e}"))?,
        None => Vec::new(),
    };
    let credentials = match &container.credentials {
        _ if let Some(expr) = &container.credentials_expr => {
            let value =
                expand_value(&expr.value, scope).map_err(|e| format!("{what} credentials: {e}"))?;
            credentials_from(&value, what)?
        }
        Some((user, password)) => {
            let user = user.as_ref().map(|u| text(u, "credentials username"));
            let password = password.as_ref().map(|p| text(p, "credentials password"));
            match (user.transpose()?, password.transpose()?) {
                (Some(username), Some(password))
                    if !username.is_empty() && !password.is_empty() =>
                {
                    Some(Credentials { username, password })
                }
                _ => None,
            }
        }
        None => None,
    };
    let entrypoint = match &container.entrypoint {
        Some(e) => Some(text(e, "entrypoint")?).filter(|e| !e.is_empty()),
        None => None,
    };
    let command = match &container.command {
        Some(c) => gantry_container::split_options(&text(c, "command")?)
            .map_err(|e| format!("{what} command: {e}"))?,
        None => Vec::new(),
    };
    Ok(ContainerSpec {
        image,
        env,
        ports,
        volumes,
        options,
        credentials,
        entrypoint,
        command,
    })
}

/// `credentials: ${{ expr }}`: an object with `username` and `password`;
/// nothing when either is empty (as a written one).
fn credentials_from(value: &Value, what: &str) -> Result<Option<Credentials>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Object(o) => {
            let get = |k: &str| o.get(k).map(Value::to_display_string).unwrap_or_default();
            let (username, password) = (get("username"), get("password"));
            Ok((!username.is_empty() && !password.is_empty())
                .then_some(Credentials { username, password }))
        }
        other => Err(format!(
            "{what} credentials: the expression gave {}, not an object with username and password",
            other.kind_name()
        )),
    }
}

/// `services: ${{ expr }}`: an object of service ids, each an image or an
/// object with the keys a written service has.
fn services_from(value: &Value) -> Result<Vec<(String, ContainerSpec)>, String> {
    let services = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Object(o) => o,
        other => {
            return Err(format!(
                "the `services` expression gave {}, not an object of services",
                other.kind_name()
            ));
        }
    };
    let mut out = Vec::new();
    for (id, service) in services.iter() {
        let what = format!("service `{id}`");
        let spec = match service {
            Value::Null => continue,
            Value::String(image) => ContainerSpec {
                image: image.trim().to_string(),
                ..ContainerSpec::default()
            },
            Value::Object(fields) => {
                let mut spec = ContainerSpec::default();
                for (key, v) in fields.iter() {
                    let words = |v: &Value| -> Vec<String> {
                        match v {
                            Value::Array(items) => {
                                items.iter().map(Value::to_display_string).collect()
                            }
                            Value::Null => Vec::new(),
                            other => vec![other.to_display_string()],
                        }
                    };
                    match key.as_str() {
                        "image" => spec.image = v.to_display_string().trim().to_string(),
                        "env" => {
                            if let Value::Object(vars) = v {
                                spec.env = vars
                                    .iter()
                                    .map(|(k, v)| (k.clone(), v.to_display_string()))
                                    .collect();
                            }
                        }
                        "ports" => spec.ports = words(v),
                        "volumes" => spec.volumes = words(v),
                        "options" => {
                            spec.options = gantry_container::split_options(&v.to_display_string())
                                .map_err(|e| format!("{what}: {e}"))?;
                        }
                        "credentials" => spec.credentials = credentials_from(v, &what)?,
                        "entrypoint" => {
                            spec.entrypoint = Some(v.to_display_string()).filter(|e| !e.is_empty());
                        }
                        "command" => {
                            spec.command = gantry_container::split_options(&v.to_display_string())
                                .map_err(|e| format!("{what} command: {e}"))?;
                        }
                        other => return Err(format!("{what}: unknown key `{other}`")),
                    }
                }
                spec
            }
            other => {
                return Err(format!(
                    "{what}: the expression gave {}, not an image or an object",
                    other.kind_name()
                ));
            }
        };
        if !spec.image.is_empty() {
            gantry_container::args::check_image(&spec.image)
                .map_err(|e| format!("{what} image: {e}"))?;
        }
        out.push((id.clone(), spec));
    }
    Ok(out)
}

/// Makes container and network names unique within this gantry process
/// (the pid makes them unique on the machine).
static NEXT: AtomicU64 = AtomicU64::new(1);

/// Whether this process has looked for what killed gantry processes left.
static SWEPT: AtomicBool = AtomicBool::new(false);

impl JobRun {
    /// Starts the job's services and container before its first step. An
    /// image that evaluates to nothing is no container, as on GitHub.
    pub(crate) async fn start_containers(
        &mut self,
        job: &StepsJob,
        log: &mut LogSink,
    ) -> Result<(), String> {
        let scope = self.scope(&Object::new());
        let container = match &job.container {
            Some(c) => Some(spec(c, &scope, "container")?).filter(|s| !s.image.is_empty()),
            None => None,
        };
        let mut written = Vec::new();
        for (id, c) in &job.services {
            written.push((id.clone(), spec(c, &scope, &format!("service `{id}`"))?));
        }
        if let Some(expr) = &job.services_expr {
            let value = expand_value(&expr.value, &scope).map_err(|e| format!("services: {e}"))?;
            written.extend(services_from(&value)?);
        }
        let mut services = Vec::new();
        for (id, s) in written {
            if s.image.is_empty() {
                log.line(
                    Stream::Stdout,
                    &format!("service `{id}` has no image and is not started"),
                );
            } else {
                services.push((id.clone(), s));
            }
        }
        if container.is_none() && services.is_empty() {
            return Ok(());
        }
        let path = std::env::var("PATH").unwrap_or_default();
        let engine = gantry_container::detect(&self.shared.options.containers.engine, &path)
            .map_err(|e| e.to_string())?;
        let name = format!(
            "gantry-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let options = &self.shared.options;
        // A mount's paths must be absolute (a relative one names a volume).
        let absolute =
            |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let work = absolute(&options.work_dir);
        let mut mounts = vec![Mount {
            host: work.clone(),
            container: work.display().to_string(),
            read_only: false,
        }];
        if let Some(store) = &options.actions
            && store.root().is_dir()
        {
            let root = absolute(store.root());
            mounts.push(Mount {
                container: root.display().to_string(),
                host: root,
                read_only: true,
            });
        }
        let setup = JobSetup {
            name,
            labels: gantry_container::sweep::owner_labels(&self.key),
            services,
            container: container.map(|spec| JobContainer {
                spec,
                mounts,
                workdir: absolute(&self.workspace).display().to_string(),
            }),
            health_timeout: options.containers.health_timeout,
            auth_dir: self.temp.join("gantry-registry-auth"),
        };
        log.line(
            Stream::Stdout,
            &format!("containers through {}", engine.program.display()),
        );
        // Once a gantry process: what killed gantry processes left.
        if !SWEPT.swap(true, Ordering::Relaxed) {
            match gantry_container::sweep::remove_leftovers(&engine).await {
                Ok(removed) if !removed.is_empty() => log.line(
                    Stream::Stdout,
                    &format!(
                        "removed what gantry processes that are gone left: {}",
                        removed.join(", ")
                    ),
                ),
                Ok(_) => {}
                Err(e) => log.warning(&format!("looking for containers left by gantry: {e}")),
            }
        }
        let cancel = self.cancel.clone();
        let mut say = |line: String| log.line(Stream::Stdout, &line);
        let started = gantry_container::start(&engine, setup, &cancel, &mut say)
            .await
            .map_err(|e| e.to_string())?;
        self.containers = Some(JobContainers { engine, started });
        Ok(())
    }

    /// Removes the job's containers and network (after its post steps);
    /// a failure is a warning, naming what is left.
    pub(crate) async fn remove_containers(&mut self, log: &mut LogSink) {
        let Some(containers) = self.containers.take() else {
            return;
        };
        let network = containers.started.network.clone();
        if let Err(e) = containers.started.cleanup.remove().await {
            log.warning(&format!(
                "removing the job's containers (network {network}): {e}"
            ));
        }
    }

    /// The environment of a step's process in the job container: the
    /// job's and step's variables (not this machine's), and `PATH` when
    /// `$GITHUB_PATH` added to the image's.
    pub(crate) fn container_env(
        &self,
        info: &ContainerInfo,
        env: Vec<(String, String)>,
    ) -> Vec<(String, String)> {
        let mut env: IndexMap<String, String> = env.into_iter().collect();
        if !self.path_prepend.is_empty() {
            let mut parts: Vec<String> = self.path_prepend.iter().rev().cloned().collect();
            parts.push(info.path.clone().unwrap_or_else(|| DEFAULT_PATH.into()));
            env.insert("PATH".into(), parts.join(":"));
        }
        env.into_iter().collect()
    }
}
