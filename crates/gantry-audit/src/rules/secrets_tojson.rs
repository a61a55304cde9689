//! `secrets-tojson`: `toJSON(secrets)`, which serialises every secret.

use gantry_expr::ExprKind;

use super::RuleMeta;
use crate::context::{Ctx, expression_strings};
use crate::expr::expressions;
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "secrets-tojson",
    title: "`toJSON(secrets)` exposes every secret at once",
    severity: Severity::High,
    pedantic: false,
    why: "`toJSON(secrets)` turns all the secrets the workflow can see into one string; whatever receives it (an action, a script, a log line that escapes masking) gets every credential, not just the one it needs.",
    example: "env:\n  ALL: ${{ toJSON(secrets) }}",
    fix: "pass the individual secrets that are needed: `${{ secrets.DEPLOY_TOKEN }}`",
};

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
        for node in expression_strings(ctx.yaml) {
            let Some(text) = node.as_str() else { continue };
            let all = expressions(text).iter().any(|f| {
                f.expr.iter().any(|e| match &e.kind {
                    ExprKind::Call { name, args } if name.eq_ignore_ascii_case("tojson") => args
                        .iter()
                        .any(|a| matches!(&a.kind, ExprKind::NamedValue(n) if n.eq_ignore_ascii_case("secrets"))),
                    _ => false,
                })
            });
            if all {
                out.push(ctx.finding(
                    &META,
                    node.span,
                    Confidence::High,
                    "`toJSON(secrets)` serialises every secret the workflow can read",
                    "all secrets in one value",
                ));
            }
        }
    }
}
