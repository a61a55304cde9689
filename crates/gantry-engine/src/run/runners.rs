//! Runner folders: the workspace, temp folder, tool cache and command files
//! of a job, kept in a pool and handed from one job to the next the way a
//! GitHub runner reuses its `_work` folders. A job always starts with an
//! empty workspace and temp folder.
//!
//! Reuse matters for speed: a fresh set costs a job nine new inodes, and on
//! ext4 allocating inodes next to many just-deleted ones is slower than
//! everything else gantry does for a job. The pool never holds more folders
//! than jobs ran at once.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A runner's command files: `$GITHUB_OUTPUT`, `$GITHUB_ENV`,
/// `$GITHUB_PATH`, `$GITHUB_STATE` and `$GITHUB_STEP_SUMMARY`. They exist
/// and are empty whenever a step starts: [`CommandFiles::take`] empties
/// each after the step, so a silent step costs one `stat` a file.
#[derive(Debug, Clone)]
pub(crate) struct CommandFiles {
    dir: PathBuf,
}

/// The command files, by the variable that names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CommandFile {
    Output,
    Env,
    Path,
    State,
    StepSummary,
}

impl CommandFile {
    const ALL: [CommandFile; 5] = [
        Self::Output,
        Self::Env,
        Self::Path,
        Self::State,
        Self::StepSummary,
    ];

    fn file_name(self) -> &'static str {
        match self {
            Self::Output => "output",
            Self::Env => "env",
            Self::Path => "path",
            Self::State => "state",
            Self::StepSummary => "step_summary",
        }
    }

    pub(crate) fn variable(self) -> &'static str {
        match self {
            Self::Output => "GITHUB_OUTPUT",
            Self::Env => "GITHUB_ENV",
            Self::Path => "GITHUB_PATH",
            Self::State => "GITHUB_STATE",
            Self::StepSummary => "GITHUB_STEP_SUMMARY",
        }
    }
}

impl CommandFiles {
    fn create(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        let files = Self { dir };
        for file in CommandFile::ALL {
            std::fs::write(files.path(file), "")?;
        }
        Ok(files)
    }

    /// The folder the files are in.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn path(&self, file: CommandFile) -> PathBuf {
        self.dir.join(file.file_name())
    }

    /// The variables that point a step at the files.
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        CommandFile::ALL
            .iter()
            .map(|&f| (f.variable().to_string(), self.path(f).display().to_string()))
            .collect()
    }

    /// What a step wrote to a file, leaving it empty (or making it anew
    /// if the step removed it) for the next step.
    pub(crate) fn take(&self, file: CommandFile) -> std::io::Result<String> {
        let path = self.path(file);
        match std::fs::metadata(&path) {
            Ok(meta) if meta.len() == 0 => Ok(String::new()),
            Ok(_) => {
                let bytes = std::fs::read(&path)?;
                std::fs::File::create(&path)?;
                // Decoded as the runner does: bad bytes become U+FFFD.
                Ok(String::from_utf8_lossy(&bytes).into_owned())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::write(&path, "")?;
                Ok(String::new())
            }
            Err(e) => Err(e),
        }
    }
}

/// One runner's folders. Only one job uses a runner at a time.
#[derive(Debug)]
pub(crate) struct Runner {
    root: PathBuf,
    pub(crate) workspace: PathBuf,
    pub(crate) temp: PathBuf,
    pub(crate) tool_cache: PathBuf,
    pub(crate) files: CommandFiles,
}

impl Runner {
    fn create(root: PathBuf) -> std::io::Result<Self> {
        let workspace = root.join("workspace");
        let temp = root.join("temp");
        let tool_cache = root.join("tool-cache");
        for dir in [&workspace, &temp, &tool_cache] {
            std::fs::create_dir_all(dir)?;
        }
        Ok(Self {
            files: CommandFiles::create(root.join("files"))?,
            workspace,
            temp,
            tool_cache,
            root,
        })
    }

    /// Readies the runner for the next job: the workspace and the temp
    /// folder are emptied, or the workspace is moved to `keep` and made
    /// anew. The tool cache stays, as it does on a runner machine; the
    /// command files are emptied after every step anyway.
    fn reset(&self, keep: Option<&Path>) -> std::io::Result<()> {
        match keep {
            Some(keep) => {
                std::fs::rename(&self.workspace, keep)?;
                std::fs::create_dir(&self.workspace)?;
            }
            None => empty(&self.workspace)?,
        }
        empty(&self.temp)
    }
}

