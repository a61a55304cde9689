//! `concurrency:` between runs on one host: one run per group at a time,
//! through a lock file per group under `$GANTRY_HOME/locks`. With
//! `cancel-in-progress`, the run holding the group is asked to cancel
//! (SIGTERM, which gantry treats like Ctrl-C) and this one waits for it.

use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use gantry_engine::run::RunOptions;
use gantry_engine::run::scope::Scope;
use gantry_expr::{Object, Value};
use gantry_workflow::Workflow;
use gantry_workflow::model::OrExpr;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use sha2::{Digest, Sha256};

use super::CliError;

/// A held concurrency group; released when dropped.
pub struct Lock {
    _file: File,
}

/// The contexts a workflow-level `concurrency` may use.
fn scope(workflow: &Workflow, options: &RunOptions) -> Scope {
    let event = &options.event;
    let mut github = Object::new();
    let git_ref = event.git_ref.clone().unwrap_or_default();
    github.insert("event_name".into(), Value::String(event.name.clone()));
    github.insert("ref".into(), Value::String(git_ref.clone()));
    let name = git_ref
        .rsplit_once("refs/heads/")
        .map_or(git_ref.as_str(), |(_, n)| n);
    github.insert(
        "ref_name".into(),
        Value::String(name.trim_start_matches("refs/tags/").to_string()),
    );
    github.insert(
        "workflow".into(),
        Value::String(workflow.display_name().to_string()),
    );
    github.insert(
        "sha".into(),
        Value::String(options.sha.clone().unwrap_or_default()),
    );
    github.insert("event".into(), Value::from_json(event.payload.clone()));
    let inputs: Object = event
        .inputs
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let vars: Object = options
        .vars
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    Scope::default()
        .with("github", Value::Object(github))
        .with("inputs", Value::Object(inputs))
        .with("vars", Value::Object(vars))
}

fn expand(text: &str, scope: &Scope) -> Result<String, String> {
    if !text.contains("${{") {
        return Ok(text.to_string());
    }
    let template = gantry_expr::parse_template(text).map_err(|e| e.to_string())?;
    template
        .evaluate_to_string(scope)
        .map_err(|e| e.to_string())
}

/// Takes the workflow's concurrency group, waiting while another run on
/// this host holds it.
pub async fn acquire(
    home: &Path,
    workflow: &Workflow,
    options: &RunOptions,
) -> Result<Option<Lock>, CliError> {
    let Some(concurrency) = &workflow.concurrency else {
        return Ok(None);
    };
    let scope = scope(workflow, options);
    let group = expand(&concurrency.group.value, &scope)
        .map_err(|e| CliError::usage(format!("concurrency group: {e}"), None))?;
    let cancel_in_progress = match concurrency.cancel_in_progress.as_ref().map(|c| &c.value) {
        None => false,
        Some(OrExpr::Value(b)) => *b,
        Some(OrExpr::Expr(text)) => expand(text, &scope).is_ok_and(|v| v == "true"),
    };
    let dir = home.join("locks");
    std::fs::create_dir_all(&dir).map_err(|source| CliError::Read {
        path: dir.clone(),
        source,
    })?;
    let name: String = Sha256::digest(group.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let path = dir.join(format!("{name}.lock"));
    let pid_path = dir.join(format!("{name}.pid"));
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| CliError::Read {
            path: path.clone(),
            source,
        })?;
    let mut announced = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {
                if !announced {
                    announced = true;
                    eprintln!("gantry: another run holds the concurrency group `{group}`; waiting");
                    if cancel_in_progress
                        && let Some(pid) = std::fs::read_to_string(&pid_path)
                            .ok()
                            .and_then(|p| p.trim().parse::<i32>().ok())
                    {
                        eprintln!("gantry: cancel-in-progress: asking run process {pid} to cancel");
                        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(TryLockError::Error(source)) => return Err(CliError::Read { path, source }),
        }
    }
    if let Ok(mut f) = File::create(&pid_path) {
        let _ = write!(f, "{}", std::process::id());
    }
    Ok(Some(Lock { _file: file }))
}
