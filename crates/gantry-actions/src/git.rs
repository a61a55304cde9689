//! The `git` binary: cloning a source, resolving a ref to a commit, and
//! exporting a commit's tree. Every call passes arguments that cannot be
//! read as options (refs are checked by [`crate::uses`], `--` before
//! URLs), never prompts for credentials, and reads no hooks.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::ActionsError;
use crate::uses::is_full_sha;

/// A git repository on disk (a work tree or a bare repository).
pub(crate) struct Repo {
    pub dir: PathBuf,
}

fn command() -> Command {
    let mut c = Command::new("git");
    c.env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .args([
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "protocol.ext.allow=never",
        ])
        .stdin(Stdio::null());
    c
}

/// Runs git; its standard output, or its last line of errors.
fn run(args: &[&str], dir: Option<&Path>) -> Result<String, ActionsError> {
    let mut c = command();
    if let Some(dir) = dir {
        c.arg("-C").arg(dir);
    }
    let out = c
        .args(args)
        .output()
        .map_err(|source| ActionsError::Git { source })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(ActionsError::GitFailed {
            args: args.join(" "),
            stderr: stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no message")
                .trim()
                .to_string(),
        })
    }
}

/// Whether `dir` is a git repository of its own (not a folder that only
/// sits inside one): it has `.git`, or it is a bare repository.
pub(crate) fn is_repository(dir: &Path) -> bool {
    dir.join(".git").exists() || (dir.join("HEAD").is_file() && dir.join("objects").is_dir())
}

impl Repo {
    /// A bare clone of `url` into `into` (a folder that does not exist).
    pub(crate) fn clone_bare(url: &str, into: &Path) -> Result<Repo, ActionsError> {
        let dest = into.display().to_string();
        run(&["clone", "--bare", "--quiet", "--", url, &dest], None)?;
        Ok(Repo {
            dir: into.to_path_buf(),
        })
    }

    /// The commit `reference` names: a full SHA must be a commit of the
    /// repository; otherwise a tag, then a branch (local, then `origin`'s).
    pub(crate) fn resolve(&self, reference: &str) -> Result<Option<String>, ActionsError> {
        let verify = |name: &str| {
            run(
                &[
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    "--end-of-options",
                    &format!("{name}^{{commit}}"),
                ],
                Some(&self.dir),
            )
            .ok()
            .filter(|s| is_full_sha(s))
        };
        if is_full_sha(reference) {
            return Ok(verify(reference).filter(|c| c.eq_ignore_ascii_case(reference)));
        }
        for name in [
            format!("refs/tags/{reference}"),
            format!("refs/heads/{reference}"),
            format!("refs/remotes/origin/{reference}"),
        ] {
            if let Some(commit) = verify(&name) {
                return Ok(Some(commit));
            }
        }
        Ok(None)
    }

    /// Writes the files of `commit` into `dest` (as `git archive` gives
    /// them: `export-ignore` honoured, as GitHub's tarballs do).
    pub(crate) fn export(&self, commit: &str, dest: &Path) -> Result<(), ActionsError> {
        let mut child = command()
            .arg("-C")
            .arg(&self.dir)
            .args(["archive", "--format=tar", commit])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| ActionsError::Git { source })?;
        let unpacked = match child.stdout.take() {
            Some(stdout) => {
                let mut archive = tar::Archive::new(stdout);
                archive.set_overwrite(false);
                archive.unpack(dest)
            }
            None => Ok(()),
        };
        let status = child
            .wait()
            .map_err(|source| ActionsError::Git { source })?;
        if !status.success() {
            return Err(ActionsError::GitFailed {
                args: format!("archive {commit}"),
                stderr: format!("exited with {status}"),
            });
        }
        unpacked.map_err(|source| ActionsError::Write {
            path: dest.to_path_buf(),
            source,
        })
    }
}
