//! Expressions where the executor meets them: `${{ }}` templates, `if:`
//! conditions and the `OrExpr` values of `continue-on-error`,
//! `timeout-minutes` and the like.

use std::time::Duration;

use gantry_expr::{Allowed, Value};
use gantry_workflow::model::{OrExpr, Spanned, Text};

use super::scope::Scope;

/// Evaluates a template string (text with `${{ }}`) to text.
pub(crate) fn expand(text: &str, scope: &Scope) -> Result<String, String> {
    if !text.contains("${{") {
        return Ok(text.to_string());
    }
    let template = gantry_expr::parse_template(text).map_err(|e| e.to_string())?;
    template
        .evaluate_to_string(scope)
        .map_err(|e| e.to_string())
}

/// Evaluates a template string to a value (a single expression keeps its
/// type).
pub(crate) fn expand_value(text: &str, scope: &Scope) -> Result<Value, String> {
    if !text.contains("${{") {
        return Ok(Value::String(text.to_string()));
    }
    let template = gantry_expr::parse_template(text).map_err(|e| e.to_string())?;
    template.evaluate(scope).map_err(|e| e.to_string())
}

pub(crate) fn or_expr_bool(
    v: &Option<Spanned<OrExpr<bool>>>,
    scope: &Scope,
) -> Result<bool, String> {
    match v.as_ref().map(|s| &s.value) {
        None => Ok(false),
        Some(OrExpr::Value(b)) => Ok(*b),
        Some(OrExpr::Expr(text)) => expand_value(text, scope).map(|v| v.is_truthy()),
    }
}

pub(crate) fn or_expr_minutes(
    v: &Option<Spanned<OrExpr<f64>>>,
    scope: &Scope,
) -> Result<Option<Duration>, String> {
    let minutes = match v.as_ref().map(|s| &s.value) {
        None => return Ok(None),
        Some(OrExpr::Value(n)) => *n,
        Some(OrExpr::Expr(text)) => expand_value(text, scope)?.to_number(),
    };
    if !minutes.is_finite() || minutes < 0.0 {
        return Err(format!(
            "timeout-minutes must be a positive number, not {minutes}"
        ));
    }
    Ok(Some(Duration::from_secs_f64(minutes * 60.0)))
}

/// Evaluates an `if:` condition.
pub(crate) fn condition(text: Option<&Text>, scope: &Scope) -> Result<bool, String> {
    let text = text.map_or("success()", |t| t.value.as_str());
    let expr = gantry_expr::parse_condition(text, &Allowed::any()).map_err(|e| e.to_string())?;
    gantry_expr::evaluate(&expr, scope)
        .map(|v| v.is_truthy())
        .map_err(|e| e.to_string())
}
