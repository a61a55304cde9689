//! Running a script through a shell, as a step's process, and taking in
//! what it writes back to the runner: workflow commands on its output and
//! the command files (`$GITHUB_OUTPUT`, `$GITHUB_ENV`, `$GITHUB_PATH`,
//! `$GITHUB_STATE`, `$GITHUB_STEP_SUMMARY`).

use std::path::Path;
use std::time::Duration;

use indexmap::IndexMap;

use super::commands::Stopper;
use super::job::{JobRun, runner_arch, runner_os};
use super::log::LogSink;
use super::process::{self, Exit, Stream};
use super::runners::CommandFile;
use super::step::StepExec;
use super::{Conclusion, Masker, files, shell};

/// Environment variables of the gantry process that steps do not inherit.
pub(crate) fn inherited(name: &str) -> bool {
    !(name.starts_with("GITHUB_")
        || name.starts_with("RUNNER_")
        || name.starts_with("ACTIONS_")
        || name.starts_with("INPUT_")
        || name.starts_with("GANTRY_")
        || name == "CI")
}

impl JobRun {
    /// The environment of a step's process.
    pub(crate) fn process_env(
        &self,
        step_env: &[(String, String)],
        extra: &[(String, String)],
    ) -> Vec<(String, String)> {
        // A step in the job container sees the image's environment, not
        // this machine's.
        self.env_for(self.in_container().is_none(), step_env, extra)
    }

