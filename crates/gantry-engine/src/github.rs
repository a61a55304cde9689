//! The `github` context, built in one place for everything that evaluates
//! expressions before or during a run: `plan` (job `if:`), `concurrency`
//! groups and the executor.

use std::path::Path;

use gantry_expr::{Object, Value};
use gantry_workflow::Workflow;

use crate::plan::Event;

/// The branch or tag name of a ref, and whether it is a tag.
pub(crate) fn ref_name(git_ref: &str) -> (&str, &'static str) {
    if let Some(tag) = git_ref.strip_prefix("refs/tags/") {
        (tag, "tag")
    } else {
        (
            git_ref.strip_prefix("refs/heads/").unwrap_or(git_ref),
            "branch",
        )
    }
}

/// What the event and the workflow decide before anything runs:
/// `event_name`, `ref`, `ref_name`, `ref_type`, `head_ref`, `base_ref`,
/// `sha`, `workflow` and `event` (the payload).
pub fn event_context(workflow: &Workflow, event: &Event, sha: Option<&str>) -> Object {
    let mut g = Object::new();
    let git_ref = event.git_ref.as_deref().unwrap_or_default();
    let (name, kind) = ref_name(git_ref);
    let mut set = |k: &str, v: &str| {
        g.insert(k.to_string(), Value::String(v.to_string()));
    };
    set("event_name", &event.name);
    set("ref", git_ref);
    set("ref_name", name);
    set("ref_type", kind);
    set("sha", sha.unwrap_or_default());
    set("workflow", workflow.display_name());
    if event.name.starts_with("pull_request") {
        let head = event
            .payload
            .pointer("/pull_request/head/ref")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        set("head_ref", head);
        set("base_ref", name);
    } else {
        set("head_ref", "");
        set("base_ref", "");
    }
    g.insert("event".into(), Value::from_json(event.payload.clone()));
    g
}

/// Where a run happens, for the rest of its `github` context.
#[derive(Debug, Clone, Copy)]
pub struct RunPlace<'a> {
    /// The repository (or folder) the workflow belongs to.
    pub repo: &'a Path,
    pub run_id: u64,
    /// The file holding the event payload (`github.event_path`).
    pub event_path: &'a Path,
}

/// The whole `github` context of a run: [`event_context`] and the
/// repository, run, actor and server fields.
pub fn run_context(
    workflow: &Workflow,
    event: &Event,
    sha: Option<&str>,
    place: RunPlace<'_>,
) -> Value {
    let mut g = event_context(workflow, event, sha);
    let repo_name = place
        .repo
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "repository".into());
    let payload = |pointer: &str| event.payload.pointer(pointer).and_then(|v| v.as_str());
    let owner = payload("/repository/owner/login")
        .unwrap_or("local")
        .to_string();
    let repository = payload("/repository/full_name")
        .map_or_else(|| format!("{owner}/{repo_name}"), str::to_string);
    let actor = std::env::var("USER").unwrap_or_else(|_| "gantry".into());
    let run_id = place.run_id.to_string();
    let workflow_ref = format!(
        "{repository}/{}@{}",
        workflow.source.name(),
        event.git_ref.as_deref().unwrap_or_default()
    );
    for (k, v) in [
        ("repository", repository),
        ("repository_owner", owner),
        ("run_id", run_id.clone()),
        ("run_number", run_id),
        ("run_attempt", "1".into()),
        ("actor", actor.clone()),
        ("triggering_actor", actor),
        ("workflow_ref", workflow_ref),
        ("server_url", "https://github.com".into()),
        ("api_url", "https://api.github.com".into()),
        ("graphql_url", "https://api.github.com/graphql".into()),
        ("event_path", place.event_path.display().to_string()),
        ("token", String::new()),
        ("action", String::new()),
    ] {
        g.insert(k.to_string(), Value::String(v));
    }
    Value::Object(g)
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use gantry_workflow::{ReadOptions, SourceFile, read_workflow};

    fn workflow() -> Workflow {
        let text =
            "name: CI\non: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: true\n";
        read_workflow(SourceFile::new("ci.yml", text), &ReadOptions::default())
            .value
            .expect("a valid workflow")
    }

    fn event(name: &str, git_ref: &str) -> Event {
        Event {
            name: name.into(),
            git_ref: Some(git_ref.into()),
            payload: serde_json::json!({"pull_request": {"head": {"ref": "feature"}}}),
            ..Event::default()
        }
    }

    #[test]
    fn tags_and_branches_get_their_names_and_types() {
        let g = event_context(&workflow(), &event("push", "refs/tags/v1.2"), None);
        assert_eq!(g.get("ref_name"), Some(&Value::String("v1.2".into())));
        assert_eq!(g.get("ref_type"), Some(&Value::String("tag".into())));
        let g = event_context(&workflow(), &event("push", "refs/heads/main"), Some("abc"));
        assert_eq!(g.get("ref_name"), Some(&Value::String("main".into())));
        assert_eq!(g.get("ref_type"), Some(&Value::String("branch".into())));
        assert_eq!(g.get("sha"), Some(&Value::String("abc".into())));
        assert_eq!(g.get("head_ref"), Some(&Value::String(String::new())));
    }

    #[test]
    fn pull_requests_get_head_and_base_refs() {
        let g = event_context(&workflow(), &event("pull_request", "refs/heads/main"), None);
        assert_eq!(g.get("head_ref"), Some(&Value::String("feature".into())));
        assert_eq!(g.get("base_ref"), Some(&Value::String("main".into())));
    }

    #[test]
    fn a_run_context_names_the_run_and_its_event_file() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let place = RunPlace {
            repo: dir.path(),
            run_id: 7,
            event_path: Path::new("/tmp/event-7.json"),
        };
        let g = run_context(&workflow(), &event("push", "refs/heads/main"), None, place);
        assert_eq!(g.get("run_id"), Some(&Value::String("7".into())));
        assert_eq!(g.get("workflow"), Some(&Value::String("CI".into())));
        assert_eq!(
            g.get("event_path"),
            Some(&Value::String("/tmp/event-7.json".into()))
        );
    }
}
