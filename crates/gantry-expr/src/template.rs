//! Templates: strings that may hold `${{ }}` expressions.
//!
//! A workflow value such as `Hello ${{ github.actor }}!` is split into
//! literal text and expressions, as GitHub splits it: the expression ends at
//! the first `}}` outside a single-quoted string (so `${{ '}}' }}` is one
//! expression), and its text is trimmed.
//!
//! GitHub evaluates a value that is exactly one expression to that
//! expression's value, keeping its type. Any other mix of text and
//! expressions becomes one `format()` call, so the result is a string of
//! display strings. Text around a single expression counts, whitespace and
//! newlines included: a block scalar `if: |` adds a trailing newline and
//! turns the value into a string. [`Template::is_single_expression`] follows
//! GitHub; [`Template::is_single_expression_ignoring_whitespace`] is the
//! looser check for linting.
//!
//! Because the mix is one expression on GitHub, the length and depth limits
//! apply to the whole `format()` call; [`Template::parse`] checks them too.

use crate::allowed::Allowed;
use crate::ast::{Expr, ExprKind, Span};
use crate::casing::utf16_len;
use crate::context::Context;
use crate::error::{EvalError, ParseError, ParseErrorKind, TemplateError};
use crate::eval::evaluate;
use crate::parser::{MAX_DEPTH, MAX_LENGTH, parse};
use crate::value::Value;

/// A string value split into text and `${{ }}` expressions.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    source: String,
    segments: Vec<Segment>,
    /// What GitHub evaluates: the single expression, or the `format()` call
    /// built from a mix; `None` for plain text.
    expr: Option<Expr>,
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// Literal text (adjacent text is merged).
    Text(String),
    /// A `${{ }}` expression.
    Expression(TemplateExpression),
}

/// An expression inside a template.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateExpression {
    /// The expression text, trimmed.
    pub text: String,
    /// Byte offset of [`TemplateExpression::text`] in the template; spans
    /// in [`TemplateExpression::expr`] are relative to the text.
    pub offset: usize,
    /// The parsed expression.
    pub expr: Expr,
}

const OPEN: &str = "${{";

/// Splits a string into text and expressions, accepting any context and
/// function (see [`Allowed::any`]).
pub fn parse_template(s: &str) -> Result<Template, TemplateError> {
    Template::parse(s, &Allowed::any())
}

/// Splits a string into text and expressions, allowing only `allowed`.
pub fn parse_template_with(s: &str, allowed: &Allowed) -> Result<Template, TemplateError> {
    Template::parse(s, allowed)
}

impl Template {
    /// Splits `s` into text and expressions; every expression must parse
    /// with the contexts and functions `allowed`.
    pub fn parse(s: &str, allowed: &Allowed) -> Result<Template, TemplateError> {
        let mut segments = Vec::new();
        let mut next_open = s.find(OPEN);
        let mut i = 0;
        while i < s.len() {
            match next_open {
                Some(start) if start == i => {
                    let close =
                        find_close(s, start).ok_or(TemplateError::NotClosed { offset: start })?;
                    let inner = s.get(start + OPEN.len()..close - 1).unwrap_or_default();
                    let text = inner.trim();
                    if text.is_empty() {
                        return Err(TemplateError::ExpectedExpression { offset: start });
                    }
                    let offset = start + OPEN.len() + (inner.len() - inner.trim_start().len());
                    let expr = parse(text, allowed)
                        .map_err(|error| TemplateError::Expression { error, offset })?;
                    segments.push(Segment::Expression(TemplateExpression {
                        text: text.to_string(),
                        offset,
                        expr,
                    }));
                    i = close + 1;
                    next_open = s.get(i..).and_then(|rest| rest.find(OPEN)).map(|k| k + i);
                }
                Some(start) => {
                    push_text(&mut segments, s.get(i..start).unwrap_or_default());
                    i = start;
                }
                None => {
                    push_text(&mut segments, s.get(i..).unwrap_or_default());
                    break;
                }
            }
        }
        let expr = combined(&segments)?;
        Ok(Template {
            source: s.to_string(),
            segments,
            expr,
        })
    }

