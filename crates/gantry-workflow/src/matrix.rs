//! `jobs.<job_id>.strategy.matrix`: expanding a matrix into job
//! configurations, exactly as GitHub does.
//!
//! A matrix is an object. Every key other than `include` and `exclude` is a
//! *vector*: an array of values (scalars, arrays or objects). Expansion:
//!
//! 1. **Cross product.** One combination for every choice of a value from
//!    each vector. The first vector varies slowest, so `version: [10, 12]`,
//!    `os: [a, b]` gives `{10, a}`, `{10, b}`, `{12, a}`, `{12, b}`.
//! 2. **`exclude`.** A combination is dropped if it matches any exclude
//!    entry. An entry only has to match partially: it names some of the
//!    vectors and matches every combination holding those values. Nested
//!    objects and arrays match partially too: each scalar leaf of the entry
//!    is compared with the value at the same path (`{node: {version: 20}}`
//!    matches `node: {version: 20, env: ...}`). Every key of an exclude entry
//!    must be a vector of the matrix.
//! 3. **`include`**, processed after `exclude`, entry by entry. The keys of
//!    an entry that are vectors of the matrix select the combinations it
//!    applies to (the same partial, leaf-by-leaf match); its other keys are
//!    added to each of those combinations. In the words of GitHub's docs, an
//!    entry is added to every combination it can join "without overwriting
//!    any of the original matrix values", while values added by an earlier
//!    include may be overwritten by a later one. Only the combinations of
//!    the cross product are considered, never those created by other
//!    includes. An entry that applies to no combination becomes a new
//!    combination of its own, after all the cross-product ones. A matrix
//!    made only of `include` yields one combination per entry.
//!
//! Comparisons use the expression language's `==`, as GitHub's
//! implementation does: strings compare case-insensitively (`Windows-Latest`
//! matches `windows-latest`) and a string compares to a number by its
//! numeric value (`'16'` matches `16`). Matrix keys are case-insensitive too:
//! an include key `OS` refers to the vector `os`.
//!
//! A matrix may produce at most [`MAX_JOBS`] (256) jobs.
//!
//! Each [`Combination`] knows how GitHub names its job: the job name
//! followed by the combination's scalar values in parentheses, as in
//! `build (ubuntu-latest, 18)` (see [`Combination::display_name`]).

use gantry_expr::{Object, Value};
use indexmap::IndexMap;

use crate::read::is_expression;
use crate::yaml::{Node, NodeKind};

/// The most jobs a matrix may produce.
pub const MAX_JOBS: usize = 256;

/// Cross products larger than this are not enumerated: no `exclude` list a
/// person writes brings them down to [`MAX_JOBS`].
const MAX_CROSS_PRODUCT: u128 = 1 << 20;

/// GitHub truncates job display names to this many characters.
const MAX_NAME_CHARS: usize = 100;

/// Why a matrix cannot be expanded. The messages follow GitHub's where it
/// has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MatrixError {
    /// The matrix is not an object.
    #[error("a matrix must be an object, not {kind}")]
    NotAnObject {
        /// What it is instead.
        kind: &'static str,
    },
    /// Neither a vector nor a non-empty `include`.
    #[error("Matrix must define at least one vector")]
    NoVectors,
    /// A vector that is not an array.
    #[error("Matrix vector '{key}' must be an array of values, not {kind}")]
    NotAVector {
        /// The vector's key.
        key: String,
        /// What it is instead.
        kind: &'static str,
    },
    /// A vector with no values.
    #[error("Matrix vector '{key}' does not contain any values")]
    EmptyVector {
        /// The vector's key.
        key: String,
    },
    /// Two vectors whose keys differ only in case.
    #[error("Matrix keys are case-insensitive: '{first}' and '{second}' are the same key")]
    DuplicateKey {
        /// The key seen first.
        first: String,
        /// The key seen second.
        second: String,
    },
    /// `include` or `exclude` is not an array.
    #[error("Matrix '{key}' must be an array of objects, not {kind}")]
    NotAList {
        /// `include` or `exclude`.
        key: &'static str,
        /// What it is instead.
        kind: &'static str,
    },
    /// An `include`/`exclude` entry that is not an object.
    #[error("Matrix '{key}' entry {} must be an object, not {kind}", index + 1)]
    EntryNotAnObject {
        /// `include` or `exclude`.
        key: &'static str,
        /// The zero-based position of the entry.
        index: usize,
        /// What it is instead.
        kind: &'static str,
    },
    /// An empty `include` entry.
    #[error("Matrix include mapping does not contain any values (entry {})", index + 1)]
    EmptyInclude {
        /// The zero-based position of the entry.
        index: usize,
    },
    /// An empty `exclude` entry.
    #[error("Matrix exclude filter must not be empty (entry {})", index + 1)]
    EmptyExclude {
        /// The zero-based position of the entry.
        index: usize,
    },
    /// An `exclude` key that is not a vector.
    #[error("Matrix exclude key '{key}' does not match any key within the matrix")]
    UnknownExcludeKey {
        /// The zero-based position of the entry.
        index: usize,
        /// The key.
        key: String,
    },
    /// More than [`MAX_JOBS`] combinations.
    #[error("a matrix may produce at most {MAX_JOBS} jobs; this one produces {count}")]
    TooManyJobs {
        /// How many it produces.
        count: usize,
    },
    /// A cross product too large to enumerate.
    #[error(
        "a matrix may produce at most {MAX_JOBS} jobs; this one's vectors make {combinations} combinations"
    )]
    TooLarge {
        /// The size of the cross product, before `exclude`.
        combinations: u128,
    },
}

