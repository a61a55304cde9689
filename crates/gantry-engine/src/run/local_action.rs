//! `uses:` steps: local composite and JavaScript actions (`./path`,
//! `$/path`), marketplace actions from the actions store
//! (`owner/repo[/path]@ref`: composite and JavaScript, with `pre` and
//! `post`), the built-in actions, and what gantry cannot run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gantry_actions::RemoteUses;
use gantry_expr::{Object, Value};
use gantry_workflow::model::{Action, Runs, Step, StepAction};
use gantry_workflow::{ReadOptions, read_action};
use indexmap::IndexMap;

use super::Conclusion;
use super::actions;
use super::docker_action::{ActionImage, DockerStep};
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
        // What a `pre` of this (top-level) step saved.
        let step_key = self.step_key.take();
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
            let how = ActionCall {
                uses,
                dir: &dir,
                remote: None,
                step_key: None,
                depth,
            };
            return self
                .exec_local_action(how, inputs, step_env, timeout, log)
                .await;
        }
        if let Some(image) = uses.strip_prefix("docker://") {
            let step = match docker_uses_step(uses, image, inputs, step_env) {
                Ok(step) => step,
                Err(e) => return StepExec::failed(e, log),
            };
            return self.exec_docker(step, timeout, log).await;
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
            None => {
                let depth = frame.map_or(0, |f| f.depth) + 1;
                self.exec_remote(uses, inputs, step_env, timeout, step_key, depth, log)
                    .await
            }
        }
    }

    /// Runs a marketplace action from the actions store.
    #[allow(clippy::too_many_arguments)]
    async fn exec_remote(
        &mut self,
        uses: &str,
        inputs: &IndexMap<String, String>,
        step_env: &[(String, String)],
        timeout: Option<Duration>,
        step_key: Option<usize>,
        depth: usize,
        log: &mut LogSink,
    ) -> StepExec {
        let remote = match RemoteUses::parse_remote(uses) {
            Ok(remote) => remote,
            Err(e) => return StepExec::failed(e.to_string(), log),
        };
        let Some(store) = self.shared.options.actions.clone() else {
            return self.unsupported(
                uses,
                &format!(
                    "`{uses}` is not one of gantry's built-in actions, and no actions store is set"
                ),
                log,
            );
        };
        match store.resolve(&remote) {
            Ok(Some(resolved)) => {
                let how = ActionCall {
                    uses,
                    dir: &resolved.dir,
                    remote: Some(&remote),
                    step_key,
                    depth,
                };
                self.exec_local_action(how, inputs, step_env, timeout, log)
                    .await
            }
            Ok(None) => self.unsupported(
                uses,
                &format!(
                    "`{uses}` is not in the actions store (add it with `gantry actions add {}`, --from PATH for a local copy)",
                    remote.repo_ref()
                ),
                log,
            ),
            Err(e) => StepExec::failed(e.to_string(), log),
        }
    }

    pub(crate) fn unsupported(&mut self, uses: &str, why: &str, log: &mut LogSink) -> StepExec {
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

    async fn exec_local_action(
        &mut self,
        how: ActionCall<'_>,
        inputs: &IndexMap<String, String>,
        step_env: &[(String, String)],
        timeout: Option<Duration>,
        log: &mut LogSink,
    ) -> StepExec {
        let ActionCall {
            uses,
            dir,
            remote,
            step_key,
            depth,
        } = how;
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
                    path: dir.to_path_buf(),
                };
                let outer = self.action_path.replace(dir.to_path_buf());
                let exec = self.run_composite(&action, steps, &frame, log).await;
                self.action_path = outer;
                exec
            }
            Some(Runs::Node {
                using,
                main,
                post,
                post_if,
                ..
            }) => {
                if let Err(e) = self.node_ready(uses, &using.value, log).await {
                    return StepExec::failed(e, log);
                }
                let script = match script_in(dir, &main.value, uses) {
                    Ok(s) => s,
                    Err(e) => return StepExec::failed(e, log),
                };
                let post_script = match post.as_ref().map(|p| script_in(dir, &p.value, uses)) {
                    Some(Err(e)) => return StepExec::failed(e, log),
                    other => other.and_then(Result::ok),
                };
                let mut env: Vec<(String, String)> = step_env.to_vec();
                env.extend(input_env);
                env.extend(action_env(dir, remote));
                let mut state = step_key
                    .and_then(|k| self.pre_state.remove(&k))
                    .unwrap_or_default();
                let main_env: Vec<_> = env.iter().cloned().chain(state_env(&state)).collect();
                let exec = self.exec_node(&script, &main_env, timeout, log).await;
                state.extend(std::mem::take(&mut self.saved_state));
                if let Some(post) = post_script {
                    env.extend(state_env(&state));
                    self.post.push(PostStep {
                        name: format!("Post {uses}"),
                        condition: post_if
                            .as_ref()
                            .map_or_else(|| "always()".to_string(), |p| p.value.clone()),
                        action: PostAction::Node { script: post, env },
                    });
                }
                exec
            }
            Some(Runs::Docker {
                image,
                entrypoint,
                args,
                env: action_vars,
                pre_entrypoint,
                post_entrypoint,
                ..
            }) => {
                let mut scope = self.scope(&Object::new());
                scope.set("inputs", Value::Object(input_values));
                let eval = |t: &gantry_workflow::model::Text, what: &str| {
                    expand(&t.value, &scope).map_err(|e| format!("`{uses}` {what}: {e}"))
                };
                let prepared = (|| -> Result<DockerStep, String> {
                    let image = eval(image, "runs.image")?;
                    let image = match image.strip_prefix("docker://") {
                        Some(named) => ActionImage::Named(named.to_string()),
                        None => {
                            let dockerfile = gantry_fs::confine(dir, Path::new(&image)).map_err(|_| {
                                format!("`{uses}`: the Dockerfile `{image}` is outside the action's folder")
                            })?;
                            ActionImage::Build {
                                dockerfile,
                                context: dir.to_path_buf(),
                            }
                        }
                    };
                    let mut env: Vec<(String, String)> = step_env.to_vec();
                    env.extend(input_env);
                    env.extend(action_env(dir, remote));
                    for var in action_vars.values() {
                        env.push((
                            var.name.value.clone(),
                            eval(&var.value, &format!("env `{}`", var.name.value))?,
                        ));
                    }
                    let (given_entrypoint, given_args) = docker_overrides(inputs, uses)?;
                    let args = match given_args {
                        Some(a) => a,
                        None => args
                            .iter()
                            .map(|a| eval(a, "runs.args"))
                            .collect::<Result<_, _>>()?,
                    };
                    let entrypoint = match given_entrypoint {
                        Some(e) => Some(e),
                        None => entrypoint
                            .as_ref()
                            .map(|e| eval(e, "runs.entrypoint"))
                            .transpose()?,
                    };
                    let identity = match remote {
                        Some(_) => dir.display().to_string(),
                        None => format!("{}\n{uses}", self.shared.options.repo.display()),
                    };
                    Ok(DockerStep {
                        uses: uses.to_string(),
                        image,
                        tag: super::docker_action::image_tag(&identity),
                        entrypoint,
                        args,
                        env,
                        pre_entrypoint: pre_entrypoint
                            .as_ref()
                            .map(|p| eval(p, "runs.pre-entrypoint"))
                            .transpose()?,
                        post_entrypoint: post_entrypoint
                            .as_ref()
                            .map(|p| eval(p, "runs.post-entrypoint"))
                            .transpose()?,
                        post_if: "always()".to_string(),
                    })
                })();
                match prepared {
                    Ok(step) => self.exec_docker(step, timeout, log).await,
                    Err(e) => StepExec::failed(e, log),
                }
            }
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
        // Every image has `sh`; not every one has `bash`.
        let template = if self.in_container().is_some() {
            "sh {0}"
        } else {
            "bash {0}"
        };
        self.exec_process(
            Some(template),
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
    /// The action's folder (`github.action_path`).
    pub path: PathBuf,
}

