//! `gantry plan`: which workflows and jobs an event would run.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use gantry_engine::plan::{
    Event, JobDecision, JobPlan, MatrixPlan, Trigged, WorkflowPlan, plan_workflow,
};
use gantry_workflow::ListError;
use indexmap::IndexMap;
use serde::Serialize;

use super::{CliError, display_path, read_text};
use crate::Outcome;
use crate::cli::{PlanArgs, PlanFormat};

/// The workflow files to plan (or run).
pub(super) fn workflow_files(root: &Path, names: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    gantry_workflow::workflow_files(root, names).map_err(|err| match err {
        ListError::Read { path, source } => CliError::Read { path, source },
        ListError::NoWorkflow { name, dir } => CliError::usage(
            format!("no workflow '{}'", name.display()),
            Some(format!(
                "give a path, or a file name under {}",
                display_path(root, &dir)
            )),
        ),
        other => CliError::usage(other.to_string(), None),
    })
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

/// What the command line says about the event.
pub(super) struct EventArgs<'a> {
    pub name: &'a str,
    pub git_ref: Option<&'a str>,
    pub activity: Option<&'a str>,
    pub changed: &'a [String],
    pub inputs: &'a [String],
    pub event_file: Option<&'a Path>,
}

/// The event a plan or run is for: flags first, then the payload file,
/// then the checked-out branch.
pub(super) fn build_event(root: &Path, args: &EventArgs<'_>) -> Result<Event, CliError> {
    let mut event = Event {
        name: args.name.to_string(),
        activity: args.activity.map(str::to_string),
        ..Event::default()
    };
    if let Some(path) = args.event_file {
        let path = if path.is_absolute() {
            path.to_path_buf()
        } else {
            root.join(path)
        };
        let text = read_text(&path)?;
        event.payload = serde_json::from_str(&text).map_err(|e| {
            CliError::usage(format!("{} is not valid JSON: {e}", path.display()), None)
        })?;
        if !event.payload.is_object() {
            return Err(CliError::usage(
                format!(
                    "{} must hold a JSON object (a webhook payload)",
                    path.display()
                ),
                None,
            ));
        }
    }
    let payload_ref = event
        .payload
        .pointer("/pull_request/base/ref")
        .or_else(|| event.payload.get("ref"))
        .and_then(|r| r.as_str())
        .map(str::to_string);
    event.git_ref = args
        .git_ref
        .map(full_ref)
        .or(payload_ref.map(|r| full_ref(&r)))
        .or_else(|| current_ref(root));
    if !args.changed.is_empty() {
        event.changed = Some(args.changed.to_vec());
    }
    if let Some(inputs) = event.payload.get("inputs").and_then(|i| i.as_object()) {
        for (k, v) in inputs {
            let value = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            event.inputs.insert(k.clone(), value);
        }
    }
    for input in args.inputs {
        let Some((name, value)) = input.split_once('=') else {
            return Err(CliError::usage(
                format!("--input '{input}' is not NAME=VALUE"),
                Some("e.g. --input environment=staging".to_string()),
            ));
        };
        event.inputs.insert(name.to_string(), value.to_string());
    }
    event.workflow_run_name = event
        .payload
        .pointer("/workflow_run/name")
        .and_then(|n| n.as_str())
        .map(str::to_string);
    Ok(event)
}

#[derive(Serialize)]
struct JsonPlan<'a> {
    event: JsonEvent<'a>,
    workflows: &'a [WorkflowPlan],
}

#[derive(Serialize)]
struct JsonEvent<'a> {
    name: &'a str,
    #[serde(rename = "ref")]
    git_ref: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    activity: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    changed: Option<&'a [String]>,
    inputs: &'a IndexMap<String, String>,
}

