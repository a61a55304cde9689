//! What a rule sees: the file being audited, its model and YAML, and the
//! rule's settings; plus helpers to walk jobs and steps.

use gantry_workflow::model::{Action, Job, JobKind, Runs, Step, StepAction, Workflow};
use gantry_workflow::yaml::Node;
use gantry_workflow::{SourceFile, Span};

use crate::config::RuleConfig;
use crate::finding::{Confidence, Finding};
use crate::rules::RuleMeta;

/// The file under audit.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Workflow(&'a Workflow),
    Action(&'a Action),
}

/// A step and the job it belongs to (none in a composite action).
#[derive(Debug, Clone, Copy)]
pub struct StepRef<'a> {
    pub job: Option<&'a Job>,
    pub step: &'a Step,
}

impl<'a> StepRef<'a> {
    /// The action a `uses:` step runs, without its `@ref`, lower-cased.
    pub fn action_name(&self) -> Option<String> {
        match &self.step.action {
            StepAction::Uses { uses, .. } => {
                let name = uses.value.split('@').next().unwrap_or("");
                Some(name.to_ascii_lowercase())
            }
            _ => None,
        }
    }

    /// The value of a `with:` input of a `uses:` step.
    pub fn with(&self, input: &str) -> Option<&'a gantry_workflow::model::Text> {
        match &self.step.action {
            StepAction::Uses { with, .. } => with
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(input))
                .map(|(_, (_, v))| v),
            _ => None,
        }
    }
}

/// Everything a rule needs to check one file.
pub struct Ctx<'a> {
    pub target: Target<'a>,
    pub source: &'a SourceFile,
    pub yaml: &'a Node,
    pub config: RuleConfig,
}

impl<'a> Ctx<'a> {
    pub fn workflow(&self) -> Option<&'a Workflow> {
        match self.target {
            Target::Workflow(w) => Some(w),
            Target::Action(_) => None,
        }
    }

    /// The jobs of a workflow (none for an action).
    pub fn jobs(&self) -> impl Iterator<Item = &'a Job> {
        self.workflow().into_iter().flat_map(|w| w.jobs.values())
    }

    /// Every step: of every job of a workflow, or of a composite action,
    /// including the steps nested in `parallel:` groups.
    pub fn steps(&self) -> Vec<StepRef<'a>> {
        match self.target {
            Target::Workflow(w) => w
                .jobs
                .values()
                .flat_map(|job| match &job.kind {
                    JobKind::Steps(steps) => walk_steps(Some(job), &steps.steps),
                    JobKind::Call(_) => Vec::new(),
                })
                .collect(),
            Target::Action(a) => match &a.runs {
                Some(Runs::Composite { steps }) => walk_steps(None, steps),
                _ => Vec::new(),
            },
        }
    }

    /// A finding of `meta` at `span`, with the configured severity.
    pub fn finding(
        &self,
        meta: &'static RuleMeta,
        span: Span,
        confidence: Confidence,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Finding {
        Finding {
            rule: meta.id,
            severity: self.config.severity.unwrap_or(meta.severity),
            confidence,
            message: message.into(),
            span,
            label: label.into(),
            related: Vec::new(),
            help: meta.fix.to_string(),
            fix: None,
        }
    }

    /// The text of the file.
    pub fn text(&self) -> &'a str {
        self.source.text()
    }
}

/// The steps of `steps` in order, each `parallel:` group followed by the
/// steps it holds.
pub(crate) fn walk_steps<'a>(job: Option<&'a Job>, steps: &'a [Step]) -> Vec<StepRef<'a>> {
    fn push<'a>(job: Option<&'a Job>, steps: &'a [Step], out: &mut Vec<StepRef<'a>>) {
        for step in steps {
            out.push(StepRef { job, step });
            if let StepAction::Parallel(inner) = &step.action {
                push(job, inner, out);
            }
        }
    }
    let mut out = Vec::new();
    push(job, steps, &mut out);
    out
}

/// Whether an event name is among the workflow's triggers.
pub(crate) fn triggered_by(workflow: &Workflow, events: &[&str]) -> bool {
    events.iter().any(|e| workflow.on.events.contains_key(*e))
}

/// Whether a job looks like it deploys, releases, publishes or signs: by
/// its id, name, environment, or the actions it uses.
pub(crate) fn is_release_job(job: &Job) -> bool {
    const WORDS: &[&str] = &[
        "deploy",
        "release",
        "publish",
        "sign",
        "attest",
        "provenance",
        "pages",
        "upload-to",
        "push-image",
        "docker-push",
        "promote",
        "ship",
    ];
    let mut names = vec![job.id.value.to_ascii_lowercase()];
    if let Some(name) = &job.name {
        names.push(name.value.to_ascii_lowercase());
    }
    if let JobKind::Steps(steps) = &job.kind {
        if steps.environment.is_some() {
            return true;
        }
        for step in &steps.steps {
            if let StepAction::Uses { uses, .. } = &step.action {
                names.push(uses.value.to_ascii_lowercase());
            }
        }
    }
    names.iter().any(|n| WORDS.iter().any(|w| n.contains(w)))
}

/// Every string scalar of a YAML tree that holds `${{`, in document order.
pub(crate) fn expression_strings(node: &Node) -> Vec<&Node> {
    fn walk<'n>(node: &'n Node, out: &mut Vec<&'n Node>) {
        use gantry_workflow::yaml::NodeKind;
        match &node.kind {
            NodeKind::String(s) if s.contains("${{") => out.push(node),
            NodeKind::Seq(items) => items.iter().for_each(|i| walk(i, out)),
            NodeKind::Map(pairs) => pairs.iter().for_each(|(k, v)| {
                walk(k, out);
                walk(v, out);
            }),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(node, &mut out);
    out
}

/// The secret names an expression string reads (`secrets.X`, `secrets['X']`).
pub(crate) fn secrets_read(text: &str) -> Vec<String> {
    crate::expr::expressions(text)
        .iter()
        .flat_map(|f| f.expr.context_paths())
        .filter_map(|p| p.strip_prefix("secrets.").map(str::to_string))
        .collect()
}
