//! The planner: which workflows an event triggers and which of their jobs
//! would run, with matrices expanded and the `needs` graph laid out.
//!
//! Planning executes nothing. Job `if:` conditions are evaluated where the
//! event alone decides them, assuming every needed job succeeds; conditions
//! that read other jobs' results or outputs, and matrices computed by
//! expressions, are left for run time and shown as such.

use gantry_expr::{Context, EvalError, Value};
use gantry_workflow::filter::{Filter, paths_match, ref_matches};
use gantry_workflow::matrix;
use gantry_workflow::model::{InputDef, InputType, JobKind, Text, Trigger, Workflow};
use gantry_workflow::{events, graph};
use indexmap::IndexMap;

/// The event a plan is made for.
#[derive(Debug, Clone, Default)]
pub struct Event {
    /// The event name: `push`, `pull_request`, `workflow_dispatch`, ...
    pub name: String,
    /// The full ref (`refs/heads/main`, `refs/tags/v1.2.0`); for pull
    /// requests, the base branch's ref.
    pub git_ref: Option<String>,
    /// The activity type (`opened`, `completed`, ...); taken from the
    /// payload's `action` when not given.
    pub activity: Option<String>,
    /// The files the event changed; `None` when unknown.
    pub changed: Option<Vec<String>>,
    /// `workflow_dispatch` / `workflow_call` inputs.
    pub inputs: IndexMap<String, String>,
    /// The webhook payload (`github.event`).
    pub payload: serde_json::Value,
    /// For `workflow_run`: the name of the workflow that completed.
    pub workflow_run_name: Option<String>,
}

impl Event {
    fn activity(&self) -> Option<&str> {
        self.activity
            .as_deref()
            .or_else(|| self.payload.get("action").and_then(|a| a.as_str()))
    }

    /// The branch or tag name of the ref.
    fn ref_name(&self) -> Option<(&str, RefKind)> {
        let r = self.git_ref.as_deref()?;
        if let Some(tag) = r.strip_prefix("refs/tags/") {
            Some((tag, RefKind::Tag))
        } else if let Some(branch) = r.strip_prefix("refs/heads/") {
            Some((branch, RefKind::Branch))
        } else {
            Some((r, RefKind::Branch))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefKind {
    Branch,
    Tag,
}

/// What happens to a workflow for an event.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum Trigged {
    /// The workflow runs.
    Runs,
    /// It does not, and why.
    Skipped { reason: String },
}

/// Whether a job runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum JobDecision {
    Runs,
    /// Its `if:` is false for this event.
    Skipped {
        reason: String,
    },
    /// Its `if:` depends on what happens at run time.
    AtRuntime {
        condition: String,
    },
}

/// A job's matrix in a plan.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum MatrixPlan {
    /// No matrix: one job.
    None,
    /// The combinations, known now.
    Static {
        combinations: Vec<serde_json::Value>,
    },
    /// Computed by an expression when the workflow runs.
    Dynamic { expression: String },
}

/// A job in a plan.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JobPlan {
    pub id: String,
    pub name: String,
    pub needs: Vec<String>,
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(flatten)]
    pub decision: JobDecision,
    pub matrix: MatrixPlan,
    /// For jobs that call a reusable workflow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uses: Option<String>,
    /// 1-based line of the job in its file.
    pub line: usize,
    /// The marketplace actions the job uses and whether the store has
    /// them (filled by [`crate::marketplace::annotate`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<crate::marketplace::JobAction>,
    /// The job's `container:` image, as written (its steps run in it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The job's `services:`: id and image, as written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ServicePlan>,
}

/// A service container of a job, as `plan` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServicePlan {
    pub id: String,
    pub image: String,
}

impl JobPlan {
    /// How many job runs this job becomes.
    pub fn instances(&self) -> usize {
        match &self.matrix {
            MatrixPlan::Static { combinations } => combinations.len(),
            _ => 1,
        }
    }
}

/// The plan of one workflow.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WorkflowPlan {
    pub path: String,
    pub name: String,
    #[serde(flatten)]
    pub trigger: Trigged,
    pub jobs: Vec<JobPlan>,
    /// Job ids by depth in the `needs` graph: each level only needs jobs of
    /// earlier levels.
    pub levels: Vec<Vec<String>>,
}

