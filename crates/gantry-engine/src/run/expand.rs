//! Expressions where the executor meets them: `${{ }}` templates, `if:`
//! conditions and the `OrExpr` values of `continue-on-error`,
//! `timeout-minutes` and the like.

use std::time::Duration;

use gantry_expr::{Allowed, Value};
use gantry_workflow::model::{Env, OrExpr, Spanned, Text, TimeoutMinutes};

use super::scope::Scope;

/// An expression the executor could not evaluate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExprError {
    #[error(transparent)]
    Parse(Box<gantry_expr::TemplateError>),
    #[error(transparent)]
    Eval(Box<gantry_expr::EvalError>),
    #[error(transparent)]
    Range(#[from] gantry_workflow::numbers::RangeError),
    #[error("the matrix expression gave {0}, not an object")]
    MatrixNotObject(&'static str),
    #[error("an expression in the matrix could not be evaluated")]
    MatrixUnevaluated,
    #[error(transparent)]
    Matrix(#[from] gantry_workflow::matrix::MatrixError),
    #[error("the `env` expression gave {0}, not an object of variables")]
    EnvNotObject(&'static str),
    #[error("the variable's name evaluated to an empty string")]
    EmptyEnvName,
}

impl From<gantry_expr::TemplateError> for ExprError {
    fn from(e: gantry_expr::TemplateError) -> Self {
        ExprError::Parse(Box::new(e))
    }
}

impl From<gantry_expr::EvalError> for ExprError {
    fn from(e: gantry_expr::EvalError) -> Self {
        ExprError::Eval(Box::new(e))
    }
}

/// A variable of an `env:` mapping that could not be evaluated.
#[derive(Debug, thiserror::Error)]
#[error("env `{name}`: {source}")]
pub(crate) struct EnvError {
    pub(crate) name: String,
    pub(crate) source: ExprError,
}

/// Evaluates an `env:` mapping in order: names and values may hold
/// expressions, and the whole mapping may be one expression that gives an
/// object of variables (values converted to text as GitHub converts them).
pub(crate) fn expand_env(env: &Env, scope: &Scope) -> Result<Vec<(String, String)>, EnvError> {
    let mut out = Vec::with_capacity(env.len());
    for var in env.values() {
        let fail = |source| EnvError {
            name: var.name.value.clone(),
            source,
        };
        if var.spread {
            match expand_value(&var.value.value, scope).map_err(fail)? {
                Value::Object(vars) => out.extend(
                    vars.iter()
                        .map(|(name, value)| (name.clone(), value.to_display_string())),
                ),
                Value::Null => {}
                other => return Err(fail(ExprError::EnvNotObject(other.kind_name()))),
            }
            continue;
        }
        let name = expand(&var.name.value, scope).map_err(fail)?;
        if name.is_empty() {
            return Err(fail(ExprError::EmptyEnvName));
        }
        out.push((name, expand(&var.value.value, scope).map_err(fail)?));
    }
    Ok(out)
}

/// Evaluates a template string (text with `${{ }}`) to text.
pub(crate) fn expand(text: &str, scope: &Scope) -> Result<String, ExprError> {
    if !text.contains("${{") {
        return Ok(text.to_string());
    }
    let template = gantry_expr::parse_template(text)?;
    Ok(template.evaluate_to_string(scope)?)
}

/// Evaluates a template string to a value (a single expression keeps its
/// type).
pub(crate) fn expand_value(text: &str, scope: &Scope) -> Result<Value, ExprError> {
    if !text.contains("${{") {
        return Ok(Value::String(text.to_string()));
    }
    let template = gantry_expr::parse_template(text)?;
    Ok(template.evaluate(scope)?)
}

/// A boolean setting (`continue-on-error`, `fail-fast`); `false` unset.
pub(crate) fn or_expr_bool(
    v: &Option<Spanned<OrExpr<bool>>>,
    scope: &Scope,
) -> Result<bool, ExprError> {
    match v.as_ref().map(|s| &s.value) {
        None => Ok(false),
        Some(OrExpr::Value(b)) => Ok(*b),
        Some(OrExpr::Expr(text)) => expand_value(text, scope).map(|v| v.is_truthy()),
    }
}

/// A `timeout-minutes` setting (`what` names it) as a duration; `None`
/// unset. Literals were range-checked by the reader; an expression's value
/// is checked here with the same range.
pub(crate) fn or_expr_minutes(
    what: &'static str,
    v: &Option<Spanned<OrExpr<TimeoutMinutes>>>,
    scope: &Scope,
) -> Result<Option<Duration>, ExprError> {
    let minutes = match v.as_ref().map(|s| &s.value) {
        None => return Ok(None),
        Some(OrExpr::Value(t)) => *t,
        Some(OrExpr::Expr(text)) => {
            TimeoutMinutes::new(what, expand_value(text, scope)?.to_number())?
        }
    };
    Ok(Some(minutes.duration()))
}

/// Evaluates an `if:` condition.
pub(crate) fn condition(text: Option<&Text>, scope: &Scope) -> Result<bool, ExprError> {
    let text = text.map_or("success()", |t| t.value.as_str());
    let expr = gantry_expr::parse_condition(text, &Allowed::any())?;
    Ok(gantry_expr::evaluate(&expr, scope)?.is_truthy())
}
