//! The evaluator: a syntax tree and a [`Context`] to a [`Value`].
//!
//! Evaluation follows GitHub's order and laziness: `&&` and `||` stop at the
//! deciding operand and return it (not a boolean), `.`/`[]` evaluate the
//! index only when the object is a collection, and the built-in functions
//! evaluate an argument only when they need it (`case()` its chosen branch,
//! `format()` the arguments its format string refers to).
//!
//! Context values are borrowed, not copied, while evaluating; only the final
//! result is cloned out. Borrowing also gives arrays and objects the identity
//! GitHub's `==` compares them by: `github.event == github.event` is true,
//! `fromJSON('{}') == fromJSON('{}')` is false.

use crate::access::{self, Key};
use crate::ast::{Expr, ExprKind};
use crate::compare::{View, compare};
use crate::context::Context;
use crate::error::EvalError;
use crate::functions;
use crate::memory::{EvaluationMemory, Exceeded, MIN_OBJECT_SIZE, POINTER_SIZE, string_size};
use crate::value::Value;

/// Evaluates an expression against a context.
pub fn evaluate(expr: &Expr, ctx: &dyn Context) -> Result<Value, EvalError> {
    // Fetch every context the expression names once, up front, so that the
    // evaluation can borrow them.
    let mut names: Vec<String> = expr.named_values().map(str::to_ascii_lowercase).collect();
    names.sort();
    names.dedup();
    let owned: Vec<Option<Value>> = names
        .iter()
        .map(|name| {
            if ctx.named_value_ref(name).is_some() {
                None
            } else {
                ctx.named_value(name)
            }
        })
        .collect();
    let named = names
        .iter()
        .zip(&owned)
        .map(|(name, owned)| (name.as_str(), ctx.named_value_ref(name).or(owned.as_ref())))
        .collect();
    let mut evaluator = Evaluator {
        ctx,
        named,
        memory: EvaluationMemory::new(),
        root: expr,
    };
    evaluator.eval(expr, 0).map(Val::into_value)
}

/// An item of a filtered array: borrowed from a longer-lived value, or owned.
#[derive(Debug, Clone)]
pub(crate) enum Item<'a> {
    Ref(&'a Value),
    Owned(Value),
}

impl Item<'_> {
    pub(crate) fn value(&self) -> &Value {
        match self {
            Item::Ref(v) => v,
            Item::Owned(v) => v,
        }
    }

    fn view(&self) -> View<'_> {
        match self {
            Item::Ref(v) => View::of(v, true),
            Item::Owned(v) => View::of(v, false),
        }
    }

    fn into_value(self) -> Value {
        match self {
            Item::Ref(v) => v.clone(),
            Item::Owned(v) => v,
        }
    }
}

