//! `uses:` steps: local composite and JavaScript actions (`./path`,
//! `$/path`), the built-in actions, and what gantry cannot run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gantry_expr::{Object, Value};
use gantry_workflow::model::{Action, Runs, Step};
use gantry_workflow::{ReadOptions, read_action};
use indexmap::IndexMap;

use super::Conclusion;
use super::actions;
use super::expand::expand;
use super::job::{JobRun, PostAction, PostStep};
use super::log::LogSink;
use super::step::StepExec;

/// The largest nesting of composite actions.
const MAX_ACTION_DEPTH: usize = 10;

impl JobRun {
    /// Runs a `uses:` step.
    pub(crate) async fn exec_uses(
        &mut self,
        uses: &str,
        inputs: &IndexMap<String, String>,
        step_env: &[(String, String)],
        timeout: Option<Duration>,
        frame: Option<&ActionFrame>,
        log: &mut LogSink,
    ) -> StepExec {
        // `./` is relative to the workspace, inside actions too, as on GitHub.
        // Never outside it: not by `..`, not through a link (the same check
        // `gantry validate` makes).
        let root = if uses.starts_with("$/") {
            &self.shared.options.repo
        } else {
            &self.workspace
        };
        let local = match gantry_workflow::local::resolve_local(root, uses) {
            Ok(local) => local,
            Err(e) => return StepExec::failed(e.to_string(), log),
        };
        if let Some(dir) = local {
            let depth = frame.map_or(0, |f| f.depth) + 1;
            return self
                .exec_local_action(uses, &dir, inputs, step_env, timeout, depth, log)
                .await;
        }
        if let Some(image) = uses.strip_prefix("docker://") {
            return self.unsupported(
                uses,
                &format!(
                    "`{uses}` runs the container `{image}`, and gantry runs steps without Docker"
                ),
                log,
            );
        }
        let (name, reference) = uses.split_once('@').unwrap_or((uses, ""));
        let _ = step_env;
        match actions::find(&name.to_ascii_lowercase()) {
            Some(action) => {
                action
                    .run(actions::ActionContext {
                        run: self,
                        reference,
                        inputs,
                        log,
                    })
                    .await
            }
            None => self.unsupported(
                uses,
                &format!("`{uses}` is not one of gantry's built-in actions, and gantry does not download actions"),
                log,
            ),
        }
    }

