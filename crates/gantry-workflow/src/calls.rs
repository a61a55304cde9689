//! Checks of reusable-workflow calls against the workflows they call.
//!
//! A job with `uses: ./.github/workflows/x.yml` (or a remote reference)
//! passes inputs and secrets to a workflow that declares them under
//! `on.workflow_call`. These checks need the called file, found through a
//! [`Resolver`]: the inputs and secrets given must be declared, the required
//! ones given, typed values of the right type, and the called jobs may not
//! ask for more `GITHUB_TOKEN` permissions than the caller grants. Calls nest
//! up to a depth limit.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::TokenDefault;
use crate::diagnostic::Diagnostic;
use crate::file::{FileError, read_source};
use crate::local::{LocalRefError, resolve_local};
use crate::model::*;
use crate::read::{ReadOptions, read_workflow};
use crate::source::{SourceFile, Span};
use crate::yaml::NodeKind;

/// Why a called workflow could not be found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    #[error(transparent)]
    Local(#[from] LocalRefError),
    #[error("cannot read '{path}': {source}")]
    Read { path: String, source: FileError },
}

/// Finds the text of a called workflow.
pub trait Resolver {
    /// The file name to report and the text of the workflow `uses` names;
    /// `Ok(None)` when it cannot be known here (a remote repository).
    fn resolve(&self, uses: &str) -> Result<Option<(String, String)>, ResolveError>;
}

/// A resolver over texts held in memory, keyed by the `uses` string.
#[derive(Debug, Default)]
pub struct MapResolver {
    files: HashMap<String, String>,
}

impl MapResolver {
    pub fn insert(&mut self, uses: impl Into<String>, text: impl Into<String>) {
        self.files.insert(uses.into(), text.into());
    }
}

impl Resolver for MapResolver {
    fn resolve(&self, uses: &str) -> Result<Option<(String, String)>, ResolveError> {
        Ok(self.files.get(uses).map(|t| (uses.to_string(), t.clone())))
    }
}

/// Resolves `./` and `$/` references inside a repository on disk through
/// [`resolve_local`] (so nothing outside it is read); remote references are
/// not known offline.
#[derive(Debug)]
pub struct LocalResolver {
    root: PathBuf,
    max_file_size: usize,
}

impl LocalResolver {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            max_file_size: ReadOptions::default().max_file_size,
        }
    }

    /// The file a local reference names, refusing any path that leaves the
    /// repository.
    pub fn path_of(&self, uses: &str) -> Result<Option<PathBuf>, LocalRefError> {
        resolve_local(&self.root, uses)
    }
}

impl Resolver for LocalResolver {
    fn resolve(&self, uses: &str) -> Result<Option<(String, String)>, ResolveError> {
        let Some(path) = self.path_of(uses)? else {
            return Ok(None);
        };
        let name = path
            .strip_prefix(&self.root)
            .unwrap_or(&path)
            .display()
            .to_string();
        match read_source(&path, name.clone(), self.max_file_size) {
            Ok(source) => Ok(Some((name, source.text().to_string()))),
            Err(source) => Err(ResolveError::Read {
                path: path.display().to_string(),
                source,
            }),
        }
    }
}

/// Settings of the call checks.
#[derive(Debug, Clone)]
pub struct CallPolicy {
    /// How deeply reusable workflows may call each other.
    pub max_depth: usize,
    /// What the repository's default `GITHUB_TOKEN` may do: read-write
    /// (`Write`), or reading contents and packages (`Read`, GitHub's
    /// default for new repositories). `None` when it is not known: a call
    /// that asks for more than the read default is then a warning, since
    /// it runs on a repository whose default is write.
    pub default_permissions: Option<TokenDefault>,
    /// Most jobs in all, counting the jobs of called workflows.
    pub max_jobs: Option<usize>,
}

impl Default for CallPolicy {
    fn default() -> Self {
        Self {
            max_depth: 10,
            default_permissions: None,
            max_jobs: None,
        }
    }
}

impl CallPolicy {
    fn default_grant(&self, scope: &str) -> Access {
        if self.default_permissions == Some(TokenDefault::Write) {
            Access::highest_for(scope)
        } else if matches!(scope, "contents" | "packages") {
            Access::Read
        } else {
            Access::None
        }
    }
}