/// Which action a `uses:` step runs, and from where.
struct ActionCall<'a> {
    uses: &'a str,
    dir: &'a Path,
    /// The marketplace action, when it came from the store.
    remote: Option<&'a RemoteUses>,
    /// The top-level step (for what its `pre` saved).
    step_key: Option<usize>,
    depth: usize,
}

/// A script of a JavaScript action (`main`, `pre`, `post`), inside its
/// folder.
fn script_in(dir: &Path, script: &str, uses: &str) -> Result<PathBuf, String> {
    gantry_fs::confine(dir, Path::new(script))
        .map_err(|_| format!("`{uses}`: the script `{script}` is outside the action's folder"))
}

/// The variables GitHub gives an action's processes.
fn action_env(dir: &Path, remote: Option<&RemoteUses>) -> Vec<(String, String)> {
    let mut env = vec![("GITHUB_ACTION_PATH".to_string(), dir.display().to_string())];
    if let Some(r) = remote {
        env.push((
            "GITHUB_ACTION_REPOSITORY".into(),
            format!("{}/{}", r.owner, r.repo),
        ));
        env.push(("GITHUB_ACTION_REF".into(), r.reference.clone()));
    }
    env
}

/// `with: entrypoint` and `with: args` of a Docker action step, which
/// replace the action's (`args` split into words as a shell would).
fn docker_overrides(
    inputs: &IndexMap<String, String>,
    uses: &str,
) -> Result<(Option<String>, Option<Vec<String>>), String> {
    let entrypoint = inputs.get("entrypoint").filter(|e| !e.is_empty()).cloned();
    let args = match inputs.get("args") {
        Some(a) => Some(
            gantry_container::split_options(a)
                .map_err(|_| format!("`{uses}` with.args `{a}`: a quote is not closed"))?,
        ),
        None => None,
    };
    Ok((entrypoint, args))
}