/// An intermediate result.
#[derive(Debug, Clone)]
pub(crate) enum Val<'a> {
    /// Borrowed from a context or from the expression's literals; arrays
    /// and objects keep their identity.
    Ref(&'a Value),
    /// Made during the evaluation.
    Owned(Value),
    /// The result of `.*` / `[*]`: an array that further `.x` / `[i]` /
    /// `.*` apply to item by item.
    Filtered(Vec<Item<'a>>),
}

impl<'a> Val<'a> {
    pub(crate) fn null() -> Self {
        Val::Owned(Value::Null)
    }

    /// The value, unless this is a filtered array.
    pub(crate) fn as_value(&self) -> Option<&Value> {
        match self {
            Val::Ref(v) => Some(v),
            Val::Owned(v) => Some(v),
            Val::Filtered(_) => None,
        }
    }

    pub(crate) fn view(&self) -> View<'_> {
        match self {
            Val::Ref(v) => View::of(v, true),
            Val::Owned(v) => View::of(v, false),
            Val::Filtered(_) => View::Array(None),
        }
    }

    pub(crate) fn is_primitive(&self) -> bool {
        self.as_value().is_some_and(Value::is_primitive)
    }

    pub(crate) fn is_collection(&self) -> bool {
        !self.is_primitive()
    }

    pub(crate) fn is_truthy(&self) -> bool {
        self.as_value().is_none_or(Value::is_truthy)
    }

    pub(crate) fn kind_name(&self) -> &'static str {
        self.as_value().map_or("Array", Value::kind_name)
    }

    pub(crate) fn to_number(&self) -> f64 {
        self.as_value().map_or(f64::NAN, Value::to_number)
    }

    pub(crate) fn to_display_string(&self) -> String {
        self.as_value()
            .map_or_else(|| "Array".to_string(), Value::to_display_string)
    }

    /// The items, when this is an array (filtered or not).
    pub(crate) fn array_items(&self) -> Option<Vec<View<'_>>> {
        match self {
            Val::Ref(Value::Array(items)) => {
                Some(items.iter().map(|v| View::of(v, true)).collect())
            }
            Val::Owned(Value::Array(items)) => {
                Some(items.iter().map(|v| View::of(v, false)).collect())
            }
            Val::Filtered(items) => Some(items.iter().map(Item::view).collect()),
            _ => None,
        }
    }

    /// The items' display strings, when this is an array.
    pub(crate) fn array_strings(&self) -> Option<Vec<String>> {
        match self {
            Val::Ref(Value::Array(items)) | Val::Owned(Value::Array(items)) => {
                Some(items.iter().map(Value::to_display_string).collect())
            }
            Val::Filtered(items) => Some(
                items
                    .iter()
                    .map(|i| i.value().to_display_string())
                    .collect(),
            ),
            _ => None,
        }
    }

    pub(crate) fn into_value(self) -> Value {
        match self {
            Val::Ref(v) => v.clone(),
            Val::Owned(v) => v,
            Val::Filtered(items) => Value::Array(items.into_iter().map(Item::into_value).collect()),
        }
    }
}

/// Where a node's result comes from, for the memory accounting: GitHub
/// charges values read from contexts differently from values it computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Computed (or a literal): a primitive releases its operands.
    Fresh,
    /// Read from a context or from parsed JSON.
    Read,
}

/// Walks the tree.
pub(crate) struct Evaluator<'a> {
    pub(crate) ctx: &'a dyn Context,
    named: Vec<(&'a str, Option<&'a Value>)>,
    memory: EvaluationMemory,
    root: &'a Expr,
}

impl<'a> Evaluator<'a> {
    /// Evaluates a node at `level` (the root is level 0).
    pub(crate) fn eval(&mut self, expr: &'a Expr, level: usize) -> Result<Val<'a>, EvalError> {
        let (val, origin) = match &expr.kind {
            ExprKind::Literal(value) => (Val::Ref(value), Origin::Fresh),
            ExprKind::NamedValue(name) => match self.lookup(name) {
                Some(value) => (Val::Ref(value), Origin::Read),
                None => (Val::null(), Origin::Fresh),
            },
            ExprKind::Call { name, args } => functions::call(self, expr, name, args, level)?,
            ExprKind::Not(operand) => {
                let value = self.eval(operand, level + 1)?;
                (Val::Owned(Value::Bool(!value.is_truthy())), Origin::Fresh)
            }
            ExprKind::Binary { op, left, right } => {
                let l = self.eval(left, level + 1)?;
                let r = self.eval(right, level + 1)?;
                (
                    Val::Owned(Value::Bool(compare(*op, l.view(), r.view()))),
                    Origin::Fresh,
                )
            }
            ExprKind::And(items) => (self.logical(items, level, false)?, Origin::Fresh),
            ExprKind::Or(items) => (self.logical(items, level, true)?, Origin::Fresh),
            ExprKind::Property { base, name } => {
                let base = self.eval(base, level + 1)?;
                let result = access::index(base, &Key::from_name(name));
                (self.counted(result, expr)?, Origin::Read)
            }
            ExprKind::Index { base, index } => {
                let base = self.eval(base, level + 1)?;
                let result = if base.is_collection() {
                    let key = self.eval(index, level + 1)?;
                    access::index(base, &Key::from_val(&key))
                } else {
                    Ok(Val::null())
                };
                (self.counted(result, expr)?, Origin::Read)
            }
            ExprKind::Wildcard { base } => {
                let base = self.eval(base, level + 1)?;
                (self.counted(access::wildcard(base), expr)?, Origin::Read)
            }
        };
        self.account(level, &val, origin)?;
        Ok(val)
    }

    /// `&&` (stop at the first falsy operand) or `||` (at the first truthy).
    fn logical(&mut self, items: &'a [Expr], level: usize, or: bool) -> Result<Val<'a>, EvalError> {
        let mut last = Val::null();
        for item in items {
            last = self.eval(item, level + 1)?;
            if last.is_truthy() == or {
                break;
            }
        }
        Ok(last)
    }

    fn lookup(&self, name: &str) -> Option<&'a Value> {
        self.named
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| *v)
    }

