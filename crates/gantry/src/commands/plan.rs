//! `gantry plan`: which workflows and jobs an event would run.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use gantry_engine::event::{self, EventError, EventRequest};
use gantry_engine::plan::{
    Event, JobDecision, JobPlan, MatrixPlan, PlanDocument, Trigged, WorkflowPlan, plan_workflow,
};
use gantry_workflow::ListError;
use indexmap::IndexMap;

use super::{CliError, display_path, read_text};
use crate::Outcome;
use crate::cli::{PlanArgs, PlanFormat};

/// The workflow files to plan (or run).
pub(super) fn workflow_files(root: &Path, names: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    // A name that is not a file from here may be a file under .github/workflows.
    let names: Vec<PathBuf> = names
        .iter()
        .map(|n| {
            let inside = super::repo_path(root, n);
            if root.join(&inside).is_file() {
                inside
            } else {
                n.clone()
            }
        })
        .collect();
    gantry_workflow::workflow_files(root, &names).map_err(|err| match err {
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
    let file = args.event_file.map(|path| super::user_path(root, path));
    let text = file.as_deref().map(read_text).transpose()?;
    let name = file.as_ref().map(|f| f.display().to_string());
    let request = EventRequest {
        name: args.name,
        git_ref: args.git_ref,
        activity: args.activity,
        changed: args.changed,
        inputs: args.inputs,
        payload: text.as_deref().zip(name.as_deref()),
    };
    event::build_event(root, &request).map_err(|e| {
        let hint = matches!(e, EventError::Input(_))
            .then(|| "e.g. --input environment=staging".to_string());
        CliError::usage(e.to_string(), hint)
    })
}

pub fn run(root: &Path, home: &gantry_store::Home, args: PlanArgs) -> Result<Outcome, CliError> {
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
    let store = gantry_actions::ActionStore::new(home.actions());
    let plans: Vec<WorkflowPlan> = workflows
        .iter()
        .map(|w| {
            let mut plan = plan_workflow(w, &event);
            gantry_engine::marketplace::annotate(&mut plan, w, root, Some(&store));
            plan
        })
        .collect();
    let mut out = String::new();
    match args.format {
        PlanFormat::Json => {
            let json = PlanDocument::new(&event, &plans);
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
                // Container jobs need podman or docker.
                if let Some(image) = &job.container {
                    let _ = writeln!(out, "          container {image}");
                }
                for service in &job.services {
                    let _ = writeln!(out, "          service {} {}", service.id, service.image);
                }
                // Built-in actions always run; only the store's and the
                // missing ones are worth a line.
                for action in &job.actions {
                    if let Some(status) = action_status(action) {
                        let _ = writeln!(out, "          uses {status}");
                    }
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{running} of {} workflows triggered, {instances} job runs",
        plans.len()
    );
}

/// A marketplace action of a job and whether it can run; `None` for
/// gantry's built-in actions.
fn action_status(action: &gantry_engine::marketplace::JobAction) -> Option<String> {
    use gantry_engine::marketplace::ActionStatus;
    Some(match &action.status {
        ActionStatus::Builtin => return None,
        ActionStatus::Stored { key } => {
            format!(
                "{} (in the store, {})",
                action.uses,
                key.get(..12).unwrap_or(key)
            )
        }
        ActionStatus::Missing => {
            let add = gantry_actions::RemoteUses::parse_remote(&action.uses)
                .map(|u| u.repo_ref())
                .unwrap_or_else(|_| action.uses.clone());
            format!(
                "{} (missing: gantry actions add {add} --from PATH)",
                action.uses
            )
        }
        ActionStatus::Invalid { error } => format!("{} (invalid: {error})", action.uses),
    })
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
