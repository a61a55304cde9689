//! Contexts typed against the workflow: the names an expression reads
//! from `matrix`, `steps`, `needs`, `jobs` and `inputs` must be defined
//! where the expression is.
//!
//! - `matrix.KEY`: a key of the job's matrix (or of one of its `include`
//!   entries). A matrix that is an expression, or whose `include` is one,
//!   has unknown keys: nothing is reported.
//! - `steps.ID`: an earlier step of the same job; its properties are
//!   `outputs`, `outcome` and `conclusion`. Job `outputs` and the
//!   environment's `url` see every step. When the step's action is known
//!   (local, or from the store), `outputs.X` must be one of its outputs.
//! - `needs.JOB`: a job this one needs; its properties are `outputs` and
//!   `result`, and `outputs.X` an output that job declares.
//! - `jobs.JOB.outputs.X` (in `on.workflow_call.outputs`): a job of the
//!   workflow and one of its outputs.
//! - `inputs.X`: an input of `on.workflow_call` or `on.workflow_dispatch`;
//!   `github.event.inputs.X` an input of `on.workflow_dispatch` (when the
//!   workflow has that trigger; other events' payloads are not typed).
//! - `secrets.X` in a workflow only `workflow_call` triggers and that has
//!   an `on.workflow_call.secrets` section: a secret declared there, or
//!   `GITHUB_TOKEN` (and the two debug secrets).
//!
//! Findings are warnings: GitHub runs such a workflow (the value is
//! null), but it is almost always a mistake, as actionlint says.
//!
//! Names compare case-insensitively, as GitHub's contexts do. `env`
//! accepts any name (its variables may come from the runner or earlier
//! steps), and so does the rest of `github.event`.

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::lint::exprs::{Chain, Located, Segment, chains, of_tree};
use std::collections::HashMap;

use crate::lint::inputs::ActionSource;
use crate::model::{Action, JobKind, Runs, StepAction, Workflow};
use crate::yaml::{Node, NodeKind};

/// What a job exposes to the jobs that need it.
struct JobInfo<'w> {
    id: &'w str,
    /// `None` when its outputs cannot be known here (a call of a
    /// reusable workflow).
    outputs: Option<Vec<&'w str>>,
}

/// The names defined where an expression is; `None` means "not checked
/// here" (unknown, or a place where the context is not available, which
/// the reader reports itself).
#[derive(Default, Clone)]
struct Scope<'w> {
    job: Option<&'w str>,
    /// Checking an action file rather than a workflow.
    in_action: bool,
    matrix: Option<Vec<String>>,
    steps: Option<Vec<&'w str>>,
    needs: Option<Vec<&'w str>>,
    jobs: bool,
    inputs: Option<Vec<&'w str>>,
}

struct Checker<'w> {
    /// The workflow checked (`None` for an action file).
    workflow: Option<&'w Workflow>,
    file: &'w str,
    jobs: Vec<JobInfo<'w>>,
    /// The outputs of steps whose action is known: (job, lower-case step
    /// id) to the action's name and its outputs.
    step_outputs: HashMap<(&'w str, String), (String, Vec<String>)>,
    /// The `workflow_dispatch` inputs, which `github.event.inputs` holds,
    /// when the workflow has that trigger.
    dispatch: Option<Vec<&'w str>>,
    /// The secrets a workflow that only `workflow_call` triggers declares:
    /// the only ones its callers pass (besides `GITHUB_TOKEN`).
    call_secrets: Option<Vec<&'w str>>,
    out: Vec<Diagnostic>,
}

/// Checks the context names of every expression of `workflow`; `actions`
/// gives the outputs of the actions steps use.
pub(crate) fn check(workflow: &Workflow, actions: &dyn ActionSource) -> Vec<Diagnostic> {
    let mut step_outputs = HashMap::new();
    for job in workflow.jobs.values() {
        let JobKind::Steps(steps) = &job.kind else {
            continue;
        };
        for step in &steps.steps {
            if let (Some(id), StepAction::Uses { uses, .. }) = (&step.id, &step.action)
                && let Some(action) = actions.action(&uses.value)
            {
                let outputs = action.outputs.keys().cloned().collect();
                step_outputs.insert(
                    (job.id.value.as_str(), id.value.to_ascii_lowercase()),
                    (uses.value.clone(), outputs),
                );
            }
        }
    }
    let jobs = workflow
        .jobs
        .values()
        .map(|job| JobInfo {
            id: job.id.value.as_str(),
            outputs: match &job.kind {
                JobKind::Steps(steps) => Some(steps.outputs.keys().map(String::as_str).collect()),
                JobKind::Call(_) => None,
            },
        })
        .collect();
    let dispatch = workflow
        .on
        .get("workflow_dispatch")
        .map(|t| t.inputs.keys().map(String::as_str).collect());
    // Without a `secrets:` section the caller may pass anything
    // (`secrets: inherit`): nothing is known then.
    let declares_secrets = workflow
        .yaml
        .entry("on")
        .and_then(|(_, on)| on.entry("workflow_call"))
        .and_then(|(_, call)| call.entry("secrets"))
        .is_some();
    let call_secrets = match workflow.on.events.len() {
        1 if declares_secrets => workflow
            .on
            .get("workflow_call")
            .map(|t| t.secrets.keys().map(String::as_str).collect()),
        _ => None,
    };
    let mut checker = Checker {
        workflow: Some(workflow),
        file: workflow.source.text(),
        jobs,
        step_outputs,
        dispatch,
        call_secrets,
        out: Vec::new(),
    };
    checker.workflow_level();
    checker.jobs();
    checker.out
}

