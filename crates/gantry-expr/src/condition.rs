//! `if:` conditions.
//!
//! GitHub reads an `if:` value as an expression whether or not it is wrapped
//! in `${{ }}`:
//!
//! - plain text (`github.ref == 'refs/heads/main'`) is the expression;
//! - a value that is exactly one `${{ expr }}` is `expr` (but one that is a
//!   single string literal, `${{ 'text' }}`, stands for the text, which is
//!   then read as the expression);
//! - a mix of text and `${{ }}` is the equivalent `format()` call, a string,
//!   hence true unless empty: the classic `if: |` pitfall;
//! - an empty value means `success()`.
//!
//! Unless the expression calls a status function (`success()`, `always()`,
//! `cancelled()`, `failure()`), GitHub runs it as `success() && (expr)`.

use crate::allowed::Allowed;
use crate::ast::{Expr, ExprKind, Span};
use crate::context::Context;
use crate::error::{EvalError, ParseError, ParseErrorKind, TemplateError};
use crate::eval::evaluate;
use crate::parser::{MAX_DEPTH, parse};
use crate::template::{Segment, Template};
use crate::value::Value;

/// A parsed `if:` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    expr: Expr,
    text: String,
    implicit_success: bool,
}

/// Parses an `if:` condition and returns the expression GitHub runs
/// (including any implicit `success() &&`).
pub fn parse_condition(s: &str, allowed: &Allowed) -> Result<Expr, TemplateError> {
    Condition::parse(s, allowed).map(Condition::into_expr)
}

impl Condition {
    /// Parses an `if:` value, with or without `${{ }}`.
    pub fn parse(s: &str, allowed: &Allowed) -> Result<Condition, TemplateError> {
        let template = Template::parse(s, allowed)?;
        let (text, expr) = match template.segments() {
            [] | [Segment::Text(_)] => (s.to_string(), None),
            [Segment::Expression(e)] => match e.expr.as_literal() {
                Some(Value::String(literal)) => (literal.clone(), None),
                _ => (e.text.clone(), Some(e.expr.clone())),
            },
            _ => {
                let expr = template.expression().cloned();
                (
                    expr.as_ref().map(ToString::to_string).unwrap_or_default(),
                    expr,
                )
            }
        };
        if text.trim().is_empty() {
            return Ok(Condition {
                expr: success_call(),
                text: "success()".to_string(),
                implicit_success: true,
            });
        }
        let expr = match expr {
            Some(expr) => expr,
            None => parse(&text, allowed)
                .map_err(|error| TemplateError::Expression { error, offset: 0 })?,
        };
        if expr.has_status_function() {
            return Ok(Condition {
                expr,
                text,
                implicit_success: false,
            });
        }
        let text = format!("success() && ({text})");
        let mut items = vec![success_call()];
        let span = expr.span;
        match expr.kind {
            ExprKind::And(inner) => items.extend(inner),
            kind => items.push(Expr::new(kind, span)),
        }
        let expr = Expr::new(ExprKind::And(items), span);
        if expr.depth() > MAX_DEPTH {
            let error = ParseError::whole(ParseErrorKind::ExceededMaxDepth, &text);
            return Err(TemplateError::Expression { error, offset: 0 });
        }
        Ok(Condition {
            expr,
            text,
            implicit_success: true,
        })
    }

    /// The expression GitHub runs.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The expression GitHub runs.
    pub fn into_expr(self) -> Expr {
        self.expr
    }

    /// The condition as GitHub writes it, e.g. `success() && (github.ref ==
    /// 'refs/heads/main')`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether GitHub added `success() &&` (or supplied `success()` for an
    /// empty condition).
    pub fn is_implicit_success(&self) -> bool {
        self.implicit_success
    }

    /// Evaluates the condition to whether the job or step runs.
    pub fn evaluate(&self, ctx: &dyn Context) -> Result<bool, EvalError> {
        evaluate(&self.expr, ctx).map(|v| v.is_truthy())
    }
}

fn success_call() -> Expr {
    Expr::new(
        ExprKind::Call {
            name: "success".to_string(),
            args: Vec::new(),
        },
        Span::default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::MapContext;
    use serde_json::json;

    fn text(s: &str) -> String {
        match Condition::parse(s, &Allowed::any()) {
            Ok(c) => format!("{} | {}", c.text(), c.expr()),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn wraps_like_github() {
        assert_eq!(
            text("github.ref == 'x'"),
            "success() && (github.ref == 'x') | (success() && (github.ref == 'x'))"
        );
        assert_eq!(
            text("${{ github.ref == 'x' }}"),
            "success() && (github.ref == 'x') | (success() && (github.ref == 'x'))"
        );
        assert_eq!(
            text("a && b"),
            "success() && (a && b) | (success() && a && b)"
        );
        assert_eq!(text("always() && a"), "always() && a | (always() && a)");
        assert_eq!(text("${{ failure() }}"), "failure() | failure()");
        assert_eq!(text(""), "success() | success()");
        assert_eq!(text("  "), "success() | success()");
        assert_eq!(
            text("${{ 'a == a' }}"),
            "success() && (a == a) | (success() && (a == a))"
        );
        assert_eq!(
            text("${{ a }}\n"),
            "success() && (format('{0}\n', a)) | (success() && format('{0}\n', a))"
        );
        assert!(text("${{ a").starts_with("error: The expression is not closed"));
        assert_eq!(
            Condition::parse("secrets.x", &Allowed::new(&["github"], &["success"])).err().map(|e| e.to_string()),
            Some("Unrecognized named-value: 'secrets'. Located at position 1 within expression: secrets.x".to_string())
        );
    }

    #[test]
    fn evaluates() {
        let ctx = MapContext::from_json(json!({"github": {"ref": "refs/heads/main"}}));
        let run = |s: &str| {
            Condition::parse(s, &Allowed::any())
                .map_err(|e| e.to_string())?
                .evaluate(&ctx)
                .map_err(|e| e.to_string())
        };
        assert_eq!(run("github.ref == 'refs/heads/main'"), Ok(true));
        assert_eq!(run("github.ref == 'refs/heads/dev'"), Ok(false));
        assert_eq!(run("${{ false }}\n"), Ok(true));
        assert_eq!(run("cancelled()"), Ok(false));
    }
}
