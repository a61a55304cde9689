//! Fixture repositories built in a temporary folder, with git history
//! where a test needs it.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use gantry_posture::{CheckResult, Options, Posture};

pub(crate) const DAY: i64 = 86_400;
/// A fixed "now" for the tests: 2026-01-01.
pub(crate) const NOW: i64 = 1_767_225_600;

pub(crate) struct Repo {
    pub(crate) dir: tempfile::TempDir,
}

impl Repo {
    pub(crate) fn new() -> Repo {
        Repo {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn write(&self, rel: &str, text: impl AsRef<[u8]>) -> &Repo {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
        self
    }

    pub(crate) fn git(
        &self,
        args: &[&str],
        when: i64,
        author: (&str, &str),
        committer: (&str, &str),
    ) {
        let date = format!("@{when} +0000");
        let out = Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
            .args(args)
            .env("GIT_AUTHOR_NAME", author.0)
            .env("GIT_AUTHOR_EMAIL", author.1)
            .env("GIT_COMMITTER_NAME", committer.0)
            .env("GIT_COMMITTER_EMAIL", committer.1)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("git is installed");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub(crate) fn init(&self) -> &Repo {
        let me = ("Ann", "ann@example.com");
        self.git(&["init", "-q", "-b", "main"], NOW, me, me);
        self
    }

    /// Commits everything (an empty commit when nothing changed).
    pub(crate) fn commit(
        &self,
        message: &str,
        when: i64,
        author: (&str, &str),
        committer: (&str, &str),
    ) {
        self.git(&["add", "-A"], when, author, committer);
        self.git(
            &["commit", "-q", "--allow-empty", "-m", message],
            when,
            author,
            committer,
        );
    }

    pub(crate) fn commit_as_ann(&self, message: &str, when: i64) {
        let me = ("Ann", "ann@example.com");
        self.commit(message, when, me, me);
    }

    pub(crate) fn options(&self) -> Options {
        let mut o = Options::new(self.path());
        o.now = NOW;
        o
    }

    pub(crate) fn assess(&self) -> Posture {
        gantry_posture::assess(&self.options()).unwrap()
    }

    pub(crate) fn check(&self, name: &str) -> CheckResult {
        self.assess()
            .checks
            .into_iter()
            .find(|c| c.name == name)
            .unwrap()
    }
}

/// A workflow with the given top-level block and jobs.
pub(crate) fn workflow(top: &str, jobs: &str) -> String {
    format!("name: ci\non: push\n{top}jobs:\n{jobs}")
}

/// A job with optional permissions and one step.
pub(crate) fn job(id: &str, permissions: &str, step: &str) -> String {
    format!("  {id}:\n    runs-on: ubuntu-latest\n{permissions}    steps:\n      - {step}\n")
}
