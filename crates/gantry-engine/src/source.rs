//! Facts about a checkout: its top folder, remote, commit and branch (from
//! `git`, the only process this module starts), and digests of the local
//! actions a workflow uses and of the lockfiles at its top.

use std::path::{Path, PathBuf};
use std::process::Command;

use gantry_attest::{AttestError, digest, statement};
use gantry_workflow::Workflow;
use gantry_workflow::model::{JobKind, Step, StepAction};

/// What `git` prints for `args` in the repository holding `dir`; `None`
/// outside git, when git is missing, or when it prints nothing.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The commit checked out in the repository holding `dir` (`None` outside
/// git): what a run builds and what its provenance records.
pub fn head_commit(dir: &Path) -> Option<String> {
    git(dir, &["rev-parse", "HEAD"])
}

/// When `commit` was committed (its committer time, in seconds since the
/// Unix epoch) in the repository holding `dir`; `None` outside git or for
/// a commit git does not know. A deployment records it: DORA's change
/// lead time runs from it.
pub fn commit_time(dir: &Path, commit: &str) -> Option<i64> {
    if commit.is_empty() || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    git(dir, &["show", "-s", "--format=%ct", commit])?
        .parse()
        .ok()
}

/// The text of `path` (relative to `dir`) at `commit` in the repository
/// holding `dir`; `None` outside git or when the commit has no such file.
/// A rollback reads the workflow as it was when it deployed.
pub fn file_at(dir: &Path, commit: &str, path: &str) -> Option<String> {
    if commit.is_empty() || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    git(dir, &["show", &format!("{commit}:./{path}")])
}

/// Lockfiles recorded as resolved dependencies when present at the top.
pub const LOCKFILES: &[&str] = &[
    "Cargo.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "poetry.lock",
    "Pipfile.lock",
    "uv.lock",
    "requirements.txt",
    "go.sum",
    "Gemfile.lock",
    "composer.lock",
    "gradle.lockfile",
];

/// A file of the checkout could not be digested.
#[derive(Debug, thiserror::Error)]
#[error("cannot digest {what} {}: {source}", path.display())]
pub struct SourceError {
    /// `local action` or `lockfile`.
    pub what: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: AttestError,
}

/// What a checkout says about a build, for provenance: where the source
/// comes from, its commit, and digests of the local actions a workflow
/// uses and of the lockfiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFacts {
    /// The top of the repository (`root` outside git).
    pub top: PathBuf,
    /// The repository as a URI (`git+https://…`, `git+ssh://…`, or
    /// `file://` of the top without a remote).
    pub repository: Option<String>,
    pub commit: Option<String>,
    /// The checked-out branch (`refs/heads/...`), if any.
    pub branch: Option<String>,
    /// Files of local actions and reusable workflows: path and SHA-256.
    pub local_actions: Vec<(String, String)>,
    /// Lockfiles at the top: name and SHA-256.
    pub lockfiles: Vec<(String, String)>,
}

/// The facts of the checkout holding `root` for a build by `workflow`.
pub fn source_facts(root: &Path, workflow: &Workflow) -> Result<SourceFacts, SourceError> {
    let top = git(root, &["rev-parse", "--show-toplevel"])
        .map_or_else(|| root.to_path_buf(), PathBuf::from);
    let digest_file = |what, path: &Path| {
        digest::sha256_file(path).map_err(|source| SourceError {
            what,
            path: path.to_path_buf(),
            source,
        })
    };
    // Every file of each local action (or the reusable workflow file).
    let mut local_actions = Vec::new();
    for path in local_uses(workflow) {
        let full = top.join(&path);
        if full.is_dir() {
            for s in
                statement::subjects_from_paths(&top, &[PathBuf::from(&path)]).unwrap_or_default()
            {
                if let Some(d) = s.sha256_hex() {
                    local_actions.push((s.name.clone(), d.to_string()));
                }
            }
        } else if full.is_file() {
            local_actions.push((path, digest_file("local action", &full)?));
        }
    }
    local_actions.sort();
    local_actions.dedup();
    let mut lockfiles = Vec::new();
    for name in LOCKFILES {
        let p = top.join(name);
        if p.is_file() {
            lockfiles.push((name.to_string(), digest_file("lockfile", &p)?));
        }
    }
    let repository = git(root, &["config", "--get", "remote.origin.url"])
        .map(|u| {
            if u.contains("://") {
                format!("git+{u}")
            } else {
                format!("git+ssh://{u}")
            }
        })
        .or_else(|| Some(format!("file://{}", top.display())));
    Ok(SourceFacts {
        repository,
        commit: head_commit(root),
        branch: git(root, &["symbolic-ref", "-q", "HEAD"]),
        local_actions,
        lockfiles,
        top,
    })
}

/// The local actions and reusable workflows (`uses: ./path`, `$/path`) a
/// workflow names, relative to the repository, in order of first use.
pub fn local_uses(workflow: &Workflow) -> Vec<String> {
    fn push(uses: &str, out: &mut Vec<String>) {
        let path = uses.strip_prefix("./").or_else(|| uses.strip_prefix("$/"));
        if let Some(path) = path.map(|p| p.trim_end_matches('/'))
            && !path.is_empty()
            && !out.iter().any(|p| p == path)
        {
            out.push(path.to_string());
        }
    }
    fn steps(list: &[Step], out: &mut Vec<String>) {
        for step in list {
            match &step.action {
                StepAction::Uses { uses, .. } => push(&uses.value, out),
                StepAction::Parallel(inner) => steps(inner, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for job in workflow.jobs.values() {
        match &job.kind {
            JobKind::Steps(job) => steps(&job.steps, &mut out),
            JobKind::Call(call) => push(&call.uses.value, &mut out),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn workflow(text: &str) -> Workflow {
        let parsed = gantry_workflow::read_workflow(
            gantry_workflow::SourceFile::new("ci.yml", text),
            &gantry_workflow::ReadOptions::default(),
        );
        parsed.value.unwrap()
    }

    #[test]
    fn local_uses_lists_local_actions_and_reusable_workflows_once() {
        let wf = workflow(
            "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./act/\n      - uses: actions/checkout@v4\n      - uses: ./act\n  b:\n    uses: ./.github/workflows/r.yml\n",
        );
        assert_eq!(local_uses(&wf), ["act", ".github/workflows/r.yml"]);
    }

    #[test]
    fn source_facts_digest_local_actions_and_lockfiles_outside_git() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("act")).unwrap();
        std::fs::write(dir.path().join("act").join("action.yml"), "runs: {}\n").unwrap();
        std::fs::write(dir.path().join("Cargo.lock"), "x").unwrap();
        let wf = workflow(
            "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./act\n",
        );
        let facts = source_facts(dir.path(), &wf).unwrap();
        let names: Vec<_> = facts
            .local_actions
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(names, ["act/action.yml"]);
        assert_eq!(facts.lockfiles[0].0, "Cargo.lock");
        assert_eq!(facts.lockfiles[0].1, digest::sha256_hex(b"x"));
    }
}
