//! Docker actions (`runs.using: docker`) and `uses: docker://IMAGE` steps,
//! through the job's container engine: the image built from the action's
//! Dockerfile (or named), run with `run --rm` as the step's process, as
//! GitHub runs them: the workspace at `/github/workspace` (the working
//! folder), the command files at `/github/file_commands`, `HOME` at
//! `/github/home`, the event at `/github/workflow/event.json`, `INPUT_*`
//! and the runner's variables, on the job's network when it has one.
//! `pre-entrypoint` runs just before the main entrypoint, in the same
//! step; `post-entrypoint` is a post step.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gantry_container::args::{self, ActionRun};
use gantry_container::{DetectError, Engine, Mount};

use super::job::{JobRun, PostAction, PostStep};
use super::log::LogSink;
use super::process::Stream;
use super::runners::CommandFile;
use super::script::{StepCommand, inherited};
use super::step::StepExec;

/// Where a Docker action's image comes from.
#[derive(Debug, Clone)]
pub(crate) enum ActionImage {
    /// `docker://IMAGE`: run as named (pulled by the engine if missing).
    Named(String),
    /// A Dockerfile in the action's folder, built first.
    Build {
        dockerfile: PathBuf,
        context: PathBuf,
    },
}

/// One Docker action step, its expressions evaluated.
pub(crate) struct DockerStep {
    pub uses: String,
    pub image: ActionImage,
    /// The image tag a build gets (stable for one action).
    pub tag: String,
    pub entrypoint: Option<String>,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub pre_entrypoint: Option<String>,
    pub post_entrypoint: Option<String>,
    pub post_if: String,
}

/// What a post step needs to run the action's image again.
pub(crate) struct DockerPost {
    pub uses: String,
    pub image: String,
    pub entrypoint: String,
    pub env: Vec<(String, String)>,
}

static NEXT: AtomicU64 = AtomicU64::new(1);

