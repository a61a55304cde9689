//! `actions/checkout`: the repository's files at the run's commit, in the
//! job's workspace. A shared clone when the repository is the top of a git
//! repository (so `git` works in the job), the committed files of the folder
//! otherwise; uncommitted changes on request.

use std::path::{Path, PathBuf};

use tokio::process::Command;

use super::super::job::{JobRun, LogSink, StepExec};

/// Why checking out failed.
#[derive(Debug, thiserror::Error)]
enum CheckoutError {
    #[error("cannot run git: {0}")]
    RunGit(#[source] std::io::Error),
    #[error("git {args} failed: {stderr}")]
    Git { args: String, stderr: String },
    #[error("cannot run git archive: {0}")]
    RunArchive(#[source] std::io::Error),
    #[error("git archive {0} failed")]
    Archive(String),
    #[error("cannot create {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot copy {}: {source}", path.display())]
    Copy {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Creates `dir` and its parents.
fn create_dir(dir: &Path) -> Result<(), CheckoutError> {
    std::fs::create_dir_all(dir).map_err(|source| CheckoutError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })
}

/// Copies `src` to `dst`, sharing blocks where the file system can.
fn copy_file(src: &Path, dst: &Path) -> Result<(), CheckoutError> {
    reflink_copy::reflink_or_copy(src, dst)
        .map(|_| ())
        .map_err(|source| CheckoutError::Copy {
            path: src.to_path_buf(),
            source,
        })
}

async fn git(dir: &Path, args: &[&str]) -> Result<String, CheckoutError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .await
        .map_err(CheckoutError::RunGit)?;
    if !out.status.success() {
        return Err(CheckoutError::Git {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Removes everything inside `dir`.
fn clean(dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() && !path.is_symlink() {
                std::fs::remove_dir_all(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
        }
    }
    std::fs::create_dir_all(dir)
}

/// Copies the files under `from` that git reports as modified or untracked
/// (not ignored), and removes the deleted ones, into `to`.
async fn copy_uncommitted(from: &Path, to: &Path) -> Result<usize, CheckoutError> {
    let changed = git(
        from,
        &[
            "ls-files",
            "--modified",
            "--others",
            "--exclude-standard",
            "-z",
            ".",
        ],
    )
    .await?;
    let deleted = git(from, &["ls-files", "--deleted", "-z", "."]).await?;
    let mut count = 0;
    for rel in deleted.split('\0').filter(|s| !s.is_empty()) {
        let _ = std::fs::remove_file(to.join(rel));
    }
    for rel in changed.split('\0').filter(|s| !s.is_empty()) {
        let src = from.join(rel);
        if !src.is_file() {
            continue;
        }
        let dst = to.join(rel);
        if let Some(parent) = dst.parent() {
            create_dir(parent)?;
        }
        // The checked-out version gives way to the working copy.
        let _ = std::fs::remove_file(&dst);
        copy_file(&src, &dst)?;
        count += 1;
    }
    Ok(count)
}

/// Copies a folder that is not in git, respecting `.gitignore` files.
fn copy_tree(from: &Path, to: &Path) -> Result<usize, CheckoutError> {
    let mut count = 0;
    for entry in ignore::WalkBuilder::new(from)
        .hidden(false)
        .build()
        .flatten()
    {
        let Ok(rel) = entry.path().strip_prefix(from) else {
            continue;
        };
        if rel.as_os_str().is_empty() || rel.starts_with(".git") {
            continue;
        }
        let dst = to.join(rel);
        if entry.file_type().is_some_and(|t| t.is_dir()) {
            create_dir(&dst)?;
        } else if entry.file_type().is_some_and(|t| t.is_file()) {
            if let Some(parent) = dst.parent() {
                create_dir(parent)?;
            }
            copy_file(entry.path(), &dst)?;
            count += 1;
        }
    }
    Ok(count)
}

pub(crate) async fn checkout(
    run: &mut JobRun,
    input: &(dyn Fn(&str) -> Option<String> + Sync),
    log: &mut LogSink,
) -> StepExec {
    if let Some(repository) = input("repository") {
        let own = run
            .base
            .values
            .get("github")
            .and_then(|g| g.get("repository"))
            .map(|v| v.to_display_string())
            .unwrap_or_default();
        if !repository.eq_ignore_ascii_case(&own) {
            return StepExec::failed(
                format!(
                    "checking out another repository (`{repository}`) needs the network; gantry checks out only the repository being run"
                ),
                log,
            );
        }
    }
    if input("submodules").is_some_and(|s| s != "false") {
        log.warning("submodules are not checked out by gantry's built-in checkout");
    }
    let relative = input("path").unwrap_or_else(|| ".".into());
    if Path::new(&relative).components().any(|c| {
        matches!(
            c,
            std::path::Component::ParentDir | std::path::Component::RootDir
        )
    }) {
        return StepExec::failed(
            format!("`path: {relative}` must stay inside the workspace"),
            log,
        );
    }
    let dest: PathBuf = run.workspace.join(&relative);
    if let Err(e) = clean(&dest) {
        return StepExec::failed(format!("cannot clean {}: {e}", dest.display()), log);
    }
    let repo = run.shared.options.repo.clone();
    let include_uncommitted = run.shared.options.include_uncommitted;
    let sha = run
        .base
        .values
        .get("github")
        .and_then(|g| g.get("sha"))
        .map(|v| v.to_display_string())
        .filter(|s| !s.is_empty());
    let top = git(&repo, &["rev-parse", "--show-toplevel"])
        .await
        .ok()
        .map(PathBuf::from);
    // What was checked out: a message, and the commit if git knows one.
    let result: Result<(String, String), CheckoutError> = async {
        match (top, sha) {
            (Some(top), Some(sha)) => {
                let wanted = match input("ref") {
                    Some(r) => {
                        git(&top, &["rev-parse", "--verify", &format!("{r}^{{commit}}")]).await?
                    }
                    None => sha,
                };
                let same = top.canonicalize().ok() == repo.canonicalize().ok();
                if same {
                    let dest_text = dest.display().to_string();
                    let top_text = top.display().to_string();
                    git(
                        &top,
                        &[
                            "clone",
                            "--quiet",
                            "--shared",
                            "--no-checkout",
                            &top_text,
                            &dest_text,
                        ],
                    )
                    .await?;
                    git(&dest, &["checkout", "--quiet", "--detach", &wanted]).await?;
                    let copied = if include_uncommitted {
                        copy_uncommitted(&repo, &dest).await?
                    } else {
                        0
                    };
                    Ok((
                        format!(
                            "checked out {wanted} into {relative}{}",
                            uncommitted_note(copied)
                        ),
                        wanted,
                    ))
                } else {
                    // A folder inside a larger repository: its committed files.
                    let prefix = git(&repo, &["rev-parse", "--show-prefix"]).await?;
                    let spec = format!("{wanted}:{}", prefix.trim_end_matches('/'));
                    let status = Command::new("bash")
                        .arg("-c")
                        .arg("git -C \"$1\" archive --format=tar \"$2\" | tar -x -C \"$3\"")
                        .arg("checkout")
                        .arg(&top)
                        .arg(&spec)
                        .arg(&dest)
                        .status()
                        .await
                        .map_err(CheckoutError::RunArchive)?;
                    if !status.success() {
                        return Err(CheckoutError::Archive(spec));
                    }
                    let copied = if include_uncommitted {
                        copy_uncommitted(&repo, &dest).await?
                    } else {
                        0
                    };
                    Ok((
                        format!(
                            "checked out {prefix} at {wanted} into {relative}{}",
                            uncommitted_note(copied)
                        ),
                        wanted,
                    ))
                }
            }
            _ => {
                let n = copy_tree(&repo, &dest)?;
                Ok((
                    format!(
                        "copied {n} files of {} (not a git repository) into {relative}",
                        repo.display()
                    ),
                    String::new(),
                ))
            }
        }
    }
    .await;
    match result {
        Ok((message, commit)) => {
            log.info(&message);
            // As actions/checkout: the ref asked for, else the event's.
            let git_ref = input("ref").unwrap_or_else(|| {
                run.base
                    .values
                    .get("github")
                    .and_then(|g| g.get("ref"))
                    .map(|v| v.to_display_string())
                    .unwrap_or_default()
            });
            StepExec::ok(vec![("ref".into(), git_ref), ("commit".into(), commit)])
        }
        Err(e) => StepExec::failed(e.to_string(), log),
    }
}

fn uncommitted_note(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", with {n} uncommitted files")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_copy_that_cannot_create_its_folder_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("from");
        std::fs::create_dir_all(from.join("sub")).unwrap();
        std::fs::write(from.join("sub/a.txt"), "a").unwrap();
        // The destination is a file, so no folder can be made under it.
        let to = dir.path().join("to");
        std::fs::write(&to, "not a folder").unwrap();
        let err = copy_tree(&from, &to).unwrap_err();
        assert!(
            matches!(&err, CheckoutError::CreateDir { path, .. } if path.starts_with(&to)),
            "{err:?}"
        );
        assert!(err.to_string().starts_with("cannot create "), "{err}");
    }
}
