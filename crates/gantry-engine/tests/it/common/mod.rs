//! The shared context of gantry-engine's integration tests: a backend
//! with history in memory and caches and artifacts as plain folders in a
//! temporary directory, and [`run_with`], which runs a workflow in a
//! scratch repository and collects what happened as an [`Outcome`].

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use gantry_engine::plan::Event;
use gantry_engine::run::{Masker, RunEvent, RunOptions, Stop, run};
use gantry_workflow::{ReadOptions, SourceFile, read_workflow};
use indexmap::IndexMap;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use gantry_engine::run::{
    ArtifactStored, Backend, BackendError, CacheRestore, Conclusion, RunRecord,
};

/// outcome, conclusion, exit code, outputs
pub type StepEnd = (Conclusion, Conclusion, Option<i32>, Vec<(String, String)>);

#[derive(Default)]
pub struct Recorded {
    pub jobs: Vec<(u64, String, Option<Conclusion>)>,
    /// Each job's name and how long it waited for a runner slot.
    pub queued: Vec<(String, Option<Duration>)>,
    /// (job, index, name, end)
    pub steps: Vec<(u64, u32, String, Option<StepEnd>)>,
    pub caches: Vec<(String, Option<String>)>,
    pub runs: Vec<(RunRecord, Option<Conclusion>)>,
}

pub struct TestBackend {
    pub dir: PathBuf,
    pub recorded: Mutex<Recorded>,
    /// Every history write after the run's start fails.
    pub fail_history: bool,
    /// (key, version, folder) in save order.
    caches: Mutex<Vec<(String, String, PathBuf)>>,
    /// The environment hooks, when the test gives some.
    pub environments: Option<Arc<dyn gantry_engine::run::environment::Environments>>,
}

impl TestBackend {
    /// The error of a failing history write, when writes fail.
    fn refuse(&self, what: &str) -> Result<(), BackendError> {
        if self.fail_history {
            return Err(BackendError::with_context(
                format!("failed to record {what}"),
                "the disk is full",
            ));
        }
        Ok(())
    }

    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            fail_history: false,
            recorded: Mutex::new(Recorded::default()),
            caches: Mutex::new(Vec::new()),
            environments: None,
        }
    }
}

fn copy_dir(from: &Path, to: &Path) -> u64 {
    let mut n = 0;
    if from.is_file() {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to)
            .map_err(|e| format!("{} -> {}: {e}", from.display(), to.display()))
            .unwrap();
        return 1;
    }
    let Ok(entries) = std::fs::read_dir(from) else {
        return 0;
    };
    std::fs::create_dir_all(to).unwrap();
    for e in entries {
        let e = e.unwrap();
        n += copy_dir(&e.path(), &to.join(e.file_name()));
    }
    n
}