/// The access granted to each scope, and whether it rests on an assumed
/// (unknown) repository default.
#[derive(Debug, Clone)]
struct Grant {
    scopes: Vec<(&'static str, Access)>,
    assumed: bool,
}

fn grant_of(permissions: &Permissions) -> Grant {
    Grant {
        scopes: PERMISSION_SCOPES
            .iter()
            .map(|s| (*s, permissions.access(s)))
            .collect(),
        assumed: false,
    }
}

/// Checks every call in `workflow` (and the calls inside called workflows).
/// Problems inside a called file are reported at the calling job.
pub fn check_calls(
    workflow: &Workflow,
    resolver: &dyn Resolver,
    policy: &CallPolicy,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let grant: Grant = match &workflow.permissions {
        Some(p) => grant_of(p),
        None => Grant {
            scopes: PERMISSION_SCOPES
                .iter()
                .map(|s| (*s, policy.default_grant(s)))
                .collect(),
            assumed: policy.default_permissions.is_none(),
        },
    };
    let mut total_jobs = 0;
    check_workflow(
        workflow,
        resolver,
        policy,
        &grant,
        1,
        None,
        &mut out,
        &mut total_jobs,
    );
    if let Some(max) = policy.max_jobs
        && total_jobs > max
    {
        out.push(Diagnostic::error(
            "too-many-jobs",
            workflow.jobs_span,
            format!("The workflow may not contain more than {max} jobs"),
        ));
    }
    out
}

/// `outer`: the span in the top file to report nested problems at.
#[allow(clippy::too_many_arguments)]
fn check_workflow(
    workflow: &Workflow,
    resolver: &dyn Resolver,
    policy: &CallPolicy,
    workflow_grant: &Grant,
    depth: usize,
    outer: Option<Span>,
    out: &mut Vec<Diagnostic>,
    total_jobs: &mut usize,
) {
    for job in workflow.jobs.values() {
        *total_jobs += 1;
        let JobKind::Call(call) = &job.kind else {
            continue;
        };
        let at = |span: Span| outer.unwrap_or(span);
        let allowed: Grant = match &job.permissions {
            Some(p) => grant_of(p),
            None => workflow_grant.clone(),
        };
        if depth > policy.max_depth {
            out.push(Diagnostic::error(
                "call-depth",
                at(call.uses.span),
                format!(
                    "Nested reusable workflow depth exceeded {}.",
                    policy.max_depth
                ),
            ));
            return;
        }
        let (name, text) = match resolver.resolve(&call.uses.value) {
            Ok(Some(found)) => found,
            Ok(None) => continue,
            Err(ResolveError::Local(err)) => {
                out.push(
                    Diagnostic::error("local-ref-escapes", at(call.uses.span), err.to_string())
                        .with_label("outside the repository")
                        .with_hint(err.hint()),
                );
                continue;
            }
            Err(err) => {
                out.push(Diagnostic::error(
                    "call-unresolved",
                    at(call.uses.span),
                    err.to_string(),
                ));
                continue;
            }
        };
        let source = SourceFile::new(name, text);
        let parsed = read_workflow(Arc::clone(&source), &ReadOptions::default());
        if let Some(first) = parsed.diagnostics.diagnostics.iter().find(|d| d.is_error()) {
            let location = first
                .span
                .map(|s| {
                    format!(
                        " (Line: {}, Col: {})",
                        source.position(s.start).line,
                        source.position(s.start).column
                    )
                })
                .unwrap_or_default();
            out.push(
                Diagnostic::error(
                    "call-invalid",
                    at(call.uses.span),
                    format!(
                        "Error from called workflow {}{location}: {}",
                        call.uses.value, first.message
                    ),
                )
                .with_hint(format!("run `gantry validate {}`", source.name())),
            );
            continue;
        }
        let Some(called) = parsed.value else { continue };
        let Some(trigger) = called.on.get("workflow_call") else {
            out.push(
                Diagnostic::error(
                    "call-not-reusable",
                    at(call.uses.span),
                    format!(
                        "'{}' is not a reusable workflow: it has no `on: workflow_call`",
                        call.uses.value
                    ),
                )
                .with_hint("add `workflow_call` to the called workflow's `on:`"),
            );
            continue;
        };
        if outer.is_none() {
            check_inputs(call, trigger, out);
        }
        check_permissions(job, call, &called, &allowed, outer, out);
        let nested_grant: Grant = match &called.permissions {
            Some(p) => grant_of(p),
            None => allowed.clone(),
        };
        check_workflow(
            &called,
            resolver,
            policy,
            &nested_grant,
            depth + 1,
            Some(outer.unwrap_or(job.id.span)),
            out,
            total_jobs,
        );
    }
}

fn check_inputs(call: &CallJob, trigger: &Trigger, out: &mut Vec<Diagnostic>) {
    for (name, (key, value)) in &call.with {
        let Some(def) = trigger
            .inputs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, d)| d)
        else {
            let mut d = Diagnostic::error(
                "call-input-undefined",
                value.span,
                format!(
                    "Invalid input, {} is not defined in the referenced workflow.",
                    key.value
                ),
            );
            if let Some(near) =
                crate::diagnostic::did_you_mean(name, trigger.inputs.keys().map(String::as_str))
            {
                d = d.with_hint(format!("did you mean `{near}`?"));
            }
            out.push(d);
            continue;
        };
        let is_expr = value.as_str().is_some_and(crate::read::is_expression);
        let ok = is_expr
            || match def.kind {
                InputType::Boolean => matches!(value.kind, NodeKind::Bool(_)),
                InputType::Number => matches!(value.kind, NodeKind::Number(_)),
                _ => true,
            };
        if !ok {
            out.push(
                Diagnostic::error(
                    "call-input-type",
                    value.span,
                    format!(
                        "Unexpected value '{}'",
                        value.scalar_text().unwrap_or_default()
                    ),
                )
                .with_label(format!("expected a {}", def.kind.name())),
            );
        }
    }
    for (name, def) in &trigger.inputs {
        if def.required
            && def.default.is_none()
            && !call.with.keys().any(|k| k.eq_ignore_ascii_case(name))
        {
            out.push(
                Diagnostic::error(
                    "call-input-required",
                    call.uses.span,
                    format!("Input {name} is required, but not provided while calling."),
                )
                .with_hint(format!("add `with: {{ {name}: ... }}` to the calling job")),
            );
        }
    }
    match &call.secrets {
        CallSecrets::Inherit(_) => {}
        CallSecrets::None | CallSecrets::Map(_) => {
            let given: Vec<(&str, Span)> = match &call.secrets {
                CallSecrets::Map(map) => {
                    map.iter().map(|(k, (_, v))| (k.as_str(), v.span)).collect()
                }
                _ => Vec::new(),
            };
            for (name, span) in &given {
                if !trigger.secrets.keys().any(|k| k.eq_ignore_ascii_case(name)) {
                    out.push(Diagnostic::error(
                        "call-secret-undefined",
                        *span,
                        format!(
                            "Invalid secret, {name} is not defined in the referenced workflow."
                        ),
                    ));
                }
            }
            for (name, def) in &trigger.secrets {
                if def.required && !given.iter().any(|(k, _)| k.eq_ignore_ascii_case(name)) {
                    out.push(
                        Diagnostic::error(
                            "call-secret-required",
                            call.uses.span,
                            format!("Secret {name} is required, but not provided while calling."),
                        )
                        .with_hint("pass it under `secrets:`, or use `secrets: inherit`"),
                    );
                }
            }
        }
    }
}

