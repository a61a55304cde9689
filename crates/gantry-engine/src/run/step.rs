//! The step executor: one step of a job, from its `if:` and `env:` to its
//! outcome, outputs and record. `run:` scripts go through
//! [`script`](super::script), `uses:` through
//! [`local_action`](super::local_action) and the built-in actions.

use std::time::{Duration, Instant};

use gantry_expr::Object;
use gantry_workflow::model::{Step, StepAction, Text};
use indexmap::IndexMap;

use super::expand::{EnvError, condition, expand, expand_env, or_expr_bool, or_expr_minutes};
use super::job::JobRun;
use super::local_action::ActionFrame;
use super::log::LogSink;
use super::scope::{Scope, step_value};
use super::{Conclusion, RunEvent};

/// How a step ended.
pub(crate) struct StepExec {
    pub outcome: Conclusion,
    pub exit_code: Option<i32>,
    pub outputs: Vec<(String, String)>,
}

impl StepExec {
    /// A step that ended without running anything.
    pub(crate) fn ended(outcome: Conclusion) -> StepExec {
        StepExec {
            outcome,
            exit_code: None,
            outputs: Vec::new(),
        }
    }

    pub(crate) fn failed(message: impl Into<String>, log: &mut LogSink) -> StepExec {
        log.error(&message.into());
        StepExec {
            outcome: Conclusion::Failure,
            exit_code: None,
            outputs: Vec::new(),
        }
    }

    pub(crate) fn ok(outputs: Vec<(String, String)>) -> StepExec {
        StepExec {
            outcome: Conclusion::Success,
            exit_code: None,
            outputs,
        }
    }
}

/// A `run:` step's script, shell and working directory.
struct RunStep<'a> {
    run: &'a Text,
    shell: Option<&'a Text>,
    working_directory: Option<&'a Text>,
}