/// One job configuration: the `matrix` context of the job.
#[derive(Debug, Clone, PartialEq)]
pub struct Combination {
    /// The values, in order: the vectors' values in the matrix's key order,
    /// then the values `include` added. For a combination created by an
    /// `include` entry, the entry's keys that are vectors come first.
    pub values: IndexMap<String, Value>,
    /// How many leading entries of `values` make up the job's name.
    named: usize,
    /// Whether an unmatched `include` entry created the combination.
    added: bool,
}

impl Combination {
    /// Looks a key up, case-insensitively as matrix keys are.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key).or_else(|| {
            self.values
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
    }

    /// Whether the combination was created by an `include` entry that
    /// matched no combination of the cross product.
    pub fn is_added_by_include(&self) -> bool {
        self.added
    }

    /// The combination as the `matrix` context object.
    pub fn to_value(&self) -> Value {
        Value::Object(self.values.clone())
    }

    /// The parts GitHub puts in parentheses after the job name: every
    /// non-empty string, number and boolean among the values, nested arrays
    /// and objects flattened in order, nulls skipped. For a cross-product
    /// combination only the vectors' values count; what `include` added is
    /// left out. For a combination created by `include`, all of its values
    /// count.
    pub fn name_segments(&self) -> Vec<String> {
        let mut segments = Vec::new();
        for value in self.values.values().take(self.named) {
            flatten(value, &mut segments);
        }
        segments
    }

    /// The job's display name as GitHub shows it: `build (ubuntu-latest,
    /// 18)`, just `job_name` when there is nothing to add, cut to 100
    /// characters (ending in `...`) when longer. GitHub appends nothing when
    /// the job's `name:` itself uses the `matrix` context; that decision is
    /// the caller's.
    pub fn display_name(&self, job_name: &str) -> String {
        let segments = self.name_segments();
        let name = if segments.is_empty() {
            job_name.to_string()
        } else {
            format!("{job_name} ({})", segments.join(", "))
        };
        if name.chars().count() > MAX_NAME_CHARS {
            let mut cut: String = name.chars().take(MAX_NAME_CHARS - 3).collect();
            cut.push_str("...");
            cut
        } else {
            name
        }
    }
}

/// A matrix's combinations, in the order GitHub creates the jobs.
pub type Expansion = Vec<Combination>;

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// How GitHub writes a number in a job name.
fn number_text(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_string()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else if n == n.trunc() && n.abs() < 1e15 {
        // Exact: the value is an integer well inside i64's range.
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn flatten(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push(b.to_string()),
        Value::Number(n) => out.push(number_text(*n)),
        Value::String(s) if s.is_empty() => {}
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| flatten(v, out)),
        Value::Object(map) => map.values().for_each(|v| flatten(v, out)),
    }
}

/// The expression language's string-to-number conversion.
fn string_to_number(s: &str) -> f64 {
    let t = s.trim();
    if t.is_empty() {
        return 0.0;
    }
    let radix = |digits: &str, radix: u32| {
        u64::from_str_radix(digits, radix).map_or(f64::NAN, |n| n as f64)
    };
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return radix(hex, 16);
    }
    if let Some(oct) = t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")) {
        return radix(oct, 8);
    }
    if t.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '+' | '-' | 'e' | 'E'))
    {
        t.parse().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}

fn to_number(value: &Value) -> f64 {
    match value {
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => *n,
        Value::String(s) => string_to_number(s),
        Value::Array(_) | Value::Object(_) => f64::NAN,
    }
}

fn uppercase_eq(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_uppercase)
        .eq(b.chars().flat_map(char::to_uppercase))
}

/// The expression language's `==` between a value of the matrix and a
/// scalar of a filter: strings ignore case, other mixed kinds compare as
/// numbers, arrays and objects equal nothing.
fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => false,
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::String(x), Value::String(y)) => uppercase_eq(x, y),
        _ => to_number(a) == to_number(b),
    }
}

/// A vector of the matrix.
struct Vector<'a> {
    key: &'a str,
    values: &'a [Value],
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// One scalar of a filter, to compare with the value at `path` inside the
/// vector value `vector`.
struct Leaf<'a> {
    vector: usize,
    path: Vec<Segment<'a>>,
    expected: &'a Value,
}