    /// The template text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The text and expressions, in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The expressions' texts (trimmed), in order.
    pub fn expressions(&self) -> impl Iterator<Item = &str> {
        self.parsed_expressions().map(|e| e.text.as_str())
    }

    /// The expressions, parsed, in order.
    pub fn parsed_expressions(&self) -> impl Iterator<Item = &TemplateExpression> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Expression(e) => Some(e),
            Segment::Text(_) => None,
        })
    }

    /// Whether there is no expression at all.
    pub fn is_literal(&self) -> bool {
        self.expr.is_none()
    }

    /// Whether the whole value is one expression, with no text around it
    /// (not even whitespace), so that evaluating it keeps the value's type.
    pub fn is_single_expression(&self) -> bool {
        matches!(self.segments.as_slice(), [Segment::Expression(_)])
    }

    /// Whether the value is one expression with at most whitespace around
    /// it. GitHub still treats such a value as a string (see the module
    /// documentation); this is the looser check for linting.
    pub fn is_single_expression_ignoring_whitespace(&self) -> bool {
        let mut expressions = 0;
        for segment in &self.segments {
            match segment {
                Segment::Expression(_) => expressions += 1,
                Segment::Text(t) if t.trim().is_empty() => {}
                Segment::Text(_) => return false,
            }
        }
        expressions == 1
    }

    /// The expression GitHub evaluates for this value: the single
    /// expression, or for a mix the equivalent `format()` call (as in
    /// `format('Hello {0}!', github.actor)`). `None` for plain text.
    pub fn expression(&self) -> Option<&Expr> {
        self.expr.as_ref()
    }

    /// Evaluates the value: plain text as a string, a single expression to
    /// its value (any type), a mix to the concatenated display strings.
    pub fn evaluate(&self, ctx: &dyn Context) -> Result<Value, EvalError> {
        match &self.expr {
            Some(expr) => evaluate(expr, ctx),
            None => Ok(Value::String(self.literal_text())),
        }
    }

    /// Evaluates the value to text (a single expression's value shown as
    /// by [`Value::to_display_string`]).
    pub fn evaluate_to_string(&self, ctx: &dyn Context) -> Result<String, EvalError> {
        self.evaluate(ctx).map(|v| v.to_display_string())
    }

    fn literal_text(&self) -> String {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Text(t) => t.as_str(),
                Segment::Expression(_) => "",
            })
            .collect()
    }
}

/// The index of the `}` that closes the expression opened at `start`.
fn find_close(s: &str, start: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut in_string = false;
    let mut j = start + OPEN.len();
    while let Some(&b) = bytes.get(j) {
        if b == b'\'' {
            in_string = !in_string;
        } else if !in_string && b == b'}' && bytes.get(j - 1) == Some(&b'}') {
            return Some(j);
        }
        j += 1;
    }
    None
}

fn push_text(segments: &mut Vec<Segment>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Segment::Text(last)) = segments.last_mut() {
        last.push_str(text);
    } else {
        segments.push(Segment::Text(text.to_string()));
    }
}

/// What GitHub evaluates for these segments, checked against the limits.
fn combined(segments: &[Segment]) -> Result<Option<Expr>, TemplateError> {
    match segments {
        [] | [Segment::Text(_)] => return Ok(None),
        [Segment::Expression(e)] => return Ok(Some(e.expr.clone())),
        _ => {}
    }
    let mut format = String::new();
    let mut args = vec![];
    let mut source = String::new();
    for segment in segments {
        match segment {
            Segment::Text(text) => format.push_str(&text.replace('{', "{{").replace('}', "}}")),
            Segment::Expression(e) => {
                format.push_str(&format!("{{{}}}", args.len()));
                source.push_str(", ");
                source.push_str(&e.text);
                args.push(e.expr.clone());
            }
        }
    }
    let text = format!("format('{}'{source})", format.replace('\'', "''"));
    if utf16_len(&text) > MAX_LENGTH {
        return Err(whole_error(ParseErrorKind::ExceededMaxLength, &text));
    }
    if args.iter().any(|a| a.depth() + 1 > MAX_DEPTH) {
        return Err(whole_error(ParseErrorKind::ExceededMaxDepth, &text));
    }
    let literal = Expr::new(ExprKind::Literal(Value::String(format)), Span::default());
    args.insert(0, literal);
    Ok(Some(Expr::new(
        ExprKind::Call {
            name: "format".to_string(),
            args,
        },
        Span::default(),
    )))
}

