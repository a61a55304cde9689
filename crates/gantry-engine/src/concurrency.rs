//! `concurrency:` between runs on one host: one run per group at a time,
//! through a lock file per group in a folder the caller gives
//! (`$GANTRY_HOME/locks`). With `cancel-in-progress`, the run holding the
//! group is asked to cancel (SIGTERM, which `gantry run` treats like
//! Ctrl-C) and this one waits for it.

use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use gantry_expr::Value;
use gantry_workflow::Workflow;
use gantry_workflow::model::OrExpr;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use sha2::{Digest, Sha256};

use crate::github::event_context;
use crate::run::scope::{Scope, strings};
use crate::run::{ExprError, RunOptions};

/// A held concurrency group; released when dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Why a group could not be taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    #[error("concurrency group: {0}")]
    Group(#[source] ExprError),
    #[error("failed to use the lock file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What happens while another run holds the group, for the caller to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waiting {
    /// Another run holds `group`; this one waits.
    Held { group: String },
    /// `cancel-in-progress`: the holder, process `pid`, was asked to cancel.
    Cancelling { pid: i32 },
}

/// The contexts a workflow-level `concurrency` may use.
fn scope(workflow: &Workflow, options: &RunOptions) -> Scope {
    let github = event_context(workflow, &options.event, options.sha.as_deref());
    Scope::default()
        .with("github", Value::Object(github))
        .with("inputs", strings(options.event.inputs.iter()))
        .with("vars", strings(options.vars.iter()))
}

/// Takes the workflow's concurrency group in `dir`, waiting while another
/// run on this host holds it; `None` when the workflow has no group.
pub async fn acquire(
    dir: &Path,
    workflow: &Workflow,
    options: &RunOptions,
    mut on_wait: impl FnMut(Waiting),
) -> Result<Option<Lock>, LockError> {
    let Some(concurrency) = &workflow.concurrency else {
        return Ok(None);
    };
    let scope = scope(workflow, options);
    let expand = |text: &str| crate::run::expand_text(text, &scope);
    let group = expand(&concurrency.group.value).map_err(LockError::Group)?;
    let cancel_in_progress = match concurrency.cancel_in_progress.as_ref().map(|c| &c.value) {
        None => false,
        Some(OrExpr::Value(b)) => *b,
        Some(OrExpr::Expr(text)) => expand(text).is_ok_and(|v| v == "true"),
    };
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LockError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let name: String = Sha256::digest(group.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let path = dir.join(format!("{name}.lock"));
    let pid_path = dir.join(format!("{name}.pid"));
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    let mut announced = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {
                if !announced {
                    announced = true;
                    on_wait(Waiting::Held {
                        group: group.clone(),
                    });
                    if cancel_in_progress && let Some(pid) = holder(&pid_path) {
                        on_wait(Waiting::Cancelling { pid });
                        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(TryLockError::Error(source)) => return Err(LockError::Io { path, source }),
        }
    }
    if let Ok(mut f) = File::create(&pid_path) {
        let _ = write!(f, "{}", std::process::id());
    }
    Ok(Some(Lock { _file: file }))
}

/// The process that holds a group, as it wrote itself down.
fn holder(pid_path: &Path) -> Option<i32> {
    std::fs::read_to_string(pid_path)
        .ok()
        .and_then(|p| p.trim().parse::<i32>().ok())
        .filter(|pid| *pid > 0)
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_pid_file_naming_no_single_process_is_ignored() {
        // kill(-1) would signal every process the user may signal, and
        // kill(0) the whole process group.
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("group.pid");
        for (text, expected) in [
            ("1234\n", Some(1234)),
            ("-1", None),
            ("0", None),
            ("x", None),
        ] {
            std::fs::write(&path, text).expect("write");
            assert_eq!(holder(&path), expected, "{text:?}");
        }
    }
}
