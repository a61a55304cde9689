//! The [`Event`] a plan or run is for, from what the user says: flags
//! first, then the webhook payload, then the branch checked out.

use std::path::Path;

use crate::plan::Event;

/// What the command line says about the event.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventRequest<'a> {
    pub name: &'a str,
    /// A branch (`main`) or a full ref (`refs/tags/v1`).
    pub git_ref: Option<&'a str>,
    pub activity: Option<&'a str>,
    pub changed: &'a [String],
    /// `NAME=VALUE` inputs.
    pub inputs: &'a [String],
    /// The payload file's text and its name for messages.
    pub payload: Option<(&'a str, &'a str)>,
}

/// Why the event could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    #[error("{file} is not valid JSON: {message}")]
    PayloadJson { file: String, message: String },
    #[error("{file} must hold a JSON object (a webhook payload)")]
    PayloadNotObject { file: String },
    #[error(transparent)]
    Input(#[from] crate::run::values::PairsError),
    #[error("`{name}` is not an event GitHub sends{}", hint.as_ref().map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default())]
    UnknownEvent { name: String, hint: Option<String> },
}

/// Builds the event; `root` is the repository whose checked-out branch is
/// the ref when neither a flag nor the payload names one.
pub fn build_event(root: &Path, request: &EventRequest<'_>) -> Result<Event, EventError> {
    let events = gantry_workflow::events::EVENTS;
    if !events.iter().any(|e| e.name == request.name) {
        return Err(EventError::UnknownEvent {
            name: request.name.to_string(),
            hint: gantry_workflow::did_you_mean(request.name, events.iter().map(|e| e.name))
                .map(str::to_string),
        });
    }
    let mut event = Event {
        name: request.name.to_string(),
        activity: request.activity.map(str::to_string),
        ..Event::default()
    };
    if let Some((text, file)) = request.payload {
        event.payload = serde_json::from_str(text).map_err(|e| EventError::PayloadJson {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        if !event.payload.is_object() {
            return Err(EventError::PayloadNotObject {
                file: file.to_string(),
            });
        }
    }
    let payload_ref = event
        .payload
        .pointer("/pull_request/base/ref")
        .or_else(|| event.payload.get("ref"))
        .and_then(|r| r.as_str())
        .map(str::to_string);
    event.git_ref = request
        .git_ref
        .map(full_ref)
        .or(payload_ref.map(|r| full_ref(&r)))
        .or_else(|| current_ref(root));
    if !request.changed.is_empty() {
        event.changed = Some(request.changed.to_vec());
    }
    if let Some(inputs) = event.payload.get("inputs").and_then(|i| i.as_object()) {
        for (k, v) in inputs {
            let value = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            event.inputs.insert(k.clone(), value);
        }
    }
    crate::run::values::parse_arguments(request.inputs, "--input", &mut event.inputs)?;
    event.workflow_run_name = event
        .payload
        .pointer("/workflow_run/name")
        .and_then(|n| n.as_str())
        .map(str::to_string);
    Ok(event)
}

/// The branch checked out in the repository holding `root`, read from its
/// `HEAD` (following a worktree's `.git` file). Reads files only.
fn current_ref(root: &Path) -> Option<String> {
    let start = root.canonicalize().ok()?;
    let dot_git = start
        .ancestors()
        .map(|dir| dir.join(".git"))
        .find(|p| p.exists())?;
    let git_dir = if dot_git.is_file() {
        let text = std::fs::read_to_string(&dot_git).ok()?;
        let target = text.trim().strip_prefix("gitdir: ")?;
        dot_git.parent()?.join(target)
    } else {
        dot_git
    };
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    head.trim().strip_prefix("ref: ").map(str::to_string)
}

fn full_ref(r: &str) -> String {
    if r.starts_with("refs/") {
        r.to_string()
    } else {
        format!("refs/heads/{r}")
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_payload_and_branches_get_full_refs() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let payload = r#"{"ref": "refs/heads/dev", "inputs": {"n": 3}}"#;
        let inputs = ["env=prod".to_string()];
        let request = EventRequest {
            name: "workflow_dispatch",
            payload: Some((payload, "event.json")),
            inputs: &inputs,
            ..EventRequest::default()
        };
        let event = build_event(dir.path(), &request);
        let event = event.as_ref().ok();
        assert_eq!(
            event.and_then(|e| e.git_ref.as_deref()),
            Some("refs/heads/dev")
        );
        assert_eq!(
            event.and_then(|e| e.inputs.get("n")).map(String::as_str),
            Some("3")
        );
        let flagged = build_event(
            dir.path(),
            &EventRequest {
                git_ref: Some("main"),
                ..request
            },
        );
        assert_eq!(
            flagged.ok().and_then(|e| e.git_ref),
            Some("refs/heads/main".to_string())
        );
    }

    #[test]
    fn bad_payloads_and_inputs_are_errors() {
        let root = Path::new("/nonexistent");
        let bad = |payload: &str| {
            build_event(
                root,
                &EventRequest {
                    name: "push",
                    payload: Some((payload, "e.json")),
                    ..EventRequest::default()
                },
            )
            .err()
        };
        assert!(matches!(bad("{"), Some(EventError::PayloadJson { .. })));
        assert_eq!(
            bad("[1]"),
            Some(EventError::PayloadNotObject {
                file: "e.json".into()
            })
        );
        let inputs = ["novalue".to_string()];
        let err = build_event(
            root,
            &EventRequest {
                name: "push",
                inputs: &inputs,
                ..EventRequest::default()
            },
        );
        assert_eq!(
            err.err().map(|e| e.to_string()).as_deref(),
            Some("--input 'novalue' is not NAME=VALUE")
        );
    }
}