fn collect_leaves<'a>(
    vector: usize,
    value: &'a Value,
    path: &mut Vec<Segment<'a>>,
    out: &mut Vec<Leaf<'a>>,
) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                path.push(Segment::Key(key));
                collect_leaves(vector, child, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push(Segment::Index(i));
                collect_leaves(vector, child, path, out);
                path.pop();
            }
        }
        _ => out.push(Leaf {
            vector,
            path: path.clone(),
            expected: value,
        }),
    }
}

/// An exclude entry, or the vector part of an include entry.
#[derive(Default)]
struct Filter<'a> {
    leaves: Vec<Leaf<'a>>,
}

impl Filter<'_> {
    /// Whether the cross-product combination `choice` (an index into each
    /// vector) matches every leaf.
    fn matches(&self, vectors: &[Vector<'_>], choice: &[usize]) -> bool {
        self.leaves.iter().all(|leaf| {
            let root = vectors
                .get(leaf.vector)
                .zip(choice.get(leaf.vector))
                .and_then(|(v, &i)| v.values.get(i));
            let actual = leaf.path.iter().try_fold(root, |node, segment| {
                Some(match (node?, segment) {
                    (value, Segment::Key(k)) => value.get(k),
                    (Value::Array(items), Segment::Index(i)) => items.get(*i),
                    (_, Segment::Index(_)) => None,
                })
            });
            loose_eq(actual.flatten().unwrap_or(&Value::Null), leaf.expected)
        })
    }
}

struct Include<'a> {
    filter: Filter<'a>,
    /// The entry's keys that are vectors, as written.
    selectors: Vec<(&'a str, &'a Value)>,
    /// The entry's other keys.
    extras: Vec<(&'a str, &'a Value)>,
}

/// Sets `key` in `map`, matching existing keys case-insensitively: an
/// existing key keeps its spelling and position.
fn merge(map: &mut IndexMap<String, Value>, key: &str, value: &Value) {
    match map.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
        Some((_, slot)) => *slot = value.clone(),
        None => {
            map.insert(key.to_string(), value.clone());
        }
    }
}

fn entries<'a>(matrix: &'a Object, key: &'static str) -> Result<Vec<&'a Object>, MatrixError> {
    let Some(list) = matrix.get(key) else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = list else {
        return Err(MatrixError::NotAList {
            key,
            kind: kind(list),
        });
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::Object(map) => Ok(map),
            other => Err(MatrixError::EntryNotAnObject {
                key,
                index,
                kind: kind(other),
            }),
        })
        .collect()
}

/// Expands a matrix given as any value; see [`expand`].
pub fn expand_value(matrix: &Value) -> Result<Expansion, MatrixError> {
    match matrix {
        Value::Object(map) => expand(map),
        other => Err(MatrixError::NotAnObject { kind: kind(other) }),
    }
}

