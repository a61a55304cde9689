//! GitHub Actions expressions: `${{ }}` templates, parser and evaluator.

mod value;

pub use value::{Object, Value};
