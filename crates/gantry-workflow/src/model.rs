//! The typed model of workflow files.
//!
//! Every value keeps the span of its text. Strings that may hold `${{ }}`
//! expressions are kept as written ([`Text`]); they are checked when the file
//! is read and evaluated by whoever runs the workflow. Values whose type is
//! only known at run time (`${{ fromJSON(...) }}` where a number is expected)
//! are [`OrExpr::Expr`].

use std::sync::Arc;

use indexmap::IndexMap;

pub use crate::numbers::{MaxParallel, TimeoutMinutes};
use crate::source::{SourceFile, Span};
use crate::yaml::Node;

/// A value and the span of its text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }
}

/// A string as written, possibly holding `${{ }}` expressions.
pub type Text = Spanned<String>;

/// A value of a fixed type, or an expression that yields one at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum OrExpr<T> {
    Value(T),
    /// The whole value is one `${{ }}` expression (text as written).
    Expr(String),
}

/// Environment variables: name to value, in file order.
pub type Env = IndexMap<String, EnvValue>;

/// One environment variable definition.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvValue {
    /// The variable's name; it may hold `${{ }}` where the context allows.
    pub name: Spanned<String>,
    pub value: Text,
    /// `env: ${{ expr }}`: the whole mapping is one expression giving an
    /// object, held here as the only entry (`value` is the expression).
    pub spread: bool,
}

/// A workflow file.
#[derive(Debug, Clone)]
pub struct Workflow {
    pub source: Arc<SourceFile>,
    pub name: Option<Text>,
    pub run_name: Option<Text>,
    pub description: Option<Text>,
    pub on: Triggers,
    pub permissions: Option<Permissions>,
    pub env: Env,
    pub defaults: Option<Defaults>,
    pub concurrency: Option<Concurrency>,
    pub jobs: IndexMap<String, Job>,
    /// The span of the `jobs` mapping.
    pub jobs_span: Span,
    /// The YAML the model was read from, for tools that need the span of
    /// any key (fixes, suppression comments).
    pub yaml: Node,
}

impl Workflow {
    /// The name shown for the workflow: `name`, or else the file path.
    pub fn display_name(&self) -> &str {
        self.name
            .as_ref()
            .map_or_else(|| self.source.name(), |n| n.value.as_str())
    }

    /// The jobs, looked up case-insensitively as GitHub does.
    pub fn job(&self, id: &str) -> Option<&Job> {
        self.jobs.get(id).or_else(|| {
            self.jobs
                .values()
                .find(|j| j.id.value.eq_ignore_ascii_case(id))
        })
    }
}

/// The `on:` section: the events that trigger the workflow.
#[derive(Debug, Clone, Default)]
pub struct Triggers {
    pub span: Span,
    pub events: IndexMap<String, Trigger>,
}

impl Triggers {
    pub fn get(&self, event: &str) -> Option<&Trigger> {
        self.events.get(event)
    }
}

/// One event under `on:` with its configuration.
#[derive(Debug, Clone, Default)]
pub struct Trigger {
    pub event: Spanned<String>,
    /// Activity types (`types:`); empty means GitHub's defaults.
    pub types: Vec<Text>,
    pub branches: Option<Vec<Text>>,
    pub branches_ignore: Option<Vec<Text>>,
    pub tags: Option<Vec<Text>>,
    pub tags_ignore: Option<Vec<Text>>,
    pub paths: Option<Vec<Text>>,
    pub paths_ignore: Option<Vec<Text>>,
    /// `workflow_run.workflows`.
    pub workflows: Vec<Text>,
    /// `schedule[]`: each cron and the time zone it runs in.
    pub schedules: Vec<Schedule>,
    /// `workflow_dispatch` and `workflow_call` inputs.
    pub inputs: IndexMap<String, InputDef>,
    /// `workflow_call` outputs.
    pub outputs: IndexMap<String, OutputDef>,
    /// `workflow_call` secrets.
    pub secrets: IndexMap<String, SecretDef>,
}

/// One `schedule:` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Five POSIX cron fields.
    pub cron: Text,
    /// The IANA time zone the cron is read in (`timezone:`); UTC when
    /// absent.
    pub timezone: Option<Text>,
}

/// The type of a workflow input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    String,
    Boolean,
    Number,
    Choice,
    Environment,
}

impl InputType {
    pub fn name(self) -> &'static str {
        match self {
            InputType::String => "string",
            InputType::Boolean => "boolean",
            InputType::Number => "number",
            InputType::Choice => "choice",
            InputType::Environment => "environment",
        }
    }
}

/// An input of `workflow_dispatch` or `workflow_call`.
#[derive(Debug, Clone)]
pub struct InputDef {
    pub id: Spanned<String>,
    pub description: Option<Text>,
    pub required: bool,
    pub kind: InputType,
    pub default: Option<Node>,
    pub options: Vec<Text>,
}