impl Backend for TestBackend {
    fn environments(&self) -> Option<Arc<dyn gantry_engine::run::environment::Environments>> {
        self.environments.clone()
    }
    fn begin_run(&self, run: &RunRecord) -> Result<u64, BackendError> {
        let mut r = self.recorded.lock().unwrap();
        r.runs.push((run.clone(), None));
        Ok(r.runs.len() as u64)
    }
    fn finish_run(&self, run: u64, conclusion: Conclusion) -> Result<(), BackendError> {
        self.refuse("the run's end")?;
        self.recorded.lock().unwrap().runs[run as usize - 1].1 = Some(conclusion);
        Ok(())
    }
    fn begin_job(
        &self,
        _run: u64,
        _job_id: &str,
        name: &str,
        _m: Option<&str>,
        queued: Option<Duration>,
    ) -> Result<u64, BackendError> {
        let mut r = self.recorded.lock().unwrap();
        let id = r.jobs.len() as u64 + 1;
        r.jobs.push((id, name.to_string(), None));
        r.queued.push((name.to_string(), queued));
        Ok(r.jobs.len() as u64)
    }
    fn finish_job(
        &self,
        job: u64,
        conclusion: Conclusion,
        _o: &[(String, String)],
    ) -> Result<(), BackendError> {
        self.refuse("a job's end")?;
        self.recorded.lock().unwrap().jobs[job as usize - 1].2 = Some(conclusion);
        Ok(())
    }
    fn begin_step(
        &self,
        job: u64,
        index: u32,
        _id: Option<&str>,
        name: &str,
    ) -> Result<(), BackendError> {
        self.refuse("a step's start")?;
        let mut r = self.recorded.lock().unwrap();
        r.steps.push((job, index, name.to_string(), None));
        Ok(())
    }
    fn finish_step(
        &self,
        job: u64,
        index: u32,
        outcome: Conclusion,
        conclusion: Conclusion,
        exit: Option<i32>,
        outputs: &[(String, String)],
    ) -> Result<(), BackendError> {
        self.refuse("a step's end")?;
        let mut r = self.recorded.lock().unwrap();
        let Some(step) = r.steps.iter_mut().find(|s| s.0 == job && s.1 == index) else {
            return Err(BackendError::new(format!("job {job} has no step {index}")));
        };
        step.3 = Some((outcome, conclusion, exit, outputs.to_vec()));
        Ok(())
    }
    fn log_path(&self, run: u64, job: u64, step: Option<u32>) -> PathBuf {
        self.dir.join(format!(
            "logs/{run}/{job}/{}.log",
            step.map_or("job".to_string(), |s| s.to_string())
        ))
    }
    fn record_cache(&self, _run: u64, key: &str, hit: Option<&str>) -> Result<(), BackendError> {
        self.recorded
            .lock()
            .unwrap()
            .caches
            .push((key.to_string(), hit.map(str::to_string)));
        Ok(())
    }
    fn save_cache(
        &self,
        key: &str,
        version: &str,
        root: &Path,
        paths: &[String],
    ) -> Result<bool, BackendError> {
        let mut caches = self.caches.lock().unwrap();
        if caches.iter().any(|(k, v, _)| k == key && v == version) {
            return Ok(false);
        }
        let dir = self.dir.join(format!("cache/{}", caches.len()));
        for p in paths {
            copy_dir(&root.join(p), &dir.join(p));
        }
        caches.push((key.to_string(), version.to_string(), dir));
        Ok(true)
    }
    fn restore_cache(
        &self,
        keys: &[String],
        version: &str,
        dest: &Path,
    ) -> Result<Option<CacheRestore>, BackendError> {
        let caches = self.caches.lock().unwrap();
        let found = caches
            .iter()
            .find(|(k, v, _)| v == version && *k == keys[0])
            .map(|c| (c, true))
            .or_else(|| {
                keys.iter().skip(1).find_map(|prefix| {
                    caches
                        .iter()
                        .rev()
                        .find(|(k, v, _)| v == version && k.starts_with(prefix.as_str()))
                        .map(|c| (c, false))
                })
            });
        Ok(found.map(|((key, _, dir), exact)| {
            copy_dir(dir, dest);
            CacheRestore {
                matched_key: key.clone(),
                exact,
            }
        }))
    }
    fn upload_artifact(
        &self,
        run: u64,
        name: &str,
        root: &Path,
        paths: &[String],
        _r: Option<u32>,
    ) -> Result<ArtifactStored, BackendError> {
        let dir = self.dir.join(format!("artifacts/{run}/{name}"));
        if dir.exists() {
            return Err(BackendError::new(format!(
                "an artifact named {name} already exists"
            )));
        }
        let mut files = 0;
        for p in paths {
            let p = p.trim_start_matches("./");
            let (from, to) = if p == "." || p.is_empty() {
                (root.to_path_buf(), dir.clone())
            } else {
                (root.join(p), dir.join(p))
            };
            files += copy_dir(&from, &to);
        }
        Ok(ArtifactStored {
            name: name.to_string(),
            files,
            bytes: 0,
        })
    }
    fn download_artifact(
        &self,
        run: u64,
        pattern: Option<&str>,
        dest: &Path,
        per_artifact: bool,
    ) -> Result<Vec<ArtifactStored>, BackendError> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(self.dir.join(format!("artifacts/{run}"))) else {
            return Ok(out);
        };
        for e in entries {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if pattern.is_some_and(|p| p != name) {
                continue;
            }
            let to = if per_artifact {
                dest.join(&name)
            } else {
                dest.to_path_buf()
            };
            let files = copy_dir(&e.path(), &to);
            out.push(ArtifactStored {
                name,
                files,
                bytes: 0,
            });
        }
        Ok(out)
    }
}

pub struct Outcome {
    pub conclusion: Conclusion,
    pub events: Vec<RunEvent>,
    pub backend: Arc<TestBackend>,
    _dir: tempfile::TempDir,
}

