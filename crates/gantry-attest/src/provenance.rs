//! SLSA Provenance v1 for workflow runs: how an artifact was built (the
//! workflow, its trigger and inputs), from what (the commit, local actions,
//! lockfiles), by which builder, in which run, and the logs it left.
//!
//! The executor fills a [`RunFacts`] as a run goes; [`statements_for_run`]
//! then gives one statement per uploaded artifact. Nothing here runs or
//! reads anything, so the same code serves `gantry run --attest` and
//! `gantry attest --predicate-type slsa-provenance` from a checkout.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::PredicateError;
use crate::statement::{Statement, Subject};
use crate::time::rfc3339;

/// The predicate type of SLSA Provenance v1.
pub const PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// The build type of a gantry workflow run: its external parameters are
/// `workflow` (path), `ref`, `event` and `inputs`.
pub const GANTRY_BUILD_TYPE: &str = "https://gantry.dev/buildtypes/workflow-run/v1";
/// The builder id when none is configured.
pub const DEFAULT_BUILDER_ID: &str = "https://gantry.dev/builders/local/v1";

/// An in-toto ResourceDescriptor (the fields gantry uses).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDescriptor {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uri: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub media_type: String,
}

impl ResourceDescriptor {
    pub fn file(name: impl Into<String>, sha256: impl Into<String>) -> Self {
        ResourceDescriptor {
            name: name.into(),
            digest: BTreeMap::from([("sha256".to_string(), sha256.into())]),
            ..Default::default()
        }
    }
}

/// What a run knows about itself, for its provenance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFacts {
    /// The workflow file, relative to the repository root.
    pub workflow_path: String,
    /// The branch or tag (`refs/heads/main`).
    pub git_ref: Option<String>,
    /// The triggering event (`push`, `workflow_dispatch`, ...).
    pub event: String,
    /// `workflow_dispatch` / `workflow_call` inputs.
    pub inputs: BTreeMap<String, Value>,
    /// The repository, as a URI (`git+https://...` or `file:///...`).
    pub repository: Option<String>,
    /// The commit the run built (git SHA-1 or SHA-256, hex).
    pub commit: Option<String>,
    /// Files of local actions the workflow used: path and SHA-256.
    pub local_actions: Vec<(String, String)>,
    /// Lockfiles of the repository: path and SHA-256.
    pub lockfiles: Vec<(String, String)>,
    pub builder_id: String,
    /// gantry's version, recorded with the builder.
    pub builder_version: Option<String>,
    /// The run id (`invocationId`).
    pub run_id: String,
    /// Start and finish, seconds since the epoch.
    pub started: i64,
    pub finished: i64,
    /// Logs of the run: name and SHA-256 (byproducts).
    pub logs: Vec<(String, String)>,
}

/// An uploaded artifact: its name and its files as subjects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub name: String,
    pub files: Vec<Subject>,
}

/// The digest of a commit, under the in-toto name `gitCommit`.
fn git_digest(commit: &str) -> (&'static str, String) {
    ("gitCommit", commit.to_ascii_lowercase())
}

/// The provenance predicate of a run.
pub fn provenance_predicate(facts: &RunFacts) -> Value {
    let mut external = serde_json::Map::new();
    external.insert("workflow".into(), json!({ "path": facts.workflow_path }));
    if let Some(r) = &facts.git_ref {
        external.insert("ref".into(), json!(r));
    }
    external.insert("event".into(), json!(facts.event));
    external.insert(
        "inputs".into(),
        Value::Object(facts.inputs.clone().into_iter().collect()),
    );
    if let Some(repo) = &facts.repository {
        external.insert("repository".into(), json!(repo));
    }

    let mut deps: Vec<ResourceDescriptor> = Vec::new();
    if facts.repository.is_some() || facts.commit.is_some() {
        let mut d = ResourceDescriptor {
            name: "source".into(),
            uri: facts.repository.clone().unwrap_or_default(),
            ..Default::default()
        };
        if let Some(commit) = &facts.commit {
            let (alg, hex) = git_digest(commit);
            d.digest.insert(alg.into(), hex);
        }
        deps.push(d);
    }
    let mut actions = facts.local_actions.clone();
    actions.sort();
    deps.extend(
        actions
            .into_iter()
            .map(|(p, d)| ResourceDescriptor::file(p, d)),
    );
    let mut locks = facts.lockfiles.clone();
    locks.sort();
    deps.extend(
        locks
            .into_iter()
            .map(|(p, d)| ResourceDescriptor::file(p, d)),
    );

    let mut builder = json!({ "id": facts.builder_id });
    if let Some(v) = &facts.builder_version {
        builder["version"] = json!({ "gantry": v });
    }
    let mut logs = facts.logs.clone();
    logs.sort();
    let byproducts: Vec<ResourceDescriptor> = logs
        .into_iter()
        .map(|(n, d)| ResourceDescriptor {
            media_type: "text/plain".into(),
            ..ResourceDescriptor::file(n, d)
        })
        .collect();

    json!({
        "buildDefinition": {
            "buildType": GANTRY_BUILD_TYPE,
            "externalParameters": external,
            "internalParameters": {},
            "resolvedDependencies": deps,
        },
        "runDetails": {
            "builder": builder,
            "metadata": {
                "invocationId": facts.run_id,
                "startedOn": rfc3339(facts.started),
                "finishedOn": rfc3339(facts.finished),
            },
            "byproducts": byproducts,
        }
    })
}

