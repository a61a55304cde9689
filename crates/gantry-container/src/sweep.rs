//! What a gantry that was killed (`kill -9`, a crash) left behind: every
//! container and network gantry creates is named `gantry-<pid>-...` and
//! labelled with its pid namespace ([`owner_labels`]), so a later gantry
//! in the same namespace removes those whose process is gone.

use crate::{Engine, EngineError};

/// The label naming the pid namespace of the gantry that created a
/// container or network.
pub const NAMESPACE_LABEL: &str = "gantry.ns";

/// This process's pid namespace (the number in `/proc/self/ns/pid`), or
/// `unknown` where it cannot be read.
pub fn pid_namespace() -> String {
    std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .and_then(|l| {
            let text = l.display().to_string();
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            (!digits.is_empty()).then_some(digits)
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// The labels of everything created for `job` by this process.
pub fn owner_labels(job: &str) -> Vec<(String, String)> {
    vec![
        ("gantry.pid".into(), std::process::id().to_string()),
        (NAMESPACE_LABEL.into(), pid_namespace()),
        ("gantry.job".into(), job.to_string()),
    ]
}

/// The pid in a name gantry gave (`gantry-<pid>-...`).
pub fn owner_pid(name: &str) -> Option<u32> {
    name.strip_prefix("gantry-")?
        .split('-')
        .next()?
        .parse()
        .ok()
}

fn gone(pid: u32) -> bool {
    pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes the containers and networks of this pid namespace whose
/// gantry is no longer running; gives their names.
pub async fn remove_leftovers(engine: &Engine) -> Result<Vec<String>, EngineError> {
    let filter = format!("label={NAMESPACE_LABEL}={}", pid_namespace());
    let list = |args: &[&str]| -> Vec<String> { args.iter().map(|a| a.to_string()).collect() };
    let names = engine
        .checked(
            &list(&["ps", "--all", "--filter", &filter, "--format", "{{.Names}}"]),
            &[],
            None,
        )
        .await?;
    let containers: Vec<String> = names
        .lines()
        .map(str::trim)
        .filter(|n| owner_pid(n).is_some_and(gone))
        .map(str::to_string)
        .collect();
    let mut removed = Vec::new();
    if !containers.is_empty() {
        engine
            .checked(&crate::args::remove(engine.kind, &containers), &[], None)
            .await?;
        removed.extend(containers);
    }
    let networks = engine
        .checked(
            &list(&[
                "network",
                "ls",
                "--filter",
                &filter,
                "--format",
                "{{.Name}}",
            ]),
            &[],
            None,
        )
        .await?;
    for network in networks
        .lines()
        .map(str::trim)
        .filter(|n| owner_pid(n).is_some_and(gone))
    {
        engine
            .checked(&crate::args::network_remove(network), &[], None)
            .await?;
        removed.push(network.to_string());
    }
    Ok(removed)
}
