//! The keys of workflow files.

use std::sync::Arc;

use indexmap::IndexMap;

use super::{Parsed, ReadOptions, Reader, check_id, is_expression, load};
use crate::contexts::Place;
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::events::{self, EVENTS};
use crate::model::*;
use crate::source::{SourceFile, Span};
use crate::yaml::{Node, NodeKind};
use crate::{cron, filter, graph, matrix};

const WORKFLOW_KEYS: &[&str] = &[
    "name",
    "run-name",
    "description",
    "on",
    "permissions",
    "env",
    "defaults",
    "concurrency",
    "jobs",
];

const STEPS_JOB_KEYS: &[&str] = &[
    "name",
    "needs",
    "if",
    "strategy",
    "runs-on",
    "timeout-minutes",
    "cancel-timeout-minutes",
    "continue-on-error",
    "container",
    "services",
    "env",
    "environment",
    "permissions",
    "concurrency",
    "outputs",
    "defaults",
    "steps",
    "snapshot",
];

const CALL_JOB_KEYS: &[&str] = &[
    "name",
    "uses",
    "with",
    "secrets",
    "needs",
    "if",
    "permissions",
    "concurrency",
    "strategy",
];

const RUN_STEP_KEYS: &[&str] = &[
    "name",
    "id",
    "if",
    "timeout-minutes",
    "run",
    "continue-on-error",
    "env",
    "working-directory",
    "shell",
    "background",
];

const USES_STEP_KEYS: &[&str] = &[
    "name",
    "id",
    "if",
    "continue-on-error",
    "timeout-minutes",
    "uses",
    "with",
    "env",
    "background",
];