/// One provenance statement per artifact, its files as the subjects.
/// Artifacts without files get none.
pub fn statements_for_run(facts: &RunFacts, artifacts: &[Artifact]) -> Vec<Statement> {
    let predicate = provenance_predicate(facts);
    artifacts
        .iter()
        .filter(|a| !a.files.is_empty())
        .map(|a| Statement::new(a.files.clone(), PROVENANCE_V1, predicate.clone()))
        .collect()
}

/// Checks the shape SLSA Provenance v1 requires.
pub fn check_predicate(predicate: &Value) -> Result<(), PredicateError> {
    use PredicateError::{Invalid, Missing};
    let def = predicate
        .get("buildDefinition")
        .filter(|v| v.is_object())
        .ok_or(Missing {
            field: "buildDefinition",
            kind: "object",
        })?;
    if !def.get("buildType").is_some_and(Value::is_string) {
        return Err(Missing {
            field: "buildDefinition.buildType",
            kind: "string",
        });
    }
    if !def.get("externalParameters").is_some_and(Value::is_object) {
        return Err(Missing {
            field: "buildDefinition.externalParameters",
            kind: "object",
        });
    }
    if let Some(deps) = def.get("resolvedDependencies")
        && !deps.is_array()
    {
        return Err(Invalid {
            field: "buildDefinition.resolvedDependencies",
            want: "an array",
        });
    }
    let run = predicate
        .get("runDetails")
        .filter(|v| v.is_object())
        .ok_or(Missing {
            field: "runDetails",
            kind: "object",
        })?;
    if !run
        .get("builder")
        .and_then(|b| b.get("id"))
        .is_some_and(Value::is_string)
    {
        return Err(Missing {
            field: "runDetails.builder.id",
            kind: "string",
        });
    }
    if let Some(meta) = run.get("metadata") {
        for (key, field) in [
            ("startedOn", "runDetails.metadata.startedOn"),
            ("finishedOn", "runDetails.metadata.finishedOn"),
        ] {
            if let Some(t) = meta.get(key) {
                let ok = t.as_str().and_then(crate::time::parse_rfc3339).is_some();
                if !ok {
                    return Err(Invalid {
                        field,
                        want: "an RFC 3339 time",
                    });
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn facts() -> RunFacts {
        RunFacts {
            workflow_path: ".github/workflows/ci.yml".into(),
            git_ref: Some("refs/heads/main".into()),
            event: "push".into(),
            inputs: BTreeMap::from([("suite".to_string(), json!("unit"))]),
            repository: Some("git+https://example.com/acme/app".into()),
            commit: Some("a".repeat(40)),
            local_actions: vec![(".github/actions/b/action.yml".into(), "1".repeat(64))],
            lockfiles: vec![("Cargo.lock".into(), "2".repeat(64))],
            builder_id: DEFAULT_BUILDER_ID.into(),
            builder_version: Some("0.1.0".into()),
            run_id: "42".into(),
            started: 1_700_000_000,
            finished: 1_700_000_060,
            logs: vec![("build.log".into(), "3".repeat(64))],
        }
    }

    #[test]
    fn one_statement_per_artifact_with_every_field() {
        let artifacts = [
            Artifact {
                name: "dist".into(),
                files: vec![Subject::sha256("dist/app", "4".repeat(64))],
            },
            Artifact {
                name: "empty".into(),
                files: vec![],
            },
        ];
        let statements = statements_for_run(&facts(), &artifacts);
        assert_eq!(statements.len(), 1);
        let p = &statements[0].predicate;
        check_predicate(p).unwrap();
        assert_eq!(p["buildDefinition"]["buildType"], GANTRY_BUILD_TYPE);
        assert_eq!(
            p["buildDefinition"]["externalParameters"]["workflow"]["path"],
            ".github/workflows/ci.yml"
        );
        assert_eq!(
            p["buildDefinition"]["externalParameters"]["inputs"]["suite"],
            "unit"
        );
        let deps = p["buildDefinition"]["resolvedDependencies"]
            .as_array()
            .unwrap();
        assert_eq!(deps.len(), 3);
        assert_eq!(deps[0]["digest"]["gitCommit"], "a".repeat(40));
        assert_eq!(p["runDetails"]["metadata"]["invocationId"], "42");
        assert_eq!(
            p["runDetails"]["metadata"]["startedOn"],
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(p["runDetails"]["byproducts"][0]["name"], "build.log");
    }

    #[test]
    fn malformed_predicates_are_named() {
        let mut p = provenance_predicate(&facts());
        p["runDetails"]["builder"] = json!({});
        let err = check_predicate(&p).unwrap_err();
        assert!(
            matches!(
                err,
                PredicateError::Missing {
                    field: "runDetails.builder.id",
                    kind: "string"
                }
            ),
            "{err}"
        );
        assert_eq!(err.to_string(), "missing `runDetails.builder.id` string");
        p["runDetails"]["builder"] = json!({"id": "b"});
        p["runDetails"]["metadata"]["startedOn"] = json!("yesterday");
        assert_eq!(
            check_predicate(&p).unwrap_err().to_string(),
            "`runDetails.metadata.startedOn` must be an RFC 3339 time"
        );
        assert!(check_predicate(&json!([])).is_err());
    }
}
