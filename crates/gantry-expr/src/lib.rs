//! GitHub Actions expressions: `${{ }}` templates, parser and evaluator.
//!
//! This crate implements the expression language of GitHub Actions workflows
//! with GitHub's exact semantics and error messages, checked against GitHub's
//! own conformance data (`tests/conformance.rs`).
//!
//! ```
//! use gantry_expr::{Allowed, MapContext, Value, evaluate, parse};
//!
//! let allowed = Allowed::new(&["github"], &[]);
//! let expr = parse("startsWith(github.ref, 'refs/tags/') && github.ref_name", &allowed)?;
//! let ctx = MapContext::new().with(
//!     "github",
//!     Value::from_json(serde_json::json!({"ref": "refs/tags/v1", "ref_name": "v1"})),
//! );
//! assert_eq!(evaluate(&expr, &ctx)?, Value::from("v1"));
//!
//! let err = parse("secrets.token", &allowed).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "Unrecognized named-value: 'secrets'. Located at position 1 within expression: secrets.token"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The pieces:
//!
//! - [`parse`] turns expression text into an [`Expr`], checking the contexts
//!   and functions against an [`Allowed`] set; [`ParseError`] carries
//!   GitHub's message and the offending token's position.
//! - [`evaluate`] evaluates an [`Expr`] against a [`Context`] (for instance a
//!   [`MapContext`]) to a [`Value`].
//! - [`parse_template`] splits a string holding `${{ }}` expressions into a
//!   [`Template`]; [`parse_condition`] reads an `if:` value as GitHub does.
//!
//! Positions: spans ([`Span`], [`ParseError::span`], [`TemplateError::span`])
//! are byte ranges of the text that was parsed; GitHub's "position N" in
//! messages is 1-based and counts UTF-16 code units
//! ([`ParseError::position`]).

mod access;
mod allowed;
mod ast;
mod casing;
mod compare;
mod condition;
mod context;
mod error;
mod eval;
mod functions;
mod json;
mod lexer;
mod memory;
mod number;
mod parser;
mod template;
mod value;

pub use allowed::{Allowed, FunctionSignature, KNOWN_CONTEXTS, MAX_ARGS, STATUS_FUNCTIONS};
pub use ast::{BinaryOp, Expr, ExprKind, Reference, Span, is_status_function};
pub use condition::{Condition, parse_condition};
pub use context::{Context, MapContext};
pub use error::{EvalError, JsonError, ParseError, ParseErrorKind, TemplateError, TextError};
pub use eval::evaluate;
pub use memory::MAX_MEMORY_BYTES;
pub use parser::{MAX_DEPTH, MAX_LENGTH, parse};
pub use template::{Segment, Template, TemplateExpression, parse_template, parse_template_with};
pub use value::{Object, Value};

/// Evaluates text as `gantry eval` does: a string holding `${{ }}` is a
/// template, anything else one expression (every context and function
/// allowed).
///
/// ```
/// use gantry_expr::{MapContext, Value, evaluate_text};
///
/// let ctx = MapContext::default();
/// assert_eq!(evaluate_text("1 == 1", &ctx)?, Value::Bool(true));
/// assert_eq!(evaluate_text("a${{ 1 }}", &ctx)?, Value::String("a1".into()));
/// # Ok::<(), gantry_expr::TextError>(())
/// ```
pub fn evaluate_text(text: &str, context: &dyn Context) -> Result<Value, TextError> {
    if text.contains("${{") {
        Ok(parse_template(text)?.evaluate(context)?)
    } else {
        Ok(evaluate(&parse(text, &Allowed::any())?, context)?)
    }
}