/// Checks the `inputs` and `steps` names of a composite action's steps
/// and outputs: inputs the action declares, steps that run before.
pub(crate) fn check_action(action: &Action, actions: &dyn ActionSource) -> Vec<Diagnostic> {
    let mut step_outputs = HashMap::new();
    if let Some(Runs::Composite { steps }) = &action.runs {
        for step in steps {
            if let (Some(id), StepAction::Uses { uses, .. }) = (&step.id, &step.action)
                && let Some(used) = actions.action(&uses.value)
            {
                let outputs = used.outputs.keys().cloned().collect();
                step_outputs.insert(
                    ("", id.value.to_ascii_lowercase()),
                    (uses.value.clone(), outputs),
                );
            }
        }
    }
    let mut checker = Checker {
        workflow: None,
        file: action.source.text(),
        jobs: Vec::new(),
        step_outputs,
        dispatch: None,
        call_secrets: None,
        out: Vec::new(),
    };
    let inputs: Vec<&str> = action.inputs.keys().map(String::as_str).collect();
    let step_nodes: Vec<&Node> = match action
        .yaml
        .entry("runs")
        .and_then(|(_, r)| r.entry("steps"))
        .map(|(_, s)| &s.kind)
    {
        Some(NodeKind::Seq(items)) => items.iter().collect(),
        _ => return Vec::new(),
    };
    let mut scope = Scope {
        job: Some(""),
        in_action: true,
        inputs: Some(inputs),
        ..Scope::default()
    };
    let mut before: Vec<&str> = Vec::new();
    for step in &step_nodes {
        scope.steps = Some(before.clone());
        checker.tree(step, &scope);
        before.extend(step_ids(step));
    }
    if let Some((_, outputs)) = action.yaml.entry("outputs") {
        scope.steps = Some(before);
        checker.tree(outputs, &scope);
    }
    checker.out
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn quoted(names: &[&str]) -> String {
    if names.is_empty() {
        return "none".to_string();
    }
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

impl<'w> Checker<'w> {
    fn inputs(&self) -> Vec<&'w str> {
        let mut names = Vec::new();
        for event in ["workflow_call", "workflow_dispatch"] {
            if let Some(trigger) = self.workflow.and_then(|w| w.on.get(event)) {
                names.extend(trigger.inputs.keys().map(String::as_str));
            }
        }
        names
    }

    fn workflow_level(&mut self) {
        let Some(NodeKind::Map(pairs)) = self.workflow.map(|w| &w.yaml.kind) else {
            return;
        };
        let inputs = Some(self.inputs());
        for (key, value) in pairs {
            let scope = match key.as_str() {
                Some("jobs") => continue,
                Some("on") => {
                    // Only `workflow_call.outputs` values use contexts (`jobs`).
                    if let Some(outputs) = value
                        .entry("workflow_call")
                        .and_then(|(_, c)| c.entry("outputs"))
                        .map(|(_, o)| o)
                    {
                        let scope = Scope {
                            jobs: true,
                            inputs: inputs.clone(),
                            ..Scope::default()
                        };
                        self.tree(outputs, &scope);
                    }
                    if let Some(call_inputs) = value
                        .entry("workflow_call")
                        .and_then(|(_, c)| c.entry("inputs"))
                        .map(|(_, o)| o)
                    {
                        let scope = Scope {
                            inputs: inputs.clone(),
                            ..Scope::default()
                        };
                        self.tree(call_inputs, &scope);
                    }
                    continue;
                }
                _ => Scope {
                    inputs: inputs.clone(),
                    ..Scope::default()
                },
            };
            self.tree(value, &scope);
        }
    }

    fn jobs(&mut self) {
        let Some(workflow) = self.workflow else {
            return;
        };
        let Some((_, jobs)) = workflow.yaml.entry("jobs") else {
            return;
        };
        let NodeKind::Map(pairs) = &jobs.kind else {
            return;
        };
        let inputs = self.inputs();
        for (key, node) in pairs {
            let Some(id) = key.as_str() else { continue };
            let Some(job) = workflow.jobs.get(id) else {
                continue;
            };
            let NodeKind::Map(entries) = &node.kind else {
                continue;
            };
            let base = Scope {
                job: Some(job.id.value.as_str()),
                in_action: false,
                matrix: job_matrix_keys(node)
                    .map(|keys| keys.into_iter().map(str::to_string).collect()),
                steps: None,
                needs: Some(job.needs.iter().map(|n| n.value.as_str()).collect()),
                jobs: false,
                inputs: Some(inputs.clone()),
            };
            let step_nodes: Vec<&Node> = match node.entry("steps").map(|(_, s)| &s.kind) {
                Some(NodeKind::Seq(items)) => items.iter().collect(),
                _ => Vec::new(),
            };
            let all_steps: Vec<&str> = step_nodes.iter().flat_map(|s| step_ids(s)).collect();
            for (k, value) in entries {
                let mut scope = base.clone();
                match k.as_str() {
                    // `matrix` is not available in these; the reader says so.
                    Some("if" | "strategy") => scope.matrix = None,
                    Some("outputs" | "environment") => scope.steps = Some(all_steps.clone()),
                    Some("steps") => {
                        let mut before: Vec<&str> = Vec::new();
                        for step in &step_nodes {
                            scope.steps = Some(before.clone());
                            self.tree(step, &scope);
                            before.extend(step_ids(step));
                        }
                        continue;
                    }
                    _ => {}
                }
                if k.as_str() == Some("if") && value.is_scalar() {
                    let found = crate::lint::exprs::of_scalar(self.file, value, true);
                    self.expressions(&found, &scope);
                } else {
                    self.tree(value, &scope);
                }
            }
        }
    }

    fn tree(&mut self, node: &Node, scope: &Scope<'w>) {
        let mut found = Vec::new();
        of_tree(self.file, node, &mut found);
        self.expressions(&found, scope);
    }

    fn expressions(&mut self, found: &[Located], scope: &Scope<'w>) {
        for located in found {
            let mut problems = Vec::new();
            chains(&located.expr, &mut |chain| {
                if let Some(p) = self.chain(chain, scope) {
                    problems.push(p);
                }
            });
            for (code, at, message, hint) in problems {
                let mut d = Diagnostic::warning(code, located.span(at), message)
                    .with_label("not defined here");
                if let Some(hint) = hint {
                    d = d.with_hint(hint);
                }
                self.out.push(d);
            }
        }
    }

    /// The problem with one chain, if any: code, span, message, hint.
    fn chain(
        &self,
        chain: &Chain<'_>,
        scope: &Scope<'w>,
    ) -> Option<(&'static str, gantry_expr::Span, String, Option<String>)> {
        let root = chain.root.to_ascii_lowercase();
        let name = |i: usize| match chain.segments.get(i) {
            Some(Segment::Name(n, span)) => Some((*n, *span)),
            _ => None,
        };
        let job = scope.job.unwrap_or("");
        match root.as_str() {
            "matrix" => {
                let keys = scope.matrix.as_ref()?;
                let (key, at) = name(0)?;
                if keys.iter().any(|k| same(k, key)) {
                    return None;
                }
                let shown: Vec<&str> = keys.iter().map(String::as_str).collect();
                let hint = match did_you_mean(key, shown.iter().copied()) {
                    Some(near) => format!("did you mean `matrix.{near}`?"),
                    None if shown.is_empty() => {
                        format!("job \"{job}\" has no matrix; define it under `strategy.matrix`")
                    }
                    None => format!("the matrix defines {}", quoted(&shown)),
                };
                Some((
                    "undefined-matrix-key",
                    at,
                    format!("the matrix of job \"{job}\" has no key \"{key}\""),
                    Some(hint),
                ))
            }
            "steps" => {
                let ids = scope.steps.as_ref()?;
                let (id, at) = name(0)?;
                if !ids.iter().any(|s| same(s, id)) {
                    let hint = match did_you_mean(id, ids.iter().copied()) {
                        Some(near) => format!("did you mean `steps.{near}`?"),
                        None => format!(
                            "a step can read the steps before it in the same job; their ids: {}",
                            quoted(ids)
                        ),
                    };
                    return Some((
                        "undefined-step",
                        at,
                        if scope.in_action {
                            format!("no step before this one in the action has the id \"{id}\"")
                        } else {
                            format!("no step before this one in job \"{job}\" has the id \"{id}\"")
                        },
                        Some(hint),
                    ));
                }
                let (property, at) = name(1)?;
                const STEP: &[&str] = &["outputs", "outcome", "conclusion"];
                if same(property, "outputs")
                    && let Some((output, at)) = name(2)
                    && let Some((uses, outputs)) =
                        self.step_outputs.get(&(job, id.to_ascii_lowercase()))
                    && !outputs.iter().any(|o| same(o, output))
                {
                    let shown: Vec<&str> = outputs.iter().map(String::as_str).collect();
                    let hint = match did_you_mean(output, shown.iter().copied()) {
                        Some(near) => format!("did you mean `steps.{id}.outputs.{near}`?"),
                        None => format!("{uses} sets {}", quoted(&shown)),
                    };
                    return Some((
                        "undefined-step-output",
                        at,
                        format!("step \"{id}\" runs {uses}, which has no output \"{output}\""),
                        Some(hint),
                    ));
                }
                if STEP.iter().any(|p| same(p, property)) {
                    return None;
                }
                Some((
                    "undefined-step-property",
                    at,
                    format!("step \"{id}\" has no property \"{property}\""),
                    Some(format!("a step has {}", quoted(STEP))),
                ))
            }
            "needs" => {
                let needed = scope.needs.as_ref()?;
                let (id, at) = name(0)?;
                let Some(target) = needed.iter().find(|n| same(n, id)) else {
                    let exists = self.jobs.iter().any(|j| same(j.id, id));
                    let hint = if exists {
                        format!("add \"{id}\" to the `needs` of job \"{job}\"")
                    } else {
                        match did_you_mean(id, needed.iter().copied()) {
                            Some(near) => format!("did you mean `needs.{near}`?"),
                            None => format!("job \"{job}\" needs {}", quoted(needed)),
                        }
                    };
                    return Some((
                        "undefined-needs-job",
                        at,
                        format!("job \"{job}\" does not need a job \"{id}\""),
                        Some(hint),
                    ));
                };
                self.job_property(target, chain, "needs")
            }
            "jobs" if scope.jobs => {
                let (id, at) = name(0)?;
                let Some(target) = self.jobs.iter().find(|j| same(j.id, id)) else {
                    let ids: Vec<&str> = self.jobs.iter().map(|j| j.id).collect();
                    let hint = match did_you_mean(id, ids.iter().copied()) {
                        Some(near) => format!("did you mean `jobs.{near}`?"),
                        None => format!("the workflow's jobs are {}", quoted(&ids)),
                    };
                    return Some((
                        "undefined-job",
                        at,
                        format!("the workflow has no job \"{id}\""),
                        Some(hint),
                    ));
                };
                self.job_property(target.id, chain, "jobs")
            }
            "secrets" => {
                let declared = self.call_secrets.as_ref()?;
                let (secret, at) = name(0)?;
                const ALWAYS: &[&str] =
                    &["GITHUB_TOKEN", "ACTIONS_RUNNER_DEBUG", "ACTIONS_STEP_DEBUG"];
                if ALWAYS.iter().chain(declared).any(|d| same(d, secret)) {
                    return None;
                }
                let hint = match did_you_mean(secret, declared.iter().copied()) {
                    Some(near) => format!("did you mean `secrets.{near}`?"),
                    None => format!(
                        "declare it under `on.workflow_call.secrets` (callers pass only those, or all with `secrets: inherit`); it declares {}",
                        quoted(declared)
                    ),
                };
                Some((
                    "undefined-secret",
                    at,
                    format!("the reusable workflow declares no secret \"{secret}\""),
                    Some(hint),
                ))
            }
            "github" => {
                let dispatch = self.dispatch.as_ref()?;
                let (event, _) = name(0)?;
                let (inputs, _) = name(1)?;
                let (input, at) = name(2)?;
                if !same(event, "event") || !same(inputs, "inputs") {
                    return None;
                }
                if dispatch.iter().any(|i| same(i, input)) {
                    return None;
                }
                let hint = match did_you_mean(input, dispatch.iter().copied()) {
                    Some(near) => format!("did you mean `github.event.inputs.{near}`?"),
                    None => format!(
                        "`on.workflow_dispatch.inputs` declares {}",
                        quoted(dispatch)
                    ),
                };
                Some((
                    "undefined-input",
                    at,
                    format!("workflow_dispatch declares no input \"{input}\""),
                    Some(hint),
                ))
            }
            "inputs" => {
                let inputs = scope.inputs.as_ref()?;
                let (input, at) = name(0)?;
                if inputs.iter().any(|i| same(i, input)) {
                    return None;
                }
                let hint = match did_you_mean(input, inputs.iter().copied()) {
                    Some(near) => format!("did you mean `inputs.{near}`?"),
                    None if scope.in_action => format!("declare it under the action's `inputs:`; it declares {}", quoted(inputs)),
                    None if inputs.is_empty() => "declare inputs under `on.workflow_dispatch.inputs` or `on.workflow_call.inputs`".to_string(),
                    None => format!("the workflow declares {}", quoted(inputs)),
                };
                let owner = if scope.in_action {
                    "action"
                } else {
                    "workflow"
                };
                Some((
                    "undefined-input",
                    at,
                    format!("the {owner} declares no input \"{input}\""),
                    Some(hint),
                ))
            }
            _ => None,
        }
    }

    /// `<root>.JOB.outputs.X` / `<root>.JOB.result` for a known job.
    fn job_property(
        &self,
        id: &str,
        chain: &Chain<'_>,
        root: &str,
    ) -> Option<(&'static str, gantry_expr::Span, String, Option<String>)> {
        let name = |i: usize| match chain.segments.get(i) {
            Some(Segment::Name(n, span)) => Some((*n, *span)),
            _ => None,
        };
        let (property, at) = name(1)?;
        if same(property, "result") {
            return None;
        }
        if !same(property, "outputs") {
            return Some((
                "undefined-job-property",
                at,
                format!("`{root}.{id}` has no property \"{property}\""),
                Some("a job has \"outputs\" and \"result\"".to_string()),
            ));
        }
        let (output, at) = name(2)?;
        let info = self.jobs.iter().find(|j| same(j.id, id))?;
        let outputs = info.outputs.as_ref()?;
        if outputs.iter().any(|o| same(o, output)) {
            return None;
        }
        let hint = match did_you_mean(output, outputs.iter().copied()) {
            Some(near) => format!("did you mean `{root}.{id}.outputs.{near}`?"),
            None if outputs.is_empty() => {
                format!("declare it under `jobs.{id}.outputs`")
            }
            None => format!("job \"{id}\" declares {}", quoted(outputs)),
        };
        Some((
            "undefined-job-output",
            at,
            format!("job \"{id}\" declares no output \"{output}\""),
            Some(hint),
        ))
    }
}

/// The ids of a step node (and of the steps it runs in parallel).
fn step_ids(step: &Node) -> Vec<&str> {
    let mut ids = Vec::new();
    if let Some(id) = step.entry("id").and_then(|(_, v)| v.as_str()) {
        ids.push(id);
    }
    if let Some((_, NodeKind::Seq(inner))) = step.entry("parallel").map(|(k, v)| (k, &v.kind)) {
        for s in inner {
            ids.extend(step_ids(s));
        }
    }
    ids
}

/// The matrix keys of a job node, read from the YAML as written (a
/// strategy the reader refused still has its keys); `None` when they
/// cannot be known.
fn job_matrix_keys(job: &Node) -> Option<Vec<&str>> {
    match job.entry("strategy").map(|(_, s)| s) {
        None => Some(Vec::new()),
        Some(strategy) => match &strategy.kind {
            NodeKind::Map(_) => matrix_keys(strategy.entry("matrix").map(|(_, m)| m)),
            NodeKind::Null => Some(Vec::new()),
            _ => None,
        },
    }
}

/// The keys a matrix defines; `None` when they cannot be known (the
/// matrix or its `include` is an expression). No matrix defines none.
fn matrix_keys(matrix: Option<&Node>) -> Option<Vec<&str>> {
    let Some(matrix) = matrix else {
        return Some(Vec::new());
    };
    let NodeKind::Map(pairs) = &matrix.kind else {
        return None;
    };
    let mut keys = Vec::new();
    for (key, value) in pairs {
        match key.as_str() {
            Some("include") => match &value.kind {
                NodeKind::Seq(items) => {
                    for item in items {
                        match &item.kind {
                            NodeKind::Map(entries) => {
                                keys.extend(entries.iter().filter_map(|(k, _)| k.as_str()));
                            }
                            _ => return None,
                        }
                    }
                }
                _ => return None,
            },
            Some("exclude") => {}
            Some(name) if name.contains("${{") => return None,
            Some(name) => keys.push(name),
            None => return None,
        }
    }
    Some(keys)
}
