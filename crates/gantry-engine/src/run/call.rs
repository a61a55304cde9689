//! Jobs that call a reusable workflow: the called file is read and checked,
//! its inputs and secrets are given as the caller says, its jobs run as a
//! nested schedule, and its outputs come back as the calling job's.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use gantry_expr::{Object, Value};
use gantry_workflow::matrix;
use gantry_workflow::model::{CallJob, CallSecrets, InputType, Trigger, Workflow};
use gantry_workflow::yaml::NodeKind;
use gantry_workflow::{ReadOptions, read_workflow};
use indexmap::IndexMap;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::dispatch::aggregate;
use super::expand::{ExprError, expand, expand_value};
use super::job::{JobResult, Shared};
use super::schedule::{Done, Level, run_jobs};
use super::scope::{Scope, strings};
use super::{Conclusion, RunEvent};

/// How deeply reusable workflows may call each other.
const MAX_CALL_DEPTH: usize = 10;

/// Why a reusable workflow could not be called; the calling job fails.
#[derive(Debug, thiserror::Error)]
enum CallError {
    #[error("reusable workflows nest deeper than {MAX_CALL_DEPTH}")]
    TooDeep,
    #[error("`{0}` is a remote reusable workflow; gantry runs only workflows of this repository")]
    Remote(String),
    #[error(transparent)]
    LeavesRepository(gantry_workflow::local::LocalRefError),
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: gantry_workflow::FileError,
    },
    #[error("{0} is not a valid workflow; run `gantry validate {0}`")]
    Invalid(String),
    #[error("{0} has no `on: workflow_call`")]
    NotCallable(String),
    #[error("input `{name}`: {source}")]
    Input { name: String, source: ExprError },
    #[error("input `{name}` is required by {workflow}")]
    MissingInput { name: String, workflow: String },
    #[error("secret `{name}`: {source}")]
    Secret { name: String, source: ExprError },
}

/// A job instance that calls a reusable workflow.
pub(crate) struct Caller<'a> {
    pub shared: Arc<Shared>,
    pub slots: Arc<Semaphore>,
    /// The calling instance's name; the called jobs' names start with it.
    pub key: &'a str,
    pub scope: Scope,
    pub cancel: CancellationToken,
    pub depth: usize,
}

impl Caller<'_> {
    /// Runs the called workflow's jobs; their failure is the job's.
    pub(crate) async fn run(self, call: &CallJob) -> JobResult {
        match self.prepare(call) {
            Ok((called, nested)) => self.run_called(called, nested).await,
            Err(e) => {
                self.shared.emit(RunEvent::JobSkipped {
                    job: self.key.to_string(),
                    reason: e.to_string(),
                });
                JobResult::without_outputs(Conclusion::Failure)
            }
        }
    }

    /// The called workflow and the contexts its jobs see.
    fn prepare(&self, call: &CallJob) -> Result<(Arc<Workflow>, Scope), CallError> {
        if self.depth >= MAX_CALL_DEPTH {
            return Err(CallError::TooDeep);
        }
        let called = load(&self.shared.options.repo, &call.uses.value)?;
        let mut nested = Scope::default();
        for name in ["github", "vars"] {
            if let Some(v) = self.scope.values.get(name) {
                nested.set(name, v.clone());
            }
        }
        let relative = called.source.name().to_string();
        let trigger = workflow_call(&called, &relative)?;
        nested.set("inputs", inputs(call, trigger, &self.scope, &relative)?);
        nested.set("secrets", secrets(call, &self.scope)?);
        Ok((called, nested))
    }

    async fn run_called(self, called: Arc<Workflow>, nested: Scope) -> JobResult {
        self.shared.emit(RunEvent::JobStarted {
            job: self.key.to_string(),
        });
        let started = Instant::now();
        let results = run_jobs(Level {
            shared: self.shared.clone(),
            slots: self.slots,
            workflow: called.clone(),
            scope: nested.clone(),
            cancel: self.cancel.clone(),
            prefix: format!("{} / ", self.key),
            depth: self.depth + 1,
        })
        .await;
        let conclusion = aggregate(
            results.values().map(|d| d.result),
            self.cancel.is_cancelled(),
        );
        let outputs = match workflow_call(&called, called.source.name()) {
            Ok(trigger) => outputs(&self.shared, trigger, nested, &results),
            Err(_) => IndexMap::new(),
        };
        self.shared.emit(RunEvent::JobFinished {
            job: self.key.to_string(),
            result: conclusion,
            duration_ms: started.elapsed().as_millis() as u64,
            cache_hits: 0,
            cache_misses: 0,
        });
        JobResult {
            conclusion,
            outputs,
        }
    }
}

