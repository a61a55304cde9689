//! The local store of marketplace actions (`uses: OWNER/REPO[/PATH]@REF`).
//!
//! gantry never downloads an action while a run goes: actions are added
//! to the store first (`gantry actions add`, from a git repository, a URL
//! or a plain folder; `gantry actions fetch` for everything a
//! repository's workflows use), and a run resolves each `uses:` to the
//! tree the store holds for its ref. Trees are keyed by the commit the
//! ref resolved to, so a moved tag never changes what an earlier add
//! stored, and two refs of one commit share one tree.
//!
//! **Architecture Invariant:** this crate runs only `git`, only in
//! `git.rs`, and writes only under the store's folder.

mod error;
mod folder;
mod git;
mod store;
pub mod uses;

pub use error::ActionsError;
pub use store::{ActionStore, Added, Entry, GITHUB, MIRROR_ENV, RefRecord, Resolved, Source};
pub use uses::{RemoteUses, UsesError};

/// What `gantry actions fetch` did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FetchReport {
    pub version: u32,
    /// Added now.
    pub added: Vec<Added>,
    /// Already in the store (`owner/repo@ref`).
    pub present: Vec<String>,
    /// Could not be added: what and why.
    pub failed: Vec<FetchFailure>,
}

/// An action `fetch` could not add.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FetchFailure {
    pub action: String,
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// The version of the `--format json` documents of `gantry actions`.
pub const REPORT_VERSION: u32 = 1;

/// `gantry actions add --format json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AddReport {
    pub version: u32,
    #[serde(flatten)]
    pub added: Added,
}

/// `gantry actions list --format json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ActionList {
    pub version: u32,
    pub actions: Vec<Entry>,
}

impl ActionStore {
    /// Adds each of `wanted` (by repository and ref) that the store lacks,
    /// from the mirror when one is given, else from GitHub.
    pub fn fetch(&self, wanted: &[RemoteUses], mirror: Option<&str>) -> FetchReport {
        let mut report = FetchReport {
            version: REPORT_VERSION,
            ..FetchReport::default()
        };
        let mut seen = std::collections::BTreeSet::new();
        for uses in wanted {
            let uses = uses.without_path();
            let name = uses.repo_ref();
            if !seen.insert(name.to_ascii_lowercase()) {
                continue;
            }
            if matches!(self.resolve(&uses), Ok(Some(_))) {
                report.present.push(name);
                continue;
            }
            match self.add(&uses, &Source::default_for(&uses, mirror)) {
                Ok(added) => report.added.push(added),
                Err(e) => report.failed.push(FetchFailure {
                    action: name,
                    hint: e.hint(),
                    error: e.to_string(),
                }),
            }
        }
        report
    }
}