fn exceeding(requested: &Permissions, allowed: &Grant) -> Option<(String, String)> {
    let mut asked = Vec::new();
    let mut granted = Vec::new();
    for (scope, grant) in &allowed.scopes {
        let want = requested.access(scope);
        if want > *grant {
            asked.push(format!("{scope}: {}", want.name()));
            granted.push(format!("{scope}: {}", grant.name()));
        }
    }
    (!asked.is_empty()).then(|| (asked.join(", "), granted.join(", ")))
}

fn check_permissions(
    job: &Job,
    call: &CallJob,
    called: &Workflow,
    allowed: &Grant,
    outer: Option<Span>,
    out: &mut Vec<Diagnostic>,
) {
    let at = outer.unwrap_or(job.id.span);
    let hint = if allowed.assumed {
        "this assumes the repository's default token can only read; if it may write, say so with `default-token-permissions: write` in .gantry/config.yml (or `validate --default-token-permissions write`); else grant the permissions on the calling job"
    } else {
        "grant the permissions on the calling job, or lower what the called workflow asks for"
    };
    let diagnostic = |message: String| {
        if allowed.assumed {
            Diagnostic::warning("call-permissions", at, message)
        } else {
            Diagnostic::error("call-permissions", at, message)
        }
    };
    if let Some(requested) = &called.permissions
        && let Some((asked, granted)) = exceeding(requested, allowed)
    {
        out.push(
            diagnostic(format!(
                "Error calling workflow '{uses}'. The workflow '{uses}' is requesting '{asked}', but is only allowed '{granted}'.",
                uses = call.uses.value
            ))
            .with_hint(hint),
        );
        return;
    }
    for nested in called.jobs.values() {
        let Some(requested) = &nested.permissions else {
            continue;
        };
        if let Some((asked, granted)) = exceeding(requested, allowed) {
            let name = nested.name.as_ref().map_or(&nested.id.value, |n| &n.value);
            out.push(
                diagnostic(format!(
                    "Error calling workflow '{}'. The nested job '{name}' is requesting '{asked}', but is only allowed '{granted}'.",
                    call.uses.value
                ))
                .with_hint(hint),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_references_stay_inside_the_repository() {
        let r = LocalResolver::new("/repo");
        assert!(r.path_of("./../etc/passwd").is_err());
        assert!(r.path_of("./.github/workflows/../../../x.yml").is_err());
        assert_eq!(
            r.path_of("./.github/workflows/x.yml").ok(),
            Some(Some(PathBuf::from("/repo/.github/workflows/x.yml")))
        );
        assert_eq!(
            r.path_of("org/repo/.github/workflows/x.yml@v1").ok(),
            Some(None)
        );
        assert_eq!(
            r.path_of("$/.github/workflows/x.yml").ok(),
            Some(Some(PathBuf::from("/repo/.github/workflows/x.yml")))
        );
    }
}