/// Removes what a folder holds, not following symbolic links.
fn empty(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// The pool of a run's runner folders, under `<work dir>/runner-<n>`.
#[derive(Debug)]
pub(crate) struct Runners {
    base: PathBuf,
    state: Mutex<Pool>,
}

#[derive(Debug, Default)]
struct Pool {
    free: Vec<Runner>,
    made: usize,
}

impl Runners {
    pub(crate) fn new(base: &Path) -> Self {
        Self {
            base: base.to_path_buf(),
            state: Mutex::new(Pool::default()),
        }
    }

    /// A free runner, or a new one.
    pub(crate) fn take(&self) -> std::io::Result<Runner> {
        let n = {
            let mut pool = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(runner) = pool.free.pop() {
                return Ok(runner);
            }
            pool.made += 1;
            pool.made
        };
        Runner::create(self.base.join(format!("runner-{n}")))
    }

    /// Hands a runner back once its job is over, keeping its workspace at
    /// `keep` if given. A runner that cannot be reset is removed instead,
    /// so no job sees another's files.
    pub(crate) fn give_back(&self, runner: Runner, keep: Option<&Path>) {
        if runner.reset(keep).is_err() {
            let _ = std::fs::remove_dir_all(&runner.root);
            return;
        }
        let mut pool = self.state.lock().unwrap_or_else(|e| e.into_inner());
        pool.free.push(runner);
    }

    /// Removes every runner folder; called when the run is over.
    pub(crate) fn remove_all(&self) {
        let mut pool = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for runner in pool.free.drain(..) {
            let _ = std::fs::remove_dir_all(&runner.root);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn runners_are_reused_and_cleaned_between_jobs() {
        let dir = tempfile::tempdir().unwrap();
        let runners = Runners::new(dir.path());
        let a = runners.take().unwrap();
        let b = runners.take().unwrap();
        assert_ne!(a.temp, b.temp, "jobs at once get their own folders");
        assert_ne!(a.workspace, b.workspace);
        for dir in [&a.temp, &a.workspace] {
            std::fs::write(dir.join("left-over"), "x").unwrap();
            std::fs::create_dir(dir.join("sub")).unwrap();
            std::fs::write(dir.join("sub/file"), "x").unwrap();
        }
        std::os::unix::fs::symlink(dir.path(), a.workspace.join("link")).unwrap();
        let temp = a.temp.clone();
        runners.give_back(a, None);
        let c = runners.take().unwrap();
        assert_eq!(c.temp, temp, "a free runner is reused");
        assert_eq!(std::fs::read_dir(&c.temp).unwrap().count(), 0);
        assert_eq!(std::fs::read_dir(&c.workspace).unwrap().count(), 0);
        assert!(dir.path().is_dir(), "links are removed, not followed");

        // A kept workspace moves out of the pool with its files.
        std::fs::write(b.workspace.join("result"), "42").unwrap();
        let kept = dir.path().join("kept");
        runners.give_back(b, Some(&kept));
        assert_eq!(std::fs::read_to_string(kept.join("result")).unwrap(), "42");
        let d = runners.take().unwrap();
        assert_eq!(std::fs::read_dir(&d.workspace).unwrap().count(), 0);
        runners.give_back(d, None);

        let files = &c.files;
        assert_eq!(files.take(CommandFile::Output).unwrap(), "");
        std::fs::write(files.path(CommandFile::Output), "a=1\n").unwrap();
        assert_eq!(files.take(CommandFile::Output).unwrap(), "a=1\n");
        assert_eq!(
            files.take(CommandFile::Output).unwrap(),
            "",
            "taking empties it"
        );
        std::fs::remove_file(files.path(CommandFile::Env)).unwrap();
        assert_eq!(files.take(CommandFile::Env).unwrap(), "");
        assert!(
            files.path(CommandFile::Env).is_file(),
            "a removed file is made anew"
        );
        std::fs::write(files.path(CommandFile::Path), [b'/', 0xff]).unwrap();
        assert_eq!(files.take(CommandFile::Path).unwrap(), "/\u{fffd}");
        runners.give_back(c, None);
        runners.remove_all();
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["kept"]);
    }
}
