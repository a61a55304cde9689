//! The marketplace actions (`uses: OWNER/REPO[/PATH]@REF`) that workflows
//! need, and whether the actions store has them: what `gantry plan`
//! lists, what a run checks before any job starts, what `gantry actions
//! fetch` adds. Built-in actions are not needed from the store; composite
//! actions (local, or in the store) are followed into their own steps.
//!
//! Nothing here runs a process except through gantry-actions' `fetch`.

use std::collections::BTreeSet;
use std::path::Path;

use gantry_actions::{ActionStore, FetchReport, RemoteUses};
use gantry_workflow::model::{Action, JobKind, Runs, Step, StepAction};
use gantry_workflow::{ReadOptions, Workflow};

/// How deep composite actions are followed.
const MAX_DEPTH: usize = 10;

/// Whether a marketplace action can run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum ActionStatus {
    /// gantry runs it itself.
    Builtin,
    /// In the store, as the tree `key`.
    Stored { key: String },
    /// Not in the store.
    Missing,
    /// Not a valid `uses:` (the reader has said why).
    Invalid { error: String },
}

/// A remote action a job uses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NeededAction {
    pub workflow: String,
    pub job: String,
    /// As written.
    pub uses: String,
    #[serde(flatten)]
    pub status: ActionStatus,
}

/// A remote action in a job's plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobAction {
    pub uses: String,
    #[serde(flatten)]
    pub status: ActionStatus,
}

/// Fills each job of `plan` with the actions it uses and their status.
pub fn annotate(
    plan: &mut crate::plan::WorkflowPlan,
    workflow: &Workflow,
    repo: &Path,
    store: Option<&ActionStore>,
) {
    let needed = needed(workflow, repo, store);
    for job in &mut plan.jobs {
        job.actions = needed
            .iter()
            .filter(|n| n.job == job.id)
            .map(|n| JobAction {
                uses: n.uses.clone(),
                status: n.status.clone(),
            })
            .collect();
    }
}

/// The remote actions each job of `workflow` uses, in order, composite
/// actions followed; `repo` is where `./` actions are.
pub fn needed(workflow: &Workflow, repo: &Path, store: Option<&ActionStore>) -> Vec<NeededAction> {
    let mut out = Vec::new();
    for (id, job) in &workflow.jobs {
        if let JobKind::Steps(steps) = &job.kind {
            let mut seen = BTreeSet::new();
            let mut found = Vec::new();
            walk(&steps.steps, repo, store, 0, &mut seen, &mut found);
            out.extend(found.into_iter().map(|(uses, status)| NeededAction {
                workflow: workflow.source.name().to_string(),
                job: id.clone(),
                uses,
                status,
            }));
        }
    }
    out
}

/// The `owner/repo@ref` of every action the store lacks, once each.
pub fn missing<'a>(
    workflows: impl IntoIterator<Item = &'a Workflow>,
    repo: &Path,
    store: &ActionStore,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for workflow in workflows {
        for need in needed(workflow, repo, Some(store)) {
            if need.status == ActionStatus::Missing
                && let Ok(Some(uses)) = RemoteUses::parse(&need.uses)
            {
                let name = uses.repo_ref();
                if !out.iter().any(|o| o.eq_ignore_ascii_case(&name)) {
                    out.push(name);
                }
            }
        }
    }
    out
}

/// Adds to the store every action `workflows` use that it lacks, from
/// `mirror` or GitHub, then the actions those (composite) use, until
/// nothing new is needed.
pub fn fetch(
    workflows: &[&Workflow],
    repo: &Path,
    store: &ActionStore,
    mirror: Option<&str>,
) -> FetchReport {
    let mut report = FetchReport {
        version: gantry_actions::REPORT_VERSION,
        ..FetchReport::default()
    };
    let mut tried = BTreeSet::new();
    for _ in 0..MAX_DEPTH {
        let mut wanted = Vec::new();
        for workflow in workflows {
            for need in needed(workflow, repo, Some(store)) {
                if let Ok(Some(uses)) = RemoteUses::parse(&need.uses) {
                    let key = uses.repo_ref().to_ascii_lowercase();
                    if matches!(
                        need.status,
                        ActionStatus::Stored { .. } | ActionStatus::Missing
                    ) && tried.insert(key)
                    {
                        wanted.push(uses);
                    }
                }
            }
        }
        if wanted.is_empty() {
            break;
        }
        let round = store.fetch(&wanted, mirror);
        report.added.extend(round.added);
        report.present.extend(round.present);
        report.failed.extend(round.failed);
    }
    report
}

fn walk(
    steps: &[Step],
    repo: &Path,
    store: Option<&ActionStore>,
    depth: usize,
    seen: &mut BTreeSet<String>,
    out: &mut Vec<(String, ActionStatus)>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    for step in steps {
        let StepAction::Uses { uses, .. } = &step.action else {
            continue;
        };
        let uses = uses.value.trim();
        if uses.contains("${{") {
            continue;
        }
        if let Ok(Some(dir)) = gantry_workflow::local::resolve_local(repo, uses) {
            if let Some(action) = load(&dir) {
                walk_action(&action, repo, store, depth, seen, out);
            }
            continue;
        }
        let remote = match RemoteUses::parse(uses) {
            Ok(Some(remote)) => remote,
            Ok(None) => continue,
            Err(e) => {
                if seen.insert(uses.to_string()) {
                    out.push((
                        uses.to_string(),
                        ActionStatus::Invalid {
                            error: e.to_string(),
                        },
                    ));
                }
                continue;
            }
        };
        let name = format!("{}/{}", remote.owner, remote.repo).to_ascii_lowercase();
        let builtin = crate::run::actions::find(&name).is_some()
            || remote
                .path
                .as_ref()
                .is_some_and(|p| crate::run::actions::find(&format!("{name}/{p}")).is_some());
        if !seen.insert(uses.to_string()) {
            continue;
        }
        if builtin {
            out.push((uses.to_string(), ActionStatus::Builtin));
            continue;
        }
        let resolved = store.and_then(|s| s.resolve(&remote).ok().flatten());
        match resolved {
            Some(resolved) => {
                out.push((uses.to_string(), ActionStatus::Stored { key: resolved.key }));
                if let Some(action) = load(&resolved.dir) {
                    walk_action(&action, repo, store, depth, seen, out);
                }
            }
            None => out.push((uses.to_string(), ActionStatus::Missing)),
        }
    }
}

fn walk_action(
    action: &Action,
    repo: &Path,
    store: Option<&ActionStore>,
    depth: usize,
    seen: &mut BTreeSet<String>,
    out: &mut Vec<(String, ActionStatus)>,
) {
    if let Some(Runs::Composite { steps }) = &action.runs {
        walk(steps, repo, store, depth + 1, seen, out);
    }
}

fn load(dir: &Path) -> Option<Action> {
    let file = ["action.yml", "action.yaml"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())?;
    let parsed = gantry_workflow::check::read_action_file(
        &file,
        file.display().to_string(),
        &ReadOptions::default(),
    );
    if parsed.has_errors() {
        return None;
    }
    parsed.value
}