/// An output of a reusable workflow.
#[derive(Debug, Clone)]
pub struct OutputDef {
    pub id: Spanned<String>,
    pub description: Option<Text>,
    pub value: Text,
}

/// A secret a reusable workflow accepts.
#[derive(Debug, Clone)]
pub struct SecretDef {
    pub id: Spanned<String>,
    pub description: Option<Text>,
    pub required: bool,
}

/// A permission scope of the `GITHUB_TOKEN`.
pub const PERMISSION_SCOPES: &[&str] = &[
    "actions",
    "artifact-metadata",
    "attestations",
    "checks",
    "code-quality",
    "contents",
    "copilot-requests",
    "deployments",
    "discussions",
    "drives",
    "id-token",
    "issues",
    "models",
    "packages",
    "pages",
    "pull-requests",
    "repository-projects",
    "security-events",
    "statuses",
    "vulnerability-alerts",
];

/// The access a permission scope grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    None,
    Read,
    Write,
}

impl Access {
    pub fn name(self) -> &'static str {
        match self {
            Access::None => "none",
            Access::Read => "read",
            Access::Write => "write",
        }
    }

    /// The most a scope can be granted (what `write-all` gives it).
    pub fn highest_for(scope: &str) -> Access {
        Access::allowed_for(scope)
            .iter()
            .copied()
            .max()
            .unwrap_or(Access::None)
    }

    /// The levels a scope accepts: most take all three; a few only some.
    pub fn allowed_for(scope: &str) -> &'static [Access] {
        match scope {
            "id-token" | "copilot-requests" => &[Access::Write, Access::None],
            "models" | "vulnerability-alerts" => &[Access::Read, Access::None],
            _ => &[Access::Read, Access::Write, Access::None],
        }
    }
}

/// A `permissions:` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Permissions {
    pub span: Span,
    pub kind: PermissionsKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PermissionsKind {
    ReadAll,
    WriteAll,
    /// Explicit scopes; scopes not named get `none`. `{}` is an empty map.
    Scopes(IndexMap<String, Spanned<Access>>),
}

impl Permissions {
    /// The access this block grants to `scope`.
    pub fn access(&self, scope: &str) -> Access {
        match &self.kind {
            PermissionsKind::ReadAll => Access::allowed_for(scope)
                .iter()
                .copied()
                .find(|a| *a == Access::Read)
                .unwrap_or(Access::None),
            PermissionsKind::WriteAll => Access::highest_for(scope),
            PermissionsKind::Scopes(map) => map.get(scope).map_or(Access::None, |a| a.value),
        }
    }
}

/// `defaults.run`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Defaults {
    pub shell: Option<Text>,
    pub working_directory: Option<Text>,
}

/// A `concurrency:` setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Concurrency {
    pub group: Text,
    pub cancel_in_progress: Option<Spanned<OrExpr<bool>>>,
}

/// A job: either steps on a runner, or a call of a reusable workflow.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: Spanned<String>,
    /// The span of the job's mapping.
    pub span: Span,
    pub name: Option<Text>,
    pub needs: Vec<Spanned<String>>,
    pub condition: Option<Text>,
    pub strategy: Option<Strategy>,
    pub permissions: Option<Permissions>,
    pub concurrency: Option<Concurrency>,
    pub kind: JobKind,
}

#[derive(Debug, Clone)]
pub enum JobKind {
    Steps(Box<StepsJob>),
    Call(Box<CallJob>),
}

/// A job that runs steps on a runner.
#[derive(Debug, Clone, Default)]
pub struct StepsJob {
    pub runs_on: Option<RunsOn>,
    pub environment: Option<Environment>,
    pub outputs: IndexMap<String, Spanned<Text>>,
    pub env: Env,
    pub defaults: Option<Defaults>,
    pub timeout_minutes: Option<Spanned<OrExpr<TimeoutMinutes>>>,
    pub cancel_timeout_minutes: Option<Spanned<OrExpr<TimeoutMinutes>>>,
    pub continue_on_error: Option<Spanned<OrExpr<bool>>>,
    pub container: Option<Container>,
    pub services: IndexMap<String, Container>,
    /// `services: ${{ expr }}`: the service containers as one expression
    /// giving an object (then `services` is empty).
    pub services_expr: Option<Text>,
    pub steps: Vec<Step>,
}

/// A job that calls a reusable workflow.
#[derive(Debug, Clone)]
pub struct CallJob {
    pub uses: Text,
    pub with: IndexMap<String, (Spanned<String>, Node)>,
    pub secrets: CallSecrets,
}

/// The secrets passed to a reusable workflow.
#[derive(Debug, Clone, Default)]
pub enum CallSecrets {
    #[default]
    None,
    Inherit(Span),
    Map(IndexMap<String, (Spanned<String>, Text)>),
}