/// Expands a matrix into its combinations by GitHub's rules (see the
/// [module documentation](self)).
pub fn expand(matrix: &Object) -> Result<Expansion, MatrixError> {
    // Vectors.
    let mut vectors: Vec<Vector<'_>> = Vec::new();
    for (key, value) in matrix {
        if key == "include" || key == "exclude" {
            continue;
        }
        let Value::Array(values) = value else {
            return Err(MatrixError::NotAVector {
                key: key.clone(),
                kind: kind(value),
            });
        };
        if values.is_empty() {
            return Err(MatrixError::EmptyVector { key: key.clone() });
        }
        if let Some(first) = vectors.iter().find(|v| v.key.eq_ignore_ascii_case(key)) {
            return Err(MatrixError::DuplicateKey {
                first: first.key.to_string(),
                second: key.clone(),
            });
        }
        vectors.push(Vector { key, values });
    }
    let position = |key: &str| vectors.iter().position(|v| v.key.eq_ignore_ascii_case(key));

    // Exclude entries: every key must be a vector.
    let mut excludes = Vec::new();
    for (index, entry) in entries(matrix, "exclude")?.into_iter().enumerate() {
        if entry.is_empty() {
            return Err(MatrixError::EmptyExclude { index });
        }
        let mut filter = Filter::default();
        for (key, value) in entry {
            let Some(vector) = position(key) else {
                return Err(MatrixError::UnknownExcludeKey {
                    index,
                    key: key.clone(),
                });
            };
            collect_leaves(vector, value, &mut Vec::new(), &mut filter.leaves);
        }
        excludes.push(filter);
    }

    // Include entries: split into the vector part and the extras.
    let include_entries = entries(matrix, "include")?;
    if vectors.is_empty() && include_entries.is_empty() {
        return Err(MatrixError::NoVectors);
    }
    let mut includes = Vec::new();
    for (index, entry) in include_entries.into_iter().enumerate() {
        if entry.is_empty() {
            return Err(MatrixError::EmptyInclude { index });
        }
        let mut include = Include {
            filter: Filter::default(),
            selectors: Vec::new(),
            extras: Vec::new(),
        };
        for (key, value) in entry {
            match position(key) {
                Some(vector) => {
                    collect_leaves(vector, value, &mut Vec::new(), &mut include.filter.leaves);
                    include.selectors.push((key, value));
                }
                None => include.extras.push((key, value)),
            }
        }
        includes.push(include);
    }

    // The cross product, first vector slowest.
    let product = if vectors.is_empty() {
        0
    } else {
        vectors
            .iter()
            .fold(1u128, |n, v| n.saturating_mul(v.values.len() as u128))
    };
    if product > MAX_CROSS_PRODUCT {
        return Err(MatrixError::TooLarge {
            combinations: product,
        });
    }
    let mut result: Expansion = Vec::new();
    let mut count = 0usize;
    let mut matched = vec![false; includes.len()];
    let mut choice = vec![0usize; vectors.len()];
    for _ in 0..product {
        if !excludes.iter().any(|f| f.matches(&vectors, &choice)) {
            count += 1;
            let keep = count <= MAX_JOBS;
            let mut values: IndexMap<String, Value> = IndexMap::new();
            if keep {
                for (vector, &i) in vectors.iter().zip(&choice) {
                    if let Some(value) = vector.values.get(i) {
                        values.insert(vector.key.to_string(), value.clone());
                    }
                }
            }
            let named = values.len();
            for (include, seen) in includes.iter().zip(matched.iter_mut()) {
                if include.filter.matches(&vectors, &choice) {
                    *seen = true;
                    if keep {
                        for (key, value) in &include.extras {
                            merge(&mut values, key, value);
                        }
                    }
                }
            }
            if keep {
                result.push(Combination {
                    values,
                    named,
                    added: false,
                });
            }
        }
        // Advance the odometer: the last vector varies fastest.
        for (i, vector) in choice.iter_mut().zip(&vectors).rev() {
            *i += 1;
            if *i < vector.values.len() {
                break;
            }
            *i = 0;
        }
    }

    // Includes that matched nothing become combinations of their own.
    for (include, _) in includes.iter().zip(&matched).filter(|(_, seen)| !**seen) {
        count += 1;
        if count > MAX_JOBS {
            continue;
        }
        let mut values = IndexMap::new();
        for (key, value) in include.selectors.iter().chain(&include.extras) {
            merge(&mut values, key, value);
        }
        let named = values.len();
        result.push(Combination {
            values,
            named,
            added: true,
        });
    }
    if count > MAX_JOBS {
        return Err(MatrixError::TooManyJobs { count });
    }
    Ok(result)
}

// ----- matrices as written ----------------------------------------------

/// A YAML node as an expression value.
pub fn node_to_value(node: &Node) -> Value {
    match &node.kind {
        NodeKind::Null => Value::Null,
        NodeKind::Bool(b) => Value::Bool(*b),
        NodeKind::Number(n) => Value::Number(*n),
        NodeKind::String(s) => Value::String(s.clone()),
        NodeKind::Seq(items) => Value::Array(items.iter().map(node_to_value).collect()),
        NodeKind::Map(pairs) => Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.scalar_text().unwrap_or_default(), node_to_value(v)))
                .collect(),
        ),
    }
}

fn contains_expression(node: &Node) -> bool {
    match &node.kind {
        NodeKind::String(s) => s.contains("${{"),
        NodeKind::Seq(items) => items.iter().any(contains_expression),
        NodeKind::Map(pairs) => pairs
            .iter()
            .any(|(k, v)| contains_expression(k) || contains_expression(v)),
        _ => false,
    }
}