/// The version of the `plan --format json` document, raised when a field
/// changes meaning or goes away.
pub const PLAN_DOCUMENT_VERSION: u32 = 1;

/// `gantry plan --format json`: the event and the plan of each workflow.
#[derive(Debug, serde::Serialize)]
pub struct PlanDocument<'a> {
    pub version: u32,
    pub event: EventDocument<'a>,
    pub workflows: &'a [WorkflowPlan],
}

/// The event of a plan, as the JSON document gives it.
#[derive(Debug, serde::Serialize)]
pub struct EventDocument<'a> {
    pub name: &'a str,
    #[serde(rename = "ref")]
    pub git_ref: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<&'a [String]>,
    pub inputs: &'a IndexMap<String, String>,
}

impl<'a> PlanDocument<'a> {
    /// The document of the plans of `workflows` for `event`.
    pub fn new(event: &'a Event, workflows: &'a [WorkflowPlan]) -> Self {
        Self {
            version: PLAN_DOCUMENT_VERSION,
            event: EventDocument {
                name: &event.name,
                git_ref: event.git_ref.as_deref(),
                activity: event.activity.as_deref(),
                changed: event.changed.as_deref(),
                inputs: &event.inputs,
            },
            workflows,
        }
    }
}

/// Plans one workflow for an event.
pub fn plan_workflow(workflow: &Workflow, event: &Event) -> WorkflowPlan {
    let trigger = decide_trigger(workflow, event);
    let context = PlanContext::new(workflow, event);
    let jobs = workflow
        .jobs
        .values()
        .map(|job| {
            let condition = job.condition.as_ref().map(|c| c.value.clone());
            let decision = match (&trigger, &job.condition) {
                (Trigged::Skipped { .. }, _) => JobDecision::Skipped {
                    reason: "the workflow is not triggered".into(),
                },
                (_, None) => JobDecision::Runs,
                (_, Some(cond)) => decide_condition(cond, &context),
            };
            let matrix = job
                .strategy
                .as_ref()
                .and_then(|s| s.matrix.as_ref())
                .map_or(MatrixPlan::None, |node| plan_matrix(node, &context));
            let uses = match &job.kind {
                JobKind::Call(call) => Some(call.uses.value.clone()),
                JobKind::Steps(_) => None,
            };
            let (container, services) = match &job.kind {
                JobKind::Steps(steps) => (
                    steps
                        .container
                        .as_ref()
                        .and_then(|c| c.image.as_ref())
                        .map(|i| i.value.clone()),
                    steps
                        .services
                        .iter()
                        .map(|(id, c)| ServicePlan {
                            id: id.clone(),
                            image: c
                                .image
                                .as_ref()
                                .map(|i| i.value.clone())
                                .unwrap_or_default(),
                        })
                        .collect(),
                ),
                JobKind::Call(_) => (None, Vec::new()),
            };
            JobPlan {
                id: job.id.value.clone(),
                name: job
                    .name
                    .as_ref()
                    .map_or_else(|| job.id.value.clone(), |n| n.value.clone()),
                needs: job.needs.iter().map(|n| n.value.clone()).collect(),
                condition,
                decision,
                matrix,
                uses,
                line: workflow.source.position(job.id.span.start).line,
                actions: Vec::new(),
                container,
                services,
            }
        })
        .collect();
    WorkflowPlan {
        path: workflow.source.name().to_string(),
        name: workflow.display_name().to_string(),
        trigger,
        jobs,
        levels: graph::levels(workflow).unwrap_or_default(),
    }
}

fn skipped(reason: impl Into<String>) -> Trigged {
    Trigged::Skipped {
        reason: reason.into(),
    }
}

fn filter_of(patterns: &Option<Vec<Text>>) -> Option<Filter> {
    patterns.as_ref().and_then(|p| {
        let strings: Vec<&str> = p.iter().map(|t| t.value.as_str()).collect();
        Filter::new(&strings).ok()
    })
}

/// Why workflows picked for a run cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectError {
    /// A workflow named by the user does not run for the event.
    #[error("{workflow} does not run for this event: {reason}")]
    DoesNotRun { workflow: String, reason: String },
    /// No workflow runs for the event.
    #[error("no workflow runs for the event `{event}`")]
    NoneRuns { event: String },
}

