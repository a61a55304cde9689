//! Carrying a plan out with each ecosystem's own updater: `cargo update
//! -p NAME@FROM --precise TO`, `npm install --package-lock-only NAME@TO`,
//! `go get NAME@TO`, `uv lock --upgrade-package NAME==TO` and
//! `pip-compile --upgrade-package NAME==TO`. gantry never edits a lockfile
//! itself; a move no updater makes precisely is left as `manual`, saying
//! what to change.
//!
//! The commands run through [`Tools`]: [`SystemTools`] looks programs up
//! on `PATH` and runs them in the lockfile's folder; this is the only
//! place gantry-vuln starts a process, and only in apply mode.

use std::path::Path;

use gantry_sbom::Ecosystem;
use gantry_sbom::manifest::Manifests;
use serde::Serialize;

use super::Plan;

/// A command to run in a folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Command {
    pub program: String,
    pub args: Vec<String>,
    /// The folder to run it in, relative to the scanned folder (`.`).
    pub dir: String,
}

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.program)?;
        for a in &self.args {
            write!(f, " {a}")?;
        }
        Ok(())
    }
}

/// What happened to one fix under `--apply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Applied {
    /// The command succeeded.
    #[serde(rename = "applied")]
    Done,
    /// The updater is not installed.
    ToolMissing { program: String },
    /// The command failed; the end of its error output.
    Failed { code: Option<i32>, message: String },
    /// No updater makes this move; the reason says what to change.
    Manual { reason: String },
}

/// The result of running a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolRun {
    pub success: bool,
    pub code: Option<i32>,
    pub stderr: String,
}

/// Where commands run.
pub trait Tools {
    /// Whether `program` can be run.
    fn available(&self, program: &str) -> bool;
    /// Runs `program` with `args` in `dir`.
    fn run(&self, dir: &Path, program: &str, args: &[String]) -> std::io::Result<ToolRun>;
}

/// The machine's programs, found on `PATH`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemTools;

impl Tools for SystemTools {
    fn available(&self, program: &str) -> bool {
        use std::os::unix::fs::PermissionsExt as _;
        let Some(path) = std::env::var_os("PATH") else {
            return false;
        };
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    }

    fn run(&self, dir: &Path, program: &str, args: &[String]) -> std::io::Result<ToolRun> {
        let out = std::process::Command::new(program)
            .args(args)
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .output()?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        let tail = lines[lines.len().saturating_sub(12)..].join("\n");
        Ok(ToolRun {
            success: out.status.success(),
            code: out.status.code(),
            stderr: tail,
        })
    }
}

/// How one lockfile's packages are moved.
#[derive(Debug, Clone)]
pub(crate) struct Updater {
    /// The updater's name, for messages.
    pub(crate) tool: &'static str,
    /// Whether it rewrites the manifest's requirement when the new
    /// version is outside it.
    pub(crate) changes_manifest: bool,
    kind: Kind,
    dir: String,
}

#[derive(Debug, Clone)]
enum Kind {
    Cargo,
    Npm,
    Go,
    Uv,
    PipCompile { input: String, output: String },
    Manual(String),
}