/// The matrix as an object when it holds no expressions.
pub fn static_value(node: &Node) -> Option<Object> {
    if contains_expression(node) {
        return None;
    }
    match node_to_value(node) {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The matrix with every expression replaced by its value from `eval`;
/// `None` when some expression cannot be evaluated yet. A string that is a
/// whole expression takes the expression's value (so `${{ fromJSON(...) }}`
/// can yield a list or the whole matrix).
pub fn evaluate_value(node: &Node, eval: &dyn Fn(&str) -> Option<Value>) -> Option<Object> {
    match resolve(node, eval)? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fn resolve(node: &Node, eval: &dyn Fn(&str) -> Option<Value>) -> Option<Value> {
    Some(match &node.kind {
        NodeKind::String(s) if is_expression(s) => {
            let inner = s.trim();
            let inner = inner.get(3..inner.len() - 2)?;
            eval(inner)?
        }
        // Text around an expression: left to run time.
        NodeKind::String(s) if s.contains("${{") => return None,
        NodeKind::Seq(items) => Value::Array(
            items
                .iter()
                .map(|i| resolve(i, eval))
                .collect::<Option<Vec<_>>>()?,
        ),
        NodeKind::Map(pairs) => Value::Object(
            pairs
                .iter()
                .map(|(k, v)| Some((k.scalar_text().unwrap_or_default(), resolve(v, eval)?)))
                .collect::<Option<Object>>()?,
        ),
        _ => node_to_value(node),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Parses the YAML flow style the docs' examples are easy to write in:
    /// `{os: [a, b], include: [{os: c, 'x': 1}]}`. Bare words are strings
    /// unless they are numbers, `true`, `false` or `null`.
    fn v(text: &str) -> Value {
        let chars: Vec<char> = text.chars().collect();
        let mut pos = 0;
        let value = parse_value(&chars, &mut pos);
        skip_ws(&chars, &mut pos);
        assert_eq!(pos, chars.len(), "trailing input in {text}");
        value
    }

    fn skip_ws(c: &[char], pos: &mut usize) {
        while c.get(*pos).is_some_and(|c| c.is_whitespace()) {
            *pos += 1;
        }
    }

    fn parse_value(c: &[char], pos: &mut usize) -> Value {
        skip_ws(c, pos);
        match c.get(*pos) {
            Some('{') => {
                *pos += 1;
                let mut map = Object::new();
                loop {
                    skip_ws(c, pos);
                    if c.get(*pos) == Some(&'}') {
                        *pos += 1;
                        break;
                    }
                    let Value::String(key) = parse_scalar(c, pos) else {
                        panic!("key")
                    };
                    skip_ws(c, pos);
                    assert_eq!(c.get(*pos), Some(&':'));
                    *pos += 1;
                    map.insert(key, parse_value(c, pos));
                    skip_ws(c, pos);
                    if c.get(*pos) == Some(&',') {
                        *pos += 1;
                    }
                }
                Value::Object(map)
            }
            Some('[') => {
                *pos += 1;
                let mut items = Vec::new();
                loop {
                    skip_ws(c, pos);
                    if c.get(*pos) == Some(&']') {
                        *pos += 1;
                        break;
                    }
                    items.push(parse_value(c, pos));
                    skip_ws(c, pos);
                    if c.get(*pos) == Some(&',') {
                        *pos += 1;
                    }
                }
                Value::Array(items)
            }
            _ => parse_scalar(c, pos),
        }
    }

    fn parse_scalar(c: &[char], pos: &mut usize) -> Value {
        if c.get(*pos) == Some(&'\'') {
            let start = *pos + 1;
            let end = start + c[start..].iter().position(|&ch| ch == '\'').unwrap();
            *pos = end + 1;
            return Value::String(c[start..end].iter().collect());
        }
        let start = *pos;
        while c
            .get(*pos)
            .is_some_and(|ch| !matches!(ch, ',' | ']' | '}' | ':'))
        {
            *pos += 1;
        }
        let word: String = c[start..*pos].iter().collect::<String>().trim().to_string();
        match word.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            _ => word
                .parse::<f64>()
                .map_or(Value::String(word), Value::Number),
        }
    }

    /// Renders a value back in flow style, numbers without `.0`.
    fn show(value: &Value) -> String {
        match value {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => number_text(*n),
            Value::String(s) => s.clone(),
            Value::Array(items) => {
                format!(
                    "[{}]",
                    items.iter().map(show).collect::<Vec<_>>().join(", ")
                )
            }
            Value::Object(map) => format!(
                "{{{}}}",
                map.iter()
                    .map(|(k, v)| format!("{k}: {}", show(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn expand_str(matrix: &str) -> Result<Vec<String>, MatrixError> {
        expand_value(&v(matrix)).map(|combos| combos.iter().map(|c| show(&c.to_value())).collect())
    }

    #[track_caller]
    fn combos(matrix: &str) -> Vec<String> {
        expand_str(matrix).unwrap_or_else(|e| panic!("{matrix}: {e}"))
    }

    #[track_caller]
    fn error(matrix: &str) -> MatrixError {
        match expand_value(&v(matrix)) {
            Ok(c) => panic!("expected an error, got {} combinations", c.len()),
            Err(e) => e,
        }
    }

    #[test]
    fn cross_product_order() {
        // "The first variable you define will be the first job that is created."
        assert_eq!(
            combos("{version: [10, 12, 14], os: [ubuntu-latest, windows-latest]}"),
            [
                "{version: 10, os: ubuntu-latest}",
                "{version: 10, os: windows-latest}",
                "{version: 12, os: ubuntu-latest}",
                "{version: 12, os: windows-latest}",
                "{version: 14, os: ubuntu-latest}",
                "{version: 14, os: windows-latest}",
            ]
        );
    }

    #[test]
    fn single_vector() {
        assert_eq!(
            combos("{version: [10, 12]}"),
            ["{version: 10}", "{version: 12}"]
        );
    }

    #[test]
    fn docs_fruit_animal_include_example() {
        assert_eq!(
            combos(
                "{fruit: [apple, pear], animal: [cat, dog], include: [
                    {color: green},
                    {color: pink, animal: cat},
                    {fruit: apple, shape: circle},
                    {fruit: banana},
                    {fruit: banana, animal: cat},
                ]}"
            ),
            [
                "{fruit: apple, animal: cat, color: pink, shape: circle}",
                "{fruit: apple, animal: dog, color: green, shape: circle}",
                "{fruit: pear, animal: cat, color: pink}",
                "{fruit: pear, animal: dog, color: green}",
                "{fruit: banana}",
                "{fruit: banana, animal: cat}",
            ]
        );
    }

    #[test]
    fn docs_include_expands_one_combination() {
        let matrix = v("{os: [windows-latest, ubuntu-latest], node: [12, 14, 16],
                         include: [{os: windows-latest, node: 16, npm: 6}]}");
        let result = expand_value(&matrix).unwrap();
        assert_eq!(
            result
                .iter()
                .map(|c| show(&c.to_value()))
                .collect::<Vec<_>>(),
            [
                "{os: windows-latest, node: 12}",
                "{os: windows-latest, node: 14}",
                "{os: windows-latest, node: 16, npm: 6}",
                "{os: ubuntu-latest, node: 12}",
                "{os: ubuntu-latest, node: 14}",
                "{os: ubuntu-latest, node: 16}",
            ]
        );
        // Values added to a cross-product combination stay out of its name.
        assert_eq!(
            result[2].display_name("example_matrix"),
            "example_matrix (windows-latest, 16)"
        );
        assert!(!result[2].is_added_by_include());
        assert_eq!(result[2].get("NPM"), Some(&Value::Number(6.0)));
    }

    #[test]
    fn docs_include_adds_a_combination() {
        let matrix = v(
            "{os: [macos-latest, windows-latest, ubuntu-latest], version: [12, 14, 16],
                         include: [{os: windows-latest, version: 17}]}",
        );
        let result = expand_value(&matrix).unwrap();
        assert_eq!(result.len(), 10);
        let last = result.last().unwrap();
        assert_eq!(show(&last.to_value()), "{os: windows-latest, version: 17}");
        assert!(last.is_added_by_include());
        assert_eq!(
            last.display_name("example_matrix"),
            "example_matrix (windows-latest, 17)"
        );
        assert_eq!(
            result[0].display_name("example_matrix"),
            "example_matrix (macos-latest, 12)"
        );
    }

    #[test]
    fn docs_include_only() {
        let matrix = v(
            "{include: [{site: production, datacenter: site-a}, {site: staging, datacenter: site-b}]}",
        );
        let result = expand_value(&matrix).unwrap();
        assert_eq!(
            result
                .iter()
                .map(|c| show(&c.to_value()))
                .collect::<Vec<_>>(),
            [
                "{site: production, datacenter: site-a}",
                "{site: staging, datacenter: site-b}"
            ]
        );
        assert_eq!(
            result[0].display_name("includes_only"),
            "includes_only (production, site-a)"
        );
    }

    #[test]
    fn docs_exclude_example() {
        let result = combos(
            "{os: [macos-latest, windows-latest], version: [12, 14, 16], environment: [staging, production],
              exclude: [{os: macos-latest, version: 12, environment: production},
                        {os: windows-latest, version: 16}]}",
        );
        assert_eq!(result.len(), 9);
        assert!(
            !result
                .contains(&"{os: macos-latest, version: 12, environment: production}".to_string())
        );
        assert!(
            result.contains(&"{os: macos-latest, version: 12, environment: staging}".to_string())
        );
        assert!(
            !result
                .iter()
                .any(|c| c.starts_with("{os: windows-latest, version: 16"))
        );
    }

    #[test]
    fn docs_perl_example() {
        let result = combos(
            "{os: [ubuntu-latest], perl: ['5.16', '5.20', '5.26', '5.30', latest],
              include: [{os: macos-latest, perl: '5.26'}, {os: macos-latest, perl: latest}]}",
        );
        assert_eq!(result.len(), 7);
        assert_eq!(result[5], "{os: macos-latest, perl: 5.26}");
        assert_eq!(result[6], "{os: macos-latest, perl: latest}");
    }

    #[test]
    fn docs_continue_on_error_example() {
        let result = combos(
            "{node: [13, 14], os: [macos-latest, ubuntu-latest], experimental: [false],
              include: [{node: 15, os: ubuntu-latest, experimental: true}]}",
        );
        assert_eq!(result.len(), 5);
        assert_eq!(
            result[4],
            "{node: 15, os: ubuntu-latest, experimental: true}"
        );
    }

    #[test]
    fn docs_array_of_objects_vector() {
        let matrix = v("{os: [ubuntu-latest, macos-latest],
                         node: [{version: 14}, {version: 20, env: NODE_OPTIONS=--openssl-legacy-provider}]}");
        let result = expand_value(&matrix).unwrap();
        assert_eq!(result.len(), 4);
        assert_eq!(
            show(&result[0].to_value()),
            "{os: ubuntu-latest, node: {version: 14}}"
        );
        assert_eq!(result[0].display_name("build"), "build (ubuntu-latest, 14)");
        // Nested values are flattened into the name.
        assert_eq!(
            result[1].display_name("build"),
            "build (ubuntu-latest, 20, NODE_OPTIONS=--openssl-legacy-provider)"
        );
    }

    #[test]
    fn exclude_matches_partially() {
        assert_eq!(
            combos("{a: [1, 2], b: [x, y], exclude: [{a: 1}]}"),
            ["{a: 2, b: x}", "{a: 2, b: y}"]
        );
        // Nested objects match leaf by leaf: only the leaves given must agree.
        assert_eq!(
            combos(
                "{os: [linux], node: [{version: 14}, {version: 20, env: X}],
                  exclude: [{node: {version: 20}}]}"
            ),
            ["{os: linux, node: {version: 14}}"]
        );
        // Arrays compare element by element.
        assert_eq!(
            combos("{v: [[1, 2], [1, 3]], exclude: [{v: [1, 3]}]}"),
            ["{v: [1, 2]}"]
        );
        // Several entries: any one matching excludes.
        assert_eq!(
            combos("{a: [1, 2, 3], exclude: [{a: 1}, {a: 3}]}"),
            ["{a: 2}"]
        );
    }

    #[test]
    fn comparisons_use_expression_equality() {
        // Strings ignore case; strings and numbers compare numerically.
        assert_eq!(
            combos("{os: [windows-latest, ubuntu-latest], exclude: [{os: Windows-Latest}]}"),
            ["{os: ubuntu-latest}"]
        );
        assert_eq!(
            combos("{node: [14, 16], include: [{node: '16', npm: 6}]}"),
            ["{node: 14}", "{node: 16, npm: 6}"]
        );
        assert_eq!(
            combos("{flag: [true, false], exclude: [{flag: 1}]}"),
            ["{flag: false}"]
        );
        assert_eq!(combos("{v: ['0x10', 15], exclude: [{v: 16}]}"), ["{v: 15}"]);
        // An object never equals a scalar.
        assert_eq!(
            combos("{node: [{version: 14}], exclude: [{node: 14}]}"),
            ["{node: {version: 14}}"]
        );
        assert!(loose_eq(&Value::Null, &Value::String(String::new())));
        assert!(!loose_eq(&Value::String("abc".into()), &Value::Number(0.0)));
        assert!(!loose_eq(
            &Value::Number(f64::NAN),
            &Value::Number(f64::NAN)
        ));
    }

    #[test]
    fn keys_are_case_insensitive() {
        assert_eq!(
            combos(
                "{os: [linux, windows], include: [{OS: windows, Extra: 1}], exclude: [{Os: linux}]}"
            ),
            ["{os: windows, Extra: 1}"]
        );
        assert!(matches!(
            error("{os: [a], OS: [b]}"),
            MatrixError::DuplicateKey { .. }
        ));
    }

    #[test]
    fn include_can_restore_excluded() {
        assert_eq!(
            combos("{a: [1, 2], exclude: [{a: 2}], include: [{a: 2, extra: yes}]}"),
            ["{a: 1}", "{a: 2, extra: yes}"]
        );
        // Everything excluded: every include becomes a combination.
        assert_eq!(
            combos("{a: [1], exclude: [{a: 1}], include: [{a: 1}, {b: 2}]}"),
            ["{a: 1}", "{b: 2}"]
        );
    }

    #[test]
    fn later_includes_overwrite_added_values_in_place() {
        assert_eq!(
            combos("{a: [1, 2], include: [{x: first, y: 0}, {a: 2, x: second}]}"),
            ["{a: 1, x: first, y: 0}", "{a: 2, x: second, y: 0}"]
        );
    }

    #[test]
    fn include_never_overwrites_original_values() {
        // {a: 3} conflicts with every combination, so it stands alone, and
        // it does not join the combination added by an earlier include.
        assert_eq!(
            combos("{a: [1, 2], b: [x], include: [{a: 3}, {a: 3, c: z}]}"),
            ["{a: 1, b: x}", "{a: 2, b: x}", "{a: 3}", "{a: 3, c: z}"]
        );
    }

    #[test]
    fn added_combination_puts_vector_keys_first() {
        let result = expand_value(&v("{a: [1], include: [{c: 3, a: 2}]}")).unwrap();
        assert_eq!(show(&result[1].to_value()), "{a: 2, c: 3}");
    }

    #[test]
    fn display_names() {
        let result = expand_value(&v("{a: ['', x], b: [null], c: [3.1, 2], d: [true]}")).unwrap();
        assert_eq!(result[0].display_name("job"), "job (3.1, true)");
        assert_eq!(result[1].display_name("job"), "job (2, true)");
        assert_eq!(result[2].display_name("job"), "job (x, 3.1, true)");
        let long = "x".repeat(120);
        let result = expand_value(&Value::Object(Object::from([(
            "k".to_string(),
            Value::Array(vec![Value::String(long)]),
        )])))
        .unwrap();
        let name = result[0].display_name("build");
        assert_eq!(name.chars().count(), 100);
        assert!(name.starts_with("build (xxx"));
        assert!(name.ends_with("..."));
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(1e20), "100000000000000000000");
        assert_eq!(number_text(0.5), "0.5");
    }

    #[test]
    fn empty_vector() {
        let e = error("{os: [], node: [1]}");
        assert_eq!(
            e.to_string(),
            "Matrix vector 'os' does not contain any values"
        );
    }

    #[test]
    fn not_a_vector() {
        let e = error("{os: ubuntu-latest}");
        assert_eq!(
            e.to_string(),
            "Matrix vector 'os' must be an array of values, not a string"
        );
        assert!(matches!(
            error("{os: {a: 1}}"),
            MatrixError::NotAVector {
                kind: "an object",
                ..
            }
        ));
    }

    #[test]
    fn include_and_exclude_shapes() {
        assert_eq!(
            error("{a: [1], include: {b: 2}}").to_string(),
            "Matrix 'include' must be an array of objects, not an object"
        );
        assert_eq!(
            error("{a: [1], exclude: x}").to_string(),
            "Matrix 'exclude' must be an array of objects, not a string"
        );
        assert_eq!(
            error("{a: [1], include: [{b: 2}, x]}").to_string(),
            "Matrix 'include' entry 2 must be an object, not a string"
        );
        assert!(matches!(
            error("{a: [1], exclude: [[1]]}"),
            MatrixError::EntryNotAnObject {
                key: "exclude",
                index: 0,
                kind: "an array"
            }
        ));
        assert!(matches!(
            error("{a: [1], include: null}"),
            MatrixError::NotAList { .. }
        ));
    }

    #[test]
    fn empty_entries_and_unknown_exclude_keys() {
        assert_eq!(
            error("{a: [1], include: [{}]}"),
            MatrixError::EmptyInclude { index: 0 }
        );
        assert_eq!(
            error("{a: [1], exclude: [{a: 1}, {}]}"),
            MatrixError::EmptyExclude { index: 1 }
        );
        let e = error("{a: [1], exclude: [{b: 1}]}");
        assert_eq!(
            e.to_string(),
            "Matrix exclude key 'b' does not match any key within the matrix"
        );
    }

    #[test]
    fn no_vectors() {
        assert_eq!(error("{}"), MatrixError::NoVectors);
        assert_eq!(error("{include: []}"), MatrixError::NoVectors);
        assert_eq!(error("{exclude: []}"), MatrixError::NoVectors);
        assert!(matches!(
            error("[1]"),
            MatrixError::NotAnObject { kind: "an array" }
        ));
    }

    fn numbers(n: usize) -> Value {
        Value::Array((0..n).map(|i| Value::Number(i as f64)).collect())
    }

    fn matrix(vectors: &[(&str, usize)], extra: &[(&str, Value)]) -> Object {
        vectors
            .iter()
            .map(|(k, n)| (k.to_string(), numbers(*n)))
            .chain(extra.iter().map(|(k, v)| (k.to_string(), v.clone())))
            .collect()
    }

    #[test]
    fn at_most_256_jobs() {
        assert_eq!(
            expand(&matrix(&[("a", 16), ("b", 16)], &[])).unwrap().len(),
            256
        );
        let e = expand(&matrix(&[("a", 16), ("b", 17)], &[])).unwrap_err();
        assert_eq!(e, MatrixError::TooManyJobs { count: 272 });
        assert_eq!(
            e.to_string(),
            "a matrix may produce at most 256 jobs; this one produces 272"
        );
        // Includes that add combinations count.
        let e = expand(&matrix(
            &[("a", 16), ("b", 16)],
            &[("include", v("[{a: 99}]"))],
        ))
        .unwrap_err();
        assert_eq!(e, MatrixError::TooManyJobs { count: 257 });
        // Excludes bring the count back under the limit.
        let m = matrix(&[("a", 16), ("b", 17)], &[("exclude", v("[{b: 16}]"))]);
        assert_eq!(expand(&m).unwrap().len(), 256);
    }

    #[test]
    fn huge_cross_products_are_not_enumerated() {
        let m = matrix(&[("a", 200), ("b", 200), ("c", 200)], &[]);
        assert_eq!(
            expand(&m),
            Err(MatrixError::TooLarge {
                combinations: 8_000_000
            })
        );
    }
}