impl Outcome {
    /// Every log line of a job, in order.
    pub fn log(&self, job: &str) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                RunEvent::Log { job: j, line, .. } if j == job => Some(line.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn all_lines(&self) -> String {
        self.events
            .iter()
            .filter_map(|e| match e {
                RunEvent::Log { line, .. } => Some(line.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn job_result(&self, job: &str) -> Option<Conclusion> {
        self.events.iter().find_map(|e| match e {
            RunEvent::JobFinished { job: j, result, .. } if j == job => Some(*result),
            _ => None,
        })
    }

    pub fn skipped(&self, job: &str) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, RunEvent::JobSkipped { job: j, .. } if j == job))
    }

    pub fn step(&self, job: &str, name: &str) -> Option<(Conclusion, Conclusion)> {
        self.events.iter().find_map(|e| match e {
            RunEvent::StepFinished {
                job: j,
                name: n,
                outcome,
                conclusion,
                ..
            } if j == job && n == name => Some((*outcome, *conclusion)),
            _ => None,
        })
    }

    /// Position of the first event matching.
    pub fn position(&self, pred: impl Fn(&RunEvent) -> bool) -> usize {
        self.events.iter().position(pred).unwrap_or(usize::MAX)
    }
}

pub async fn run_with(
    files: &[(&str, &str)],
    workflow: &str,
    configure: impl FnOnce(&mut RunOptions),
    cancel_after: Option<Duration>,
) -> Outcome {
    run_on(files, workflow, configure, cancel_after, false).await
}

/// Runs `workflow` on a backend whose history writes fail.
pub async fn run_failing_history(workflow: &str) -> Outcome {
    run_on(&[], workflow, |_| {}, None, true).await
}

/// Runs `workflow` on a backend with environment hooks.
pub async fn run_with_environments(
    workflow: &str,
    hooks: Arc<dyn gantry_engine::run::environment::Environments>,
) -> Outcome {
    run_backend(&[], workflow, |_| {}, None, false, Some(hooks)).await
}

async fn run_on(
    files: &[(&str, &str)],
    workflow: &str,
    configure: impl FnOnce(&mut RunOptions),
    cancel_after: Option<Duration>,
    fail_history: bool,
) -> Outcome {
    run_backend(files, workflow, configure, cancel_after, fail_history, None).await
}

async fn run_backend(
    files: &[(&str, &str)],
    workflow: &str,
    configure: impl FnOnce(&mut RunOptions),
    cancel_after: Option<Duration>,
    fail_history: bool,
    hooks: Option<Arc<dyn gantry_engine::run::environment::Environments>>,
) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".github/workflows")).unwrap();
    for (path, text) in files {
        let p = repo.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    std::fs::write(repo.join(".github/workflows/w.yml"), workflow).unwrap();
    let parsed = read_workflow(SourceFile::new("w.yml", workflow), &ReadOptions::default());
    assert!(
        !parsed.has_errors(),
        "{:#?}",
        parsed.diagnostics.diagnostics
    );
    let mut options = options(&repo, dir.path());
    configure(&mut options);
    let mut backend = TestBackend::new(&dir.path().join("backend"));
    backend.fail_history = fail_history;
    backend.environments = hooks;
    let backend = Arc::new(backend);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = Stop::default();
    if let Some(after) = cancel_after {
        let c = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            c.graceful.cancel();
        });
    }
    let result = tokio::time::timeout(
        Duration::from_secs(60),
        run(
            Arc::new(parsed.value.unwrap()),
            Arc::new(options),
            backend.clone(),
            Masker::new(),
            tx,
            cancel,
        ),
    )
    .await
    .expect("the run ends by itself")
    .unwrap();
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    Outcome {
        conclusion: result.1,
        events,
        backend,
        _dir: dir,
    }
}

pub async fn run_wf(workflow: &str) -> Outcome {
    run_with(&[], workflow, |_| {}, None).await
}

/// The options of a test run in `repo`, working under `dir`.
pub fn options(repo: &Path, dir: &Path) -> RunOptions {
    RunOptions {
        repo: repo.to_path_buf(),
        work_dir: dir.join("work"),
        event: Event {
            name: "push".into(),
            git_ref: Some("refs/heads/main".into()),
            ..Event::default()
        },
        sha: Some("0123456789abcdef0123456789abcdef01234567".into()),
        secrets: IndexMap::new(),
        vars: IndexMap::new(),
        parallel: 4,
        include_uncommitted: false,
        skip_unsupported: false,
        grace: Duration::from_millis(300),
        keep_workspaces: false,
        selection: Default::default(),
        platforms: Vec::new(),
        actions: None,
        toolchain_mismatch: Default::default(),
        containers: Default::default(),
    }
}