/// The workflows the event triggers, in order. When the user `named`
/// them, one the event does not trigger is an error rather than left out.
pub fn select_runs(
    workflows: Vec<Workflow>,
    event: &Event,
    named: bool,
) -> Result<Vec<Workflow>, SelectError> {
    let mut out = Vec::new();
    for workflow in workflows {
        match decide_trigger(&workflow, event) {
            Trigged::Runs => out.push(workflow),
            Trigged::Skipped { reason } if named => {
                return Err(SelectError::DoesNotRun {
                    workflow: workflow.source.name().to_string(),
                    reason,
                });
            }
            Trigged::Skipped { .. } => {}
        }
    }
    if out.is_empty() {
        return Err(SelectError::NoneRuns {
            event: event.name.clone(),
        });
    }
    Ok(out)
}

/// Whether `workflow` runs for `event`, by GitHub's trigger rules.
pub fn decide_trigger(workflow: &Workflow, event: &Event) -> Trigged {
    let Some(trigger) = workflow.on.get(&event.name) else {
        let names: Vec<&str> = workflow.on.events.keys().map(String::as_str).collect();
        return skipped(format!(
            "not triggered by {} (triggers: {})",
            event.name,
            names.join(", ")
        ));
    };
    if let Some(reason) = check_types(trigger, event) {
        return skipped(reason);
    }
    match event.name.as_str() {
        "push" => check_push(trigger, event),
        "pull_request" | "pull_request_target" => {
            if let Some((branch, _)) = event.ref_name() {
                let include = filter_of(&trigger.branches);
                let ignore = filter_of(&trigger.branches_ignore);
                if !ref_matches(include.as_ref(), ignore.as_ref(), branch) {
                    return skipped(format!(
                        "base branch '{branch}' does not match the branch filters"
                    ));
                }
            }
            check_paths(trigger, event)
        }
        "merge_group" => check_branches_only(trigger, event),
        "workflow_dispatch" | "workflow_call" => match check_inputs(trigger, event) {
            Ok(()) => Trigged::Runs,
            Err(reason) => skipped(reason.to_string()),
        },
        "workflow_run" => {
            if let Some(name) = &event.workflow_run_name
                && !trigger.workflows.is_empty()
                && !trigger.workflows.iter().any(|w| &w.value == name)
            {
                return skipped(format!("'{name}' is not among the watched workflows"));
            }
            check_branches_only(trigger, event)
        }
        _ => Trigged::Runs,
    }
}

/// An input of a dispatch or call that does not match its declaration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    #[error("input '{name}' is not declared (inputs: {declared})")]
    Undeclared { name: String, declared: String },
    #[error("the required input '{0}' is missing")]
    Missing(String),
    #[error("input '{name}' must be true or false, not '{value}'")]
    NotBoolean { name: String, value: String },
    #[error("input '{name}' must be a number, not '{value}'")]
    NotNumber { name: String, value: String },
    #[error("input '{name}' must be one of {options}, not '{value}'")]
    NotAnOption {
        name: String,
        options: String,
        value: String,
    },
}