    /// The environment of a step's process on this machine (`host`: with
    /// this machine's variables and `$GITHUB_PATH` before its `PATH`), or
    /// in a container (only the runner's, job's and step's variables).
    pub(crate) fn env_for(
        &self,
        host: bool,
        step_env: &[(String, String)],
        extra: &[(String, String)],
    ) -> Vec<(String, String)> {
        let in_container = !host;
        let mut env: IndexMap<String, String> = if in_container {
            IndexMap::new()
        } else {
            std::env::vars().filter(|(k, _)| inherited(k)).collect()
        };
        let github = self.base.values.get("github");
        let g = |key: &str| {
            github
                .and_then(|g| g.get(key))
                .map(|v| v.to_display_string())
                .unwrap_or_default()
        };
        let options = &self.shared.options;
        for (k, v) in [
            ("CI", "true".to_string()),
            ("GITHUB_ACTIONS", "true".to_string()),
            ("GITHUB_WORKSPACE", self.workspace.display().to_string()),
            ("GITHUB_SHA", g("sha")),
            ("GITHUB_REF", g("ref")),
            ("GITHUB_REF_NAME", g("ref_name")),
            ("GITHUB_REF_TYPE", g("ref_type")),
            ("GITHUB_HEAD_REF", g("head_ref")),
            ("GITHUB_BASE_REF", g("base_ref")),
            ("GITHUB_EVENT_NAME", g("event_name")),
            ("GITHUB_EVENT_PATH", g("event_path")),
            ("GITHUB_REPOSITORY", g("repository")),
            ("GITHUB_REPOSITORY_OWNER", g("repository_owner")),
            ("GITHUB_RUN_ID", g("run_id")),
            ("GITHUB_RUN_NUMBER", g("run_number")),
            ("GITHUB_RUN_ATTEMPT", g("run_attempt")),
            ("GITHUB_ACTOR", g("actor")),
            ("GITHUB_TRIGGERING_ACTOR", g("actor")),
            ("GITHUB_WORKFLOW", g("workflow")),
            ("GITHUB_WORKFLOW_REF", g("workflow_ref")),
            ("GITHUB_JOB", self.key.clone()),
            ("GITHUB_SERVER_URL", g("server_url")),
            ("GITHUB_API_URL", g("api_url")),
            ("GITHUB_GRAPHQL_URL", g("graphql_url")),
            ("GITHUB_RETENTION_DAYS", "90".to_string()),
            ("RUNNER_OS", runner_os().to_string()),
            ("RUNNER_ARCH", runner_arch().to_string()),
            ("RUNNER_NAME", "gantry".to_string()),
            ("RUNNER_ENVIRONMENT", "self-hosted".to_string()),
            ("RUNNER_TEMP", self.temp.display().to_string()),
            ("RUNNER_TOOL_CACHE", self.tool_cache.display().to_string()),
        ] {
            env.insert(k.to_string(), v);
        }
        let _ = options;
        if let Some(path) = &self.action_path {
            env.insert("GITHUB_ACTION_PATH".into(), path.display().to_string());
        }
        for (k, v) in &self.env {
            env.insert(k.clone(), v.clone());
        }
        for (k, v) in step_env.iter().chain(extra) {
            env.insert(k.clone(), v.clone());
        }
        if !self.path_prepend.is_empty() && !in_container {
            let mut parts: Vec<String> = self.path_prepend.iter().rev().cloned().collect();
            if let Some(p) = env.get("PATH") {
                parts.push(p.clone());
            }
            env.insert("PATH".into(), parts.join(":"));
        }
        env.into_iter().collect()
    }
    /// Runs a script through a shell and processes what it writes to the
    /// runner: workflow commands and the command files.
    pub(crate) async fn exec_process(
        &mut self,
        shell: Option<&str>,
        script: &str,
        dir: &Path,
        step_env: &[(String, String)],
        timeout: Option<Duration>,
        log: &mut LogSink,
    ) -> StepExec {
        let mut extra = self.command_files.env();
        let tracking_id = self.tracking.step();
        extra.push((super::reaper::TRACKING_VAR.to_string(), tracking_id.clone()));
        let env = self.process_env(step_env, &extra);
        let path_var = env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let scripts = self.temp.join(super::reaper::SCRIPTS_DIR);
        let lookup = match self.in_container() {
            Some(info) => shell::Lookup::Container {
                has_bash: info.has_bash,
            },
            None => shell::Lookup::Host(&path_var),
        };
        let invocation = match shell::invocation(shell, script, &scripts, lookup) {
            Ok(i) => i,
            Err(e) => return StepExec::failed(e.to_string(), log),
        };
        if let Some((path, contents)) = &invocation.script_file
            && let Err(e) =
                std::fs::create_dir_all(&scripts).and_then(|()| write_private(path, contents))
        {
            return StepExec::failed(
                format!("cannot write the script {}: {e}", path.display()),
                log,
            );
        }
        let insecure = env
            .iter()
            .any(|(k, v)| k == "ACTIONS_ALLOW_UNSECURE_COMMANDS" && v.eq_ignore_ascii_case("true"));
        // In the job container the step is `exec`'s command; the client
        // runs here, with the values its `-e NAME`s pass on.
        let (program, args, env) = match self
            .containers
            .as_ref()
            .and_then(|c| c.job_container().map(|info| (c, info)))
        {
            Some((containers, info)) => {
                let inner = self.container_env(info, env);
                let workdir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
                let (args, passed) = gantry_container::args::exec(
                    &info.name,
                    &workdir.display().to_string(),
                    &inner,
                    &invocation.program,
                    &invocation.args,
                );
                let mut client: Vec<(String, String)> =
                    std::env::vars().filter(|(k, _)| inherited(k)).collect();
                client.push((super::reaper::TRACKING_VAR.to_string(), tracking_id.clone()));
                client.extend(containers.started.client_env.iter().cloned());
                client.extend(passed);
                (
                    containers.engine.program.display().to_string(),
                    args,
                    client,
                )
            }
            None => (invocation.program.clone(), invocation.args.clone(), env),
        };
        let command = StepCommand {
            program: &program,
            args: &args,
            env: &env,
            insecure,
            tracking_id: &tracking_id,
        };
        let result = self.exec_command(command, dir, timeout, log).await;
        if let Some((path, _)) = &invocation.script_file {
            let _ = std::fs::remove_file(path);
        }
        result
    }

