//! Property and index access: `a.b`, `a['b']`, `a[0]`, `a.*`, `a[*]`.
//!
//! - On an object, the key is the index's display string (`a[1]` reads key
//!   `'1'`, `a[null]` key `''`), looked up case-insensitively.
//! - On an array, the index is converted to a number and rounded down;
//!   negative, `NaN` and out-of-range indexes read as null.
//! - On anything else the result is null (or an empty array for `.*`).
//! - `.*` makes a *filtered array*: access on it applies to each item and
//!   keeps the hits, so `labels.*.name` lists every label's name.
//!
//! Each filtered array is charged to a memory counter as GitHub does (a
//! pointer per item), so huge fan-outs stop with GitHub's memory error.

use crate::casing::eq_ignore_case;
use crate::eval::{Item, Val};
use crate::memory::{Exceeded, MIN_OBJECT_SIZE, MemoryCounter, POINTER_SIZE};
use crate::number::parse_number;
use crate::value::{Object, Value};

/// An index, ready for either an object or an array.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Key {
    /// The key for objects (`None` when the index is an array or object).
    text: Option<String>,
    /// The position for arrays.
    position: Option<usize>,
}

impl Key {
    /// The key of `.name`.
    pub(crate) fn from_name(name: &str) -> Self {
        Self {
            text: Some(name.to_string()),
            position: position(parse_number(name)),
        }
    }

    /// The key of `[value]`.
    pub(crate) fn from_val(value: &Val<'_>) -> Self {
        let text = value.is_primitive().then(|| value.to_display_string());
        Self {
            text,
            position: position(value.to_number()),
        }
    }
}

/// An array position: non-negative, rounded down, within `i32`.
fn position(n: f64) -> Option<usize> {
    if n.is_nan() || n < 0.0 {
        return None;
    }
    let floor = n.floor();
    if floor > f64::from(i32::MAX) {
        return None;
    }
    // Checked above: a whole number in 0..=i32::MAX.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some(floor as usize)
}

fn object_index(map: &Object, key: &str) -> Option<usize> {
    map.get_index_of(key)
        .or_else(|| map.keys().position(|k| eq_ignore_case(k, key)))
}

/// The child of a borrowed value at `key`.
fn child_ref<'a>(value: &'a Value, key: &Key) -> Option<&'a Value> {
    match value {
        Value::Object(map) => key
            .text
            .as_deref()
            .and_then(|k| object_index(map, k))
            .and_then(|i| map.get_index(i))
            .map(|(_, v)| v),
        Value::Array(items) => key.position.and_then(|i| items.get(i)),
        _ => None,
    }
}

/// The child of an owned value at `key`, moved out.
fn child_owned(value: Value, key: &Key) -> Option<Value> {
    match value {
        Value::Object(mut map) => {
            let i = key.text.as_deref().and_then(|k| object_index(&map, k))?;
            map.swap_remove_index(i).map(|(_, v)| v)
        }
        Value::Array(mut items) => {
            let i = key.position.filter(|i| *i < items.len())?;
            Some(items.swap_remove(i))
        }
        _ => None,
    }
}

/// `base.name` / `base[index]`.
pub(crate) fn index<'a>(base: Val<'a>, key: &Key) -> Result<Val<'a>, Exceeded> {
    Ok(match base {
        Val::Ref(value) => child_ref(value, key).map_or_else(Val::null, Val::Ref),
        Val::Owned(value) => child_owned(value, key).map_or_else(Val::null, Val::Owned),
        Val::Filtered(items) => {
            let mut counter = MemoryCounter::new();
            let mut hits = Vec::new();
            for item in items {
                let hit = match item {
                    Item::Ref(value) => child_ref(value, key).map(Item::Ref),
                    Item::Owned(value) => child_owned(value, key).map(Item::Owned),
                };
                if let Some(hit) = hit {
                    counter.add(POINTER_SIZE)?;
                    hits.push(hit);
                }
            }
            Val::Filtered(hits)
        }
    })
}

/// All values of a borrowed object or array.
fn children_ref(value: &Value) -> Vec<Item<'_>> {
    match value {
        Value::Object(map) => map.values().map(Item::Ref).collect(),
        Value::Array(items) => items.iter().map(Item::Ref).collect(),
        _ => Vec::new(),
    }
}

/// All values of an owned object or array.
fn children_owned<'a>(value: Value) -> Vec<Item<'a>> {
    match value {
        Value::Object(map) => map.into_values().map(Item::Owned).collect(),
        Value::Array(items) => items.into_iter().map(Item::Owned).collect(),
        _ => Vec::new(),
    }
}

/// `base.*` / `base[*]`.
pub(crate) fn wildcard(base: Val<'_>) -> Result<Val<'_>, Exceeded> {
    let mut counter = MemoryCounter::new();
    let items = match base {
        Val::Ref(value) => {
            counter.add(MIN_OBJECT_SIZE)?;
            children_ref(value)
        }
        Val::Owned(value) => {
            counter.add(MIN_OBJECT_SIZE)?;
            children_owned(value)
        }
        Val::Filtered(items) => items
            .into_iter()
            .flat_map(|item| match item {
                Item::Ref(value) => children_ref(value),
                Item::Owned(value) => children_owned(value),
            })
            .collect(),
    };
    counter.add(POINTER_SIZE.saturating_mul(items.len()))?;
    Ok(Val::Filtered(items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys() {
        assert_eq!(
            Key::from_val(&Val::Owned(Value::Number(1.9))).position,
            Some(1)
        );
        assert_eq!(
            Key::from_val(&Val::Owned(Value::Number(-1.0))).position,
            None
        );
        assert_eq!(
            Key::from_val(&Val::Owned(Value::Number(f64::INFINITY))).position,
            None
        );
        assert_eq!(
            Key::from_val(&Val::Owned(Value::Null)).text.as_deref(),
            Some("")
        );
        assert_eq!(Key::from_val(&Val::Owned(Value::Array(vec![]))).text, None);
    }

    #[test]
    fn filtered_access() {
        let value = Value::from_json(json!([{"a": 1}, {"b": 2}, {"A": 3}, 4]));
        let filtered = wildcard(Val::Ref(&value)).map(|v| index(v, &Key::from_name("a")));
        let result = filtered.and_then(|r| r).map(Val::into_value);
        assert_eq!(result, Ok(Value::from_json(json!([1, 3]))));
        let owned = wildcard(Val::Owned(value.clone()))
            .and_then(wildcard)
            .map(Val::into_value);
        assert_eq!(owned, Ok(Value::from_json(json!([1, 2, 3]))));
        assert_eq!(
            wildcard(Val::Owned(Value::Null)).map(Val::into_value),
            Ok(Value::Array(vec![]))
        );
    }
}