    fn unsupported(&mut self, uses: &str, why: &str, log: &mut LogSink) -> StepExec {
        if self.shared.options.skip_unsupported {
            log.warning(&format!("{why}; skipping the step (--skip-unsupported)"));
            self.not_run.push(uses.to_string());
            StepExec {
                outcome: Conclusion::Skipped,
                exit_code: None,
                outputs: Vec::new(),
            }
        } else {
            StepExec::failed(
                format!(
                    "{why}. Run it on GitHub, replace it with a `run:` step or a local action, or pass --skip-unsupported to skip such steps"
                ),
                log,
            )
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn exec_local_action(
        &mut self,
        uses: &str,
        dir: &Path,
        inputs: &IndexMap<String, String>,
        step_env: &[(String, String)],
        timeout: Option<Duration>,
        depth: usize,
        log: &mut LogSink,
    ) -> StepExec {
        if depth > MAX_ACTION_DEPTH {
            return StepExec::failed(
                format!("actions nest more than {MAX_ACTION_DEPTH} deep at `{uses}`"),
                log,
            );
        }
        let action = match load(dir) {
            Ok(action) => action,
            Err(e) => return StepExec::failed(e.to_string(), log),
        };
        let (input_values, input_env) = self.action_inputs(&action, inputs, uses, log);
        match &action.runs {
            Some(Runs::Composite { steps }) => {
                let frame = ActionFrame {
                    inputs: Value::Object(input_values),
                    depth,
                };
                self.run_composite(&action, steps, &frame, log).await
            }
            Some(Runs::Node {
                main,
                post,
                post_if,
                ..
            }) => {
                let script = dir.join(&main.value);
                let mut env: Vec<(String, String)> = step_env.to_vec();
                env.extend(input_env);
                if let Some(post) = post {
                    self.post.push(PostStep {
                        name: format!("Post {uses}"),
                        condition: post_if
                            .as_ref()
                            .map_or_else(|| "always()".to_string(), |p| p.value.clone()),
                        action: PostAction::Node {
                            script: dir.join(&post.value),
                            env: env.clone(),
                        },
                    });
                }
                self.exec_node(&script, &env, timeout, log).await
            }
            Some(Runs::Docker { .. }) => self.unsupported(
                uses,
                &format!("`{uses}` is a container action, and gantry runs steps without Docker"),
                log,
            ),
            None => StepExec::failed(format!("`{uses}` has no `runs:`"), log),
        }
    }

    /// The action's inputs as its `inputs` context and `INPUT_*`
    /// variables: given values, else defaults evaluated here.
    fn action_inputs(
        &self,
        action: &Action,
        inputs: &IndexMap<String, String>,
        uses: &str,
        log: &mut LogSink,
    ) -> (Object, Vec<(String, String)>) {
        let default_scope = self.scope(&Object::new());
        let mut input_values = Object::new();
        let mut input_env = Vec::new();
        for (name, def) in &action.inputs {
            let given = inputs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone());
            let value = match (given, &def.default) {
                (Some(v), _) => v,
                (None, Some(d)) => expand(&d.value, &default_scope).unwrap_or_default(),
                (None, None) => {
                    if def.required {
                        log.warning(&format!(
                            "input `{name}` is required by `{uses}` but was not given"
                        ));
                    }
                    String::new()
                }
            };
            input_env.push((input_env_name(name), value.clone()));
            input_values.insert(name.clone(), Value::String(value));
        }
        (input_values, input_env)
    }

    /// Runs a composite action's steps; its outputs from theirs.
    async fn run_composite(
        &mut self,
        action: &Action,
        steps: &[Step],
        frame: &ActionFrame,
        log: &mut LogSink,
    ) -> StepExec {
        let mut inner = Object::new();
        let failed_before = self.failed;
        self.failed = false;
        self.run_steps(steps, &mut inner, Some(frame)).await;
        let failed = self.failed;
        self.failed = failed_before;
        let mut scope = self.scope(&inner);
        scope.set("inputs", frame.inputs.clone());
        let mut outputs = Vec::new();
        for (name, out) in &action.outputs {
            if let Some(value) = &out.value {
                match expand(&value.value, &scope) {
                    Ok(v) => outputs.push((name.clone(), v)),
                    Err(e) => log.warning(&format!("output `{name}`: {e}")),
                }
            }
        }
        StepExec {
            outcome: if failed {
                Conclusion::Failure
            } else if self.cancel.is_cancelled() {
                Conclusion::Cancelled
            } else {
                Conclusion::Success
            },
            exit_code: None,
            outputs,
        }
    }

    pub(crate) async fn exec_node(
        &mut self,
        script: &Path,
        env: &[(String, String)],
        timeout: Option<Duration>,
        log: &mut LogSink,
    ) -> StepExec {
        let quoted = script.display().to_string().replace('\'', "'\\''");
        let workspace = self.workspace.clone();
        self.exec_process(
            Some("bash {0}"),
            &format!("exec node '{quoted}'"),
            &workspace,
            env,
            timeout,
            log,
        )
        .await
    }
}

/// The inputs and place of the composite action whose steps are running.
pub(crate) struct ActionFrame {
    pub inputs: Value,
    pub depth: usize,
}

/// The `INPUT_<NAME>` variable of an action input.
fn input_env_name(name: &str) -> String {
    format!("INPUT_{}", name.replace(' ', "_").to_ascii_uppercase())
}

/// Reads and checks the `action.yml` (or `action.yaml`) in `dir`.
/// Why a local action could not be read.
#[derive(Debug, thiserror::Error)]
enum ActionFileError {
    #[error("no action.yml in {} (did a checkout step run first?)", dir.display())]
    Missing { dir: PathBuf },
    #[error("cannot read {}: {source}", file.display())]
    Read {
        file: PathBuf,
        source: gantry_workflow::FileError,
    },
    /// The file's first error, at `file:line:column`.
    #[error("{place}: {message}")]
    Invalid { place: String, message: String },
}

fn load(dir: &Path) -> Result<Action, ActionFileError> {
    let file = ["action.yml", "action.yaml"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file());
    let Some(file) = file else {
        return Err(ActionFileError::Missing {
            dir: dir.to_path_buf(),
        });
    };
    let options = ReadOptions::default();
    let name = file.display().to_string();
    let source = match gantry_workflow::read_source(&file, name, options.max_file_size) {
        Ok(source) => source,
        Err(source) => return Err(ActionFileError::Read { file, source }),
    };
    let parsed = read_action(source, &options);
    let Some(action) = parsed.value.filter(|_| !parsed.diagnostics.has_errors()) else {
        let first = parsed.diagnostics.diagnostics.iter().find(|d| d.is_error());
        let at = first
            .and_then(|d| parsed.diagnostics.position(d))
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        return Err(ActionFileError::Invalid {
            place: format!("{}{at}", file.display()),
            message: first
                .map_or("invalid action", |d| d.message.as_str())
                .to_string(),
        });
    };
    Ok(action)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// An `action.yml` that links to a `/proc` file is refused, not read.
    #[cfg(target_os = "linux")]
    #[test]
    fn an_action_file_linked_to_proc_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/proc/self/status", dir.path().join("action.yml")).unwrap();
        let e = load(dir.path()).unwrap_err();
        assert!(matches!(e, ActionFileError::Read { .. }), "{e}");
    }
}
