//! What git history says, read with the `git` program: the files it
//! tracks, recent commits, tags, and whether history is cut short.
//!
//! Every call disables what a repository's own configuration could make
//! git run (`core.fsmonitor`, hooks) and sets no pager.

use std::path::Path;
use std::process::{Command, Stdio};

/// One commit of the first-parent history of `HEAD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub id: String,
    /// How many parents it has (2 or more: a merge).
    pub parents: usize,
    pub author_name: String,
    pub author_email: String,
    pub committer_name: String,
    pub committer_email: String,
    /// Committer time, seconds since the epoch.
    pub time: i64,
    /// The message after its first line.
    pub body: String,
    /// Authors of the commits a merge brought in (second parent side).
    pub merged_authors: Vec<String>,
}

/// A tag, newest first as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    /// The commit the tag points at.
    pub commit: String,
}

/// The history of a checkout.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// First-parent commits of HEAD, newest first (at most [`MAX_COMMITS`]).
    pub commits: Vec<Commit>,
    /// Commits of HEAD in the 90 days before `now`.
    pub recent_commits: usize,
    /// The time of the oldest commit (the root), unless history is shallow.
    pub first_commit_time: Option<i64>,
    pub shallow: bool,
    /// The newest tags (at most five).
    pub tags: Vec<Tag>,
}

/// How many first-parent commits are read for review.
pub const MAX_COMMITS: usize = 30;

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.hooksPath=/dev/null",
            "--no-pager",
        ])
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout).ok()
}

/// Whether `root` is inside a git work tree.
pub fn is_repository(root: &Path) -> bool {
    git(root, &["rev-parse", "--is-inside-work-tree"]).is_some_and(|s| s.trim() == "true")
}

/// The files git tracks under `root`, relative to it, `/`-separated.
pub fn tracked_files(root: &Path) -> Option<Vec<String>> {
    let out = git(root, &["ls-files", "-z", "--full-name", "--", "."])?;
    let prefix = git(root, &["rev-parse", "--show-prefix"])?;
    let prefix = prefix.trim_end_matches('\n');
    Some(
        out.split('\0')
            .filter(|s| !s.is_empty())
            .map(|s| s.strip_prefix(prefix).unwrap_or(s).to_string())
            .collect(),
    )
}

const FIELD: char = '\u{1f}';
const RECORD: char = '\u{1e}';

/// Reads the history of HEAD. `None` when there is no commit yet.
pub fn history(root: &Path, now: i64) -> Option<History> {
    let format = format!(
        "--format=%H{FIELD}%P{FIELD}%an{FIELD}%ae{FIELD}%cn{FIELD}%ce{FIELD}%ct{FIELD}%b{RECORD}"
    );
    let count = format!("-n{MAX_COMMITS}");
    // A subfolder of a repository: its own history (the commits touching
    // it); the top folder: every commit, empty ones included.
    let sub = git(root, &["rev-parse", "--show-prefix"]).is_some_and(|p| !p.trim().is_empty());
    let path: &[&str] = if sub { &["--", "."] } else { &[] };
    let mut args = vec![
        "log",
        "--first-parent",
        "--no-show-signature",
        &count,
        &format,
        "HEAD",
    ];
    args.extend_from_slice(path);
    let log = git(root, &args)?;
    let mut commits = Vec::new();
    for record in log.split(RECORD) {
        let record = record.trim_start_matches('\n');
        if record.is_empty() {
            continue;
        }
        let f: Vec<&str> = record.split(FIELD).collect();
        let [id, parents, an, ae, cn, ce, ct, body] = f.as_slice() else {
            continue;
        };
        let parent_ids: Vec<&str> = parents.split_whitespace().collect();
        let merged_authors = match parent_ids.as_slice() {
            [first, second, ..] => git(
                root,
                &["log", "--format=%ae", "-n50", &format!("{first}..{second}")],
            )
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default(),
            _ => Vec::new(),
        };
        commits.push(Commit {
            id: (*id).to_string(),
            parents: parent_ids.len(),
            author_name: (*an).to_string(),
            author_email: (*ae).to_string(),
            committer_name: (*cn).to_string(),
            committer_email: (*ce).to_string(),
            time: ct.trim().parse().unwrap_or(0),
            body: (*body).to_string(),
            merged_authors,
        });
    }
    if commits.is_empty() {
        return None;
    }
    let since = format!("--since={}", now.saturating_sub(90 * 86_400));
    let until = format!("--until={now}");
    let mut args = vec!["rev-list", "--count", &since, &until, "HEAD"];
    args.extend_from_slice(path);
    let recent_commits = git(root, &args)
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let shallow =
        git(root, &["rev-parse", "--is-shallow-repository"]).is_some_and(|s| s.trim() == "true");
    let first_commit_time = if shallow {
        None
    } else {
        git(root, &["log", "--max-parents=0", "--format=%ct", "HEAD"])
            .and_then(|s| s.lines().filter_map(|l| l.trim().parse().ok()).min())
    };
    let tags = git(
        root,
        &[
            "for-each-ref",
            "--sort=-creatordate",
            "--count=5",
            &format!("--format=%(refname:short){FIELD}%(objectname){FIELD}%(*objectname)"),
            "refs/tags",
        ],
    )
    .map(|s| {
        s.lines()
            .filter_map(|l| {
                let mut parts = l.split(FIELD);
                let name = parts.next()?.to_string();
                let object = parts.next()?;
                let peeled = parts.next().unwrap_or("");
                let commit = if peeled.is_empty() { object } else { peeled };
                Some(Tag {
                    name,
                    commit: commit.to_string(),
                })
            })
            .collect()
    })
    .unwrap_or_default();
    Some(History {
        commits,
        recent_commits,
        first_commit_time,
        shallow,
        tags,
    })
}