pub fn run(root: &Path, args: PlanArgs) -> Result<Outcome, CliError> {
    let files = workflow_files(root, &args.workflows)?;
    let event = build_event(
        root,
        &EventArgs {
            name: &args.event,
            git_ref: args.git_ref.as_deref(),
            activity: args.activity.as_deref(),
            changed: &args.changed,
            inputs: &args.inputs,
            event_file: args.event_file.as_deref(),
        },
    )?;
    let (workflows, invalid) = super::read_workflows(root, &files)?;
    let plans: Vec<WorkflowPlan> = workflows.iter().map(|w| plan_workflow(w, &event)).collect();
    let mut out = String::new();
    match args.format {
        PlanFormat::Json => {
            let json = JsonPlan {
                event: JsonEvent {
                    name: &event.name,
                    git_ref: event.git_ref.as_deref(),
                    activity: event.activity.as_deref(),
                    changed: event.changed.as_deref(),
                    inputs: &event.inputs,
                },
                workflows: &plans,
            };
            out = serde_json::to_string_pretty(&json).map_err(std::io::Error::from)?;
            out.push('\n');
        }
        PlanFormat::Human => human(&mut out, &event, &plans),
        PlanFormat::Dot => dot(&mut out, &plans),
        PlanFormat::Mermaid => mermaid(&mut out, &plans),
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    if invalid {
        eprintln!(
            "some workflows are invalid and were not planned; run `gantry validate` for details"
        );
        return Ok(Outcome::Usage);
    }
    Ok(Outcome::Success)
}

/// A combination as `value, value, ...`, as GitHub suffixes job names.
fn combination_text(combination: &serde_json::Value) -> String {
    match combination {
        serde_json::Value::Object(map) => map
            .values()
            .map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

fn combination_label(job: &JobPlan) -> String {
    match &job.matrix {
        MatrixPlan::None => String::new(),
        MatrixPlan::Static { combinations } => {
            let shown: Vec<String> = combinations.iter().take(4).map(combination_text).collect();
            let more = combinations.len().saturating_sub(shown.len());
            format!(
                " × {} [{}{}]",
                combinations.len(),
                shown.join("; "),
                if more > 0 {
                    format!("; +{more} more")
                } else {
                    String::new()
                }
            )
        }
        MatrixPlan::Dynamic { expression } => format!(" × matrix from {expression} (at run time)"),
    }
}

fn human(out: &mut String, event: &Event, plans: &[WorkflowPlan]) {
    let _ = writeln!(
        out,
        "event {} on {}",
        event.name,
        event.git_ref.as_deref().unwrap_or("(no ref)")
    );
    let mut running = 0;
    let mut instances = 0;
    for plan in plans {
        let _ = writeln!(out);
        match &plan.trigger {
            Trigged::Skipped { reason } => {
                let _ = writeln!(
                    out,
                    "  {} ({}): not triggered: {reason}",
                    plan.name, plan.path
                );
                continue;
            }
            Trigged::Runs => {
                running += 1;
                let _ = writeln!(out, "  {} ({}): runs", plan.name, plan.path);
            }
        }
        let jobs: IndexMap<&str, &JobPlan> = plan.jobs.iter().map(|j| (j.id.as_str(), j)).collect();
        for (depth, level) in plan.levels.iter().enumerate() {
            let _ = writeln!(out, "    stage {}", depth + 1);
            for id in level {
                let Some(job) = jobs.get(id.as_str()) else {
                    continue;
                };
                let needs = if job.needs.is_empty() {
                    String::new()
                } else {
                    format!("  (needs {})", job.needs.join(", "))
                };
                let uses = job
                    .uses
                    .as_ref()
                    .map(|u| format!("  → {u}"))
                    .unwrap_or_default();
                let (mark, note) = match &job.decision {
                    JobDecision::Runs => {
                        instances += job.instances();
                        ("✓", String::new())
                    }
                    JobDecision::AtRuntime { condition } => {
                        instances += job.instances();
                        (
                            "?",
                            format!("  if: {} (decided at run time)", condition.trim()),
                        )
                    }
                    JobDecision::Skipped { reason } => ("✗", format!("  skipped: {reason}")),
                };
                let _ = writeln!(
                    out,
                    "      {mark} {}{}{needs}{uses}{note}",
                    job.id,
                    combination_label(job)
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{running} of {} workflows triggered, {instances} job runs",
        plans.len()
    );
}

fn node_id(workflow: usize, job: &str) -> String {
    let clean: String = job
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("w{workflow}_{clean}")
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn dot(out: &mut String, plans: &[WorkflowPlan]) {
    let _ = writeln!(out, "digraph plan {{\n  rankdir=LR;\n  node [shape=box];");
    for (i, plan) in plans.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph cluster_{i} {{\n    label=\"{}\";",
            escape(&plan.name)
        );
        for job in &plan.jobs {
            let style = match job.decision {
                JobDecision::Runs => "solid",
                JobDecision::AtRuntime { .. } => "dashed",
                JobDecision::Skipped { .. } => "dotted",
            };
            let _ = writeln!(
                out,
                "    {} [label=\"{}{}\", style={style}];",
                node_id(i, &job.id),
                escape(&job.id),
                escape(&combination_label(job))
            );
        }
        let _ = writeln!(out, "  }}");
        for job in &plan.jobs {
            for need in &job.needs {
                let _ = writeln!(out, "  {} -> {};", node_id(i, need), node_id(i, &job.id));
            }
        }
    }
    let _ = writeln!(out, "}}");
}

fn mermaid(out: &mut String, plans: &[WorkflowPlan]) {
    let _ = writeln!(out, "flowchart LR");
    for (i, plan) in plans.iter().enumerate() {
        let _ = writeln!(out, "  subgraph w{i}[\"{}\"]", plan.name.replace('"', "'"));
        for job in &plan.jobs {
            let label = format!("{}{}", job.id, combination_label(job)).replace('"', "'");
            let shape = match job.decision {
                JobDecision::Runs => format!("[\"{label}\"]"),
                JobDecision::AtRuntime { .. } => format!("{{\"{label}\"}}"),
                JobDecision::Skipped { .. } => format!("([\"{label} (skipped)\"])"),
            };
            let _ = writeln!(out, "    {}{shape}", node_id(i, &job.id));
        }
        let _ = writeln!(out, "  end");
        for job in &plan.jobs {
            for need in &job.needs {
                let _ = writeln!(out, "  {} --> {}", node_id(i, need), node_id(i, &job.id));
            }
        }
    }
}
