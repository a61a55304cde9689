//! Running part of a workflow: `gantry run --job ID` (with the jobs it
//! needs, or alone with `--no-deps`) and `--matrix KEY:VALUE`.

use gantry_workflow::model::Workflow;
use indexmap::IndexSet;

/// What part of a workflow a run runs, beyond which jobs it holds.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `--matrix KEY:VALUE` filters: a job whose matrix has KEY runs only
    /// the combinations where KEY is VALUE.
    pub matrix: Vec<(String, String)>,
    /// Results of needed jobs that are not in the run (`--no-deps`), as an
    /// earlier run of the same commit left them.
    pub given_needs: indexmap::IndexMap<String, GivenNeed>,
    /// The run those results come from: artifacts not found in this run
    /// are downloaded from it.
    pub artifacts_from: Option<u64>,
}

/// A needed job's result taken from an earlier run.
#[derive(Debug, Clone)]
pub struct GivenNeed {
    pub result: crate::run::Conclusion,
    pub outputs: indexmap::IndexMap<String, String>,
}

impl Selection {
    /// Whether a combination's values pass the matrix filters; a filter
    /// whose key the job's matrix does not have does not apply to it.
    pub fn keeps(
        &self,
        values: &indexmap::IndexMap<String, gantry_expr::Value>,
        matrix_keys: &IndexSet<String>,
    ) -> bool {
        self.matrix.iter().all(|(key, want)| {
            if !matrix_keys.contains(key) {
                return true;
            }
            values
                .get(key)
                .is_some_and(|v| v.to_display_string() == *want)
        })
    }
}

/// Why a selection cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectError {
    #[error("{workflow} has no job `{job}`{}", hint.as_ref().map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default())]
    UnknownJob {
        workflow: String,
        job: String,
        hint: Option<String>,
    },
    #[error("--matrix `{0}` is not KEY:VALUE")]
    Matrix(String),
}

/// A `--matrix KEY:VALUE` filter: `KEY:VALUE` or `KEY=VALUE`.
pub fn parse_matrix(text: &str) -> Result<(String, String), SelectError> {
    let (key, value) = text
        .split_once(':')
        .or_else(|| text.split_once('='))
        .ok_or_else(|| SelectError::Matrix(text.to_string()))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(SelectError::Matrix(text.to_string()));
    }
    Ok((key.to_string(), value.trim().to_string()))
}

/// The jobs of `workflow` a run of `wanted` runs: each wanted job and,
/// unless `no_deps`, every job it needs, directly or not. With `no_deps`
/// the wanted jobs keep their `needs`, which the run then takes from
/// results given to it (see `RunOptions::given_needs`).
pub fn select_jobs(
    workflow: &Workflow,
    shown: &str,
    wanted: &[String],
    no_deps: bool,
) -> Result<Workflow, SelectError> {
    let mut keep: IndexSet<String> = IndexSet::new();
    let mut queue: Vec<String> = Vec::new();
    for want in wanted {
        let Some((id, _)) = workflow
            .jobs
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(want))
        else {
            return Err(SelectError::UnknownJob {
                workflow: shown.to_string(),
                job: want.clone(),
                hint: gantry_workflow::did_you_mean(want, workflow.jobs.keys().map(String::as_str))
                    .map(str::to_string),
            });
        };
        if keep.insert(id.clone()) {
            queue.push(id.clone());
        }
    }
    while let Some(id) = queue.pop() {
        if no_deps {
            break;
        }
        let Some(job) = workflow.jobs.get(&id) else {
            continue;
        };
        for need in &job.needs {
            if let Some((needed, _)) = workflow
                .jobs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&need.value))
                && keep.insert(needed.clone())
            {
                queue.push(needed.clone());
            }
        }
    }
    let mut selected = workflow.clone();
    selected.jobs.retain(|id, _| keep.contains(id));
    Ok(selected)
}

/// The jobs `workflow`'s selected jobs need but that are not selected:
/// what `--no-deps` takes from an earlier run.
pub fn missing_needs(workflow: &Workflow) -> Vec<String> {
    let mut missing: IndexSet<String> = IndexSet::new();
    for job in workflow.jobs.values() {
        for need in &job.needs {
            if !workflow
                .jobs
                .keys()
                .any(|k| k.eq_ignore_ascii_case(&need.value))
            {
                missing.insert(need.value.clone());
            }
        }
    }
    missing.into_iter().collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn workflow() -> Workflow {
        let text = "on: push\njobs:\n  lint:\n    runs-on: x\n    steps: [{run: 'true'}]\n  build:\n    runs-on: x\n    steps: [{run: 'true'}]\n  test:\n    needs: build\n    runs-on: x\n    steps: [{run: 'true'}]\n  deploy:\n    needs: [test, lint]\n    runs-on: x\n    steps: [{run: 'true'}]\n";
        gantry_workflow::read_workflow(
            gantry_workflow::SourceFile::new("ci.yml", text.to_string()),
            &gantry_workflow::ReadOptions::default(),
        )
        .value
        .unwrap()
    }

    #[test]
    fn a_job_brings_what_it_needs_unless_no_deps() {
        let w = workflow();
        let ids = |w: &Workflow| w.jobs.keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            ids(&select_jobs(&w, "ci.yml", &["test".into()], false).unwrap()),
            ["build", "test"]
        );
        assert_eq!(
            ids(&select_jobs(&w, "ci.yml", &["DEPLOY".into()], false).unwrap()),
            ["lint", "build", "test", "deploy"]
        );
        let alone = select_jobs(&w, "ci.yml", &["deploy".into()], true).unwrap();
        assert_eq!(ids(&alone), ["deploy"]);
        assert_eq!(missing_needs(&alone), ["test", "lint"]);
    }

    #[test]
    fn an_unknown_job_says_which_it_might_be() {
        let err = select_jobs(&workflow(), "ci.yml", &["tset".into()], false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ci.yml has no job `tset` (did you mean `test`?)"
        );
    }

    #[test]
    fn matrix_filters_take_a_colon_or_an_equals_sign() {
        assert_eq!(
            parse_matrix("python:3.12").unwrap(),
            ("python".into(), "3.12".into())
        );
        assert_eq!(
            parse_matrix("os=ubuntu").unwrap(),
            ("os".into(), "ubuntu".into())
        );
        assert!(parse_matrix("nothing").is_err());
        assert!(parse_matrix(":x").is_err());
    }
}