/// The tag of an action's built image: `localhost/gantry-action-<hash of
/// what identifies the action>`.
pub(crate) fn image_tag(identity: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(identity.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("localhost/gantry-action-{hex}")
}

impl JobRun {
    /// The engine a Docker action runs with: the job's, or the one
    /// `--container-engine` names or detection finds.
    fn action_engine(&self, uses: &str) -> Result<Engine, String> {
        if let Some(c) = &self.containers {
            return Ok(c.engine.clone());
        }
        let path = std::env::var("PATH").unwrap_or_default();
        gantry_container::detect(&self.shared.options.containers.engine, &path).map_err(|e| match e {
            DetectError::NoEngine => format!(
                "`{uses}` runs in a container, and neither podman nor docker is installed (looked for both on PATH); install one of them, or name one with `--container-engine podman|docker`"
            ),
            e => format!("`{uses}` runs in a container: {e}"),
        })
    }

    /// Runs a Docker action step: builds its image if it has a
    /// Dockerfile, runs `pre-entrypoint` and the main entrypoint, and
    /// registers `post-entrypoint`.
    pub(crate) async fn exec_docker(
        &mut self,
        step: DockerStep,
        timeout: Option<Duration>,
        log: &mut LogSink,
    ) -> StepExec {
        let engine = match self.action_engine(&step.uses) {
            Ok(e) => e,
            Err(why) => return self.unsupported(&step.uses, &why, log),
        };
        let image = match &step.image {
            ActionImage::Named(image) => {
                if let Err(e) = args::check_image(image) {
                    return StepExec::failed(format!("`{}`: {e}", step.uses), log);
                }
                image.clone()
            }
            ActionImage::Build {
                dockerfile,
                context,
            } => {
                log.line(
                    Stream::Stdout,
                    &format!("building the image of `{}` ({})", step.uses, step.tag),
                );
                let build = args::build(&step.tag, dockerfile, context);
                let env = self.client_env();
                if let Err(e) = engine.checked(&build, &env, None).await {
                    return StepExec::failed(
                        format!("building the image of `{}`: {e}", step.uses),
                        log,
                    );
                }
                step.tag.clone()
            }
        };
        if let Some(pre) = &step.pre_entrypoint {
            let exec = self
                .run_action_container(&engine, &image, Some(pre), &[], &step.env, timeout, log)
                .await;
            if exec.outcome != super::Conclusion::Success {
                return exec;
            }
        }
        let exec = self
            .run_action_container(
                &engine,
                &image,
                step.entrypoint.as_deref(),
                &step.args,
                &step.env,
                timeout,
                log,
            )
            .await;
        if let Some(post) = step.post_entrypoint {
            self.post.push(PostStep {
                name: format!("Post {}", step.uses),
                condition: step.post_if,
                action: PostAction::Docker(DockerPost {
                    uses: step.uses,
                    image,
                    entrypoint: post,
                    env: step.env,
                }),
            });
        }
        exec
    }

    /// Runs a Docker action's post entrypoint.
    pub(crate) async fn exec_docker_post(
        &mut self,
        post: DockerPost,
        log: &mut LogSink,
    ) -> StepExec {
        let engine = match self.action_engine(&post.uses) {
            Ok(e) => e,
            Err(why) => return StepExec::failed(why, log),
        };
        self.run_action_container(
            &engine,
            &post.image,
            Some(&post.entrypoint),
            &[],
            &post.env,
            None,
            log,
        )
        .await
    }

    /// The environment the engine client runs with: this machine's, and
    /// the job's credentials file.
    fn client_env(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> =
            std::env::vars().filter(|(k, _)| inherited(k)).collect();
        if let Some(c) = &self.containers {
            env.extend(c.started.client_env.iter().cloned());
        }
        env
    }

    /// `run --rm` of the action's image as the step's process, with the
    /// runner's folders at GitHub's `/github/...` paths.
    #[allow(clippy::too_many_arguments)]
    async fn run_action_container(
        &mut self,
        engine: &Engine,
        image: &str,
        entrypoint: Option<&str>,
        action_args: &[String],
        step_env: &[(String, String)],
        timeout: Option<Duration>,
        log: &mut LogSink,
    ) -> StepExec {
        let home = self.temp.join("_github_home");
        if let Err(e) = std::fs::create_dir_all(&home) {
            return StepExec::failed(format!("cannot create {}: {e}", home.display()), log);
        }
        let event_path = self
            .base
            .values
            .get("github")
            .and_then(|g| g.get("event_path"))
            .map(|v| PathBuf::from(v.to_display_string()))
            .filter(|p| p.is_file());
        let mut mounts = vec![
            mount(&self.workspace, "/github/workspace"),
            mount(self.command_files.dir(), "/github/file_commands"),
            mount(&self.temp, "/github/runner_temp"),
            mount(&home, "/github/home"),
        ];
        if let Some(event) = &event_path {
            let mut m = mount(event, "/github/workflow/event.json");
            m.read_only = true;
            mounts.push(m);
        }
        let tracking_id = self.tracking.step();
        let mut extra: Vec<(String, String)> = [
            CommandFile::Output,
            CommandFile::Env,
            CommandFile::Path,
            CommandFile::State,
            CommandFile::StepSummary,
        ]
        .into_iter()
        .map(|f| {
            let name = self
                .command_files
                .path(f)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (
                f.variable().to_string(),
                format!("/github/file_commands/{name}"),
            )
        })
        .collect();
        extra.push((super::reaper::TRACKING_VAR.to_string(), tracking_id.clone()));
        let mut inner = self.env_for(false, step_env, &extra);
        for (k, v) in [
            ("GITHUB_WORKSPACE", "/github/workspace"),
            ("RUNNER_TEMP", "/github/runner_temp"),
            ("HOME", "/github/home"),
            ("GITHUB_EVENT_PATH", "/github/workflow/event.json"),
        ] {
            inner.retain(|(name, _)| name != k);
            inner.push((k.to_string(), v.to_string()));
        }
        // The image's own PATH, and no path of this machine.
        inner.retain(|(name, _)| name != "PATH" && name != "GITHUB_ACTION_PATH");
        let insecure = inner
            .iter()
            .any(|(k, v)| k == "ACTIONS_ALLOW_UNSECURE_COMMANDS" && v.eq_ignore_ascii_case("true"));
        let name = format!(
            "gantry-{}-action-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let network = self.containers.as_ref().map(|c| c.started.network.clone());
        let labels = gantry_container::sweep::owner_labels(&self.key);
        let (run_args, passed) = args::run_action(&ActionRun {
            name: &name,
            image,
            network: network.as_deref(),
            mounts: &mounts,
            workdir: "/github/workspace",
            env: &inner,
            entrypoint,
            args: action_args,
            labels: &labels,
        });
        let mut client = self.client_env();
        client.push((super::reaper::TRACKING_VAR.to_string(), tracking_id.clone()));
        client.extend(passed);
        let program = engine.program.display().to_string();
        let workspace = self.workspace.clone();
        let exec = self
            .exec_command(
                StepCommand {
                    program: &program,
                    args: &run_args,
                    env: &client,
                    insecure,
                    tracking_id: &tracking_id,
                },
                &workspace,
                timeout,
                log,
            )
            .await;
        // A client stopped by a timeout or cancellation may leave its
        // container running.
        if exec.exit_code.is_none() {
            let _ = engine
                .output(&args::remove(engine.kind, &[name]), &[], None)
                .await;
        }
        exec
    }
}

fn mount(host: &Path, container: &str) -> Mount {
    Mount {
        // Absolute: a relative one names a volume.
        host: std::path::absolute(host).unwrap_or_else(|_| host.to_path_buf()),
        container: container.to_string(),
        read_only: false,
    }
}
