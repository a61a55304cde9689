//! `credential-persistence`: `actions/checkout` leaving the token in
//! `.git/config`.

use gantry_workflow::model::{Action, Job, Runs, StepAction, StepsJob};

use super::RuleMeta;
use crate::context::{Ctx, StepRef, walk_steps};
use crate::finding::{Confidence, Finding, Fix, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "credential-persistence",
    title: "`actions/checkout` without `persist-credentials: false`",
    severity: Severity::Medium,
    pedantic: false,
    why: "By default `actions/checkout` writes the job's token into `.git/config`, where every later step can read it, and where an artifact upload of the workspace publishes it to anyone who can download artifacts.",
    example: "- uses: actions/checkout@v4\n- uses: actions/upload-artifact@v4\n  with:\n    path: .",
    fix: "add `persist-credentials: false` under the checkout's `with:`; steps that push can authenticate explicitly",
};

/// Whether an upload path covers the whole workspace.
fn uploads_workspace(path: &str) -> bool {
    path.lines().map(str::trim).any(|p| {
        matches!(
            p,
            "." | "./"
                | "*"
                | "**"
                | "./**"
                | "${{ github.workspace }}"
                | "${{ github.workspace }}/"
        )
    })
}

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_normal_job(&self, ctx: &Ctx<'_>, job: &Job, steps: &StepsJob, out: &mut Vec<Finding>) {
        check_steps(ctx, &walk_steps(Some(job), &steps.steps), out);
    }

    fn audit_action(&self, ctx: &Ctx<'_>, action: &Action, out: &mut Vec<Finding>) {
        if let Some(Runs::Composite { steps }) = &action.runs {
            check_steps(ctx, &walk_steps(None, steps), out);
        }
    }
}

/// Checks the steps of one job (or composite action) in order: a later
/// upload of the workspace makes a persisted checkout worse.
fn check_steps(ctx: &Ctx<'_>, steps: &[StepRef<'_>], out: &mut Vec<Finding>) {
    for (i, step) in steps.iter().enumerate() {
        if step.action_name().as_deref() != Some("actions/checkout") {
            continue;
        }
        let persisted = step
            .with("persist-credentials")
            .is_none_or(|v| !v.value.trim().eq_ignore_ascii_case("false"));
        if !persisted {
            continue;
        }
        // An upload of the workspace later in the same job publishes it.
        let upload = steps[i + 1..].iter().find(|s| {
            s.action_name().as_deref() == Some("actions/upload-artifact")
                && s.with("path").is_some_and(|p| uploads_workspace(&p.value))
        });
        let StepAction::Uses { uses, .. } = &step.step.action else {
            continue;
        };
        let mut finding = ctx.finding(
                &META,
                uses.span,
                if upload.is_some() { Confidence::High } else { Confidence::Medium },
                match upload {
                    Some(_) => "the checkout keeps the token in .git/config and the workspace is uploaded as an artifact".to_string(),
                    None => "the checkout keeps the token in .git/config for every later step".to_string(),
                },
                "credentials persisted",
            );
        if let Some(upload) = upload.and_then(|u| u.with("path")) {
            finding.related.push((
                upload.span,
                "uploads the workspace, .git/config included".into(),
            ));
            if ctx.config.severity.is_none() {
                finding.severity = Severity::High;
            }
        }
        finding.fix = fix(ctx, step.step.span);
        out.push(finding);
    }
}

fn fix(ctx: &Ctx<'_>, step_span: gantry_workflow::Span) -> Option<Fix> {
    let step_node = find_mapping(ctx.yaml, step_span)?;
    let edit = match step_node.entry("with") {
        Some((_, with)) => {
            crate::edit::insert_into_mapping(ctx.text(), with, &["persist-credentials: false"])?
        }
        None => crate::edit::insert_into_mapping(
            ctx.text(),
            step_node,
            &["with:", "  persist-credentials: false"],
        )?,
    };
    Some(Fix {
        title: "add `persist-credentials: false`".into(),
        edits: vec![edit],
    })
}

/// The mapping node with exactly this span.
pub(crate) fn find_mapping(
    node: &gantry_workflow::yaml::Node,
    span: gantry_workflow::Span,
) -> Option<&gantry_workflow::yaml::Node> {
    use gantry_workflow::yaml::NodeKind;
    if node.span == span && matches!(node.kind, NodeKind::Map(_)) {
        return Some(node);
    }
    let inside =
        |n: &gantry_workflow::yaml::Node| n.span.start <= span.start && span.end <= n.span.end;
    match &node.kind {
        NodeKind::Map(pairs) => pairs
            .iter()
            .filter(|(_, v)| inside(v))
            .find_map(|(_, v)| find_mapping(v, span)),
        NodeKind::Seq(items) => items
            .iter()
            .filter(|v| inside(v))
            .find_map(|v| find_mapping(v, span)),
        _ => None,
    }
}
