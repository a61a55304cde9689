//! The contexts expressions see while a job runs (`github`, `env`, `job`,
//! `steps`, `runner`, `needs`, `matrix`, `strategy`, `inputs`, `secrets`,
//! `vars`) and the functions the runner supplies: the status functions and
//! `hashFiles`.

use std::path::{Path, PathBuf};

use gantry_expr::{Context, EvalError, Object, Value};
use sha2::{Digest, Sha256};

/// How a job is doing, as the status functions see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    Failure,
    Cancelled,
    /// A needed job was skipped: neither success nor failure.
    Skipped,
}

/// The named values of one evaluation.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub values: Object,
    /// Where `hashFiles` looks (the workspace); `None` where it is not
    /// available.
    pub workspace: Option<PathBuf>,
    pub status: Option<Status>,
}

impl Scope {
    pub fn with(mut self, name: &str, value: Value) -> Self {
        self.values.insert(name.to_string(), value);
        self
    }

    pub fn set(&mut self, name: &str, value: Value) {
        self.values.insert(name.to_string(), value);
    }
}

impl Context for Scope {
    fn named_value(&self, name: &str) -> Option<Value> {
        self.values.get(name).cloned()
    }

    fn named_value_ref(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
        let status = self.status.unwrap_or(Status::Success);
        match name.to_ascii_lowercase().as_str() {
            "success" => Some(Ok(Value::Bool(status == Status::Success))),
            "failure" => Some(Ok(Value::Bool(status == Status::Failure))),
            "cancelled" => Some(Ok(Value::Bool(status == Status::Cancelled))),
            "always" => Some(Ok(Value::Bool(true))),
            "hashfiles" => Some(match &self.workspace {
                Some(dir) => hash_files(dir, args).map(Value::String),
                None => Err(EvalError::custom("hashFiles is not available here")),
            }),
            _ => None,
        }
    }
}

/// `hashFiles(patterns...)`: the SHA-256 of the SHA-256s of every matching
/// file under the workspace, in path order; empty when nothing matches.
pub fn hash_files(workspace: &Path, args: &[Value]) -> Result<String, EvalError> {
    let mut patterns = Vec::new();
    for arg in args {
        let text = arg.to_display_string();
        patterns.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string),
        );
    }
    let filter = gantry_workflow::filter::Filter::new(&patterns)
        .map_err(|e| EvalError::custom(format!("hashFiles: invalid pattern: {e}")))?;
    let mut files: Vec<PathBuf> = Vec::new();
    let walker = ignore::WalkBuilder::new(workspace)
        .hidden(false)
        .git_ignore(false)
        .git_exclude(false)
        .ignore(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(workspace) else {
            continue;
        };
        let relative = relative.to_string_lossy().replace('\\', "/");
        if filter.matches(&relative) {
            files.push(entry.path().to_path_buf());
        }
    }
    if files.is_empty() {
        return Ok(String::new());
    }
    files.sort();
    let mut outer = Sha256::new();
    for file in files {
        let bytes = std::fs::read(&file).map_err(|e| {
            EvalError::custom(format!("hashFiles: cannot read {}: {e}", file.display()))
        })?;
        outer.update(Sha256::digest(&bytes));
    }
    Ok(format!("{:x}", outer.finalize()))
}

/// A `steps.<id>` entry.
pub fn step_value(outputs: &[(String, String)], outcome: &str, conclusion: &str) -> Value {
    let mut o = Object::new();
    o.insert(
        "outputs".into(),
        Value::Object(
            outputs
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
    );
    o.insert("outcome".into(), Value::String(outcome.into()));
    o.insert("conclusion".into(), Value::String(conclusion.into()));
    Value::Object(o)
}

/// A map of strings as an object value.
pub fn strings<'a>(pairs: impl IntoIterator<Item = (&'a String, &'a String)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hash_files_is_stable_and_empty_without_matches() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/x.lock"), "1").unwrap();
        std::fs::write(dir.path().join("y.lock"), "2").unwrap();
        let all = hash_files(dir.path(), &[Value::from("**/*.lock")]).unwrap();
        assert_eq!(all.len(), 64);
        let again = hash_files(dir.path(), &[Value::from("**/*.lock")]).unwrap();
        assert_eq!(all, again);
        let one = hash_files(
            dir.path(),
            &[Value::from("**/*.lock"), Value::from("!a/**")],
        )
        .unwrap();
        assert_ne!(one, all);
        assert_eq!(
            hash_files(dir.path(), &[Value::from("*.none")]).unwrap(),
            ""
        );
    }

    #[test]
    fn status_functions_follow_the_job() {
        let scope = Scope {
            status: Some(Status::Failure),
            ..Scope::default()
        };
        let expr =
            gantry_expr::parse("failure() && !success()", &gantry_expr::Allowed::any()).unwrap();
        assert_eq!(
            gantry_expr::evaluate(&expr, &scope).unwrap(),
            Value::Bool(true)
        );
    }
}