/// Keys that tell which kind of step a mapping is.
const STEP_KIND_KEYS: &[(&str, StepKind)] = &[
    ("run", StepKind::Run),
    ("shell", StepKind::Run),
    ("working-directory", StepKind::Run),
    ("uses", StepKind::Uses),
    ("with", StepKind::Uses),
    ("wait", StepKind::Wait),
    ("wait-all", StepKind::WaitAll),
    ("cancel", StepKind::Cancel),
    ("parallel", StepKind::Parallel),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StepKind {
    Run,
    Uses,
    Wait,
    WaitAll,
    Cancel,
    Parallel,
}

/// Reads a workflow file. Checks everything that can be checked without
/// other files: shape, keys, expressions and the contexts they use, ids,
/// `needs`, cron, filters and static matrices.
pub fn read_workflow(source: Arc<SourceFile>, options: &ReadOptions) -> Parsed<Workflow> {
    let mut reader = Reader::new(source.clone());
    let root = match load(&source, options) {
        Ok(root) => root,
        Err(diagnostic) => {
            reader.push(diagnostic);
            return reader.finish(None);
        }
    };
    if matches!(root.kind, NodeKind::Null) {
        reader.push(
            Diagnostic::error("empty-file", None, "the file is empty")
                .with_hint("a workflow needs at least `on:` and `jobs:`"),
        );
        return reader.finish(None);
    }
    let mut workflow = reader.workflow(&root, options);
    if let Some(w) = &mut workflow {
        w.yaml = root;
    }
    reader.finish(workflow)
}

impl Reader {
    fn workflow(&mut self, root: &Node, options: &ReadOptions) -> Option<Workflow> {
        let pairs = self.mapping(root, "a workflow mapping with `on` and `jobs`")?;
        let mut workflow = Workflow {
            source: self.source.clone(),
            name: None,
            run_name: None,
            description: None,
            on: Triggers::default(),
            permissions: None,
            env: Env::new(),
            defaults: None,
            concurrency: None,
            jobs: IndexMap::new(),
            jobs_span: root.span,
            yaml: Node::null(),
        };
        let mut seen_on = false;
        let mut jobs_node = None;
        for (key, _, value) in self.keys(pairs, WORKFLOW_KEYS) {
            match key {
                "name" => workflow.name = self.text(value, None),
                "run-name" => workflow.run_name = self.text(value, Some(Place::WorkflowRunName)),
                "description" => workflow.description = self.text(value, None),
                "on" => {
                    seen_on = true;
                    workflow.on = self.triggers(value);
                }
                "permissions" => workflow.permissions = self.permissions(value),
                "env" => workflow.env = self.env(value, Place::WorkflowEnv),
                "defaults" => workflow.defaults = self.defaults(value, None),
                "concurrency" => {
                    workflow.concurrency = self.concurrency(value, Place::WorkflowRunName)
                }
                "jobs" => jobs_node = Some(value),
                _ => {}
            }
        }
        let start = Span::point(root.span.start);
        if !seen_on {
            self.missing(start, "on");
        }
        match jobs_node {
            None => self.missing(start, "jobs"),
            Some(node) => {
                workflow.jobs_span = node.span;
                workflow.jobs = self.jobs(node);
                if let Some(pairs) = node_pairs(node)
                    && pairs.is_empty()
                {
                    self.error(
                        "no-start-job",
                        node.span,
                        "The workflow must contain at least one job with no dependencies.",
                    );
                }
            }
        }
        graph::check_needs(&workflow, &mut self.diagnostics);
        if let Some(max) = options.max_jobs {
            let count = workflow.jobs.len();
            if count > max {
                self.push(Diagnostic::error(
                    "too-many-jobs",
                    workflow.jobs_span,
                    format!("The workflow may not contain more than {max} jobs"),
                ));
            }
        }
        Some(workflow)
    }

    // ----- on -----------------------------------------------------------

    fn triggers(&mut self, node: &Node) -> Triggers {
        let mut triggers = Triggers {
            span: node.span,
            events: IndexMap::new(),
        };
        let mut add = |reader: &mut Reader, name: Spanned<String>, trigger: Trigger| {
            if triggers.events.contains_key(&name.value) {
                reader.error(
                    "duplicate-key",
                    name.span,
                    format!("'{}' is already defined", name.value),
                );
            } else {
                triggers.events.insert(name.value.clone(), trigger);
            }
        };
        match &node.kind {
            NodeKind::String(_) | NodeKind::Seq(_) => {
                let items = match &node.kind {
                    NodeKind::Seq(items) => items.as_slice(),
                    _ => std::slice::from_ref(node),
                };
                for item in items {
                    if let Some(name) = self.event_name(item) {
                        let trigger = Trigger {
                            event: name.clone(),
                            ..Trigger::default()
                        };
                        add(self, name, trigger);
                    }
                }
            }
            NodeKind::Map(pairs) => {
                for (key, value) in pairs {
                    let Some(name) = self.event_name(key) else {
                        continue;
                    };
                    let trigger = self.trigger(name.clone(), value);
                    add(self, name, trigger);
                }
            }
            _ => self.unexpected(node, "an event, a list of events or a mapping of events"),
        }
        triggers
    }

    fn event_name(&mut self, node: &Node) -> Option<Spanned<String>> {
        let name = match &node.kind {
            NodeKind::String(s) if s.contains("${{") => {
                self.expression_not_allowed(node);
                return None;
            }
            NodeKind::String(s) => s.clone(),
            _ => {
                self.unexpected(node, "an event name");
                return None;
            }
        };
        if events::event(&name).is_none() {
            let mut d = Diagnostic::error(
                "unknown-event",
                node.span,
                format!("Unexpected value '{name}'"),
            )
            .with_label("not an event that triggers workflows");
            if let Some(near) = did_you_mean(&name, EVENTS.iter().map(|e| e.name)) {
                d = d.with_hint(format!("did you mean `{near}`?"));
            }
            self.push(d);
            return None;
        }
        Some(Spanned::new(name, node.span))
    }

    fn trigger(&mut self, event: Spanned<String>, node: &Node) -> Trigger {
        let mut trigger = Trigger {
            event: event.clone(),
            ..Trigger::default()
        };
        let Some(spec) = events::event(&event.value) else {
            return trigger;
        };
        if spec.name == "schedule" {
            trigger.schedules = self.schedule(node);
            return trigger;
        }
        if matches!(node.kind, NodeKind::Null) {
            return trigger;
        }
        let Some(pairs) = self.mapping(node, "the event's configuration") else {
            return trigger;
        };
        let mut known: Vec<&str> = spec.keys.to_vec();
        if spec.types.is_some() {
            known.push("types");
        }
        let known_keys = known.clone();
        // GitHub ignores unknown keys of a `workflow_dispatch` that has no
        // `inputs`; gantry warns about them.
        let pairs: Vec<(Node, Node)> = if spec.name == "workflow_dispatch"
            && !pairs.iter().any(|(k, _)| k.as_str() == Some("inputs"))
        {
            for (key, _) in pairs {
                if let Some(name) = key.as_str() {
                    self.push(
                        Diagnostic::warning(
                            "unknown-key",
                            key.span,
                            format!("'{name}' is not a key of workflow_dispatch and is ignored"),
                        )
                        .with_hint("workflow_dispatch takes only `inputs`"),
                    );
                }
            }
            Vec::new()
        } else {
            pairs.to_vec()
        };
        for (key, _, value) in self.keys(&pairs, &known_keys) {
            match key {
                "types" => trigger.types = self.activity_types(spec, value),
                "branches" => trigger.branches = Some(self.filters(value, FilterKind::Ref)),
                "branches-ignore" => {
                    trigger.branches_ignore = Some(self.filters(value, FilterKind::Ref))
                }
                "tags" => trigger.tags = Some(self.filters(value, FilterKind::Ref)),
                "tags-ignore" => trigger.tags_ignore = Some(self.filters(value, FilterKind::Ref)),
                "paths" => trigger.paths = Some(self.filters(value, FilterKind::Path)),
                "paths-ignore" => {
                    trigger.paths_ignore = Some(self.filters(value, FilterKind::Path))
                }
                "workflows" => trigger.workflows = self.string_list(value, None),
                "names" | "versions" => {
                    self.string_list(value, None);
                }
                "inputs" => trigger.inputs = self.inputs(value, spec.name == "workflow_call"),
                "outputs" => trigger.outputs = self.call_outputs(value),
                "secrets" => trigger.secrets = self.call_secrets(value),
                _ => {}
            }
        }
        trigger
    }

    fn activity_types(&mut self, spec: &events::EventSpec, node: &Node) -> Vec<Text> {
        let types = self.string_list(node, None);
        if let Some(known) = spec.types.filter(|k| !k.is_empty()) {
            for t in &types {
                if !known.contains(&t.value.as_str()) {
                    let mut d = Diagnostic::warning(
                        "unknown-activity-type",
                        t.span,
                        format!(
                            "'{}' is not an activity type of the {} event",
                            t.value, spec.name
                        ),
                    );
                    d = match did_you_mean(&t.value, known.iter().copied()) {
                        Some(near) => d.with_hint(format!("did you mean `{near}`?")),
                        None => d.with_hint(format!("known types: {}", known.join(", "))),
                    };
                    self.push(d);
                }
            }
        }
        types
    }

    fn filters(&mut self, node: &Node, kind: FilterKind) -> Vec<Text> {
        let patterns = self.string_list(node, None);
        let items: Vec<&Node> = match &node.kind {
            NodeKind::Seq(items) => items.iter().collect(),
            _ => vec![node],
        };
        for (pattern, item) in patterns.iter().zip(items) {
            if let Err(err) = filter::Pattern::new(&pattern.value) {
                let at = pattern
                    .value
                    .char_indices()
                    .nth(err.offset())
                    .map_or(pattern.value.len(), |(i, _)| i);
                let span = self.value_span(item, &pattern.value, at..at + 1);
                self.push(
                    Diagnostic::error("invalid-glob", span, format!("invalid filter pattern '{}': {err}", pattern.value))
                        .with_hint(match kind {
                            FilterKind::Ref => "branch and tag filters use GitHub's glob syntax: `*`, `**`, `?`, `+`, `[...]` and a leading `!`",
                            FilterKind::Path => "path filters use GitHub's glob syntax: `*`, `**`, `?`, `+`, `[...]` and a leading `!`",
                        }),
                );
            }
        }
        patterns
    }

    fn schedule(&mut self, node: &Node) -> Vec<Schedule> {
        let mut schedules = Vec::new();
        let Some(items) = self.sequence(node, "a list of `- cron: ...` entries") else {
            return schedules;
        };
        for item in items {
            let Some(pairs) = self.mapping(item, "a `cron:` mapping") else {
                continue;
            };
            let mut cron = None;
            let mut timezone = None;
            let mut found = false;
            for (key, _, value) in self.keys(pairs, &["cron", "timezone"]) {
                if key == "timezone" {
                    timezone = self.non_empty_text(value, None);
                    continue;
                }
                if key != "cron" {
                    continue;
                }
                found = true;
                if let Some(text) = self.text(value, None) {
                    if let Err(err) = cron::parse(&text.value) {
                        let span = self.value_span(value, &text.value, err.span());
                        let d = Diagnostic::error("invalid-cron", span, format!("invalid cron schedule '{}': {err}", text.value))
                            .with_label(err.to_string())
                            .with_hint("a schedule has five fields: minute hour day-of-month month day-of-week, e.g. `30 5 * * 1-5`");
                        self.push(d);
                    }
                    cron = Some(text);
                }
            }
            if !found {
                self.missing_in(item, "cron");
            }
            if let Some(cron) = cron {
                schedules.push(Schedule { cron, timezone });
            }
        }
        schedules
    }

    fn inputs(&mut self, node: &Node, call: bool) -> IndexMap<String, InputDef> {
        let mut inputs = IndexMap::new();
        if matches!(node.kind, NodeKind::Null) {
            return inputs;
        }
        let Some(pairs) = self.mapping(node, "a mapping of inputs") else {
            return inputs;
        };
        let known: &[&str] = if call {
            &["description", "type", "required", "default"]
        } else {
            &["description", "type", "required", "default", "options"]
        };
        for (id, value) in self.names(pairs, true) {
            let mut input = InputDef {
                id: id.clone(),
                description: None,
                required: false,
                kind: InputType::String,
                default: None,
                options: Vec::new(),
            };
            if matches!(value.kind, NodeKind::Null) && !call {
                inputs.insert(id.value.clone(), input);
                continue;
            }
            let Some(fields) = self.mapping(value, "an input definition") else {
                continue;
            };
            let mut has_type = false;
            for (key, _, v) in self.keys(fields, known) {
                match key {
                    "description" => input.description = self.text(v, None),
                    "required" => input.required = self.boolean(v).is_some_and(|b| b.value),
                    "default" => {
                        if call {
                            if let Some(s) = v.as_str() {
                                self.check_expressions(v, s, Some(Place::CallInputDefault));
                            }
                        } else if let Some(s) = v.as_str() {
                            self.check_expressions(v, s, None);
                        }
                        input.default = Some(v.clone());
                    }
                    "options" => input.options = self.string_list(v, None),
                    "type" => {
                        has_type = true;
                        let allowed: &[(&str, InputType)] = if call {
                            &[
                                ("string", InputType::String),
                                ("boolean", InputType::Boolean),
                                ("number", InputType::Number),
                            ]
                        } else {
                            &[
                                ("string", InputType::String),
                                ("boolean", InputType::Boolean),
                                ("number", InputType::Number),
                                ("choice", InputType::Choice),
                                ("environment", InputType::Environment),
                            ]
                        };
                        match v
                            .as_str()
                            .and_then(|s| allowed.iter().find(|(n, _)| *n == s))
                        {
                            Some((_, t)) => input.kind = *t,
                            None => {
                                let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
                                self.push(
                                    Diagnostic::error(
                                        "invalid-value",
                                        v.span,
                                        format!(
                                            "Unexpected value '{}'",
                                            v.scalar_text().unwrap_or_default()
                                        ),
                                    )
                                    .with_hint(format!(
                                        "an input type is one of: {}",
                                        names.join(", ")
                                    )),
                                );
                            }
                        }
                    }
                    _ => {}
                }
            }
            if call && !has_type {
                self.missing_in(value, "type");
            }
            if input.kind == InputType::Choice && input.options.is_empty() {
                self.push(
                    Diagnostic::error(
                        "missing-key",
                        value.span,
                        format!("the choice input '{}' has no `options`", id.value),
                    )
                    .with_hint("list the choices under `options:`"),
                );
            }
            inputs.insert(id.value.clone(), input);
        }
        inputs
    }

    fn call_outputs(&mut self, node: &Node) -> IndexMap<String, OutputDef> {
        let mut outputs = IndexMap::new();
        let Some(pairs) = self.mapping(node, "a mapping of outputs") else {
            return outputs;
        };
        for (id, value) in self.names(pairs, true) {
            let Some(fields) = self.mapping(value, "an output definition") else {
                continue;
            };
            let mut description = None;
            let mut text = None;
            for (key, _, v) in self.keys(fields, &["description", "value"]) {
                match key {
                    "description" => description = self.text(v, None),
                    "value" => text = self.text(v, Some(Place::CallOutputValue)),
                    _ => {}
                }
            }
            match text {
                Some(value) => {
                    outputs.insert(
                        id.value.clone(),
                        OutputDef {
                            id,
                            description,
                            value,
                        },
                    );
                }
                None => {
                    if !fields.iter().any(|(k, _)| k.as_str() == Some("value")) {
                        self.missing_in(value, "value");
                    }
                }
            }
        }
        outputs
    }

    fn call_secrets(&mut self, node: &Node) -> IndexMap<String, SecretDef> {
        let mut secrets = IndexMap::new();
        if matches!(node.kind, NodeKind::Null) {
            return secrets;
        }
        let Some(pairs) = self.mapping(node, "a mapping of secrets") else {
            return secrets;
        };
        for (id, value) in self.names(pairs, true) {
            let mut secret = SecretDef {
                id: id.clone(),
                description: None,
                required: false,
            };
            if !matches!(value.kind, NodeKind::Null)
                && let Some(fields) = self.mapping(value, "a secret definition")
            {
                for (key, _, v) in self.keys(fields, &["description", "required"]) {
                    match key {
                        "description" => secret.description = self.text(v, None),
                        "required" => secret.required = self.boolean(v).is_some_and(|b| b.value),
                        _ => {}
                    }
                }
            }
            secrets.insert(id.value.clone(), secret);
        }
        secrets
    }

    // ----- shared blocks ----------------------------------------------------

    pub(super) fn permissions(&mut self, node: &Node) -> Option<Permissions> {
        let kind = match &node.kind {
            NodeKind::String(s) if s == "read-all" => PermissionsKind::ReadAll,
            NodeKind::String(s) if s == "write-all" => PermissionsKind::WriteAll,
            NodeKind::Map(pairs) => {
                let mut scopes = IndexMap::new();
                for (scope, key, value) in self.keys(pairs, crate::model::PERMISSION_SCOPES) {
                    let allowed = Access::allowed_for(scope);
                    let access = match value.as_str() {
                        Some("read") => Some(Access::Read),
                        Some("write") => Some(Access::Write),
                        Some("none") => Some(Access::None),
                        _ => None,
                    };
                    match access.filter(|a| allowed.contains(a)) {
                        Some(access) => {
                            scopes.insert(scope.to_string(), Spanned::new(access, value.span));
                        }
                        None => {
                            let names: Vec<&str> = allowed.iter().map(|a| a.name()).collect();
                            self.push(
                                Diagnostic::error(
                                    "invalid-permission",
                                    value.span,
                                    format!(
                                        "Unexpected value '{}'",
                                        value.scalar_text().unwrap_or_default()
                                    ),
                                )
                                .with_label(format!("not a level of `{scope}`"))
                                .with_hint(format!("`{scope}` accepts: {}", names.join(", "))),
                            );
                        }
                    }
                    let _ = key;
                }
                PermissionsKind::Scopes(scopes)
            }
            _ => {
                let mut d = Diagnostic::error(
                    "invalid-permission",
                    node.span,
                    match node.scalar_text() {
                        Some(t) => format!("Unexpected value '{t}'"),
                        None => "A sequence was not expected".to_string(),
                    },
                )
                .with_hint("`permissions` is `read-all`, `write-all`, `{}` or a mapping of scopes to read, write or none");
                if let Some(near) = node
                    .as_str()
                    .and_then(|s| did_you_mean(s, ["read-all", "write-all"]))
                {
                    d = d.with_hint(format!("did you mean `{near}`?"));
                }
                self.push(d);
                return None;
            }
        };
        Some(Permissions {
            span: node.span,
            kind,
        })
    }

    pub(super) fn defaults(&mut self, node: &Node, place: Option<Place>) -> Option<Defaults> {
        let pairs = self.mapping(node, "a `defaults` mapping with `run`")?;
        let mut defaults = Defaults::default();
        for (_, _, run) in self.keys(pairs, &["run"]) {
            let Some(fields) = self.mapping(run, "a mapping with `shell` and `working-directory`")
            else {
                continue;
            };
            for (key, _, value) in self.keys(fields, &["shell", "working-directory"]) {
                let text = self.non_empty_text(value, place);
                match key {
                    "shell" => defaults.shell = text,
                    _ => defaults.working_directory = text,
                }
            }
        }
        Some(defaults)
    }

    fn concurrency(&mut self, node: &Node, place: Place) -> Option<Concurrency> {
        match &node.kind {
            NodeKind::Map(pairs) => {
                let mut group = None;
                let mut cancel = None;
                for (key, _, value) in self.keys(pairs, &["group", "cancel-in-progress", "queue"]) {
                    match key {
                        "group" => group = self.non_empty_text(value, Some(place)),
                        "queue" => {
                            self.non_empty_text(value, None);
                        }
                        _ => cancel = self.bool_or_expr(value, Some(place)),
                    }
                }
                if group.is_none() && !pairs.iter().any(|(k, _)| k.as_str() == Some("group")) {
                    self.missing_in(node, "group");
                }
                group.map(|group| Concurrency {
                    group,
                    cancel_in_progress: cancel,
                })
            }
            _ => self
                .non_empty_text(node, Some(place))
                .map(|group| Concurrency {
                    group,
                    cancel_in_progress: None,
                }),
        }
    }

    // ----- jobs ---------------------------------------------------------------

    fn jobs(&mut self, node: &Node) -> IndexMap<String, Job> {
        let mut jobs = IndexMap::new();
        let Some(pairs) = self.mapping(node, "a mapping of jobs") else {
            return jobs;
        };
        for (id, value) in self.names(pairs, true) {
            if id.value.contains("${{") {
                self.expression_not_allowed_at(id.span);
                continue;
            }
            if let Err(message) = check_id(&id.value) {
                self.push(
                    Diagnostic::error("invalid-id", id.span, message.to_string())
                        .with_hint("rename the job, e.g. `build-linux`"),
                );
                continue;
            }
            if let Some(job) = self.job(id.clone(), value) {
                jobs.insert(id.value, job);
            }
        }
        jobs
    }

    fn expression_not_allowed_at(&mut self, span: Span) {
        self.error(
            "expression-not-allowed",
            span,
            "A template expression is not allowed in this context",
        );
    }

    fn job(&mut self, id: Spanned<String>, node: &Node) -> Option<Job> {
        let pairs = self.mapping(node, "a job mapping")?;
        let has = |k: &str| pairs.iter().any(|(key, _)| key.as_str() == Some(k));
        let call = has("uses") && !has("runs-on");
        let mut job = Job {
            id,
            span: node.span,
            name: None,
            needs: Vec::new(),
            condition: None,
            strategy: None,
            permissions: None,
            concurrency: None,
            kind: JobKind::Steps(Box::default()),
        };
        let mut steps_job = StepsJob::default();
        let mut call_job = CallJob {
            uses: Spanned::new(String::new(), node.span),
            with: IndexMap::new(),
            secrets: CallSecrets::None,
        };
        let known = if call { CALL_JOB_KEYS } else { STEPS_JOB_KEYS };
        for (key, _, value) in self.keys(pairs, known) {
            match key {
                "name" => job.name = self.text(value, Some(Place::JobStrategyContext)),
                "needs" => job.needs = self.needs(value),
                "if" => job.condition = self.condition(value, Place::JobIf),
                "strategy" => job.strategy = self.strategy(value),
                "permissions" => job.permissions = self.permissions(value),
                "concurrency" => {
                    job.concurrency = self.concurrency(value, Place::JobStrategyContext)
                }
                "runs-on" => steps_job.runs_on = self.runs_on(value),
                "timeout-minutes" => {
                    steps_job.timeout_minutes =
                        self.timeout(value, Some(Place::JobStrategyContext), "timeout-minutes")
                }
                "cancel-timeout-minutes" => {
                    steps_job.cancel_timeout_minutes = self.timeout(
                        value,
                        Some(Place::JobStrategyContext),
                        "cancel-timeout-minutes",
                    )
                }
                "continue-on-error" => {
                    steps_job.continue_on_error =
                        self.bool_or_expr(value, Some(Place::JobStrategyContext))
                }
                "container" => steps_job.container = self.container(value, false),
                "services" => match &value.kind {
                    NodeKind::String(s) if is_expression(s) => {
                        steps_job.services_expr = self.text(value, Some(Place::JobStrategyContext));
                    }
                    _ => steps_job.services = self.services(value),
                },
                "env" => steps_job.env = self.env(value, Place::JobEnv),
                "environment" => steps_job.environment = self.environment(value),
                "outputs" => steps_job.outputs = self.job_outputs(value),
                "defaults" => steps_job.defaults = self.defaults(value, Some(Place::JobDefaults)),
                "steps" => steps_job.steps = self.steps(value),
                "snapshot" => self.snapshot(value),
                "uses" => {
                    if let Some(uses) = self.non_empty_text(value, None) {
                        self.check_workflow_ref(&uses);
                        call_job.uses = uses;
                    }
                }
                "with" => call_job.with = self.call_with(value),
                "secrets" => call_job.secrets = self.call_job_secrets(value),
                _ => {}
            }
        }
        if call {
            job.kind = JobKind::Call(Box::new(call_job));
        } else {
            if !has("runs-on") {
                self.missing_in(node, "runs-on");
            }
            job.kind = JobKind::Steps(Box::new(steps_job));
        }
        Some(job)
    }

    fn needs(&mut self, node: &Node) -> Vec<Spanned<String>> {
        self.string_list(node, None)
            .into_iter()
            .filter(|n| !n.value.is_empty())
            .collect()
    }

    fn check_workflow_ref(&mut self, uses: &Text) {
        let value = uses.value.as_str();
        // `./path` and the self-repository `$/path` name a file of this
        // repository at the running commit; they take no `@ref`.
        let ok = if let Some(path) = value
            .strip_prefix("./")
            .or_else(|| value.strip_prefix("$/"))
        {
            !path.is_empty() && !path.contains('@')
        } else {
            match value.split_once('@') {
                Some((path, reference)) => {
                    !reference.is_empty() && path.split('/').filter(|s| !s.is_empty()).count() >= 3
                }
                None => false,
            }
        };
        if !ok {
            self.push(
                Diagnostic::error(
                    "invalid-uses",
                    uses.span,
                    format!(
                        "Invalid workflow reference '{value}': expected '$/.github/workflows/<file>', './.github/workflows/<file>' or '<owner>/<repo>/.github/workflows/<file>@<ref>'"
                    ),
                )
                .with_hint("a reusable workflow is called by its path"),
            );
        }
    }

    fn call_with(&mut self, node: &Node) -> IndexMap<String, (Spanned<String>, Node)> {
        let mut with = IndexMap::new();
        let Some(pairs) = self.mapping(node, "a mapping of inputs") else {
            return with;
        };
        for (name, value) in self.names(pairs, true) {
            if let NodeKind::String(s) = &value.kind {
                self.check_expressions(value, s, Some(Place::JobStrategyContext));
            } else if !value.is_scalar() {
                self.unexpected(value, "a string, number or boolean");
                continue;
            }
            with.insert(name.value.clone(), (name, value.clone()));
        }
        with
    }

    fn call_job_secrets(&mut self, node: &Node) -> CallSecrets {
        match &node.kind {
            NodeKind::String(s) if s == "inherit" => CallSecrets::Inherit(node.span),
            NodeKind::Map(pairs) => {
                let mut map = IndexMap::new();
                for (name, value) in self.names(pairs, true) {
                    if let Some(text) = self.text(value, Some(Place::JobEnv)) {
                        map.insert(name.value.clone(), (name, text));
                    }
                }
                CallSecrets::Map(map)
            }
            _ => {
                self.push(
                    Diagnostic::error(
                        "invalid-value",
                        node.span,
                        format!(
                            "Unexpected value '{}'",
                            node.scalar_text().unwrap_or_default()
                        ),
                    )
                    .with_hint("`secrets` is `inherit` or a mapping of secret names to values"),
                );
                CallSecrets::None
            }
        }
    }

    fn runs_on(&mut self, node: &Node) -> Option<RunsOn> {
        let place = Some(Place::JobStrategyContext);
        match &node.kind {
            NodeKind::Map(pairs) => {
                let mut group = None;
                let mut labels = Vec::new();
                for (key, _, value) in self.keys(pairs, &["group", "labels"]) {
                    match key {
                        "group" => {
                            group = self.non_empty_text(value, place);
                            if let Some(g) = &group {
                                self.check_runner_group(g);
                            }
                        }
                        _ => labels = self.string_list(value, place),
                    }
                }
                Some(RunsOn::Group {
                    group,
                    labels,
                    span: node.span,
                })
            }
            NodeKind::Seq(_) => Some(RunsOn::Labels(self.string_list(node, place))),
            _ => self
                .non_empty_text(node, place)
                .map(|t| RunsOn::Labels(vec![t])),
        }
    }

    fn check_runner_group(&mut self, group: &Text) {
        let name = group.value.as_str();
        if name.contains("${{") {
            return;
        }
        let Some((prefix, rest)) = name.split_once('/') else {
            return;
        };
        if rest.is_empty() {
            self.error(
                "invalid-runner-group",
                group.span,
                format!("Invalid runs-on group name '{name}'."),
            );
        } else if !matches!(prefix, "org" | "organization" | "ent" | "enterprise")
            || rest.contains('/')
        {
            self.push(
                Diagnostic::error(
                    "invalid-runner-group",
                    group.span,
                    format!("Invalid runs-on group name '{name}'. Please use 'organization/' or 'enterprise/' prefix to target a single runner group."),
                ),
            );
        }
    }

    fn strategy(&mut self, node: &Node) -> Option<Strategy> {
        let place = Some(Place::JobStrategy);
        if let NodeKind::String(s) = &node.kind
            && is_expression(s)
        {
            self.check_expressions(node, s, place);
            return None;
        }
        let pairs = self.mapping(node, "a `strategy` mapping")?;
        let mut strategy = Strategy {
            span: node.span,
            matrix: None,
            fail_fast: None,
            max_parallel: None,
        };
        for (key, _, value) in self.keys(pairs, &["matrix", "fail-fast", "max-parallel"]) {
            match key {
                "matrix" => {
                    if self.matrix(value) {
                        strategy.matrix = Some(value.clone());
                    }
                }
                "fail-fast" => strategy.fail_fast = self.bool_or_expr(value, place),
                _ => strategy.max_parallel = self.max_parallel(value, place),
            }
        }
        Some(strategy)
    }

    /// Checks a matrix; returns whether it can be used.
    fn matrix(&mut self, node: &Node) -> bool {
        let place = Some(Place::JobStrategy);
        if let NodeKind::String(s) = &node.kind
            && is_expression(s)
        {
            let before = self.diagnostics.len();
            self.check_expressions(node, s, place);
            return self.diagnostics.len() == before;
        }
        let Some(pairs) = self.mapping(node, "a matrix mapping") else {
            return false;
        };
        let before = self.diagnostics.len();
        for (name, value) in self.names(pairs, false) {
            if let NodeKind::String(s) = &value.kind
                && is_expression(s)
            {
                self.check_expressions(value, s, place);
                continue;
            }
            match name.value.as_str() {
                "include" | "exclude" => {
                    let Some(items) = self.sequence(value, "a list of mappings") else {
                        continue;
                    };
                    for item in items {
                        if let NodeKind::String(s) = &item.kind
                            && is_expression(s)
                        {
                            self.check_expressions(item, s, place);
                            continue;
                        }
                        if let Some(entries) = self.mapping(item, "a mapping of matrix values") {
                            for (_, v) in entries {
                                self.matrix_value(v);
                            }
                        }
                    }
                }
                vector => {
                    let Some(items) = self.sequence(value, "a list of values") else {
                        continue;
                    };
                    if items.is_empty() {
                        self.push(
                            Diagnostic::error(
                                "empty-matrix-vector",
                                value.span,
                                format!("Matrix vector '{vector}' does not contain any values"),
                            )
                            .with_hint("list at least one value, or remove the vector"),
                        );
                    }
                    for item in items {
                        self.matrix_value(item);
                    }
                }
            }
        }
        if self.diagnostics.len() > before {
            return false;
        }
        if let Some(value) = matrix::static_value(node)
            && let Err(err) = matrix::expand(&value)
        {
            self.push(Diagnostic::error(
                "invalid-matrix",
                node.span,
                err.to_string(),
            ));
            return false;
        }
        true
    }

    fn matrix_value(&mut self, node: &Node) {
        match &node.kind {
            NodeKind::String(s) => self.check_expressions(node, s, Some(Place::JobStrategy)),
            NodeKind::Seq(items) => items.iter().for_each(|i| self.matrix_value(i)),
            NodeKind::Map(pairs) => pairs.iter().for_each(|(_, v)| self.matrix_value(v)),
            _ => {}
        }
    }

    fn environment(&mut self, node: &Node) -> Option<Environment> {
        let place = Some(Place::JobStrategyContext);
        match &node.kind {
            NodeKind::Map(pairs) => {
                let mut env = Environment {
                    name: Spanned::new(String::new(), node.span),
                    url: None,
                    deployment: None,
                };
                let mut has_name = false;
                for (key, _, value) in self.keys(pairs, &["name", "url", "deployment"]) {
                    match key {
                        "name" => {
                            has_name = true;
                            if let Some(name) = self.non_empty_text(value, place) {
                                env.name = name;
                            }
                        }
                        "url" => env.url = self.text(value, Some(Place::EnvironmentUrl)),
                        _ => env.deployment = self.bool_or_expr(value, place),
                    }
                }
                if !has_name {
                    self.missing_in(node, "name");
                }
                Some(env)
            }
            _ => self.text(node, place).map(|name| Environment {
                name,
                url: None,
                deployment: None,
            }),
        }
    }

    fn job_outputs(&mut self, node: &Node) -> IndexMap<String, Spanned<Text>> {
        let mut outputs = IndexMap::new();
        let Some(pairs) = self.mapping(node, "a mapping of outputs") else {
            return outputs;
        };
        for (name, value) in self.names(pairs, true) {
            if let Some(text) = self.text(value, Some(Place::JobOutputs)) {
                outputs.insert(name.value.clone(), Spanned::new(text, name.span));
            }
        }
        outputs
    }

    /// A job's `container` or (`service`) one of its service containers,
    /// which may also set `entrypoint` and `command`.
    fn container(&mut self, node: &Node, service: bool) -> Option<Container> {
        let place = Some(Place::JobStrategyContext);
        let mut container = Container {
            span: node.span,
            image: None,
            credentials: None,
            credentials_expr: None,
            env: Env::new(),
            ports: Vec::new(),
            volumes: Vec::new(),
            options: None,
            entrypoint: None,
            command: None,
        };
        match &node.kind {
            NodeKind::Map(pairs) => {
                let before = self.diagnostics.len();
                let job = ["image", "options", "env", "ports", "volumes", "credentials"];
                let service_keys = [&job[..], &["entrypoint", "command"]].concat();
                let known: &[&str] = if service { &service_keys } else { &job };
                for (key, _, value) in self.keys(pairs, known) {
                    match key {
                        "image" => container.image = self.non_empty_text(value, place),
                        "options" => container.options = self.text(value, place),
                        "env" => container.env = self.env(value, Place::ContainerEnv),
                        "ports" => container.ports = self.string_list(value, place),
                        "volumes" => container.volumes = self.string_list(value, place),
                        "entrypoint" => container.entrypoint = self.text(value, place),
                        "command" => container.command = self.text(value, place),
                        _ => match &value.kind {
                            NodeKind::String(s) if is_expression(s) => {
                                container.credentials_expr =
                                    self.text(value, Some(Place::ContainerCredentials));
                            }
                            _ => container.credentials = self.credentials(value),
                        },
                    }
                }
                if self.diagnostics.len() == before
                    && !pairs.iter().any(|(k, _)| k.as_str() == Some("image"))
                {
                    self.push(
                        Diagnostic::error(
                            "missing-key",
                            node.span,
                            "Container image cannot be empty",
                        )
                        .with_hint("add `image:` with the image to run, e.g. `postgres:16`"),
                    );
                }
            }
            NodeKind::String(s) if s.is_empty() => {
                self.push(Diagnostic::error(
                    "missing-key",
                    node.span,
                    "Container image cannot be empty",
                ));
            }
            _ => container.image = self.non_empty_text(node, place),
        }
        Some(container)
    }

    fn credentials(&mut self, node: &Node) -> Option<(Option<Text>, Option<Text>)> {
        let pairs = self.mapping(node, "a mapping with `username` and `password`")?;
        let place = Some(Place::ContainerCredentials);
        let mut creds = (None, None);
        for (key, _, value) in self.keys(pairs, &["username", "password"]) {
            match key {
                "username" => creds.0 = self.text(value, place),
                _ => creds.1 = self.text(value, place),
            }
        }
        Some(creds)
    }

    fn services(&mut self, node: &Node) -> IndexMap<String, Container> {
        let mut services = IndexMap::new();
        let Some(pairs) = self.mapping(node, "a mapping of service containers") else {
            return services;
        };
        for (name, value) in self.names(pairs, true) {
            if let Some(container) = self.container(value, true) {
                services.insert(name.value, container);
            }
        }
        services
    }

    fn snapshot(&mut self, node: &Node) {
        match &node.kind {
            NodeKind::Map(pairs) => {
                for (key, _, value) in self.keys(pairs, &["image-name", "version", "if"]) {
                    match key {
                        "if" => {
                            self.condition(value, Place::JobIf);
                        }
                        _ => {
                            self.non_empty_text(value, None);
                        }
                    }
                }
            }
            _ => {
                self.non_empty_text(node, None);
            }
        }
    }

    // ----- steps --------------------------------------------------------------

    pub(super) fn steps(&mut self, node: &Node) -> Vec<Step> {
        let Some(items) = self.sequence(node, "a list of steps") else {
            return Vec::new();
        };
        let steps: Vec<Step> = items.iter().filter_map(|item| self.step(item)).collect();
        self.check_step_ids(&steps);
        steps
    }

    fn check_step_ids(&mut self, steps: &[Step]) {
        let mut seen: Vec<&str> = Vec::new();
        for step in steps {
            let Some(id) = &step.id else { continue };
            if seen.iter().any(|s| s.eq_ignore_ascii_case(&id.value)) {
                self.push(
                    Diagnostic::error(
                        "duplicate-step-id",
                        id.span,
                        format!(
                            "The identifier '{}' may not be used more than once within the same scope.",
                            id.value
                        ),
                    )
                    .with_hint("give each step of a job its own id"),
                );
            } else {
                seen.push(&id.value);
            }
        }
    }

    fn step(&mut self, node: &Node) -> Option<Step> {
        let pairs = self.mapping(node, "a step mapping")?;
        let kinds: Vec<StepKind> = pairs
            .iter()
            .filter_map(|(k, _)| k.as_str())
            .filter_map(|k| {
                STEP_KIND_KEYS
                    .iter()
                    .find(|(name, _)| *name == k)
                    .map(|(_, kind)| *kind)
            })
            .collect();
        let kind = kinds.first().copied();
        let (step_place, if_place) = if self.in_action {
            (Place::ActionStep, Place::ActionStepIf)
        } else {
            (Place::Step, Place::StepIf)
        };
        let place = Some(step_place);
        let mut step = Step {
            span: node.span,
            ..Step::default()
        };
        let known: &[&str] = match kind {
            Some(StepKind::Run) => RUN_STEP_KEYS,
            Some(StepKind::Uses) => USES_STEP_KEYS,
            Some(StepKind::Wait) => &[
                "name",
                "id",
                "if",
                "wait",
                "continue-on-error",
                "timeout-minutes",
            ],
            Some(StepKind::WaitAll) => &[
                "name",
                "id",
                "if",
                "wait-all",
                "continue-on-error",
                "timeout-minutes",
            ],
            Some(StepKind::Cancel) => &["name", "id", "if", "cancel"],
            Some(StepKind::Parallel) => &["name", "id", "if", "parallel"],
            None => &[
                "name",
                "id",
                "if",
                "continue-on-error",
                "timeout-minutes",
                "env",
                "background",
            ],
        };
        let mut run = None;
        let mut shell = None;
        let mut working_directory = None;
        let mut uses = None;
        let mut with = IndexMap::new();
        let mut action = StepAction::Invalid;
        for (key, key_node, value) in self.keys(pairs, known) {
            match key {
                "id" => {
                    if let Some(id) = self.text(value, None) {
                        match check_id(&id.value) {
                            Ok(()) => step.id = Some(id),
                            Err(message) => self.push(
                                Diagnostic::error("invalid-id", id.span, message.to_string())
                                    .with_hint(
                                        "use letters, digits, `_` and `-`, e.g. `build-image`",
                                    ),
                            ),
                        }
                    }
                }
                "name" => step.name = self.text(value, place),
                "if" => step.condition = self.condition(value, if_place),
                "env" => step.env = self.env(value, step_place),
                "continue-on-error" => step.continue_on_error = self.bool_or_expr(value, place),
                "timeout-minutes" => {
                    step.timeout_minutes = self.timeout(value, place, "timeout-minutes")
                }
                "background" => step.background = self.boolean(value),
                "run" => run = self.text(value, place),
                // Composite actions may compute their shell.
                "shell" => shell = self.non_empty_text(value, self.in_action.then_some(step_place)),
                "working-directory" => working_directory = self.non_empty_text(value, place),
                "uses" => {
                    uses = self.non_empty_text(value, None);
                    if let Some(u) = &uses {
                        self.check_action_ref(u);
                    }
                }
                "with" => with = self.step_with(value, step_place),
                "wait" => action = StepAction::Wait(self.string_list(value, None)),
                "wait-all" => action = StepAction::WaitAll,
                "cancel" => {
                    if let Some(target) = self.non_empty_text(value, None) {
                        action = StepAction::Cancel(target);
                    }
                }
                "parallel" => {
                    action = StepAction::Parallel(self.steps(value));
                }
                _ => {
                    let _ = key_node;
                }
            }
        }
        match kind {
            Some(StepKind::Run) => match run {
                Some(run) => {
                    if self.in_action && shell.is_none() {
                        self.push(
                            Diagnostic::error("missing-key", node.span, "Required property is missing: shell")
                                .with_hint("steps of composite actions must say which shell runs them, e.g. `shell: bash`"),
                        );
                    }
                    action = StepAction::Run {
                        run,
                        shell,
                        working_directory,
                    }
                }
                None if !pairs.iter().any(|(k, _)| k.as_str() == Some("run")) => {
                    self.missing_in(node, "run")
                }
                None => {}
            },
            Some(StepKind::Uses) => match uses {
                Some(uses) => action = StepAction::Uses { uses, with },
                None if !pairs.iter().any(|(k, _)| k.as_str() == Some("uses")) => {
                    self.missing_in(node, "uses")
                }
                None => {}
            },
            Some(_) => {}
            None => {
                self.push(
                    Diagnostic::error(
                        "ambiguous-step",
                        node.span,
                        "There's not enough info to determine what you meant. Add one of these properties: parallel, run, shell, uses, with, working-directory",
                    )
                    .with_hint("a step runs a command (`run:`) or an action (`uses:`)"),
                );
            }
        }
        step.action = action;
        Some(step)
    }

    fn step_with(
        &mut self,
        node: &Node,
        place: Place,
    ) -> IndexMap<String, (Spanned<String>, Text)> {
        let mut with = IndexMap::new();
        if let NodeKind::String(s) = &node.kind
            && is_expression(s)
        {
            self.check_expressions(node, s, Some(place));
            return with;
        }
        let Some(pairs) = self.mapping(node, "a mapping of action inputs") else {
            return with;
        };
        for (name, value) in self.names(pairs, true) {
            let text = match &value.kind {
                NodeKind::Null => Some(Spanned::new(String::new(), value.span)),
                _ => self.text(value, Some(place)),
            };
            if let Some(text) = text {
                with.insert(name.value.clone(), (name, text));
            }
        }
        with
    }

    pub(super) fn check_action_ref(&mut self, uses: &Text) {
        let value = uses.value.as_str();
        if value.starts_with("./") || value.starts_with("$/") || value.starts_with("docker://") {
            return;
        }
        let ok = match value.split_once('@') {
            Some((path, reference)) => {
                let mut parts = path.split('/');
                let owner = parts.next().unwrap_or("");
                let repo = parts.next().unwrap_or("");
                !reference.is_empty() && !owner.is_empty() && !repo.is_empty()
            }
            None => false,
        };
        if !ok {
            self.push(
                Diagnostic::error(
                    "invalid-uses",
                    uses.span,
                    format!("Expected format {{org}}/{{repo}}[/path]@ref. Actual '{value}'"),
                )
                .with_hint("pin the action to a ref, e.g. `actions/checkout@v4`, or use `$/path` or `./path` for an action of this repository, or `docker://image` for a container"),
            );
        }
    }
}

fn node_pairs(node: &Node) -> Option<&[(Node, Node)]> {
    match &node.kind {
        NodeKind::Map(pairs) => Some(pairs),
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum FilterKind {
    Ref,
    Path,
}
