//! Which contexts and special functions each workflow key may use.
//!
//! This is GitHub's "context availability" table. An expression that names
//! a context outside its place's list is an error when the file is read,
//! exactly as GitHub rejects it (`secrets` in a step `if`, `matrix` in a job
//! `if`, ...).

use gantry_expr::Allowed;

/// A place in a workflow where expressions may appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    /// `run-name`, workflow `concurrency`.
    WorkflowRunName,
    /// Workflow-level `env`.
    WorkflowEnv,
    /// `on.workflow_call.inputs.<id>.default`.
    CallInputDefault,
    /// `on.workflow_call.outputs.<id>.value`.
    CallOutputValue,
    /// Job `if`.
    JobIf,
    /// Job `strategy` (the matrix and its settings).
    JobStrategy,
    /// Job `name`, `runs-on`, `concurrency`, `environment`, `container`,
    /// `services`, `continue-on-error`, `timeout-minutes`, `with.<id>`.
    JobStrategyContext,
    /// Job `env`, `secrets.<id>`.
    JobEnv,
    /// Container and service `credentials`.
    ContainerCredentials,
    /// Container and service `env`.
    ContainerEnv,
    /// Job `defaults.run`.
    JobDefaults,
    /// `environment.url`.
    EnvironmentUrl,
    /// Job `outputs.<id>`.
    JobOutputs,
    /// Step `if`.
    StepIf,
    /// Step `name`, `run`, `with`, `env`, `working-directory`,
    /// `continue-on-error`, `timeout-minutes`.
    Step,
    /// A step `if` in a composite action.
    ActionStepIf,
    /// A step of a composite action (no `secrets`, no `vars`).
    ActionStep,
    /// An input `default` in an action.
    ActionInputDefault,
}

const STATUS: &[&str] = &["always", "cancelled", "success", "failure"];

impl Place {
    const ALL: [Place; 18] = [
        Place::WorkflowRunName,
        Place::WorkflowEnv,
        Place::CallInputDefault,
        Place::CallOutputValue,
        Place::JobIf,
        Place::JobStrategy,
        Place::JobStrategyContext,
        Place::JobEnv,
        Place::ContainerCredentials,
        Place::ContainerEnv,
        Place::JobDefaults,
        Place::EnvironmentUrl,
        Place::JobOutputs,
        Place::StepIf,
        Place::Step,
        Place::ActionStepIf,
        Place::ActionStep,
        Place::ActionInputDefault,
    ];

    /// The contexts and extra functions allowed here (built once).
    pub fn allowed(self) -> &'static Allowed {
        static TABLE: std::sync::OnceLock<Vec<Allowed>> = std::sync::OnceLock::new();
        let table = TABLE.get_or_init(|| Place::ALL.iter().map(|p| p.build()).collect());
        let index = Place::ALL.iter().position(|p| *p == self).unwrap_or(0);
        &table[index]
    }

    fn build(self) -> Allowed {
        use Place::*;
        let (contexts, functions): (&[&str], &[&str]) = match self {
            WorkflowRunName => (&["github", "inputs", "vars"], &[]),
            WorkflowEnv => (&["github", "secrets", "inputs", "vars"], &[]),
            CallInputDefault => (&["github", "inputs", "vars"], &[]),
            CallOutputValue => (&["github", "jobs", "vars", "inputs"], &[]),
            JobIf => (&["github", "needs", "vars", "inputs"], STATUS),
            JobStrategy => (&["github", "needs", "vars", "inputs"], &[]),
            JobStrategyContext => (
                &["github", "needs", "strategy", "matrix", "vars", "inputs"],
                &[],
            ),
            JobEnv => (
                &[
                    "github", "needs", "strategy", "matrix", "vars", "secrets", "inputs",
                ],
                &[],
            ),
            ContainerCredentials => (
                &[
                    "github", "needs", "strategy", "matrix", "env", "vars", "secrets", "inputs",
                ],
                &[],
            ),
            ContainerEnv => (
                &[
                    "github", "needs", "strategy", "matrix", "job", "runner", "env", "vars",
                    "secrets", "inputs",
                ],
                &[],
            ),
            JobDefaults => (
                &[
                    "github", "needs", "strategy", "matrix", "env", "vars", "inputs",
                ],
                &[],
            ),
            EnvironmentUrl => (
                &[
                    "github", "needs", "strategy", "matrix", "job", "runner", "env", "vars",
                    "steps", "inputs",
                ],
                &[],
            ),
            JobOutputs => (
                &[
                    "github", "needs", "strategy", "matrix", "job", "runner", "env", "vars",
                    "secrets", "steps", "inputs",
                ],
                &[],
            ),
            StepIf => (
                &[
                    "github", "needs", "strategy", "matrix", "job", "runner", "env", "vars",
                    "steps", "inputs",
                ],
                &["always", "cancelled", "success", "failure", "hashFiles"],
            ),
            Step => (
                &[
                    "github", "needs", "strategy", "matrix", "job", "runner", "env", "vars",
                    "secrets", "steps", "inputs",
                ],
                &["hashFiles"],
            ),
            ActionStepIf => (
                &[
                    "github", "inputs", "steps", "runner", "env", "job", "strategy", "matrix",
                ],
                &["always", "cancelled", "success", "failure", "hashFiles"],
            ),
            ActionStep => (
                &[
                    "github", "inputs", "steps", "runner", "env", "job", "strategy", "matrix",
                ],
                &["hashFiles"],
            ),
            ActionInputDefault => (
                &["github", "strategy", "matrix", "job", "runner", "env"],
                &[],
            ),
        };
        Allowed::new(contexts, functions)
    }
}

#[cfg(test)]
mod tests {
    use super::Place;

    #[test]
    fn every_place_has_its_own_table_entry() {
        for place in Place::ALL {
            assert_eq!(place.allowed(), &place.build(), "{place:?}");
        }
        assert!(!Place::JobIf.allowed().allows_named_value("matrix"));
        assert!(Place::Step.allowed().allows_named_value("secrets"));
        assert!(!Place::StepIf.allowed().allows_named_value("secrets"));
    }
}