    /// Runs one step process (a shell, an engine client) and takes in what
    /// it writes back: workflow commands and the command files.
    pub(crate) async fn exec_command(
        &mut self,
        command: StepCommand<'_>,
        dir: &Path,
        timeout: Option<Duration>,
        log: &mut LogSink,
    ) -> StepExec {
        let StepCommand {
            program,
            args,
            env,
            insecure,
            tracking_id,
        } = command;
        let mut handler = LineHandler {
            stopper: Stopper::default(),
            outputs: Vec::new(),
            env_sets: Vec::new(),
            path_adds: Vec::new(),
            state: Vec::new(),
            insecure,
            echo: false,
        };
        let spec = process::Spec {
            program,
            args,
            dir,
            env,
            timeout,
            grace: self.shared.options.grace,
        };
        let masker = self.shared.masker.clone();
        // A step that starts after the job was cancelled (an `always()` or
        // `cancelled()` step) runs to its end; only a forced stop ends it.
        let stop = if self.cancel.is_cancelled() {
            self.shared.force.clone()
        } else {
            self.cancel.clone()
        };
        let result = process::run(spec, &stop, |stream, line| {
            handler.on_line(stream, &line, log, &masker)
        })
        .await;
        // A stopped step's processes end with it, wherever they went.
        if matches!(result, Ok(Exit::TimedOut | Exit::Cancelled)) {
            super::reaper::end_step(tracking_id);
        }
        let exit = match result {
            Ok(exit) => exit,
            Err(e) => {
                return StepExec::failed(format!("cannot start `{program}`: {e}"), log);
            }
        };
        let (outputs, file_error) = self.take_command_files(handler);
        let outcome = Self::outcome(exit, file_error, log);
        StepExec {
            outcome,
            exit_code: match exit {
                Exit::Code(c) => Some(c),
                _ => None,
            },
            outputs,
        }
    }

    /// Takes in what the step wrote to the command files (and through
    /// workflow commands); returns its outputs and the last file error.
    fn take_command_files(
        &mut self,
        handler: LineHandler,
    ) -> (Vec<(String, String)>, Option<CommandFileError>) {
        let mut outputs = handler.outputs;
        let mut file_error = None;
        let files = &self.command_files;
        let take = |file: CommandFile| {
            files.take(file).map_err(|source| CommandFileError::Read {
                path: files.path(file),
                source,
            })
        };
        match take(CommandFile::Output)
            .and_then(|t| Ok(files::parse_key_values("GITHUB_OUTPUT", &t)?))
        {
            Ok(pairs) => outputs.extend(pairs),
            Err(e) => file_error = Some(e),
        }
        match take(CommandFile::Env).and_then(|t| Ok(files::parse_key_values("GITHUB_ENV", &t)?)) {
            Ok(pairs) => {
                for (k, v) in handler.env_sets.into_iter().chain(pairs) {
                    self.env.insert(k, v);
                }
            }
            Err(e) => file_error = Some(e),
        }
        match take(CommandFile::Path) {
            Ok(text) => self.path_prepend.extend(files::parse_path(&text)),
            Err(e) => file_error = Some(e),
        }
        self.path_prepend.extend(handler.path_adds);
        // `$GITHUB_STATE` (and `::save-state`) feeds the main and post
        // steps of a JavaScript action as `STATE_*`.
        self.saved_state = handler.state;
        match take(CommandFile::State)
            .and_then(|t| Ok(files::parse_key_values("GITHUB_STATE", &t)?))
        {
            Ok(pairs) => self.saved_state.extend(pairs),
            Err(e) => file_error = Some(e),
        }
        match take(CommandFile::StepSummary) {
            Ok(summary) => self.summary.push_str(&self.shared.masker.mask(&summary)),
            Err(e) => file_error = Some(e),
        }
        (outputs, file_error)
    }

