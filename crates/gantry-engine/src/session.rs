//! One `gantry run`: the options every workflow it runs shares, the
//! options each run gets (its own work folder, the commit, how many jobs
//! at once), and a run under its `concurrency:` lock. The caller renders
//! the events and says what the lock's waiting notices say.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use gantry_workflow::Workflow;
use indexmap::IndexMap;
use tokio::sync::mpsc::UnboundedSender;

use crate::concurrency::{self, LockError, Waiting};
use crate::plan::Event;
use crate::run::{Backend, Conclusion, Masker, RunError, RunEvent, RunOptions, Stop};

/// How long a stopped process group gets before SIGKILL.
pub const GRACE: Duration = Duration::from_secs(5);

/// What every run of one invocation shares.
#[derive(Debug, Clone)]
pub struct Session {
    /// The repository (or folder) the workflows belong to.
    pub repo: PathBuf,
    /// The folder under which each run gets its own work folder
    /// (`$GANTRY_HOME/work`).
    pub work_root: PathBuf,
    /// The folder of the concurrency lock files (`$GANTRY_HOME/locks`).
    pub locks: PathBuf,
    pub event: Event,
    pub secrets: IndexMap<String, String>,
    pub vars: IndexMap<String, String>,
    /// How many jobs may run at once; the number of CPUs when `None`.
    pub jobs: Option<usize>,
    pub include_uncommitted: bool,
    pub skip_unsupported: bool,
    pub keep_workspaces: bool,
    /// The commit to build instead of the one checked out (a rollback
    /// builds the commit it deploys again).
    pub commit: Option<String>,
    /// `--matrix` filters and needed jobs' results for `--no-deps`.
    pub selection: crate::select::Selection,
    /// `-P LABEL=host` mappings.
    pub platforms: Vec<(String, String)>,
    /// The store of marketplace actions (`$GANTRY_HOME/actions`).
    pub actions: Option<gantry_actions::ActionStore>,
    /// What `setup-*` actions do when no installed toolchain matches.
    pub toolchain_mismatch: crate::run::ToolchainMismatch,
    /// `--container-engine` and the service health timeout.
    pub containers: crate::run::ContainerOptions,
}

/// Why a run did not finish.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Run(#[from] RunError),
}

impl Session {
    /// The options of one run: a fresh work folder, the commit checked out
    /// in the repository.
    pub fn run_options(&self) -> RunOptions {
        let parallel = self
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        RunOptions {
            repo: self.repo.clone(),
            work_dir: self.work_root.join(unique_name()),
            event: self.event.clone(),
            sha: self
                .commit
                .clone()
                .or_else(|| crate::source::head_commit(&self.repo)),
            secrets: self.secrets.clone(),
            vars: self.vars.clone(),
            parallel,
            include_uncommitted: self.include_uncommitted,
            skip_unsupported: self.skip_unsupported,
            grace: GRACE,
            keep_workspaces: self.keep_workspaces,
            selection: self.selection.clone(),
            platforms: self.platforms.clone(),
            actions: self.actions.clone(),
            toolchain_mismatch: self.toolchain_mismatch,
            containers: self.containers.clone(),
        }
    }

    /// Runs `workflow` once its concurrency group (if any) is free,
    /// sending its events to `events`; `on_wait` hears why it waits. The
    /// run's options are fixed when this is called; the future owns what
    /// it needs, so it can be spawned. Gives the run's id and conclusion.
    pub fn run(
        &self,
        workflow: Arc<Workflow>,
        backend: Arc<dyn Backend>,
        events: UnboundedSender<RunEvent>,
        stop: Stop,
        on_wait: impl FnMut(Waiting) + Send + 'static,
    ) -> impl Future<Output = Result<(u64, Conclusion), SessionError>> + Send + 'static {
        let options = self.run_options();
        let locks = self.locks.clone();
        async move {
            let _lock = concurrency::acquire(&locks, &workflow, &options, on_wait).await?;
            let masker = Masker::new();
            Ok(crate::run::run(workflow, Arc::new(options), backend, masker, events, stop).await?)
        }
    }
}

/// Whether every run of an invocation succeeded (what `gantry run`'s exit
/// code says).
pub fn all_succeeded(conclusions: impl IntoIterator<Item = Conclusion>) -> bool {
    conclusions.into_iter().all(|c| c == Conclusion::Success)
}

/// A work-folder name no other run of this or another process uses.
fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{nanos}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn session(jobs: Option<usize>) -> Session {
        Session {
            repo: PathBuf::from("/nonexistent/repo"),
            work_root: PathBuf::from("/home/work"),
            locks: PathBuf::from("/home/locks"),
            event: Event::default(),
            secrets: IndexMap::new(),
            vars: IndexMap::new(),
            jobs,
            include_uncommitted: false,
            skip_unsupported: true,
            keep_workspaces: false,
            commit: None,
            selection: Default::default(),
            platforms: Vec::new(),
            actions: None,
            toolchain_mismatch: Default::default(),
            containers: Default::default(),
        }
    }

    #[test]
    fn each_run_gets_its_own_work_folder_under_the_root() {
        let s = session(Some(3));
        let a = s.run_options();
        let b = s.run_options();
        assert_eq!(a.work_dir.parent(), Some(Path::new("/home/work")));
        assert_ne!(a.work_dir, b.work_dir);
        assert_eq!(a.parallel, 3);
        assert!(a.skip_unsupported);
        assert_eq!(a.sha, None);
        assert_eq!(a.grace, GRACE);
    }

    #[test]
    fn jobs_default_to_the_cpus() {
        assert!(session(None).run_options().parallel >= 1);
    }

    #[test]
    fn only_all_successes_succeed() {
        assert!(all_succeeded([]));
        assert!(all_succeeded([Conclusion::Success, Conclusion::Success]));
        assert!(!all_succeeded([Conclusion::Success, Conclusion::Failure]));
        assert!(!all_succeeded([Conclusion::Cancelled]));
    }
}
