//! The step executor: one step of a job, from its `if:` and `env:` to its
//! outcome, outputs and record. `run:` scripts go through
//! [`script`](super::script), `uses:` through
//! [`local_action`](super::local_action) and the built-in actions.

use std::time::{Duration, Instant};

use gantry_expr::Object;
use gantry_workflow::model::{Step, StepAction, Text};
use indexmap::IndexMap;

use super::expand::{condition, expand, or_expr_bool, or_expr_minutes};
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
        }
        let name = match &step.name {
            Some(n) => expand(&n.value, &scope).unwrap_or_else(|_| n.value.clone()),
            None => step.display_name(),
        };
        let name = self.shared.masker.mask(&name);
        let _ = self.shared.backend.begin_step(
            self.job_row,
            step_index(index),
            step.id.as_ref().map(|i| i.value.as_str()),
            &name,
        );
        let log_path =
            self.shared
                .backend
                .log_path(self.shared.run_id, self.job_row, Some(step_index(index)));
        let mut log = LogSink::new(self.shared.clone(), &self.key, Some(index), Some(log_path));
        let started = Instant::now();
        let run = match condition(step.condition.as_ref(), &scope) {
            Ok(run) => run,
            Err(e) => {
                log.error(&format!("the step's `if:` failed: {e}"));
                self.failed = true;
                self.finish_step(
                    step,
                    index,
                    &name,
                    steps_ctx,
                    StepExec {
                        outcome: Conclusion::Failure,
                        exit_code: None,
                        outputs: Vec::new(),
                    },
                    false,
                    started,
                );
                return;
            }
        };
        if !run {
            self.shared.emit(RunEvent::StepStarted {
                job: self.key.clone(),
                step: index,
                name: name.clone(),
            });
            self.finish_step(
                step,
                index,
                &name,
                steps_ctx,
                StepExec {
                    outcome: Conclusion::Skipped,
                    exit_code: None,
                    outputs: Vec::new(),
                },
                false,
                started,
            );
            return;
        }
        self.shared.emit(RunEvent::StepStarted {
            job: self.key.clone(),
            step: index,
            name: name.clone(),
        });
        let continue_on_error = match or_expr_bool(&step.continue_on_error, &scope) {
            Ok(b) => b,
            Err(e) => {
                log.warning(&format!("continue-on-error: {e}"));
                false
            }
        };
        let exec = match self.step_env(step, &scope) {
            Err(e) => StepExec::failed(e, &mut log),
            Ok(step_env) => match or_expr_minutes(&step.timeout_minutes, &scope) {
                Err(e) => StepExec::failed(e.to_string(), &mut log),
                Ok(timeout) => {
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
                            self.exec_run(
                                &scope,
                                run,
                                shell.as_ref(),
                                working_directory.as_ref(),
                                &step_env,
                                timeout,
                                &mut log,
                            )
                            .await
                        }
                        StepAction::Uses { uses, with } => {
                            let mut inputs = IndexMap::new();
                            let mut bad = None;
                            for (k, (_, v)) in with {
                                match expand(&v.value, &scope) {
                                    Ok(v) => {
                                        inputs.insert(k.clone(), v);
                                    }
                                    Err(e) => bad = Some(format!("input `{k}`: {e}")),
                                }
                            }
                            match bad {
                                Some(e) => StepExec::failed(e, &mut log),
                                None => {
                                    self.exec_uses(
                                        &uses.value,
                                        &inputs,
                                        &step_env,
                                        timeout,
                                        frame,
                                        &mut log,
                                    )
                                    .await
                                }
                            }
                        }
                        StepAction::Invalid => {
                            StepExec::failed("this step could not be read", &mut log)
                        }
                        _ => StepExec::failed(
                            "background, wait, cancel and parallel steps are not supported yet",
                            &mut log,
                        ),
                    }
                }
            },
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
        let _ = self.shared.backend.finish_step(
            self.job_row,
            step_index(index),
            outcome,
            conclusion,
            exec.exit_code,
            &outputs,
        );
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
    fn step_env(&self, step: &Step, scope: &Scope) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        for var in step.env.values() {
            let value = expand(&var.value.value, scope)
                .map_err(|e| format!("env `{}`: {e}", var.name.value))?;
            out.push((var.name.value.clone(), value));
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    async fn exec_run(
        &mut self,
        scope: &Scope,
        run: &Text,
        shell: Option<&Text>,
        working_directory: Option<&Text>,
        step_env: &[(String, String)],
        timeout: Option<Duration>,
        log: &mut LogSink,
    ) -> StepExec {
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