fn whole_error(kind: ParseErrorKind, text: &str) -> TemplateError {
    TemplateError::Expression {
        error: ParseError::whole(kind, text),
        offset: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::MapContext;
    use serde_json::json;

    fn split(s: &str) -> Result<Vec<String>, String> {
        let t = parse_template(s).map_err(|e| e.to_string())?;
        Ok(t.segments()
            .iter()
            .map(|seg| match seg {
                Segment::Text(t) => format!("T:{t}"),
                Segment::Expression(e) => format!("E:{}@{}", e.text, e.offset),
            })
            .collect())
    }

    #[test]
    fn splits() {
        assert_eq!(split("plain"), Ok(vec!["T:plain".to_string()]));
        assert_eq!(split(""), Ok(vec![]));
        assert_eq!(
            split("a ${{ b }} c"),
            Ok(vec!["T:a ".into(), "E:b@6".into(), "T: c".into()])
        );
        assert_eq!(split("${{ '}}' }}"), Ok(vec!["E:'}}'@4".into()]));
        assert_eq!(
            split("${{ 'it''s}}' }}x"),
            Ok(vec!["E:'it''s}}'@4".into(), "T:x".into()])
        );
        assert_eq!(
            split("${{a}}${{b}}"),
            Ok(vec!["E:a@3".into(), "E:b@9".into()])
        );
        assert_eq!(split("${{ a }}}"), Ok(vec!["E:a@4".into(), "T:}".into()]));
    }

    #[test]
    fn errors() {
        let not_closed = "The expression is not closed. An unescaped ${{ sequence was found, but the closing }} sequence was not found.";
        assert_eq!(split("a ${{ b"), Err(not_closed.to_string()));
        assert_eq!(split("${{ '}} }}"), Err(not_closed.to_string()));
        assert_eq!(
            split("${{ }}"),
            Err("An expression was expected".to_string())
        );
        assert_eq!(
            split("${{}}"),
            Err("An expression was expected".to_string())
        );
        let err = parse_template_with("x ${{ secrets.a }}", &Allowed::new(&["github"], &[]));
        assert_eq!(err.as_ref().map_err(TemplateError::span).err(), Some(6..13));
        let long = format!("${{{{ '{}' }}}} x", "a".repeat(20_990));
        assert_eq!(
            split(&long),
            Err("Exceeded max expression length 21000".to_string())
        );
    }

    #[test]
    fn evaluates_like_github() {
        let ctx = MapContext::from_json(json!({"n": 3, "o": {"a": 1}}));
        let eval = |s: &str| {
            parse_template(s)
                .map_err(|e| e.to_string())?
                .evaluate(&ctx)
                .map_err(|e| e.to_string())
        };
        assert_eq!(eval("${{ n }}"), Ok(Value::Number(3.0)));
        assert_eq!(eval("${{ o }}"), Ok(Value::from_json(json!({"a": 1}))));
        assert_eq!(
            eval("n=${{ n }}, o=${{ o }} {x}"),
            Ok(Value::from("n=3, o=Object {x}"))
        );
        assert_eq!(eval(" ${{ n }}\n"), Ok(Value::from(" 3\n")));
        assert_eq!(eval("it's"), Ok(Value::from("it's")));
        let t = parse_template(" ${{ n }}\n");
        assert!(t.as_ref().is_ok_and(
            |t| !t.is_single_expression() && t.is_single_expression_ignoring_whitespace()
        ));
        let t = parse_template("a ${{ n }} 'b' {c}");
        let shown = t.ok().and_then(|t| t.expression().map(ToString::to_string));
        assert_eq!(shown.as_deref(), Some("format('a {0} ''b'' {{c}}', n)"));
    }
}
