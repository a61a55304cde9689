//! Containers for jobs, through the `podman` or `docker` command line (the
//! same flags for both): which engine to use ([`detect`]), the exact
//! command lines ([`args`]), and a job's containers from start to removal
//! ([`start`], [`Cleanup`]).
//!
//! The crate runs the engine's client and nothing else; it knows nothing
//! of workflows. The executor turns a job's `container:` and `services:`
//! into a [`JobSetup`], and runs its steps with [`args::exec`] through its
//! own process runner.

pub mod args;
mod lifecycle;
pub mod sweep;

use std::path::PathBuf;
use std::process::Stdio;
use std::str::FromStr;

pub use args::{ContainerSpec, Credentials, Mount, OptionsError, split_options};
pub use lifecycle::{
    Cleanup, ContainerInfo, JobContainer, JobSetup, ServiceInfo, StartError, Started, start,
};

/// The container engines gantry drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EngineKind {
    Podman,
    Docker,
}

impl EngineKind {
    /// Both, in the order detection tries them.
    pub const ALL: [EngineKind; 2] = [EngineKind::Podman, EngineKind::Docker];

    /// The program's name: `podman` or `docker`.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Podman => "podman",
            EngineKind::Docker => "docker",
        }
    }

    fn other(self) -> EngineKind {
        match self {
            EngineKind::Podman => EngineKind::Docker,
            EngineKind::Docker => EngineKind::Podman,
        }
    }
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A `--container-engine` value that is neither `podman` nor `docker`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown container engine `{0}`: use `podman` or `docker`")]
pub struct UnknownEngine(pub String);

impl FromStr for EngineKind {
    type Err = UnknownEngine;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "podman" => Ok(EngineKind::Podman),
            "docker" => Ok(EngineKind::Docker),
            _ => Err(UnknownEngine(s.to_string())),
        }
    }
}

/// An engine's client program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    pub kind: EngineKind,
    pub program: PathBuf,
}

impl Engine {
    pub fn new(kind: EngineKind, program: impl Into<PathBuf>) -> Self {
        Engine {
            kind,
            program: program.into(),
        }
    }
}

/// Which engine a run uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum EngineChoice {
    /// The first of podman and docker found on `PATH`.
    #[default]
    Detect,
    /// `--container-engine podman|docker`: this one, found on `PATH`.
    Named(EngineKind),
    /// This program, as this engine (a wrapper script, a full path).
    Given(Engine),
}

/// Why no engine can run a job's containers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetectError {
    #[error(
        "this job needs containers (`container:` or `services:`), and neither podman nor docker is installed (looked for both on PATH); install one of them, or name one with `--container-engine podman|docker`"
    )]
    NoEngine,
    #[error(
        "`--container-engine {kind}`: `{kind}` is not on PATH; install it, or use `--container-engine {}`",
        kind.other()
    )]
    NotFound { kind: EngineKind },
}

/// The engine `choice` names, looked up in `path` (a `PATH` value).
pub fn detect(choice: &EngineChoice, path: &str) -> Result<Engine, DetectError> {
    match choice {
        EngineChoice::Given(engine) => Ok(engine.clone()),
        EngineChoice::Named(kind) => find(kind.name(), path)
            .map(|p| Engine::new(*kind, p))
            .ok_or(DetectError::NotFound { kind: *kind }),
        EngineChoice::Detect => EngineKind::ALL
            .iter()
            .find_map(|kind| find(kind.name(), path).map(|p| Engine::new(*kind, p)))
            .ok_or(DetectError::NoEngine),
    }
}

fn find(program: &str, path: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// What one engine command printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// An engine command that could not run or failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot run `{}`: {source}", program.display())]
    Spawn {
        program: PathBuf,
        source: std::io::Error,
    },
    #[error("`{command}` failed{}{}", code.map(|c| format!(" with exit code {c}")).unwrap_or_default(), if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    Failed {
        /// The engine and its subcommand: `podman run`.
        command: String,
        code: Option<i32>,
        /// The last lines it printed on stderr.
        stderr: String,
    },
}

impl Engine {
    /// Runs the client with `args`; `env` is added to gantry's own
    /// environment (values that `-e NAME` passes on, the auth file), and
    /// `stdin` is written to it (a registry password).
    pub async fn output(
        &self,
        args: &[String],
        env: &[(String, String)],
        stdin: Option<&str>,
    ) -> Result<Output, EngineError> {
        use tokio::io::AsyncWriteExt;
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let spawn_error = |source| EngineError::Spawn {
            program: self.program.clone(),
            source,
        };
        let mut child = command.spawn().map_err(spawn_error)?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A client that exits before reading fails below with its own
            // message; a broken pipe here says less.
            let _ = pipe.write_all(text.as_bytes()).await;
            drop(pipe);
        }
        let out = child.wait_with_output().await.map_err(spawn_error)?;
        Ok(Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Runs the client and fails unless it exits 0; gives its stdout.
    pub async fn checked(
        &self,
        args: &[String],
        env: &[(String, String)],
        stdin: Option<&str>,
    ) -> Result<String, EngineError> {
        let out = self.output(args, env, stdin).await?;
        if out.success() {
            Ok(out.stdout)
        } else {
            Err(self.failed(args, &out))
        }
    }

    fn failed(&self, args: &[String], out: &Output) -> EngineError {
        EngineError::Failed {
            command: format!(
                "{} {}",
                self.kind,
                args.first().map(String::as_str).unwrap_or_default()
            ),
            code: out.code,
            stderr: last_lines(&out.stderr, 5),
        }
    }

    /// The same command, waited for without tokio (for [`Cleanup`]'s
    /// `Drop`); errors are ignored, as nothing could act on them.
    fn blocking(&self, args: &[String]) {
        let _ = std::process::Command::new(&self.program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The last `n` non-empty lines of `text`, joined with `; `.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(n)..].join("; ")
}