    /// How a step's process ended, said in its log.
    fn outcome(exit: Exit, file_error: Option<CommandFileError>, log: &mut LogSink) -> Conclusion {
        match exit {
            Exit::Code(0) if file_error.is_none() => Conclusion::Success,
            Exit::Code(0) => {
                if let Some(e) = &file_error {
                    log.error(&e.to_string());
                }
                Conclusion::Failure
            }
            Exit::Code(code) => {
                log.error(&format!("process completed with exit code {code}"));
                Conclusion::Failure
            }
            Exit::TimedOut => {
                log.error("the step ran past its timeout and was stopped");
                Conclusion::Failure
            }
            Exit::Cancelled => {
                log.error("the step was cancelled");
                Conclusion::Cancelled
            }
        }
    }
}

/// A step's process, as [`JobRun::exec_command`] runs it.
pub(crate) struct StepCommand<'a> {
    pub program: &'a str,
    pub args: &'a [String],
    pub env: &'a [(String, String)],
    /// `ACTIONS_ALLOW_UNSECURE_COMMANDS` is set: `set-env` and `add-path`
    /// work.
    pub insecure: bool,
    /// The step's `RUNNER_TRACKING_ID`.
    pub tracking_id: &'a str,
}

/// A command file that could not be read after a step.
#[derive(Debug, thiserror::Error)]
enum CommandFileError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Parse(#[from] files::FileCommandError),
}

/// Handles each line a step prints: workflow commands, masking, groups.
struct LineHandler {
    stopper: Stopper,
    outputs: Vec<(String, String)>,
    env_sets: Vec<(String, String)>,
    path_adds: Vec<String>,
    state: Vec<(String, String)>,
    insecure: bool,
    echo: bool,
}

impl LineHandler {
    fn on_line(&mut self, stream: Stream, line: &str, log: &mut LogSink, masker: &Masker) {
        let Some(command) = self.stopper.process(line) else {
            if !line.starts_with("::add-mask::") {
                log.line(stream, line);
            }
            return;
        };
        match command.name.as_str() {
            "add-mask" => {
                masker.add(&command.message);
                return;
            }
            "group" => {
                log.line(stream, &format!("▸ {}", command.message));
                log.group = Some(command.message.clone());
                return;
            }
            "endgroup" => {
                log.group = None;
                return;
            }
            "error" | "warning" | "notice" => {
                let line_no = command.property("line").and_then(|l| l.parse().ok());
                let file = command.property("file").map(str::to_string);
                log.annotate(&command.name, &command.message, file, line_no);
                return;
            }
            "debug" => return,
            "echo" => {
                self.echo = command.message.eq_ignore_ascii_case("on");
                return;
            }
            "set-output" => {
                log.warning(
                    "`::set-output` is deprecated; write `name=value` to $GITHUB_OUTPUT instead",
                );
                if let Some(name) = command.property("name") {
                    self.outputs
                        .push((name.to_string(), command.message.clone()));
                }
            }
            "save-state" => {
                log.warning(
                    "`::save-state` is deprecated; write `name=value` to $GITHUB_STATE instead",
                );
                if let Some(name) = command.property("name") {
                    self.state.push((name.to_string(), command.message.clone()));
                }
            }
            "set-env" | "add-path" if !self.insecure => {
                log.error(&format!(
                    "the `{}` command is disabled; write to $GITHUB_{} instead",
                    command.name,
                    if command.name == "set-env" {
                        "ENV"
                    } else {
                        "PATH"
                    }
                ));
            }
            "set-env" => {
                if let Some(name) = command.property("name") {
                    self.env_sets
                        .push((name.to_string(), command.message.clone()));
                }
            }
            "add-path" => self.path_adds.push(command.message.clone()),
            _ => {
                log.line(stream, line);
                return;
            }
        }
        if self.echo {
            log.line(stream, line);
        }
    }
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())
}
