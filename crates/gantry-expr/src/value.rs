//! The values an expression evaluates to.
//!
//! GitHub's expression language has six kinds of value: null, boolean,
//! number (an IEEE double), string, array and object. Object keys keep their
//! insertion order; property lookup is case-insensitive, as GitHub's is.
//!
//! The coercions here are GitHub's: [`Value::is_truthy`] for `!`, `&&`, `||`
//! and `if:`, [`Value::to_number`] for comparisons, and
//! [`Value::to_display_string`] for `format()`, `join()` and text templates.

use indexmap::IndexMap;

use crate::casing::eq_ignore_case;
use crate::json::PrettyJson;
use crate::number::{format_number, parse_number};

/// An object: keys in insertion order, looked up case-insensitively.
pub type Object = IndexMap<String, Value>;

/// A value of the expression language.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `null`; also what a missing property or context reads as.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// Every number is a double, as in JavaScript.
    Number(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object (a mapping from string keys).
    Object(Object),
}

impl Value {
    /// Looks a property up case-insensitively, as `a.b` and `a['b']` do.
    ///
    /// An exact match wins; otherwise the first key equal to `key` under
    /// GitHub's `OrdinalIgnoreCase` comparison.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(map) => map.get(key).or_else(|| {
                map.iter()
                    .find(|(k, _)| eq_ignore_case(k, key))
                    .map(|(_, v)| v)
            }),
            _ => None,
        }
    }

    /// GitHub's name for the kind of value: `Null`, `Boolean`, `Number`,
    /// `String`, `Array` or `Object`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "Null",
            Value::Bool(_) => "Boolean",
            Value::Number(_) => "Number",
            Value::String(_) => "String",
            Value::Array(_) => "Array",
            Value::Object(_) => "Object",
        }
    }

    /// Whether this is null, a boolean, a number or a string.
    pub fn is_primitive(&self) -> bool {
        !matches!(self, Value::Array(_) | Value::Object(_))
    }

    /// Truthiness: `null`, `false`, `0`, `-0`, `NaN` and `''` are false;
    /// everything else, including empty arrays and objects, is true.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::String(s) => !s.is_empty(),
            Value::Array(_) | Value::Object(_) => true,
        }
    }

    /// The number this value coerces to in comparisons: `null` is 0,
    /// booleans are 0 and 1, strings are read like JavaScript's `Number()`
    /// (`''` is 0, `' 0x1F '` is 31, `'abc'` is NaN), arrays and objects are
    /// NaN.
    pub fn to_number(&self) -> f64 {
        match self {
            Value::Null => 0.0,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Number(n) => *n,
            Value::String(s) => parse_number(s),
            Value::Array(_) | Value::Object(_) => f64::NAN,
        }
    }

    /// The text this value shows as in `format()`, `join()` and templates:
    /// `null` is `''`, numbers use GitHub's formatting (`1`, `0.5`, `1E+15`),
    /// arrays are `Array` and objects are `Object`.
    pub fn to_display_string(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(true) => "true".to_string(),
            Value::Bool(false) => "false".to_string(),
            Value::Number(n) => format_number(*n),
            Value::String(s) => s.clone(),
            Value::Array(_) => "Array".to_string(),
            Value::Object(_) => "Object".to_string(),
        }
    }

    /// The value as `toJSON()` prints it: JSON indented by two spaces, with
    /// numbers formatted as GitHub formats them.
    pub fn to_json_pretty(&self) -> String {
        let mut writer = PrettyJson::new(None);
        // Without a memory budget the writer cannot fail.
        let _ = writer.value(self);
        writer.finish()
    }

    /// Converts from JSON. Numbers become doubles.
    pub fn from_json(json: serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(items) => {
                Value::Array(items.into_iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Converts to JSON. Whole numbers become JSON integers; `NaN` and the
    /// infinities, which JSON cannot hold, become `null`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Object(map) => serde_json::Value::Object(
                map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect(),
            ),
        }
    }
}

/// Whole numbers within the exactly representable range print as integers.
fn number_to_json(n: f64) -> serde_json::Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if n.fract() == 0.0 && n.abs() <= EXACT {
        // In range and whole, so the conversion is exact.
        #[allow(clippy::cast_possible_truncation)]
        let int = n as i64;
        return serde_json::Value::from(int);
    }
    serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::Array(items)
    }
}

impl From<Object> for Value {
    fn from(map: Object) -> Self {
        Value::Object(map)
    }
}

impl From<serde_json::Value> for Value {
    fn from(json: serde_json::Value) -> Self {
        Value::from_json(json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn truthiness() {
        assert!(!Value::Null.is_truthy());
        assert!(!Value::Number(f64::NAN).is_truthy());
        assert!(!Value::Number(-0.0).is_truthy());
        assert!(!Value::from("").is_truthy());
        assert!(Value::from("false").is_truthy());
        assert!(Value::Array(vec![]).is_truthy());
        assert!(Value::Object(Object::new()).is_truthy());
    }

    #[test]
    fn coercions() {
        assert_eq!(Value::Null.to_number(), 0.0);
        assert_eq!(Value::Bool(true).to_number(), 1.0);
        assert_eq!(Value::from(" 0x1F ").to_number(), 31.0);
        assert!(Value::from("abc").to_number().is_nan());
        assert!(Value::Array(vec![]).to_number().is_nan());
        assert_eq!(Value::Null.to_display_string(), "");
        assert_eq!(Value::Number(1e15).to_display_string(), "1E+15");
        assert_eq!(Value::Number(-0.0).to_display_string(), "0");
        assert_eq!(Value::Array(vec![]).to_display_string(), "Array");
        assert_eq!(Value::Object(Object::new()).to_display_string(), "Object");
    }

    #[test]
    fn case_insensitive_get() {
        let v = Value::from_json(json!({"teST": 1, "Ünï": 2}));
        assert_eq!(v.get("TEst"), Some(&Value::Number(1.0)));
        assert_eq!(v.get("üNÏ"), Some(&Value::Number(2.0)));
        assert_eq!(v.get("nope"), None);
    }

    #[test]
    fn json_round_trip() {
        let j = json!({"a": [1, 2.5, null, true, "x"], "b": {}});
        let v = Value::from_json(j.clone());
        assert_eq!(v.kind_name(), "Object");
        assert_eq!(v.to_json(), j);
        assert_eq!(Value::Number(f64::NAN).to_json(), serde_json::Value::Null);
    }

    #[test]
    fn pretty_json() {
        let v = Value::from_json(json!({"a": [1, {"b": "x\"y"}], "c": [], "d": {}}));
        assert_eq!(
            v.to_json_pretty(),
            "{\n  \"a\": [\n    1,\n    {\n      \"b\": \"x\\\"y\"\n    }\n  ],\n  \"c\": [],\n  \"d\": {}\n}"
        );
    }
}
