//! Where an evaluation gets its contexts and executor-supplied functions.

use crate::casing::eq_ignore_case;
use crate::error::EvalError;
use crate::value::{Object, Value};

/// The contexts (`github`, `env`, `steps`, ...) and executor-supplied
/// functions an expression is evaluated against.
///
/// Names are passed lower-cased for contexts (`github`) and with GitHub's
/// spelling for the functions it defines (`hashFiles`, `success`, ...);
/// other function names are passed as written, so compare them
/// case-insensitively.
pub trait Context {
    /// The value of a context, or `None` when it does not exist (it then
    /// reads as `null`).
    fn named_value(&self, name: &str) -> Option<Value>;

    /// The value of a context, borrowed. Implement this when the values are
    /// stored, to spare a clone per evaluation; [`Context::named_value`] is
    /// only asked when this returns `None`.
    fn named_value_ref(&self, name: &str) -> Option<&Value> {
        let _ = name;
        None
    }

    /// Calls a function the executor supplies: the status functions and
    /// `hashFiles`. Return `None` to get the default: `success()` and
    /// `always()` are true, `cancelled()` and `failure()` are false, and
    /// anything else is an [`EvalError::FunctionUnavailable`] error.
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
        let _ = (name, args);
        None
    }
}

/// A [`Context`] backed by a map of named values, looked up
/// case-insensitively. For tests and `gantry eval`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MapContext {
    values: Object,
}

impl MapContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a named value.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<Value>) -> &mut Self {
        self.values.insert(name.into(), value.into());
        self
    }

    /// Builder form of [`MapContext::insert`].
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.insert(name, value);
        self
    }

    /// A context per key of a JSON object, e.g. `{"github": {...}}`.
    /// Anything but an object gives an empty context.
    pub fn from_json(json: serde_json::Value) -> Self {
        match Value::from_json(json) {
            Value::Object(values) => Self { values },
            _ => Self::default(),
        }
    }

    /// Looks a named value up (case-insensitively).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name).or_else(|| {
            self.values
                .iter()
                .find(|(k, _)| eq_ignore_case(k, name))
                .map(|(_, v)| v)
        })
    }

    /// The names, in insertion order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }
}

impl Context for MapContext {
    fn named_value(&self, name: &str) -> Option<Value> {
        self.get(name).cloned()
    }

    fn named_value_ref(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

impl<C: Context + ?Sized> Context for &C {
    fn named_value(&self, name: &str) -> Option<Value> {
        (**self).named_value(name)
    }

    fn named_value_ref(&self, name: &str) -> Option<&Value> {
        (**self).named_value_ref(name)
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
        (**self).call(name, args)
    }
}