/// A step's index as the backend records it. No job has four billion
/// steps; should one, its last steps share an index rather than wrap.
pub(crate) fn step_index(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

impl JobRun {
    /// Runs steps in order. `inputs` is set inside composite actions.
    pub(crate) fn run_steps<'a>(
        &'a mut self,
        steps: &'a [Step],
        steps_ctx: &'a mut Object,
        action: Option<&'a ActionFrame>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            for step in steps {
                self.run_step(step, steps_ctx, action).await;
            }
        })
    }

    async fn run_step(&mut self, step: &Step, steps_ctx: &mut Object, frame: Option<&ActionFrame>) {
        let index = self.next_step;
        self.next_step += 1;
        let mut scope = self.scope(steps_ctx);
        if let Some(frame) = frame {
            scope.set("inputs", frame.inputs.clone());
            if let Some(gantry_expr::Value::Object(github)) = scope.values.get_mut("github") {
                github.insert(
                    "action_path".into(),
                    gantry_expr::Value::String(frame.path.display().to_string()),
                );
            }
        }
        let name = match &step.name {
            Some(n) => expand(&n.value, &scope).unwrap_or_else(|_| n.value.clone()),
            None => step.display_name(),
        };
        let name = self.shared.masker.mask(&name);
        self.shared.recorded(self.shared.backend.begin_step(
            self.job_row,
            step_index(index),
            step.id.as_ref().map(|i| i.value.as_str()),
            &name,
        ));
        let log_path =
            self.shared
                .backend
                .log_path(self.shared.run_id, self.job_row, Some(step_index(index)));
        let mut log = LogSink::new(self.shared.clone(), &self.key, Some(index), Some(log_path));
        let started = Instant::now();
        let (exec, continue_on_error) = match condition(step.condition.as_ref(), &scope) {
            Err(e) => {
                log.error(&format!("the step's `if:` failed: {e}"));
                self.failed = true;
                (StepExec::ended(Conclusion::Failure), false)
            }
            Ok(false) => {
                self.step_started(index, &name);
                (StepExec::ended(Conclusion::Skipped), false)
            }
            Ok(true) => {
                self.step_started(index, &name);
                let continue_on_error = match or_expr_bool(&step.continue_on_error, &scope) {
                    Ok(b) => b,
                    Err(e) => {
                        log.warning(&format!("continue-on-error: {e}"));
                        false
                    }
                };
                let exec = self.exec_step(step, &scope, frame, &mut log).await;
                (exec, continue_on_error)
            }
        };
        self.finish_step(
            step,
            index,
            &name,
            steps_ctx,
            exec,
            continue_on_error,
            started,
        );
    }

    fn step_started(&self, index: usize, name: &str) {
        self.shared.emit(RunEvent::StepStarted {
            job: self.key.clone(),
            step: index,
            name: name.to_string(),
        });
    }

    /// Runs a step whose `if:` let it: its env and timeout, then its action.
    async fn exec_step(
        &mut self,
        step: &Step,
        scope: &Scope,
        frame: Option<&ActionFrame>,
        log: &mut LogSink,
    ) -> StepExec {
        let step_env = match self.step_env(step, scope) {
            Ok(env) => env,
            Err(e) => return StepExec::failed(e.to_string(), log),
        };
        let timeout = match or_expr_minutes("timeout-minutes", &step.timeout_minutes, scope) {
            Ok(t) => t,
            Err(e) => return StepExec::failed(e.to_string(), log),
        };
        let remaining = if self.cancel.is_cancelled() {
            self.cancel_timeout
        } else {
            self.deadline.saturating_duration_since(Instant::now())
        };
        let timeout = Some(timeout.map_or(remaining, |t| t.min(remaining)));
        match &step.action {
            StepAction::Run {
                run,
                shell,
                working_directory,
            } => {
                let how = RunStep {
                    run,
                    shell: shell.as_ref(),
                    working_directory: working_directory.as_ref(),
                };
                self.exec_run(scope, how, &step_env, timeout, log).await
            }
            StepAction::Uses { uses, with } => {
                // The top-level step's identity, for its action's `pre` state.
                self.step_key = frame.is_none().then(|| std::ptr::from_ref(step) as usize);
                let mut inputs = IndexMap::new();
                let mut bad = None;
                for (k, (_, v)) in with {
                    match expand(&v.value, scope) {
                        Ok(v) => {
                            inputs.insert(k.clone(), v);
                        }
                        Err(e) => bad = Some(format!("input `{k}`: {e}")),
                    }
                }
                if let Some(e) = bad {
                    return StepExec::failed(e, log);
                }
                self.exec_uses(&uses.value, &inputs, &step_env, timeout, frame, log)
                    .await
            }
            StepAction::Invalid => StepExec::failed("this step could not be read", log),
            _ => StepExec::failed(
                "background, wait, cancel and parallel steps are not supported yet",
                log,
            ),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn finish_step(
        &mut self,
        step: &Step,
        index: usize,
        name: &str,
        steps_ctx: &mut Object,
        exec: StepExec,
        continue_on_error: bool,
        started: Instant,
    ) {
        let outcome = exec.outcome;
        let conclusion = match outcome {
            Conclusion::Failure if continue_on_error => Conclusion::Success,
            other => other,
        };
        if conclusion == Conclusion::Failure {
            self.failed = true;
        }
        let outputs: Vec<(String, String)> = exec
            .outputs
            .iter()
            .map(|(k, v)| (k.clone(), self.shared.masker.mask(v)))
            .collect();
        if let Some(id) = &step.id {
            steps_ctx.insert(
                id.value.clone(),
                step_value(&exec.outputs, outcome.name(), conclusion.name()),
            );
        }
        self.shared.recorded(self.shared.backend.finish_step(
            self.job_row,
            step_index(index),
            outcome,
            conclusion,
            exec.exit_code,
            &outputs,
        ));
        self.shared.emit(RunEvent::StepFinished {
            job: self.key.clone(),
            step: index,
            name: name.to_string(),
            outcome,
            conclusion,
            exit_code: exec.exit_code,
            duration_ms: started.elapsed().as_millis() as u64,
        });
    }

    /// The step's own `env:`, evaluated.
    pub(crate) fn step_env(
        &self,
        step: &Step,
        scope: &Scope,
    ) -> Result<Vec<(String, String)>, EnvError> {
        expand_env(&step.env, scope)
    }

    async fn exec_run(
        &mut self,
        scope: &Scope,
        how: RunStep<'_>,
        step_env: &[(String, String)],
        timeout: Option<Duration>,
        log: &mut LogSink,
    ) -> StepExec {
        let RunStep {
            run,
            shell,
            working_directory,
        } = how;
        let script = match expand(&run.value, scope) {
            Ok(s) => s,
            Err(e) => return StepExec::failed(format!("the script: {e}"), log),
        };
        let shell = match shell {
            Some(s) => match expand(&s.value, scope) {
                Ok(s) => Some(s),
                Err(e) => return StepExec::failed(format!("shell: {e}"), log),
            },
            None => self.defaults_shell.clone(),
        };
        let dir = match working_directory
            .map(|w| expand(&w.value, scope))
            .transpose()
        {
            Ok(dir) => dir.or_else(|| self.defaults_dir.clone()),
            Err(e) => return StepExec::failed(format!("working-directory: {e}"), log),
        };
        let dir = match dir {
            Some(d) => self.workspace.join(d),
            None => self.workspace.clone(),
        };
        if !dir.is_dir() {
            return StepExec::failed(
                format!("the working directory {} does not exist", dir.display()),
                log,
            );
        }
        self.exec_process(shell.as_deref(), &script, &dir, step_env, timeout, log)
            .await
    }
}
