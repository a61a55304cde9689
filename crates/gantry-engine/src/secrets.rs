//! The secrets a workflow reads that the run was not given, found before it
//! starts so that a job does not fail later on an empty value.

use gantry_workflow::Workflow;
use gantry_workflow::model::JobKind;
use gantry_workflow::yaml::{Node, NodeKind};
use indexmap::IndexMap;

use crate::plan::{Event, JobDecision, plan_workflow};

/// A secret read by `${{ secrets.NAME }}` that nothing supplies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingSecret {
    /// The name as first written.
    pub name: String,
    /// The jobs that read it; empty when only the workflow's `env:` does.
    pub jobs: Vec<String>,
}

/// The secrets `workflow` reads for `event` that `given(name, environment)`
/// says are not supplied, in the order first read. Jobs whose `if:` is false
/// for the event are left out. `environment` is the literal
/// `environment:` name of the reading job, when it has one, so that the
/// caller can count that environment's own secrets. Names compare without
/// case, as GitHub's do.
pub fn missing_secrets(
    workflow: &Workflow,
    event: &Event,
    given: impl Fn(&str, Option<&str>) -> bool,
) -> Vec<MissingSecret> {
    let skipped: Vec<String> = plan_workflow(workflow, event)
        .jobs
        .into_iter()
        .filter(|j| matches!(j.decision, JobDecision::Skipped { .. }))
        .map(|j| j.id)
        .collect();
    let NodeKind::Map(top) = &workflow.yaml.kind else {
        return Vec::new();
    };
    // What reads secrets: the workflow's own keys (no job), and each job
    // of the run whose `if:` is not false.
    let mut readers: Vec<(Option<&str>, &Node)> = Vec::new();
    for (key, value) in top {
        match (&key.kind, &value.kind) {
            (NodeKind::String(k), NodeKind::Map(jobs)) if k == "jobs" => {
                for (id, node) in jobs {
                    if let NodeKind::String(id) = &id.kind
                        && workflow.jobs.contains_key(id)
                        && !skipped.contains(id)
                    {
                        readers.push((Some(id.as_str()), node));
                    }
                }
            }
            (NodeKind::String(k), _) if k == "jobs" => {}
            _ => readers.push((None, value)),
        }
    }
    let mut missing: IndexMap<String, MissingSecret> = IndexMap::new();
    for (job, node) in readers {
        let environment = job.and_then(|id| environment_name(workflow, id));
        for name in secrets_read(node) {
            if given(&name, environment) {
                continue;
            }
            let entry = missing
                .entry(name.to_ascii_uppercase())
                .or_insert_with(|| MissingSecret {
                    name,
                    jobs: Vec::new(),
                });
            if let Some(id) = job
                && !entry.jobs.iter().any(|j| j == id)
            {
                entry.jobs.push(id.to_string());
            }
        }
    }
    missing.into_values().collect()
}

/// The literal `environment:` name of job `id`, when it has one.
fn environment_name<'w>(workflow: &'w Workflow, id: &str) -> Option<&'w str> {
    match &workflow.jobs.get(id)?.kind {
        JobKind::Steps(steps) => steps
            .environment
            .as_ref()
            .map(|e| e.name.value.as_str())
            .filter(|n| !n.contains("${{")),
        JobKind::Call(_) => None,
    }
}

/// The secret names the `${{ }}` expressions under `node` read.
fn secrets_read(node: &Node) -> Vec<String> {
    fn walk(node: &Node, out: &mut Vec<String>) {
        match &node.kind {
            NodeKind::String(s) if s.contains("${{") => {
                let Ok(template) = gantry_expr::parse_template(s) else {
                    return;
                };
                for e in template.parsed_expressions() {
                    for path in e.expr.context_paths() {
                        if let Some(name) = path.strip_prefix("secrets.")
                            && name != "*"
                        {
                            out.push(original_case(&e.text, name));
                        }
                    }
                }
            }
            NodeKind::Seq(items) => items.iter().for_each(|i| walk(i, out)),
            NodeKind::Map(pairs) => pairs.iter().for_each(|(_, v)| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(node, &mut out);
    out
}

/// `name` (lower-cased by the path) as written in `text`, when found.
fn original_case(text: &str, name: &str) -> String {
    let lower = text.to_ascii_lowercase();
    match lower.find(name) {
        Some(at) => text.get(at..at + name.len()).unwrap_or(name).to_string(),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn workflow(yaml: &str) -> Workflow {
        gantry_workflow::read_workflow(
            gantry_workflow::SourceFile::new("ci.yml", yaml),
            &gantry_workflow::ReadOptions::default(),
        )
        .value
        .unwrap()
    }

    fn push() -> Event {
        Event {
            name: "push".into(),
            git_ref: Some("refs/heads/main".into()),
            ..Event::default()
        }
    }

    #[test]
    fn lists_unsupplied_secrets_with_their_jobs() {
        let w = workflow(
            "on: push
env:
  GLOBAL: ${{ secrets.Global_Token }}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ secrets.NPM_TOKEN }} ${{ secrets['Given'] }}
  release:
    if: startsWith(github.ref, 'refs/tags/')
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ secrets.RELEASE_ONLY }}
  deploy:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - run: echo ${{ secrets.DEPLOY_KEY }} ${{ secrets.npm_token }}
",
        );
        let missing = missing_secrets(&w, &push(), |name, env| {
            name.eq_ignore_ascii_case("given")
                || (env == Some("production") && name.eq_ignore_ascii_case("deploy_key"))
        });
        assert_eq!(
            missing,
            vec![
                MissingSecret {
                    name: "Global_Token".into(),
                    jobs: vec![]
                },
                MissingSecret {
                    name: "NPM_TOKEN".into(),
                    jobs: vec!["build".into(), "deploy".into()]
                },
            ]
        );
    }

    #[test]
    fn nothing_is_missing_when_everything_is_given() {
        let w = workflow(
            "on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ secrets.X }} ${{ toJSON(secrets) }}
",
        );
        assert!(missing_secrets(&w, &push(), |_, _| true).is_empty());
    }
}