/// A `uses: docker://IMAGE` step: `with:` values as `INPUT_*` (but
/// `args` and `entrypoint`, which replace the image's).
fn docker_uses_step(
    uses: &str,
    image: &str,
    inputs: &IndexMap<String, String>,
    step_env: &[(String, String)],
) -> Result<DockerStep, String> {
    let (entrypoint, args) = docker_overrides(inputs, uses)?;
    let mut env = step_env.to_vec();
    for (name, value) in inputs {
        if name != "args" && name != "entrypoint" {
            env.push((
                format!("INPUT_{}", name.replace(' ', "_").to_ascii_uppercase()),
                value.clone(),
            ));
        }
    }
    Ok(DockerStep {
        uses: uses.to_string(),
        image: ActionImage::Named(image.to_string()),
        tag: String::new(),
        entrypoint,
        args: args.unwrap_or_default(),
        env,
        pre_entrypoint: None,
        post_entrypoint: None,
        post_if: "always()".to_string(),
    })
}

/// `STATE_<name>` for each saved state.
fn state_env(state: &[(String, String)]) -> Vec<(String, String)> {
    state
        .iter()
        .map(|(k, v)| (format!("STATE_{k}"), v.clone()))
        .collect()
}

/// The node major version a `runs.using` asks for (`node20` → 20).
fn node_major(using: &str) -> Option<u32> {
    using.strip_prefix("node")?.parse().ok()
}

impl JobRun {
    /// Checks there is a `node` for a JavaScript action; warns when its
    /// version is not the one `using` asks for.
    async fn node_ready(&self, uses: &str, using: &str, log: &mut LogSink) -> Result<(), String> {
        let Some(wanted) = node_major(using) else {
            return Err(format!(
                "`{uses}` runs with `{using}`, which is not a node version gantry knows (node12, node16, node20, node24)"
            ));
        };
        if self.in_container().is_some() {
            // The job container's `node` runs it; this machine's does not
            // matter.
            return Ok(());
        }
        let env = self.process_env(&[], &[]);
        let path = env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        let Some(version) = super::process::node_version(path).await else {
            return Err(format!(
                "`{uses}` is a JavaScript action ({using}) and no `node` is installed (Debian: apt-get install nodejs)"
            ));
        };
        let major: Option<u32> = version
            .trim_start_matches('v')
            .split('.')
            .next()
            .and_then(|m| m.parse().ok());
        if major != Some(wanted) {
            log.warning(&format!(
                "`{uses}` asks for {using}; running it with the installed node {version}"
            ));
        }
        Ok(())
    }

