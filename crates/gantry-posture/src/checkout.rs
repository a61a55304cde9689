//! The checkout every check reads: its files (what git tracks, or a walk
//! that respects `.gitignore`), its workflows read and audited once, and
//! its history.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gantry_audit::{Config, Target, audit};
use gantry_workflow::model::Workflow;
use gantry_workflow::{ReadOptions, SourceFile, read_source, read_workflow};

use crate::git::{self, History};
use crate::{Options, PostureError};

/// The most bytes of a text file a check reads (policies, licences,
/// manifests, scripts).
pub const MAX_TEXT_BYTES: u64 = 4 << 20;

/// A workflow file: read, and its audit findings.
#[derive(Debug)]
pub struct WorkflowFile {
    /// Relative to the checkout, `/`-separated.
    pub path: String,
    pub source: Arc<SourceFile>,
    /// `None` when the file does not read without errors.
    pub workflow: Option<Workflow>,
    /// The first error, when it does not.
    pub error: Option<String>,
    /// gantry audit's findings with its default configuration.
    pub findings: Vec<gantry_audit::Finding>,
}

impl WorkflowFile {
    /// The 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.source.position(offset).line
    }
}

/// What the checks look at.
#[derive(Debug)]
pub struct Checkout<'o> {
    pub root: PathBuf,
    /// Every file, relative and `/`-separated, sorted.
    pub files: Vec<String>,
    pub workflows: Vec<WorkflowFile>,
    /// `None` when the folder is not a git work tree (or has no commit).
    pub history: Option<History>,
    pub is_git: bool,
    pub options: &'o Options,
}

impl<'o> Checkout<'o> {
    /// Lists and reads what the checks need.
    pub fn open(options: &'o Options) -> Result<Checkout<'o>, PostureError> {
        let root = options.path.clone();
        match std::fs::metadata(&root) {
            Err(source) => {
                return Err(PostureError::Missing { path: root, source });
            }
            Ok(m) if !m.is_dir() => return Err(PostureError::NotADirectory { path: root }),
            Ok(_) => {}
        }
        let is_git = git::is_repository(&root);
        let mut files = if is_git {
            git::tracked_files(&root).unwrap_or_default()
        } else {
            walk(&root)
        };
        files.sort();
        files.dedup();
        let history = if is_git {
            git::history(&root, options.now)
        } else {
            None
        };
        let workflows = files
            .iter()
            .filter(|f| is_workflow_path(f))
            .map(|f| read_workflow_file(&root, f))
            .collect();
        Ok(Checkout {
            root,
            files,
            workflows,
            history,
            is_git,
            options,
        })
    }

    /// The full path of a listed file.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// The text of a file of the checkout, read inside the root only
    /// (no link out), at most [`MAX_TEXT_BYTES`].
    pub fn read_text(&self, rel: &str) -> Option<String> {
        gantry_fs::read_inside(&self.root, &self.root, rel, MAX_TEXT_BYTES).ok()
    }

    /// The listed files whose path matches, case-insensitively, one of
    /// `names` exactly.
    pub fn find_exact<'a>(&'a self, names: &'a [&str]) -> impl Iterator<Item = &'a String> + 'a {
        self.files
            .iter()
            .filter(move |f| names.iter().any(|n| f.eq_ignore_ascii_case(n)))
    }

    /// The workflows that read without errors.
    pub fn parsed_workflows(&self) -> impl Iterator<Item = (&WorkflowFile, &Workflow)> {
        self.workflows
            .iter()
            .filter_map(|w| w.workflow.as_ref().map(|m| (w, m)))
    }
}

/// `.github/workflows/NAME.yml` (not in subfolders, as GitHub reads them).
pub fn is_workflow_path(rel: &str) -> bool {
    let Some(name) = rel.strip_prefix(".github/workflows/") else {
        return false;
    };
    !name.contains('/') && (name.ends_with(".yml") || name.ends_with(".yaml"))
}

fn read_workflow_file(root: &Path, rel: &str) -> WorkflowFile {
    let full = root.join(rel);
    let read = ReadOptions::default();
    let source = match read_source(&full, rel.to_string(), read.max_file_size) {
        Ok(source) => source,
        Err(e) => {
            return WorkflowFile {
                path: rel.to_string(),
                source: SourceFile::new(rel.to_string(), String::new()),
                workflow: None,
                error: Some(e.to_string()),
                findings: Vec::new(),
            };
        }
    };
    let parsed = read_workflow(source.clone(), &read);
    let error = parsed
        .diagnostics
        .diagnostics
        .iter()
        .find(|d| d.is_error())
        .map(|d| d.message.clone());
    let workflow = parsed.value.filter(|_| error.is_none());
    let findings = workflow
        .as_ref()
        .map(|w| audit(Target::Workflow(w), &source, &Config::default()))
        .unwrap_or_default();
    WorkflowFile {
        path: rel.to_string(),
        source,
        workflow,
        error,
        findings,
    }
}

/// Every file under `root` that `.gitignore` does not exclude, without
/// following links.
fn walk(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .follow_links(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        if let Ok(rel) = entry.path().strip_prefix(root) {
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            files.push(rel);
        }
    }
    files
}
