//! The values an expression evaluates to.
//!
//! GitHub's expression language has six kinds of value: null, boolean,
//! number (an IEEE double), string, array and object. Object keys keep their
//! insertion order; property lookup is case-insensitive, as GitHub's is.

use indexmap::IndexMap;

/// An object: keys in insertion order, looked up case-insensitively.
pub type Object = IndexMap<String, Value>;

/// A value of the expression language.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(Object),
}

impl Value {
    /// Looks a property up case-insensitively, as `a.b` and `a['b']` do.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(map) => map
                .get(key)
                .or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)),
            _ => None,
        }
    }
}
