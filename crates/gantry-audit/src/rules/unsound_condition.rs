//! `unsound-condition`: `if:` values that are always true because text
//! surrounds the expression.

use gantry_workflow::model::{Text, Workflow};

use super::{RuleMeta, walk_jobs};
use crate::context::{Ctx, StepRef};
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "unsound-condition",
    title: "an `if:` that is always true",
    severity: Severity::High,
    pedantic: false,
    why: "When an `if:` holds anything besides one `${{ }}` (two expressions joined by text, or a trailing newline from `|`), GitHub evaluates it as a string, and every non-empty string is true. The step or job then always runs, which defeats a guard such as \"only on main\".",
    example: "if: ${{ github.ref == 'refs/heads/main' }} && ${{ success() }}",
    fix: "write the whole condition as one expression: `if: github.ref == 'refs/heads/main' && success()`",
};

/// Reports an `if:` that mixes text and `${{ }}` (always true).
fn check_condition(ctx: &Ctx<'_>, cond: &Text, out: &mut Vec<Finding>) {
    if !cond.value.contains("${{") {
        return;
    }
    let Ok(template) = gantry_expr::parse_template(&cond.value) else {
        return;
    };
    if template.is_single_expression() {
        return;
    }
    out.push(ctx.finding(
        &META,
        cond.span,
        Confidence::High,
        "this condition mixes text and `${{ }}`, so it is a non-empty string and always true",
        "always true",
    ));
}

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_workflow(&self, ctx: &Ctx<'_>, workflow: &Workflow, out: &mut Vec<Finding>) {
        for job in workflow.jobs.values() {
            if let Some(cond) = &job.condition {
                check_condition(ctx, cond, out);
            }
        }
        walk_jobs(self, ctx, workflow, out);
    }

    fn audit_step(&self, ctx: &Ctx<'_>, step: StepRef<'_>, out: &mut Vec<Finding>) {
        if let Some(cond) = &step.step.condition {
            check_condition(ctx, cond, out);
        }
    }
}
