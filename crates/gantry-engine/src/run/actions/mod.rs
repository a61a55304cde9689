//! Built-in implementations of the actions nearly every workflow uses, so
//! they run offline: checkout, cache, artifacts, and the toolchain setup
//! actions (which use the machine's toolchains and check their versions).

pub(crate) mod artifact;
pub(crate) mod cache;
pub(crate) mod checkout;
pub(crate) mod setup;

use indexmap::IndexMap;

use super::job::{JobRun, LogSink, StepExec};

/// Runs a built-in action; `None` when `name` is not one.
pub(crate) async fn run_builtin(
    run: &mut JobRun,
    name: &str,
    reference: &str,
    inputs: &IndexMap<String, String>,
    step_env: &[(String, String)],
    log: &mut LogSink,
) -> Option<StepExec> {
    let input = |key: &str| {
        inputs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let _ = step_env;
    Some(match name {
        "actions/checkout" => checkout::checkout(run, &input, log).await,
        "actions/cache" => cache::cache(run, &input, true, true, log),
        "actions/cache/restore" => cache::cache(run, &input, true, false, log),
        "actions/cache/save" => cache::save_step(run, &input, log),
        "actions/upload-artifact" => artifact::upload(run, &input, log),
        "actions/download-artifact" => artifact::download(run, &input, log),
        "actions/setup-python" => setup::python(run, &input, log).await,
        "actions/setup-node" => setup::node(run, &input, log).await,
        "actions/setup-go" => setup::go(run, &input, log).await,
        "actions/setup-java" => setup::java(run, &input, log).await,
        "dtolnay/rust-toolchain" => setup::rust(run, reference, &input, log).await,
        _ => return None,
    })
}

/// The lines of a multi-line input, trimmed, without blanks.
pub(crate) fn lines(value: &str) -> Vec<String> {
    value
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}