/// The updater of a package in `lockfile` (relative to the scanned
/// folder).
pub(crate) fn updater(
    lockfile: &str,
    manifest: &Manifests,
    ecosystem: Ecosystem,
    package: &str,
    direct: bool,
) -> Updater {
    let path = Path::new(lockfile);
    let dir = path
        .parent()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| ".".to_string());
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let manual = |tool, why: String| Updater {
        tool,
        changes_manifest: false,
        kind: Kind::Manual(why),
        dir: dir.clone(),
    };
    let up = |tool, changes_manifest, kind| Updater {
        tool,
        changes_manifest,
        kind,
        dir: dir.clone(),
    };
    match (ecosystem, name) {
        (Ecosystem::Cargo, "Cargo.lock") => up("cargo update", false, Kind::Cargo),
        (Ecosystem::Npm, "package-lock.json" | "npm-shrinkwrap.json") if direct => {
            up("npm install", true, Kind::Npm)
        }
        (Ecosystem::Npm, "package-lock.json" | "npm-shrinkwrap.json") => manual(
            "npm install",
            format!(
                "npm has no precise update of a package it installs for another; add \"overrides\": {{\"{package}\": \"TO\"}} to {dir}/package.json and run `npm install --package-lock-only`"
            ),
        ),
        (Ecosystem::Go, "go.mod") if package == "stdlib" => manual(
            "go get",
            format!("the standard library: raise the `toolchain` line of {lockfile} to goTO"),
        ),
        (Ecosystem::Go, "go.mod") => up("go get", true, Kind::Go),
        (Ecosystem::PyPI, "uv.lock") => up("uv lock", false, Kind::Uv),
        (Ecosystem::PyPI, n) if n.starts_with("requirements") && n.ends_with(".txt") => {
            let input = format!("{}.in", n.trim_end_matches(".txt"));
            let shown = if dir == "." {
                input.clone()
            } else {
                format!("{dir}/{input}")
            };
            if manifest.files.contains(&shown) {
                up(
                    "pip-compile",
                    false,
                    Kind::PipCompile {
                        input,
                        output: n.to_string(),
                    },
                )
            } else {
                manual(
                    "pip-compile",
                    format!(
                        "{lockfile} is not compiled from a {input}: change its `{package}` line to `{package}==TO`"
                    ),
                )
            }
        }
        (Ecosystem::PyPI, "poetry.lock") => manual(
            "poetry",
            format!(
                "poetry updates only to the newest admitted version: run `poetry add {package}@TO` in {dir}"
            ),
        ),
        (_, n) => manual(
            "none",
            format!("gantry has no updater for {n}: move {package} to TO by hand"),
        ),
    }
}

impl Updater {
    /// The command that moves `package` from `from` to `to`, or what to do
    /// by hand.
    pub(crate) fn command(&self, package: &str, from: &str, to: &str) -> Result<Command, String> {
        let cmd = |program: &str, args: Vec<String>| Command {
            program: program.to_string(),
            args,
            dir: self.dir.clone(),
        };
        Ok(match &self.kind {
            Kind::Cargo => cmd(
                "cargo",
                vec![
                    "update".into(),
                    "-p".into(),
                    format!("{package}@{from}"),
                    "--precise".into(),
                    to.into(),
                ],
            ),
            Kind::Npm => cmd(
                "npm",
                vec![
                    "install".into(),
                    "--package-lock-only".into(),
                    "--ignore-scripts".into(),
                    format!("{package}@{to}"),
                ],
            ),
            Kind::Go => cmd("go", vec!["get".into(), format!("{package}@{to}")]),
            Kind::Uv => cmd(
                "uv",
                vec![
                    "lock".into(),
                    "--upgrade-package".into(),
                    format!("{package}=={to}"),
                ],
            ),
            Kind::PipCompile { input, output } => cmd(
                "pip-compile",
                vec![
                    "--upgrade-package".into(),
                    format!("{package}=={to}"),
                    "--output-file".into(),
                    output.clone(),
                    input.clone(),
                ],
            ),
            Kind::Manual(why) => {
                let bare = to.trim_start_matches('v');
                return Err(why.replace("goTO", &format!("go{bare}")).replace("TO", to));
            }
        })
    }
}

/// Runs each fix's command, in plan order, recording what happened.
pub(crate) fn apply(base: &Path, plan: &mut Plan, tools: &dyn Tools) {
    for fix in &mut plan.fixes {
        let outcome = match &fix.command {
            None => Applied::Manual {
                reason: fix.manual.clone().unwrap_or_default(),
            },
            Some(c) if !tools.available(&c.program) => Applied::ToolMissing {
                program: c.program.clone(),
            },
            Some(c) => match tools.run(&base.join(&c.dir), &c.program, &c.args) {
                Ok(r) if r.success => Applied::Done,
                Ok(r) => Applied::Failed {
                    code: r.code,
                    message: r.stderr,
                },
                Err(e) => Applied::Failed {
                    code: None,
                    message: e.to_string(),
                },
            },
        };
        fix.applied = Some(outcome);
    }
}
