//! The toolchain setup actions: they use the toolchain installed on this
//! machine when it satisfies the requested version, and fail naming the
//! mismatch when it does not (gantry installs nothing).

use std::path::{Path, PathBuf};

use tokio::process::Command;

use super::super::job::{JobRun, LogSink, StepExec};
use super::toolchains::{self, Installed, Tool, first_version, satisfies};
use crate::run::ToolchainMismatch;

/// Runs `program args` and returns stdout and stderr together.
async fn version_output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().await.ok()?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Some(text)
}

/// The `PATH` the job's next step would get.
fn job_path(run: &JobRun) -> String {
    let base = run
        .env
        .get("PATH")
        .cloned()
        .or_else(|| std::env::var("PATH").ok())
        .unwrap_or_default();
    let mut parts: Vec<String> = run.path_prepend.iter().rev().cloned().collect();
    parts.push(base);
    parts.join(":")
}

/// Picks the installation of `tool` the request names (the newest that
/// satisfies it; with no request, the one the `PATH` finds first), puts it
/// first on the job's `PATH` for the steps after this one, and returns
/// its version as the output `output`.
async fn use_toolchain(
    run: &mut JobRun,
    log: &mut LogSink,
    tool: Tool,
    requested: Option<String>,
    output: &str,
) -> StepExec {
    // The HOME the job's steps see, where version managers keep theirs.
    let home = run
        .env
        .get("HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(PathBuf::from));
    let found = toolchains::installed(tool, &job_path(run), home.as_deref(), &run.tool_cache).await;
    // What the PATH finds under the program's own name, else the first.
    let default = found
        .iter()
        .find(|i| i.program.file_name() == Some(std::ffi::OsStr::new(tool.program())))
        .or(found.first());
    let Some(default) = default else {
        return StepExec::failed(
            format!(
                "{} is not installed on this machine (looked on the PATH and in the usual version managers' folders); install it, or run this job on GitHub",
                tool.title()
            ),
            log,
        );
    };
    let requests: Vec<&str> = requested
        .as_deref()
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .collect();
    // The last version listed is the one left on the PATH, as
    // setup-python does with several.
    let Some(request) = requests.last() else {
        log.info(&format!(
            "using the installed {} {} ({})",
            tool.title(),
            default.version,
            default.program.display()
        ));
        return finish(run, log, tool, default.clone(), output);
    };
    let newest = |req: &str| {
        found
            .iter()
            .filter(|i| satisfies(req, &i.version))
            .max_by(|a, b| toolchains::compare(&a.version, &b.version))
            .cloned()
    };
    if let Some(chosen) = newest(request) {
        log.info(&format!(
            "using the installed {} {} ({}) for {request}",
            tool.title(),
            chosen.version,
            chosen.program.display()
        ));
        return finish(run, log, tool, chosen, output);
    }
    let versions: Vec<&str> = found.iter().map(|i| i.version.as_str()).collect();
    match run.shared.options.toolchain_mismatch {
        ToolchainMismatch::Warn => {
            let Some(nearest) = toolchains::nearest(request, &found).cloned() else {
                return StepExec::failed(format!("no {} to use", tool.title()), log);
            };
            log.warning(&format!(
                "the workflow asks for {} {request}, which is not installed (installed: {}); using the nearest, {} ({}), as --toolchain-mismatch warn says",
                tool.title(),
                versions.join(", "),
                nearest.version,
                nearest.program.display()
            ));
            finish(run, log, tool, nearest, output)
        }
        ToolchainMismatch::Fail => StepExec::failed(
            format!(
                "the workflow asks for {} {request}, but this machine has {} {}; gantry uses installed toolchains and installs none (`--toolchain-mismatch warn` runs the nearest one instead)",
                tool.title(),
                tool.title(),
                versions.join(", ")
            ),
            log,
        ),
    }
}

/// Puts `chosen` first on the job's `PATH` under the names steps call it
/// by (through links in a folder of the job's, so nothing else in its
/// folder shadows the job's other programs), and returns the step's
/// outputs.
fn finish(
    run: &mut JobRun,
    log: &mut LogSink,
    tool: Tool,
    chosen: Installed,
    output: &str,
) -> StepExec {
    if tool == Tool::Java
        && let Some(home) = std::fs::canonicalize(&chosen.program)
            .ok()
            .and_then(|p| p.parent()?.parent().map(Path::to_path_buf))
    {
        run.env
            .insert("JAVA_HOME".into(), home.display().to_string());
    }
    match link_toolchain(&run.temp, tool, &chosen.program) {
        Ok(dir) => {
            let dir = dir.display().to_string();
            if !run.path_prepend.contains(&dir) {
                run.path_prepend.push(dir);
            }
        }
        Err(e) => {
            return StepExec::failed(
                format!(
                    "cannot put {} first on the PATH: {e}",
                    chosen.program.display()
                ),
                log,
            );
        }
    }
    StepExec::ok(vec![
        (output.to_string(), chosen.version),
        (
            match tool {
                Tool::Python => "python-path",
                _ => "path",
            }
            .to_string(),
            chosen.program.display().to_string(),
        ),
    ])
}

/// Makes `<temp>/.gantry-toolchains/<tool>/bin` with links to `program`
/// under the names steps call it by, and to the programs installed beside
/// it (pip, npm, gofmt, javac); returns the folder.
fn link_toolchain(temp: &Path, tool: Tool, program: &Path) -> std::io::Result<PathBuf> {
    let dir = temp
        .join(".gantry-toolchains")
        .join(tool.title().to_ascii_lowercase())
        .join("bin");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let beside = program.parent().unwrap_or(Path::new("/"));
    let suffix = program
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("python3"))
        .unwrap_or("");
    let mut links: Vec<(&str, PathBuf)> = Vec::new();
    match tool {
        Tool::Python => {
            links.push(("python", program.to_path_buf()));
            links.push(("python3", program.to_path_buf()));
            let pip = beside.join(format!("pip3{suffix}"));
            if pip.is_file() {
                links.push(("pip", pip.clone()));
                links.push(("pip3", pip));
            }
        }
        Tool::Node => {
            links.push(("node", program.to_path_buf()));
            for name in ["npm", "npx", "corepack"] {
                links.push((name, beside.join(name)));
            }
        }
        Tool::Go => {
            links.push(("go", program.to_path_buf()));
            links.push(("gofmt", beside.join("gofmt")));
        }
        Tool::Java => {
            for name in ["java", "javac", "jar"] {
                links.push((name, beside.join(name)));
            }
        }
    }
    for (name, target) in links {
        if target.is_file() {
            std::os::unix::fs::symlink(&target, dir.join(name))?;
        }
    }
    Ok(dir)
}