/// `runs-on`.
#[derive(Debug, Clone, PartialEq)]
pub enum RunsOn {
    /// A label, a list of labels, or one expression.
    Labels(Vec<Text>),
    Group {
        group: Option<Text>,
        labels: Vec<Text>,
        span: Span,
    },
}

/// `environment`.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    pub name: Text,
    pub url: Option<Text>,
    pub deployment: Option<Spanned<OrExpr<bool>>>,
}

/// A job `container` or a service container.
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub span: Span,
    pub image: Option<Text>,
    pub credentials: Option<(Option<Text>, Option<Text>)>,
    /// `credentials: ${{ expr }}`: an object with `username` and
    /// `password` (then `credentials` is `None`).
    pub credentials_expr: Option<Text>,
    pub env: Env,
    pub ports: Vec<Text>,
    pub volumes: Vec<Text>,
    pub options: Option<Text>,
    /// A service container's `entrypoint` (overrides the image's).
    pub entrypoint: Option<Text>,
    /// A service container's `command` (arguments after the image).
    pub command: Option<Text>,
}

/// `strategy`.
#[derive(Debug, Clone)]
pub struct Strategy {
    pub span: Span,
    /// The `matrix` as written: a mapping (whose parts may be
    /// expressions) or one expression.
    pub matrix: Option<Node>,
    pub fail_fast: Option<Spanned<OrExpr<bool>>>,
    pub max_parallel: Option<Spanned<OrExpr<MaxParallel>>>,
}

/// A step of a job.
#[derive(Debug, Clone, Default)]
pub struct Step {
    pub span: Span,
    pub id: Option<Spanned<String>>,
    pub name: Option<Text>,
    pub condition: Option<Text>,
    pub action: StepAction,
    pub env: Env,
    pub continue_on_error: Option<Spanned<OrExpr<bool>>>,
    pub timeout_minutes: Option<Spanned<OrExpr<TimeoutMinutes>>>,
    pub background: Option<Spanned<bool>>,
}

/// What a step does.
#[derive(Debug, Clone, Default)]
pub enum StepAction {
    /// Only reached when the step could not be read.
    #[default]
    Invalid,
    Run {
        run: Text,
        shell: Option<Text>,
        working_directory: Option<Text>,
    },
    Uses {
        uses: Text,
        with: IndexMap<String, (Spanned<String>, Text)>,
    },
    /// Wait for background steps.
    Wait(Vec<Text>),
    /// Wait for all background steps.
    WaitAll,
    /// Cancel a background step.
    Cancel(Text),
    /// Run steps in parallel.
    Parallel(Vec<Step>),
}

impl Step {
    /// A name for the step as GitHub shows it: `name`, else `Run <first
    /// line>` or `Run <action>`.
    pub fn display_name(&self) -> String {
        if let Some(name) = &self.name {
            return name.value.clone();
        }
        match &self.action {
            StepAction::Run { run, .. } => {
                format!("Run {}", run.value.lines().next().unwrap_or("").trim())
            }
            StepAction::Uses { uses, .. } => format!("Run {}", uses.value),
            StepAction::Wait(_) => "Wait".to_string(),
            StepAction::WaitAll => "Wait for all".to_string(),
            StepAction::Cancel(_) => "Cancel".to_string(),
            StepAction::Parallel(_) => "Parallel".to_string(),
            StepAction::Invalid => "(invalid step)".to_string(),
        }
    }
}

/// An action's metadata file (`action.yml`).
#[derive(Debug, Clone)]
pub struct Action {
    pub source: Arc<SourceFile>,
    pub name: Option<Text>,
    pub description: Option<Text>,
    pub author: Option<Text>,
    pub inputs: IndexMap<String, ActionInput>,
    pub outputs: IndexMap<String, ActionOutput>,
    pub runs: Option<Runs>,
    /// The YAML the model was read from.
    pub yaml: Node,
}

/// An input of an action.
#[derive(Debug, Clone)]
pub struct ActionInput {
    pub id: Spanned<String>,
    pub description: Option<Text>,
    pub required: bool,
    pub default: Option<Text>,
    pub deprecation_message: Option<Text>,
}

/// An output of an action; composite actions give each a `value`.
#[derive(Debug, Clone)]
pub struct ActionOutput {
    pub id: Spanned<String>,
    pub description: Option<Text>,
    pub value: Option<Text>,
}

/// How an action runs.
#[derive(Debug, Clone)]
pub enum Runs {
    /// A JavaScript action (`using: node20`, ...).
    Node {
        using: Text,
        main: Text,
        pre: Option<Text>,
        post: Option<Text>,
        pre_if: Option<Text>,
        post_if: Option<Text>,
    },
    /// A container action.
    Docker {
        image: Text,
        entrypoint: Option<Text>,
        args: Vec<Text>,
        env: Env,
        pre_entrypoint: Option<Text>,
        post_entrypoint: Option<Text>,
    },
    /// A composite action: steps run in the calling job.
    Composite { steps: Vec<Step> },
}