    /// Runs the `pre` of each top-level step's marketplace JavaScript
    /// action, in step order, before the job's first step (as GitHub
    /// does); what each saves reaches its main and post as `STATE_*`.
    pub(crate) async fn run_pre(&mut self, steps: &[Step]) {
        let Some(store) = self.shared.options.actions.clone() else {
            return;
        };
        for step in steps {
            let StepAction::Uses { uses, with } = &step.action else {
                continue;
            };
            let Ok(remote) = RemoteUses::parse_remote(uses.value.trim()) else {
                continue;
            };
            let name = format!("{}/{}", remote.owner, remote.repo).to_ascii_lowercase();
            if actions::find(&name).is_some() {
                continue;
            }
            let Ok(Some(resolved)) = store.resolve(&remote) else {
                continue;
            };
            let Ok(action) = load(&resolved.dir) else {
                continue;
            };
            let Some(Runs::Node {
                using,
                pre: Some(pre),
                pre_if,
                ..
            }) = &action.runs
            else {
                continue;
            };
            let display = format!("Pre {}", step.display_name());
            let (index, mut log, started) = self.begin_extra_step(&display);
            let scope = self.scope(&Object::new());
            let run = super::expand::condition(
                Some(&gantry_workflow::model::Spanned::new(
                    pre_if
                        .as_ref()
                        .map_or_else(|| "always()".to_string(), |p| p.value.clone()),
                    Default::default(),
                )),
                &scope,
            )
            .unwrap_or(false);
            let exec = if run {
                self.exec_pre(
                    &uses.value,
                    with,
                    step,
                    &scope,
                    &resolved.dir,
                    &remote,
                    using,
                    pre,
                    &mut log,
                )
                .await
            } else {
                StepExec::ended(Conclusion::Skipped)
            };
            let state = std::mem::take(&mut self.saved_state);
            self.pre_state
                .insert(std::ptr::from_ref(step) as usize, state);
            let mut ctx = Object::new();
            self.finish_step(
                &Step::default(),
                index,
                &display,
                &mut ctx,
                exec,
                false,
                started,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn exec_pre(
        &mut self,
        uses: &str,
        with: &IndexMap<
            String,
            (
                gantry_workflow::model::Spanned<String>,
                gantry_workflow::model::Text,
            ),
        >,
        step: &Step,
        scope: &super::scope::Scope,
        dir: &Path,
        remote: &RemoteUses,
        using: &gantry_workflow::model::Text,
        pre: &gantry_workflow::model::Text,
        log: &mut LogSink,
    ) -> StepExec {
        self.saved_state.clear();
        let Ok(action) = load(dir) else {
            return StepExec::ended(Conclusion::Skipped);
        };
        if let Err(e) = self.node_ready(uses, &using.value, log).await {
            return StepExec::failed(e, log);
        }
        let script = match script_in(dir, &pre.value, uses) {
            Ok(s) => s,
            Err(e) => return StepExec::failed(e, log),
        };
        let mut inputs = IndexMap::new();
        for (k, (_, v)) in with {
            match expand(&v.value, scope) {
                Ok(v) => {
                    inputs.insert(k.clone(), v);
                }
                Err(e) => return StepExec::failed(format!("input `{k}`: {e}"), log),
            }
        }
        let mut env = match self.step_env(step, scope) {
            Ok(env) => env,
            Err(e) => return StepExec::failed(e.to_string(), log),
        };
        let (_, input_env) = self.action_inputs(&action, &inputs, uses, log);
        env.extend(input_env);
        env.extend(action_env(dir, Some(remote)));
        let timeout = Some(
            self.deadline
                .saturating_duration_since(std::time::Instant::now()),
        );
        self.exec_node(&script, &env, timeout, log).await
    }
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