    /// Turns a function's memory counter overflow into GitHub's error.
    pub(crate) fn counted<T>(
        &self,
        result: Result<T, Exceeded>,
        node: &Expr,
    ) -> Result<T, EvalError> {
        result.map_err(|Exceeded| EvalError::MemoryExceeded(node.to_string()))
    }

    /// Charges a node's result to the evaluation's memory budget.
    fn account(&mut self, level: usize, val: &Val<'_>, origin: Origin) -> Result<(), EvalError> {
        let (bytes, trim) = match val {
            Val::Filtered(items) => (MIN_OBJECT_SIZE + POINTER_SIZE * items.len(), false),
            _ => match val.as_value() {
                Some(Value::String(s)) => match origin {
                    Origin::Fresh => (string_size(s), true),
                    Origin::Read => (MIN_OBJECT_SIZE + string_size(s), false),
                },
                Some(value) if value.is_primitive() => match origin {
                    Origin::Fresh => (MIN_OBJECT_SIZE, true),
                    Origin::Read => (2 * MIN_OBJECT_SIZE, false),
                },
                _ => (MIN_OBJECT_SIZE, false),
            },
        };
        let root = self.root;
        let result = self.memory.add(level, bytes, trim);
        self.counted(result, root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allowed::Allowed;
    use crate::context::MapContext;
    use crate::parser::parse;
    use serde_json::json;

    fn eval(src: &str, ctx: &MapContext) -> Result<Value, String> {
        let expr = parse(src, &Allowed::any()).map_err(|e| e.to_string())?;
        evaluate(&expr, ctx).map_err(|e| e.to_string())
    }

    #[test]
    fn identity_equality() {
        let ctx = MapContext::from_json(json!({"a": {"b": {}}, "c": {}}));
        assert_eq!(eval("a == a", &ctx), Ok(Value::Bool(true)));
        assert_eq!(eval("a.b == A['B']", &ctx), Ok(Value::Bool(true)));
        assert_eq!(eval("a == c", &ctx), Ok(Value::Bool(false)));
        assert_eq!(
            eval("fromJSON('{}') == fromJSON('{}')", &ctx),
            Ok(Value::Bool(false))
        );
        assert_eq!(eval("case(true, a, c) == a", &ctx), Ok(Value::Bool(true)));
        assert_eq!(eval("(c || a) == c", &ctx), Ok(Value::Bool(true)));
        assert_eq!(
            eval("contains(fromJSON('[1]').*, 1)", &ctx),
            Ok(Value::Bool(true))
        );
    }

    #[test]
    fn laziness() {
        let ctx = MapContext::new();
        assert_eq!(
            eval("false && fromJSON('nope')", &ctx),
            Ok(Value::Bool(false))
        );
        assert_eq!(
            eval("case(true, 1, fromJSON('nope'))", &ctx),
            Ok(Value::Number(1.0))
        );
        assert_eq!(eval("(null)[fromJSON('nope')]", &ctx), Ok(Value::Null));
        assert_eq!(
            eval("format('x', fromJSON('nope'))", &ctx),
            Ok(Value::from("x"))
        );
        assert_eq!(
            eval("startsWith(fromJSON('[]'), fromJSON('nope'))", &ctx),
            Ok(Value::Bool(false))
        );
        assert_eq!(
            eval("fromJSON('nope')", &ctx),
            Err("Error parsing fromJson".to_string())
        );
    }

    #[test]
    fn status_function_defaults() {
        let ctx = MapContext::new();
        assert_eq!(
            eval("success() && always() && !cancelled() && !failure()", &ctx),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            eval("hashFiles('**/Cargo.lock')", &ctx),
            Err("The function 'hashFiles' is not available here".to_string())
        );
    }

    #[test]
    fn hooks() {
        struct Hooks;
        impl Context for Hooks {
            fn named_value(&self, name: &str) -> Option<Value> {
                (name == "env").then(|| Value::from_json(json!({"X": "1"})))
            }
            fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
                match name {
                    "hashFiles" => Some(Ok(Value::from(format!("hash:{}", args.len())))),
                    "failure" => Some(Ok(Value::Bool(true))),
                    _ => None,
                }
            }
        }
        let expr = parse(
            "HASHFILES('a', 'b') == 'hash:2' && failure() && env.x == 1",
            &Allowed::any(),
        );
        let result = expr
            .map_err(|e| e.to_string())
            .and_then(|e| evaluate(&e, &Hooks).map_err(|e| e.to_string()));
        assert_eq!(result, Ok(Value::Bool(true)));
    }

    #[test]
    fn deepest_trees_evaluate() {
        // Trees at GitHub's depth limit must evaluate on a test thread's
        // small stack, in debug builds too.
        let nest = |open: &str, inner: &str, close: &str, n: usize| {
            format!("{}{inner}{}", open.repeat(n), close.repeat(n))
        };
        let ctx = MapContext::from_json(json!({"a": {"1": 1}}));
        let cases = [
            nest("format('{0}', ", "1", ")", 49),
            nest("contains('1', ", "1", ")", 49),
            nest("startsWith('1', ", "1", ")", 49),
            nest("case(true, ", "1", ", 0)", 49),
            nest("join(", "1", ", ',')", 49),
            format!("toJSON({})", nest("toJSON(fromJSON(", "1", "))", 24)),
            nest("a[", "1", "]", 49),
            nest("!(", "1", ")", 49),
            nest("(1 == ", "1", ")", 49),
            format!("!{}", nest("(1 && ", "1", " || 2)", 24)),
            nest("success(", "1", ")", 49),
        ];
        for src in &cases {
            let expr = parse(src, &Allowed::any());
            assert!(
                expr.as_ref().is_ok_and(|e| e.depth() == 50),
                "{src}: {expr:?}"
            );
            assert!(eval(src, &ctx).is_ok(), "{src}");
        }
    }

    #[test]
    fn memory_budget() {
        let ctx = MapContext::new().with("big", "x".repeat(200_000));
        assert!(eval("format('{0}{0}', big)", &ctx).is_ok());
        let err = eval("format('{0}{0}{0}{0}', big)", &ctx)
            .err()
            .unwrap_or_default();
        assert!(
            err.starts_with("The maximum allowed memory size was exceeded while evaluating"),
            "{err}"
        );
        let err = eval(
            "contains(format('{0}{0}', big), format('{0}{0}', big))",
            &ctx,
        )
        .err()
        .unwrap_or_default();
        assert!(
            err.starts_with("The maximum allowed memory size was exceeded"),
            "{err}"
        );
    }
}
