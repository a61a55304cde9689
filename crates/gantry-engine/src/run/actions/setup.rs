//! The toolchain setup actions: they use the toolchain installed on this
//! machine when it satisfies the requested version, and fail naming the
//! mismatch when it does not (gantry installs nothing).

use tokio::process::Command;

use super::super::job::{JobRun, LogSink, StepExec};

/// Runs `program args` and returns stdout and stderr together.
async fn version_output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().await.ok()?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Some(text)
}

/// The first `x.y.z`-like run of digits and dots in `text`.
fn first_version(text: &str) -> Option<String> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let v: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    Some(v.trim_end_matches('.').to_string())
}

/// Whether `actual` satisfies `requested`: a version prefix (`3.11`,
/// `20`, `1.80.0`), with `x`/`*` wildcards, or a name for "whatever is
/// installed" (`latest`, `stable`, `lts/*`, `node`).
pub(crate) fn satisfies(requested: &str, actual: &str) -> bool {
    let requested = requested.trim().trim_start_matches(['v', '^', '~', '=']);
    if matches!(
        requested,
        "" | "latest" | "stable" | "lts/*" | "node" | "*" | "x"
    ) {
        return true;
    }
    let want: Vec<&str> = requested.split('.').collect();
    let have: Vec<&str> = actual.split('.').collect();
    want.iter()
        .enumerate()
        .all(|(i, w)| matches!(*w, "x" | "X" | "*") || have.get(i) == Some(w))
}

async fn check(
    log: &mut LogSink,
    tool: &str,
    requested: Option<String>,
    program: &str,
    args: &[&str],
    output: &str,
) -> StepExec {
    let Some(text) = version_output(program, args).await else {
        return StepExec::failed(
            format!(
                "{tool} is not installed on this machine (`{program}` not found); install it, or run this job on GitHub"
            ),
            log,
        );
    };
    let Some(actual) = first_version(&text) else {
        return StepExec::failed(
            format!(
                "cannot read the version of `{program}` from: {}",
                text.trim()
            ),
            log,
        );
    };
    for req in requested
        .iter()
        .flat_map(|r| r.lines())
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        if satisfies(req, &actual) {
            log.info(&format!(
                "using the installed {tool} {actual} (requested {req})"
            ));
            return StepExec::ok(vec![(output.to_string(), actual)]);
        }
    }
    match requested.filter(|r| !r.trim().is_empty()) {
        None => {
            log.info(&format!("using the installed {tool} {actual}"));
            StepExec::ok(vec![(output.to_string(), actual)])
        }
        Some(req) => StepExec::failed(
            format!(
                "the workflow asks for {tool} {}, but this machine has {tool} {actual}; gantry uses installed toolchains and installs none",
                req.trim()
            ),
            log,
        ),
    }
}

pub(crate) async fn python(
    _run: &mut JobRun,
    input: &(dyn Fn(&str) -> Option<String> + Sync),
    log: &mut LogSink,
) -> StepExec {
    if input("cache").is_some() {
        log.warning("the `cache` input of setup-python is ignored by gantry; use actions/cache");
    }
    check(
        log,
        "Python",
        input("python-version"),
        "python3",
        &["--version"],
        "python-version",
    )
    .await
}

pub(crate) async fn node(
    _run: &mut JobRun,
    input: &(dyn Fn(&str) -> Option<String> + Sync),
    log: &mut LogSink,
) -> StepExec {
    if input("cache").is_some() {
        log.warning("the `cache` input of setup-node is ignored by gantry; use actions/cache");
    }
    check(
        log,
        "Node.js",
        input("node-version"),
        "node",
        &["--version"],
        "node-version",
    )
    .await
}

pub(crate) async fn go(
    _run: &mut JobRun,
    input: &(dyn Fn(&str) -> Option<String> + Sync),
    log: &mut LogSink,
) -> StepExec {
    check(
        log,
        "Go",
        input("go-version"),
        "go",
        &["version"],
        "go-version",
    )
    .await
}

pub(crate) async fn java(
    _run: &mut JobRun,
    input: &(dyn Fn(&str) -> Option<String> + Sync),
    log: &mut LogSink,
) -> StepExec {
    check(
        log,
        "Java",
        input("java-version"),
        "java",
        &["-version"],
        "version",
    )
    .await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_requests() {
        assert!(satisfies("3.11", "3.11.7"));
        assert!(satisfies("3.x", "3.12.1"));
        assert!(!satisfies("3.10", "3.11.7"));
        assert!(satisfies("20", "20.20.2"));
        assert!(satisfies("v20.20", "20.20.2"));
        assert!(!satisfies("22", "20.20.2"));
        assert!(satisfies("lts/*", "20.20.2"));
        assert_eq!(
            first_version("openjdk version \"17.0.15\" 2025-04-15").as_deref(),
            Some("17.0.15")
        );
        assert_eq!(
            first_version("go version go1.22.1 linux/amd64").as_deref(),
            Some("1.22.1")
        );
    }
}
