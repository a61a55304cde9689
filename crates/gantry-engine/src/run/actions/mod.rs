//! Built-in implementations of the actions nearly every workflow uses, so
//! they run offline: checkout, cache, artifacts, and the toolchain setup
//! actions (which use the machine's toolchains and check their versions).
//!
//! Each action is a [`BuiltinAction`] registered in [`BUILTINS`]; adding
//! one is a module with its implementation, a small type below that names
//! it and calls it, and a line in the list.

pub(crate) mod artifact;
pub(crate) mod cache;
pub(crate) mod checkout;
pub(crate) mod setup;
pub(crate) mod test_report;
pub(crate) mod toolchains;

use std::future::Future;
use std::pin::Pin;

use indexmap::IndexMap;

use super::job::{JobRun, LogSink, StepExec};

/// What a built-in action gets: the job, the `@ref` it was asked for, its
/// inputs (already expanded) and the step's log.
pub(crate) struct ActionContext<'a> {
    pub run: &'a mut JobRun,
    pub reference: &'a str,
    pub inputs: &'a IndexMap<String, String>,
    pub log: &'a mut LogSink,
}

/// An input by name (case-insensitive), `None` when missing or empty.
fn input(inputs: &IndexMap<String, String>, key: &str) -> Option<String> {
    inputs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty())
}

/// The future a built-in action's step is.
pub(crate) type ActionFuture<'a> = Pin<Box<dyn Future<Output = StepExec> + Send + 'a>>;

/// An action gantry runs itself instead of downloading it.
pub(crate) trait BuiltinAction: Sync {
    /// The `uses:` name it answers to, lower case, without `@ref`.
    fn name(&self) -> &'static str;
    /// Runs the step.
    fn run<'a>(&'a self, cx: ActionContext<'a>) -> ActionFuture<'a>;
}

/// Defines a unit type implementing [`BuiltinAction`]: its name, and the
/// body that runs it with `run`, `reference`, `input` (a lookup closure)
/// and `log` in scope.
macro_rules! builtin {
    ($ty:ident, $name:literal, |$run:ident, $reference:ident, $input:ident, $log:ident| $body:expr) => {
        struct $ty;
        impl BuiltinAction for $ty {
            fn name(&self) -> &'static str {
                $name
            }
            fn run<'a>(&'a self, cx: ActionContext<'a>) -> ActionFuture<'a> {
                Box::pin(async move {
                    let ActionContext {
                        run: $run,
                        reference: $reference,
                        inputs,
                        log: $log,
                    } = cx;
                    let _ = $reference;
                    let $input = &|key: &str| input(inputs, key);
                    $body
                })
            }
        }
    };
}

builtin!(
    Checkout,
    "actions/checkout",
    |run, reference, input, log| checkout::checkout(run, input, log).await
);
builtin!(Cache, "actions/cache", |run, reference, input, log| {
    cache::cache(run, input, true, true, log)
});
builtin!(
    CacheRestore,
    "actions/cache/restore",
    |run, reference, input, log| cache::cache(run, input, true, false, log)
);
builtin!(
    CacheSave,
    "actions/cache/save",
    |run, reference, input, log| cache::save_step(run, input, log)
);
builtin!(
    UploadArtifact,
    "actions/upload-artifact",
    |run, reference, input, log| artifact::upload(run, input, log)
);
builtin!(
    DownloadArtifact,
    "actions/download-artifact",
    |run, reference, input, log| artifact::download(run, input, log)
);
builtin!(
    SetupPython,
    "actions/setup-python",
    |run, reference, input, log| setup::python(run, input, log).await
);
builtin!(
    SetupNode,
    "actions/setup-node",
    |run, reference, input, log| setup::node(run, input, log).await
);
builtin!(SetupGo, "actions/setup-go", |run, reference, input, log| {
    setup::go(run, input, log).await
});
builtin!(
    SetupJava,
    "actions/setup-java",
    |run, reference, input, log| setup::java(run, input, log).await
);
builtin!(
    RustToolchain,
    "dtolnay/rust-toolchain",
    |run, reference, input, log| setup::rust(run, reference, input, log).await
);

builtin!(
    TestReport,
    "gantry/test-report",
    |run, reference, input, log| test_report::test_report(run, input, log)
);
/// `gantry/health-check`: an HTTP(S) check with retries, through the
/// backend's environments (gantry-deliver's health checks).
struct HealthCheck;
impl BuiltinAction for HealthCheck {
    fn name(&self) -> &'static str {
        "gantry/health-check"
    }
    fn run<'a>(&'a self, cx: ActionContext<'a>) -> ActionFuture<'a> {
        Box::pin(async move {
            let ActionContext {
                run, inputs, log, ..
            } = cx;
            let Some(hooks) = run.shared.backend.environments() else {
                return StepExec::failed(
                    "gantry/health-check needs gantry's deployment support, which this run has not",
                    log,
                );
            };
            let shared = run.shared.clone();
            let key = run.key.clone();
            let result = {
                let lock = std::sync::Mutex::new(&mut *log);
                let say = |s| super::environment::sayer(&lock, &shared, &key, s);
                hooks.health_check(inputs, &say).await
            };
            match result {
                Ok(summary) => {
                    log.info(&summary);
                    StepExec::ok(vec![("healthy".into(), "true".into())])
                }
                Err(reason) => StepExec::failed(reason, log),
            }
        })
    }
}

/// Every built-in action.
pub(crate) static BUILTINS: &[&dyn BuiltinAction] = &[
    &Checkout,
    &Cache,
    &CacheRestore,
    &CacheSave,
    &UploadArtifact,
    &DownloadArtifact,
    &SetupPython,
    &SetupNode,
    &SetupGo,
    &SetupJava,
    &RustToolchain,
    &TestReport,
    &HealthCheck,
];

/// The built-in action called `name` (lower case), if there is one.
pub(crate) fn find(name: &str) -> Option<&'static dyn BuiltinAction> {
    BUILTINS.iter().copied().find(|a| a.name() == name)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_names_are_unique_and_lower_case() {
        let mut names: Vec<&str> = BUILTINS.iter().map(|a| a.name()).collect();
        assert!(names.iter().all(|n| *n == n.to_ascii_lowercase()));
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a built-in action is listed twice");
        assert!(find("actions/checkout").is_some());
        assert!(find("actions/unknown").is_none());
    }
}
