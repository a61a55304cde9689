//! The comparison operators and their loose coercions.
//!
//! GitHub compares like JavaScript's `==`, with two differences: strings are
//! compared case-insensitively, and arrays and objects are never converted
//! (they are equal only to themselves: the very same object).
//!
//! When the two kinds differ, null and booleans become numbers, and a string
//! compared with a number becomes a number; if the kinds still differ the
//! comparison is false. `NaN` is unequal to everything, itself included.

use std::cmp::Ordering;

use crate::ast::BinaryOp;
use crate::casing::{cmp_ignore_case, eq_ignore_case};
use crate::number::parse_number;
use crate::value::Value;

/// A value as the comparisons see it. Arrays and objects carry their
/// identity: the address of the value they are, when they are one that lives
/// through the evaluation (a context, or part of one), else `None` (a value
/// just made, equal to nothing).
#[derive(Debug, Clone, Copy)]
pub(crate) enum View<'v> {
    Null,
    Bool(bool),
    Number(f64),
    Str(&'v str),
    Array(Option<*const Value>),
    Object(Option<*const Value>),
}

impl<'v> View<'v> {
    /// The view of a value; `identity` tells whether its address identifies it.
    pub(crate) fn of(value: &'v Value, identity: bool) -> Self {
        let address = identity.then_some(std::ptr::from_ref(value));
        match value {
            Value::Null => View::Null,
            Value::Bool(b) => View::Bool(*b),
            Value::Number(n) => View::Number(*n),
            Value::String(s) => View::Str(s),
            Value::Array(_) => View::Array(address),
            Value::Object(_) => View::Object(address),
        }
    }

    fn kind(self) -> u8 {
        match self {
            View::Null => 0,
            View::Bool(_) => 1,
            View::Number(_) => 2,
            View::Str(_) => 3,
            View::Array(_) => 4,
            View::Object(_) => 5,
        }
    }

    fn to_number(self) -> f64 {
        match self {
            View::Null => 0.0,
            View::Bool(b) => f64::from(u8::from(b)),
            View::Number(n) => n,
            View::Str(s) => parse_number(s),
            View::Array(_) | View::Object(_) => f64::NAN,
        }
    }
}

/// Brings two values to a common kind where GitHub's rules allow.
fn coerce<'v>(left: View<'v>, right: View<'v>) -> (View<'v>, View<'v>) {
    let mut l = left;
    let mut r = right;
    // At most a few rounds: each one turns a null/boolean/string into a number.
    loop {
        if l.kind() == r.kind() {
            return (l, r);
        }
        match (l, r) {
            (View::Number(_), View::Str(_)) => r = View::Number(r.to_number()),
            (View::Str(_), View::Number(_)) => l = View::Number(l.to_number()),
            (View::Null | View::Bool(_), _) => l = View::Number(l.to_number()),
            (_, View::Null | View::Bool(_)) => r = View::Number(r.to_number()),
            _ => return (l, r),
        }
    }
}

/// `left == right`.
pub(crate) fn equals(left: View<'_>, right: View<'_>) -> bool {
    match coerce(left, right) {
        (View::Null, View::Null) => true,
        (View::Number(a), View::Number(b)) => a == b,
        (View::Str(a), View::Str(b)) => eq_ignore_case(a, b),
        (View::Bool(a), View::Bool(b)) => a == b,
        (View::Array(Some(a)), View::Array(Some(b)))
        | (View::Object(Some(a)), View::Object(Some(b))) => std::ptr::eq(a, b),
        _ => false,
    }
}

/// How `left` orders against `right`, when they can be ordered at all.
fn order(left: View<'_>, right: View<'_>) -> Option<Ordering> {
    match coerce(left, right) {
        (View::Number(a), View::Number(b)) => a.partial_cmp(&b),
        (View::Str(a), View::Str(b)) => Some(cmp_ignore_case(a, b)),
        (View::Bool(a), View::Bool(b)) => Some(a.cmp(&b)),
        _ => None,
    }
}

/// Applies a comparison operator.
pub(crate) fn compare(op: BinaryOp, left: View<'_>, right: View<'_>) -> bool {
    let ordered = || order(left, right);
    match op {
        BinaryOp::Eq => equals(left, right),
        BinaryOp::Ne => !equals(left, right),
        BinaryOp::Gt => ordered() == Some(Ordering::Greater),
        BinaryOp::Lt => ordered() == Some(Ordering::Less),
        BinaryOp::Ge => equals(left, right) || ordered() == Some(Ordering::Greater),
        BinaryOp::Le => equals(left, right) || ordered() == Some(Ordering::Less),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(value: &Value) -> View<'_> {
        View::of(value, false)
    }

    #[test]
    fn loose_equality() {
        let null = Value::Null;
        let f = Value::Bool(false);
        let zero = Value::Number(0.0);
        let blank = Value::from("  ");
        let zero_s = Value::from("0");
        let nan = Value::Number(f64::NAN);
        let arr = Value::Array(vec![]);
        assert!(equals(v(&null), v(&zero)));
        assert!(equals(v(&f), v(&blank)));
        assert!(equals(v(&null), v(&zero_s)));
        assert!(!equals(v(&nan), v(&nan)));
        assert!(!equals(v(&arr), v(&arr)));
        assert!(equals(View::of(&arr, true), View::of(&arr, true)));
        assert!(!equals(v(&f), v(&arr)));
    }

    #[test]
    fn ordering() {
        let a = Value::from("abc");
        let b = Value::from("DEF");
        let t = Value::Bool(true);
        let one = Value::from(" 1 ");
        assert!(compare(BinaryOp::Lt, v(&a), v(&b)));
        assert!(compare(BinaryOp::Ge, v(&t), v(&one)));
        assert!(!compare(BinaryOp::Gt, v(&t), v(&one)));
        let nan = Value::Number(f64::NAN);
        assert!(!compare(BinaryOp::Lt, v(&nan), v(&t)));
    }
}