pub(crate) async fn python(
    run: &mut JobRun,
    input: &(dyn Fn(&str) -> Option<String> + Sync),
    log: &mut LogSink,
) -> StepExec {
    if input("cache").is_some() {
        log.warning("the `cache` input of setup-python is ignored by gantry; use actions/cache");
    }
    use_toolchain(
        run,
        log,
        Tool::Python,
        input("python-version"),
        "python-version",
    )
    .await
}

pub(crate) async fn node(
    run: &mut JobRun,
    input: &(dyn Fn(&str) -> Option<String> + Sync),
    log: &mut LogSink,
) -> StepExec {
    if input("cache").is_some() {
        log.warning("the `cache` input of setup-node is ignored by gantry; use actions/cache");
    }
    use_toolchain(run, log, Tool::Node, input("node-version"), "node-version").await
}

pub(crate) async fn go(
    run: &mut JobRun,
    input: &(dyn Fn(&str) -> Option<String> + Sync),
    log: &mut LogSink,
) -> StepExec {
    use_toolchain(run, log, Tool::Go, input("go-version"), "go-version").await
}

pub(crate) async fn java(
    run: &mut JobRun,
    input: &(dyn Fn(&str) -> Option<String> + Sync),
    log: &mut LogSink,
) -> StepExec {
    use_toolchain(run, log, Tool::Java, input("java-version"), "version").await
}

pub(crate) async fn rust(
    _run: &mut JobRun,
    reference: &str,
    input: &(dyn Fn(&str) -> Option<String> + Sync),
    log: &mut LogSink,
) -> StepExec {
    let requested = input("toolchain").unwrap_or_else(|| reference.to_string());
    let Some(text) = version_output("rustc", &["--version"]).await else {
        return StepExec::failed(
            "Rust is not installed on this machine (`rustc` not found)",
            log,
        );
    };
    let nightly = text.contains("nightly");
    let beta = text.contains("beta");
    let actual = first_version(&text).unwrap_or_default();
    let ok = match requested.as_str() {
        "stable" | "" | "master" | "main" => !nightly && !beta,
        "nightly" => nightly,
        "beta" => beta,
        r if r.starts_with("nightly-") => nightly,
        r => satisfies(r, &actual),
    };
    if input("components").is_some() || input("targets").is_some() {
        log.warning(
            "components and targets are not checked; the installed toolchain is used as is",
        );
    }
    if ok {
        log.info(&format!("using the installed {}", text.trim()));
        StepExec::ok(vec![
            ("name".into(), requested),
            ("cachekey".into(), actual),
        ])
    } else {
        StepExec::failed(
            format!(
                "the workflow asks for Rust `{requested}`, but this machine has {}; gantry uses installed toolchains and installs none",
                text.trim()
            ),
            log,
        )
    }
}
