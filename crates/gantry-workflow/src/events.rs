//! The events that can trigger a workflow and what each accepts under `on:`.

/// What an event accepts in its configuration mapping.
#[derive(Debug, Clone, Copy)]
pub struct EventSpec {
    pub name: &'static str,
    /// The activity types `types:` may list; `None` when the event has no
    /// `types`, `Some(&[])` when any string is accepted.
    pub types: Option<&'static [&'static str]>,
    /// The filter keys besides `types` (`branches`, `paths`, ...).
    pub keys: &'static [&'static str],
}

const BRANCHES: &[&str] = &["branches", "branches-ignore"];
const PR_FILTERS: &[&str] = &["branches", "branches-ignore", "paths", "paths-ignore"];
const PUSH_FILTERS: &[&str] = &[
    "branches",
    "branches-ignore",
    "tags",
    "tags-ignore",
    "paths",
    "paths-ignore",
];
const CRUD: &[&str] = &["created", "edited", "deleted"];
const PR_TYPES: &[&str] = &[
    "assigned",
    "unassigned",
    "labeled",
    "unlabeled",
    "opened",
    "edited",
    "closed",
    "reopened",
    "synchronize",
    "converted_to_draft",
    "locked",
    "unlocked",
    "enqueued",
    "dequeued",
    "milestoned",
    "demilestoned",
    "ready_for_review",
    "review_requested",
    "review_request_removed",
    "auto_merge_enabled",
    "auto_merge_disabled",
    "stacked",
];

const fn spec(
    name: &'static str,
    types: Option<&'static [&'static str]>,
    keys: &'static [&'static str],
) -> EventSpec {
    EventSpec { name, types, keys }
}

/// Every event a workflow may name under `on:`.
pub const EVENTS: &[EventSpec] = &[
    spec("branch_protection_rule", Some(CRUD), &[]),
    spec(
        "check_run",
        Some(&["created", "rerequested", "completed", "requested_action"]),
        &[],
    ),
    spec("check_suite", Some(&["completed"]), &[]),
    spec("create", None, &[]),
    spec("delete", None, &[]),
    spec("deployment", None, &[]),
    spec("deployment_status", None, &[]),
    spec(
        "discussion",
        Some(&[
            "created",
            "edited",
            "deleted",
            "transferred",
            "pinned",
            "unpinned",
            "labeled",
            "unlabeled",
            "locked",
            "unlocked",
            "category_changed",
            "answered",
            "unanswered",
        ]),
        &[],
    ),
    spec("discussion_comment", Some(CRUD), &[]),
    spec("fork", None, &[]),
    spec("gollum", None, &[]),
    spec("image_version", Some(&[]), &["names", "versions"]),
    spec("issue_comment", Some(CRUD), &[]),
    spec(
        "issues",
        Some(&[
            "opened",
            "edited",
            "deleted",
            "transferred",
            "pinned",
            "unpinned",
            "closed",
            "reopened",
            "assigned",
            "unassigned",
            "labeled",
            "unlabeled",
            "locked",
            "unlocked",
            "milestoned",
            "demilestoned",
            "typed",
            "untyped",
            "field_added",
            "field_removed",
        ]),
        &[],
    ),
    spec("label", Some(CRUD), &[]),
    spec("merge_group", Some(&["checks_requested"]), BRANCHES),
    spec(
        "milestone",
        Some(&["created", "closed", "opened", "edited", "deleted"]),
        &[],
    ),
    spec("page_build", None, &[]),
    spec(
        "project",
        Some(&["created", "closed", "reopened", "edited", "deleted"]),
        &[],
    ),
    spec(
        "project_card",
        Some(&["created", "moved", "converted", "edited", "deleted"]),
        &[],
    ),
    spec(
        "project_column",
        Some(&["created", "updated", "moved", "deleted"]),
        &[],
    ),
    spec("public", None, &[]),
    spec("pull_request", Some(PR_TYPES), PR_FILTERS),
    spec("pull_request_comment", Some(CRUD), &[]),
    spec(
        "pull_request_review",
        Some(&["submitted", "edited", "dismissed"]),
        &[],
    ),
    spec("pull_request_review_comment", Some(CRUD), &[]),
    spec("pull_request_target", Some(PR_TYPES), PR_FILTERS),
    spec("push", None, PUSH_FILTERS),
    spec("registry_package", Some(&["published", "updated"]), &[]),
    spec(
        "release",
        Some(&[
            "published",
            "unpublished",
            "created",
            "edited",
            "deleted",
            "prereleased",
            "released",
        ]),
        &[],
    ),
    spec("repository_dispatch", Some(&[]), &[]),
    spec("schedule", None, &[]),
    spec("status", None, &[]),
    spec("watch", Some(&["started"]), &[]),
    spec("workflow_call", None, &["inputs", "outputs", "secrets"]),
    spec("workflow_dispatch", None, &["inputs"]),
    spec(
        "workflow_run",
        Some(&["requested", "completed", "in_progress"]),
        &["workflows", "branches", "branches-ignore"],
    ),
];

/// Looks an event up by its exact name.
pub fn event(name: &str) -> Option<&'static EventSpec> {
    EVENTS.iter().find(|e| e.name == name)
}

/// The activity types an event triggers on when `types:` is not given.
/// `None` means every type.
pub fn default_types(event: &str) -> Option<&'static [&'static str]> {
    match event {
        "pull_request" | "pull_request_target" => Some(&["opened", "synchronize", "reopened"]),
        _ => None,
    }
}