/// Reads and checks the workflow `uses` names, in this repository.
fn load(repo: &Path, uses: &str) -> Result<Arc<Workflow>, CallError> {
    let path = match gantry_workflow::local::resolve_local(repo, uses) {
        Ok(Some(path)) => path,
        Ok(None) => return Err(CallError::Remote(uses.to_string())),
        Err(e) => return Err(CallError::LeavesRepository(e)),
    };
    let relative = uses.trim_start_matches("./").trim_start_matches("$/");
    let options = ReadOptions::default();
    let source = match gantry_workflow::read_source(&path, relative, options.max_file_size) {
        Ok(source) => source,
        Err(source) => return Err(CallError::Read { path, source }),
    };
    let parsed = read_workflow(source, &options);
    match parsed.value.filter(|_| !parsed.diagnostics.has_errors()) {
        Some(called) => Ok(Arc::new(called)),
        None => Err(CallError::Invalid(relative.to_string())),
    }
}

fn workflow_call<'w>(called: &'w Workflow, relative: &str) -> Result<&'w Trigger, CallError> {
    called
        .on
        .get("workflow_call")
        .ok_or_else(|| CallError::NotCallable(relative.to_string()))
}

/// Inputs: what the caller passes, typed, then the declared defaults.
fn inputs(
    call: &CallJob,
    trigger: &Trigger,
    scope: &Scope,
    relative: &str,
) -> Result<Value, CallError> {
    let mut inputs = Object::new();
    for (name, def) in &trigger.inputs {
        let given = call
            .with
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, (_, node))| node);
        let value = match given {
            Some(node) => match &node.kind {
                NodeKind::String(s) => {
                    expand_value(s, scope).map_err(|source| CallError::Input {
                        name: name.clone(),
                        source,
                    })?
                }
                _ => matrix::node_to_value(node),
            },
            None => match &def.default {
                Some(node) => match &node.kind {
                    NodeKind::String(s) => expand_value(s, scope).unwrap_or(Value::Null),
                    _ => matrix::node_to_value(node),
                },
                None if def.required => {
                    return Err(CallError::MissingInput {
                        name: name.clone(),
                        workflow: relative.to_string(),
                    });
                }
                None => Value::Null,
            },
        };
        let value = match (def.kind, value) {
            (InputType::Boolean, Value::String(s)) => Value::Bool(s == "true"),
            (InputType::Number, Value::String(s)) => {
                s.parse().map_or(Value::String(s), Value::Number)
            }
            (_, v) => v,
        };
        inputs.insert(name.clone(), value);
    }
    Ok(Value::Object(inputs))
}

/// Secrets: inherited, none, or as the caller maps them.
fn secrets(call: &CallJob, scope: &Scope) -> Result<Value, CallError> {
    Ok(match &call.secrets {
        CallSecrets::Inherit(_) => scope.values.get("secrets").cloned().unwrap_or(Value::Null),
        CallSecrets::None => Value::Object(Object::new()),
        CallSecrets::Map(map) => {
            let mut out = Object::new();
            for (name, (_, text)) in map {
                let value = expand(&text.value, scope).map_err(|source| CallError::Secret {
                    name: name.clone(),
                    source,
                })?;
                out.insert(name.clone(), Value::String(value));
            }
            Value::Object(out)
        }
    })
}

/// Outputs: the called workflow's, evaluated with its `jobs` context.
fn outputs(
    shared: &Shared,
    trigger: &Trigger,
    nested: Scope,
    results: &IndexMap<String, Done>,
) -> IndexMap<String, String> {
    let mut jobs = Object::new();
    for (id, d) in results {
        let mut entry = Object::new();
        entry.insert("result".into(), Value::String(d.result.name().into()));
        entry.insert("outputs".into(), strings(d.outputs.iter()));
        jobs.insert(id.clone(), Value::Object(entry));
    }
    let mut out_scope = nested;
    out_scope.set("jobs", Value::Object(jobs));
    let mut outputs = IndexMap::new();
    for (name, def) in &trigger.outputs {
        if let Ok(v) = expand(&def.value.value, &out_scope) {
            outputs.insert(name.clone(), shared.masker.mask(&v));
        }
    }
    outputs
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A FIFO in place of a called workflow is refused, not waited on.
    #[cfg(unix)]
    #[test]
    fn a_fifo_in_place_of_a_called_workflow_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let workflows = dir.path().join(".github/workflows");
        std::fs::create_dir_all(&workflows).unwrap();
        nix::unistd::mkfifo(&workflows.join("called.yml"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        let e = load(dir.path(), "./.github/workflows/called.yml").unwrap_err();
        assert!(matches!(e, CallError::Read { .. }), "{e}");
    }
}
