//! `toJSON()` output: JSON indented by two spaces, as GitHub prints it.
//!
//! The layout is the familiar `JSON.stringify(value, null, 2)` one. Numbers
//! use GitHub's number formatting, and strings are escaped as Newtonsoft.Json
//! escapes them (control characters, `"` and `\`, plus U+0085, U+2028 and
//! U+2029). The output is produced in the same chunks GitHub produces it, so
//! that an optional [`MemoryCounter`] charges it the same way.

use std::fmt::Write as _;

use crate::memory::{Exceeded, MemoryCounter};
use crate::number::format_number;
use crate::value::Value;

/// Where a value is written: the position decides the prefix.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// The whole output.
    Root,
    /// An array item or an object key, at an indentation level.
    Item { first: bool, level: usize },
    /// An object member's value, after its key.
    Member,
}

/// Writes GitHub-style pretty JSON, optionally within a memory budget.
pub(crate) struct PrettyJson<'c> {
    out: String,
    counter: Option<&'c mut MemoryCounter>,
}

impl<'c> PrettyJson<'c> {
    pub(crate) fn new(counter: Option<&'c mut MemoryCounter>) -> Self {
        Self {
            out: String::new(),
            counter,
        }
    }

    /// Writes a whole value.
    pub(crate) fn value(&mut self, value: &Value) -> Result<(), Exceeded> {
        self.write(value, Slot::Root, 0)
    }

    /// Writes an array whose items are given one by one.
    pub(crate) fn array<'v>(
        &mut self,
        items: impl ExactSizeIterator<Item = &'v Value>,
    ) -> Result<(), Exceeded> {
        self.write_array(items, Slot::Root, 0)
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }

    fn emit(&mut self, chunk: &str) -> Result<(), Exceeded> {
        if let Some(counter) = self.counter.as_deref_mut() {
            counter.add_str(chunk)?;
        }
        self.out.push_str(chunk);
        Ok(())
    }

    fn prefixed(&mut self, slot: Slot, text: &str) -> Result<(), Exceeded> {
        let mut chunk = String::with_capacity(text.len() + 8);
        match slot {
            Slot::Root => {}
            Slot::Item { first, level } => {
                if !first {
                    chunk.push(',');
                }
                chunk.push('\n');
                push_indent(&mut chunk, level);
            }
            Slot::Member => chunk.push_str(": "),
        }
        chunk.push_str(text);
        self.emit(&chunk)
    }

    fn close(&mut self, level: usize, bracket: char) -> Result<(), Exceeded> {
        let mut chunk = String::from("\n");
        push_indent(&mut chunk, level);
        chunk.push(bracket);
        self.emit(&chunk)
    }

    fn write(&mut self, value: &Value, slot: Slot, level: usize) -> Result<(), Exceeded> {
        match value {
            Value::Array(items) => self.write_array(items.iter(), slot, level),
            Value::Object(map) if map.is_empty() => self.prefixed(slot, "{}"),
            Value::Object(map) => {
                self.prefixed(slot, "{")?;
                for (i, (key, member)) in map.iter().enumerate() {
                    let item = Slot::Item {
                        first: i == 0,
                        level: level + 1,
                    };
                    self.prefixed(item, &escape_string(key))?;
                    self.write(member, Slot::Member, level + 1)?;
                }
                self.close(level, '}')
            }
            scalar => {
                let text = scalar_text(scalar);
                self.prefixed(slot, &text)
            }
        }
    }

    fn write_array<'v>(
        &mut self,
        items: impl ExactSizeIterator<Item = &'v Value>,
        slot: Slot,
        level: usize,
    ) -> Result<(), Exceeded> {
        if items.len() == 0 {
            return self.prefixed(slot, "[]");
        }
        self.prefixed(slot, "[")?;
        for (i, item) in items.enumerate() {
            self.write(
                item,
                Slot::Item {
                    first: i == 0,
                    level: level + 1,
                },
                level + 1,
            )?;
        }
        self.close(level, ']')
    }
}

fn push_indent(out: &mut String, level: usize) {
    out.extend(std::iter::repeat_n(' ', level * 2));
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(true) => "true".to_string(),
        Value::Bool(false) => "false".to_string(),
        Value::Number(n) => format_number(*n),
        Value::String(s) => escape_string(s),
        Value::Array(_) => "[]".to_string(),
        Value::Object(_) => "{}".to_string(),
    }
}

/// A JSON string literal, escaped as Newtonsoft.Json does by default.
pub(crate) fn escape_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}') => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_newtonsoft() {
        assert_eq!(escape_string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(
            escape_string("\n\t\u{1}\u{2028}é'"),
            "\"\\n\\t\\u0001\\u2028é'\""
        );
    }

    #[test]
    fn counts_chunks() {
        let mut counter = MemoryCounter::new();
        let mut writer = PrettyJson::new(Some(&mut counter));
        assert!(
            writer
                .value(&Value::Array(vec![Value::Number(1.0)]))
                .is_ok()
        );
        assert_eq!(writer.finish(), "[\n  1\n]");
        // "[", "\n  1", "\n]"
        assert_eq!(counter.current(), 26 + 2 + 26 + 8 + 26 + 4);
    }
}