/// Checks the inputs of a dispatch or call against their declarations, as
/// GitHub does before it starts the run.
fn check_inputs(trigger: &Trigger, event: &Event) -> Result<(), InputError> {
    for name in event.inputs.keys() {
        if !trigger.inputs.keys().any(|k| k.eq_ignore_ascii_case(name)) {
            let declared: Vec<&str> = trigger.inputs.keys().map(String::as_str).collect();
            return Err(InputError::Undeclared {
                name: name.clone(),
                declared: if declared.is_empty() {
                    "none".to_string()
                } else {
                    declared.join(", ")
                },
            });
        }
    }
    for (name, def) in &trigger.inputs {
        let given = event
            .inputs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str());
        let Some(value) = given else {
            if def.required && def.default.is_none() {
                return Err(InputError::Missing(name.clone()));
            }
            continue;
        };
        match def.kind {
            InputType::Boolean if !matches!(value, "true" | "false") => {
                return Err(InputError::NotBoolean {
                    name: name.clone(),
                    value: value.to_string(),
                });
            }
            InputType::Number if value.trim().parse::<f64>().is_err() => {
                return Err(InputError::NotNumber {
                    name: name.clone(),
                    value: value.to_string(),
                });
            }
            InputType::Choice if !def.options.iter().any(|o| o.value == value) => {
                let options: Vec<&str> = def.options.iter().map(|o| o.value.as_str()).collect();
                return Err(InputError::NotAnOption {
                    name: name.clone(),
                    options: options.join(", "),
                    value: value.to_string(),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// An input's value typed by its declaration: booleans and numbers keep
/// their type in the `inputs` context.
fn typed_input(def: Option<&InputDef>, value: &str) -> Value {
    match def.map(|d| d.kind) {
        Some(InputType::Boolean) if value == "true" => Value::Bool(true),
        Some(InputType::Boolean) if value == "false" => Value::Bool(false),
        Some(InputType::Number) => value
            .trim()
            .parse()
            .map_or_else(|_| Value::String(value.to_string()), Value::Number),
        _ => Value::String(value.to_string()),
    }
}

fn check_types(trigger: &Trigger, event: &Event) -> Option<String> {
    let activity = event.activity()?;
    let listed: Vec<&str> = trigger.types.iter().map(|t| t.value.as_str()).collect();
    let accepted: Vec<&str> = if listed.is_empty() {
        match events::default_types(&event.name) {
            Some(defaults) => defaults.to_vec(),
            None => return None,
        }
    } else {
        listed
    };
    (!accepted.contains(&activity)).then(|| {
        format!(
            "activity type '{activity}' is not among: {}",
            accepted.join(", ")
        )
    })
}

fn check_branches_only(trigger: &Trigger, event: &Event) -> Trigged {
    if let Some((branch, _)) = event.ref_name() {
        let include = filter_of(&trigger.branches);
        let ignore = filter_of(&trigger.branches_ignore);
        if !ref_matches(include.as_ref(), ignore.as_ref(), branch) {
            return skipped(format!(
                "branch '{branch}' does not match the branch filters"
            ));
        }
    }
    Trigged::Runs
}

fn check_push(trigger: &Trigger, event: &Event) -> Trigged {
    let has_branch = trigger.branches.is_some() || trigger.branches_ignore.is_some();
    let has_tag = trigger.tags.is_some() || trigger.tags_ignore.is_some();
    if let Some((name, kind)) = event.ref_name() {
        match kind {
            RefKind::Branch => {
                if has_tag && !has_branch {
                    return skipped(
                        "only tag filters are defined, so branch pushes do not trigger",
                    );
                }
                let include = filter_of(&trigger.branches);
                let ignore = filter_of(&trigger.branches_ignore);
                if !ref_matches(include.as_ref(), ignore.as_ref(), name) {
                    return skipped(format!("branch '{name}' does not match the branch filters"));
                }
            }
            RefKind::Tag => {
                if has_branch && !has_tag {
                    return skipped(
                        "only branch filters are defined, so tag pushes do not trigger",
                    );
                }
                let include = filter_of(&trigger.tags);
                let ignore = filter_of(&trigger.tags_ignore);
                if !ref_matches(include.as_ref(), ignore.as_ref(), name) {
                    return skipped(format!("tag '{name}' does not match the tag filters"));
                }
                // Path filters are not evaluated for tag pushes.
                return Trigged::Runs;
            }
        }
    }
    check_paths(trigger, event)
}

fn check_paths(trigger: &Trigger, event: &Event) -> Trigged {
    let include = filter_of(&trigger.paths);
    let ignore = filter_of(&trigger.paths_ignore);
    if include.is_none() && ignore.is_none() {
        return Trigged::Runs;
    }
    let Some(changed) = &event.changed else {
        // Without the changed files the filters cannot exclude the run.
        return Trigged::Runs;
    };
    let changed: Vec<&str> = changed.iter().map(String::as_str).collect();
    if paths_match(include.as_ref(), ignore.as_ref(), &changed) {
        Trigged::Runs
    } else {
        skipped("no changed file matches the path filters")
    }
}

/// The contexts known before anything runs.
struct PlanContext {
    github: Value,
    inputs: Value,
    vars: Value,
}

impl PlanContext {
    fn new(workflow: &Workflow, event: &Event) -> Self {
        let github = crate::github::event_context(workflow, event, None);
        // Inputs: given values over declared defaults, typed by declaration.
        let mut inputs = gantry_expr::Object::new();
        for trigger in ["workflow_dispatch", "workflow_call"] {
            if let Some(t) = workflow.on.get(trigger) {
                for (name, def) in &t.inputs {
                    if let Some(default) = &def.default {
                        inputs.insert(name.clone(), matrix::node_to_value(default));
                    }
                }
            }
        }
        let declared = workflow
            .on
            .get(&event.name)
            .filter(|_| matches!(event.name.as_str(), "workflow_dispatch" | "workflow_call"));
        for (name, value) in &event.inputs {
            let def = declared.and_then(|t| t.inputs.get(name));
            inputs.insert(name.clone(), typed_input(def, value));
        }
        Self {
            github: Value::Object(github),
            inputs: Value::Object(inputs),
            vars: Value::Object(gantry_expr::Object::new()),
        }
    }
}

impl Context for PlanContext {
    fn named_value(&self, name: &str) -> Option<Value> {
        self.named_value_ref(name).cloned()
    }

    fn named_value_ref(&self, name: &str) -> Option<&Value> {
        match name {
            "github" => Some(&self.github),
            "inputs" => Some(&self.inputs),
            "vars" => Some(&self.vars),
            _ => None,
        }
    }

    fn call(&self, name: &str, _args: &[Value]) -> Option<Result<Value, EvalError>> {
        // The plan assumes every needed job succeeds.
        match name.to_ascii_lowercase().as_str() {
            "success" | "always" => Some(Ok(Value::Bool(true))),
            "failure" | "cancelled" => Some(Ok(Value::Bool(false))),
            _ => None,
        }
    }
}

/// Whether a condition reads anything only known at run time.
fn needs_runtime(expr: &gantry_expr::Expr) -> bool {
    expr.named_values().any(|n| {
        !matches!(
            n.to_ascii_lowercase().as_str(),
            "github" | "inputs" | "vars"
        )
    })
}

fn decide_condition(cond: &Text, context: &PlanContext) -> JobDecision {
    let runtime = || JobDecision::AtRuntime {
        condition: cond.value.clone(),
    };
    let Ok(expr) = gantry_expr::parse_condition(&cond.value, &gantry_expr::Allowed::any()) else {
        return runtime();
    };
    if needs_runtime(&expr) {
        return runtime();
    }
    match gantry_expr::evaluate(&expr, context) {
        Ok(v) if v.is_truthy() => JobDecision::Runs,
        Ok(_) => JobDecision::Skipped {
            reason: format!("`if: {}` is false", cond.value.trim()),
        },
        Err(_) => runtime(),
    }
}

fn plan_matrix(node: &gantry_workflow::yaml::Node, context: &PlanContext) -> MatrixPlan {
    let dynamic = || MatrixPlan::Dynamic {
        expression: node
            .as_str()
            .map_or_else(|| "(matrix with expressions)".to_string(), str::to_string),
    };
    let value = match matrix::static_value(node) {
        Some(value) => value,
        None => match matrix::evaluate_value(node, &|src| {
            let expr = gantry_expr::parse(src, &gantry_expr::Allowed::any()).ok()?;
            if needs_runtime(&expr) {
                return None;
            }
            gantry_expr::evaluate(&expr, context).ok()
        }) {
            Some(value) => value,
            None => return dynamic(),
        },
    };
    match matrix::expand(&value) {
        Ok(combinations) => MatrixPlan::Static {
            combinations: combinations
                .iter()
                .map(|c| c.to_value().to_json())
                .collect(),
        },
        Err(_) => dynamic(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use gantry_workflow::{ReadOptions, SourceFile, read_workflow};

    use super::*;

    fn workflow(text: &str) -> Workflow {
        let parsed = read_workflow(SourceFile::new("w.yml", text), &ReadOptions::default());
        assert!(
            !parsed.has_errors(),
            "{:#?}",
            parsed.diagnostics.diagnostics
        );
        parsed.value.unwrap()
    }

    fn event(name: &str, git_ref: &str) -> Event {
        Event {
            name: name.into(),
            git_ref: Some(git_ref.into()),
            ..Event::default()
        }
    }

    fn runs(w: &Workflow, e: &Event) -> bool {
        decide_trigger(w, e) == Trigged::Runs
    }

    const JOB: &str = "jobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n";

    #[test]
    fn select_runs_leaves_out_or_refuses_what_the_event_does_not_trigger() {
        let push = || workflow(&format!("on: push\n{JOB}"));
        let dispatch = || workflow(&format!("on: workflow_dispatch\n{JOB}"));
        let e = event("push", "refs/heads/main");
        let picked = select_runs(vec![push(), dispatch()], &e, false).unwrap();
        assert_eq!(picked.len(), 1);
        assert!(matches!(
            select_runs(vec![push(), dispatch()], &e, true),
            Err(SelectError::DoesNotRun { .. })
        ));
        assert_eq!(
            select_runs(vec![dispatch()], &e, false).err(),
            Some(SelectError::NoneRuns {
                event: "push".into()
            })
        );
    }

    #[test]
    fn push_filters_split_branches_and_tags() {
        let only_branches = workflow(&format!("on:\n  push:\n    branches: [main]\n{JOB}"));
        assert!(runs(&only_branches, &event("push", "refs/heads/main")));
        assert!(!runs(&only_branches, &event("push", "refs/heads/dev")));
        // Only branch filters: tag pushes do not trigger.
        assert!(!runs(&only_branches, &event("push", "refs/tags/v1")));
        let only_tags = workflow(&format!("on:\n  push:\n    tags: ['v*']\n{JOB}"));
        assert!(runs(&only_tags, &event("push", "refs/tags/v1")));
        assert!(!runs(&only_tags, &event("push", "refs/heads/main")));
        let none = workflow(&format!("on: push\n{JOB}"));
        assert!(runs(&none, &event("push", "refs/tags/v1")));
        assert!(!runs(&none, &event("pull_request", "refs/heads/main")));
    }

    #[test]
    fn paths_are_not_checked_for_tags_and_respect_ignore() {
        let w = workflow(&format!(
            "on:\n  push:\n    paths-ignore: ['docs/**']\n{JOB}"
        ));
        let mut e = event("push", "refs/heads/main");
        e.changed = Some(vec!["docs/a.md".into()]);
        assert!(!runs(&w, &e));
        e.changed = Some(vec!["docs/a.md".into(), "src/lib.rs".into()]);
        assert!(runs(&w, &e));
        let mut tag = event("push", "refs/tags/v1");
        tag.changed = Some(vec!["docs/a.md".into()]);
        assert!(runs(&w, &tag));
    }

    #[test]
    fn pull_request_types_default_to_opened_synchronize_reopened() {
        let w = workflow(&format!(
            "on:\n  pull_request:\n    branches: [main]\n{JOB}"
        ));
        let mut e = event("pull_request", "main");
        e.activity = Some("synchronize".into());
        assert!(runs(&w, &e));
        e.activity = Some("closed".into());
        assert!(!runs(&w, &e));
        let typed = workflow(&format!("on:\n  pull_request:\n    types: [closed]\n{JOB}"));
        assert!(runs(&typed, &e));
        // The activity comes from the payload when not given.
        let mut from_payload = event("pull_request", "main");
        from_payload.payload = serde_json::json!({"action": "labeled"});
        assert!(!runs(&w, &from_payload));
    }

    #[test]
    fn job_conditions_are_decided_when_the_event_decides_them() {
        let w = workflow(
            "on:\n  push:\n  workflow_dispatch:\n    inputs:\n      deploy: { type: boolean }\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n  b:\n    needs: a\n    if: github.ref == 'refs/heads/main'\n    runs-on: x\n    steps: [{run: echo}]\n  c:\n    needs: a\n    if: needs.a.outputs.go == 'yes'\n    runs-on: x\n    steps: [{run: echo}]\n  d:\n    if: inputs.deploy\n    runs-on: x\n    steps: [{run: echo}]\n  e:\n    needs: a\n    if: failure()\n    runs-on: x\n    steps: [{run: echo}]\n",
        );
        let plan = plan_workflow(&w, &event("push", "refs/heads/main"));
        let decision = |id: &str| {
            plan.jobs
                .iter()
                .find(|j| j.id == id)
                .unwrap()
                .decision
                .clone()
        };
        assert_eq!(decision("a"), JobDecision::Runs);
        assert_eq!(decision("b"), JobDecision::Runs);
        assert!(matches!(decision("c"), JobDecision::AtRuntime { .. }));
        assert!(matches!(decision("d"), JobDecision::Skipped { .. }));
        assert!(matches!(decision("e"), JobDecision::Skipped { .. }));
        let mut dispatch = event("workflow_dispatch", "refs/heads/dev");
        dispatch.inputs.insert("deploy".into(), "true".into());
        let plan = plan_workflow(&w, &dispatch);
        assert_eq!(plan.jobs[3].decision, JobDecision::Runs);
        assert!(matches!(plan.jobs[1].decision, JobDecision::Skipped { .. }));
        assert_eq!(
            plan.levels,
            vec![
                vec!["a".to_string(), "d".into()],
                vec!["b".into(), "c".into(), "e".into()]
            ]
        );
    }

    #[test]
    fn matrices_expand_now_or_at_run_time() {
        let w = workflow(
            "on: workflow_dispatch\njobs:\n  a:\n    runs-on: x\n    strategy:\n      matrix:\n        os: [l, w]\n        v: [1, 2]\n        exclude: [{os: w, v: 1}]\n    steps: [{run: echo}]\n  b:\n    needs: a\n    runs-on: x\n    strategy:\n      matrix: ${{ fromJSON(needs.a.outputs.m) }}\n    steps: [{run: echo}]\n  c:\n    runs-on: x\n    strategy:\n      matrix:\n        v: ${{ fromJSON('[1, 2, 3]') }}\n    steps: [{run: echo}]\n",
        );
        let plan = plan_workflow(&w, &event("workflow_dispatch", "refs/heads/main"));
        assert_eq!(plan.jobs[0].instances(), 3);
        assert!(matches!(plan.jobs[1].matrix, MatrixPlan::Dynamic { .. }));
        assert_eq!(plan.jobs[2].instances(), 3);
    }

    #[test]
    fn dispatch_inputs_are_checked_and_typed() {
        let w = workflow(
            "on:\n  workflow_dispatch:\n    inputs:\n      env: { type: choice, options: [dev, prod], required: true }\n      dry: { type: boolean, default: false }\njobs:\n  a:\n    if: inputs.dry\n    runs-on: x\n    steps: [{run: echo}]\n",
        );
        let mut e = event("workflow_dispatch", "refs/heads/main");
        assert!(
            matches!(decide_trigger(&w, &e), Trigged::Skipped { reason } if reason.contains("required input 'env'"))
        );
        e.inputs.insert("env".into(), "staging".into());
        assert!(
            matches!(decide_trigger(&w, &e), Trigged::Skipped { reason } if reason.contains("one of dev, prod"))
        );
        e.inputs.insert("env".into(), "prod".into());
        e.inputs.insert("typo".into(), "1".into());
        assert!(
            matches!(decide_trigger(&w, &e), Trigged::Skipped { reason } if reason.contains("'typo' is not declared"))
        );
        e.inputs.shift_remove("typo");
        assert!(runs(&w, &e));
        // `dry` defaults to false: the job is skipped; given as text, it is typed.
        assert!(matches!(
            plan_workflow(&w, &e).jobs[0].decision,
            JobDecision::Skipped { .. }
        ));
        e.inputs.insert("dry".into(), "true".into());
        assert_eq!(plan_workflow(&w, &e).jobs[0].decision, JobDecision::Runs);
    }

    #[test]
    fn workflow_run_watches_named_workflows() {
        let w = workflow(&format!(
            "on:\n  workflow_run:\n    workflows: [CI]\n    types: [completed]\n{JOB}"
        ));
        let mut e = event("workflow_run", "refs/heads/main");
        e.workflow_run_name = Some("CI".into());
        e.activity = Some("completed".into());
        assert!(runs(&w, &e));
        e.workflow_run_name = Some("Docs".into());
        assert!(!runs(&w, &e));
    }
}
