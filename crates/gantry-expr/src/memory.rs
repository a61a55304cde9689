//! GitHub's memory budget for evaluating one expression.
//!
//! GitHub stops an evaluation with "The maximum allowed memory size was
//! exceeded" once the values it holds add up to more than 1 MiB, measured
//! roughly: a string costs 26 bytes plus two per UTF-16 code unit, anything
//! else 24 bytes. Two kinds of accounting are combined, as GitHub does:
//!
//! - [`EvaluationMemory`] tracks the results alive at each depth of the tree.
//!   When a node produces a primitive, the results of its children are
//!   released; otherwise they are kept (the result may refer to them).
//! - [`MemoryCounter`] limits what a single function builds (the pieces of a
//!   `format()` or `join()` result, the chunks of `toJSON()` output, the
//!   items of a filtered array).

use crate::casing::utf16_len;

/// The budget GitHub applies: 1 MiB.
pub const MAX_MEMORY_BYTES: usize = 1_048_576;

/// Fixed cost of any string.
const STRING_OVERHEAD: usize = 26;
/// Cost of any value that is not a string.
pub(crate) const MIN_OBJECT_SIZE: usize = 24;
/// Cost of one reference held in a filtered array.
pub(crate) const POINTER_SIZE: usize = 8;

/// The budget was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exceeded;

/// The cost of a string of this text.
pub(crate) fn string_size(s: &str) -> usize {
    STRING_OVERHEAD.saturating_add(utf16_len(s).saturating_mul(2))
}

/// A running total for what one function builds.
#[derive(Debug, Clone)]
pub(crate) struct MemoryCounter {
    current: usize,
    max: usize,
}

impl MemoryCounter {
    pub(crate) fn new() -> Self {
        Self {
            current: 0,
            max: MAX_MEMORY_BYTES,
        }
    }

    pub(crate) fn add(&mut self, bytes: usize) -> Result<(), Exceeded> {
        let total = self.current.checked_add(bytes).ok_or(Exceeded)?;
        if total > self.max {
            return Err(Exceeded);
        }
        self.current = total;
        Ok(())
    }

    pub(crate) fn add_str(&mut self, s: &str) -> Result<(), Exceeded> {
        self.add(string_size(s))
    }

    #[cfg(test)]
    pub(crate) fn current(&self) -> usize {
        self.current
    }
}

/// The results alive at each level of the expression tree.
#[derive(Debug, Clone)]
pub(crate) struct EvaluationMemory {
    depths: Vec<usize>,
    total: usize,
    max: usize,
}

impl EvaluationMemory {
    pub(crate) fn new() -> Self {
        Self {
            depths: Vec::new(),
            total: 0,
            max: MAX_MEMORY_BYTES,
        }
    }

    /// Records a result of `bytes` at `depth`. With `trim`, the results of
    /// deeper levels (the node's operands) are released first.
    pub(crate) fn add(&mut self, depth: usize, bytes: usize, trim: bool) -> Result<(), Exceeded> {
        if trim {
            while self.depths.len() > depth + 1 {
                let released = self.depths.pop().unwrap_or(0);
                self.total = self.total.saturating_sub(released);
            }
        }
        if self.depths.len() <= depth {
            self.depths.resize(depth + 1, 0);
        }
        if let Some(slot) = self.depths.get_mut(depth) {
            *slot = slot.saturating_add(bytes);
        }
        self.total = self.total.saturating_add(bytes);
        if self.total > self.max {
            return Err(Exceeded);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_limits() {
        let mut counter = MemoryCounter::new();
        assert!(counter.add(MAX_MEMORY_BYTES).is_ok());
        assert_eq!(counter.add(1), Err(Exceeded));
        assert_eq!(string_size("ab"), 30);
        assert_eq!(string_size("😊"), 30);
    }

    #[test]
    fn primitives_release_their_operands() {
        let mut memory = EvaluationMemory::new();
        assert!(memory.add(2, 600_000, true).is_ok());
        // The parent is a primitive: its operand is released.
        assert!(memory.add(1, 600_000, true).is_ok());
        // A sibling operand at level 2, then the second parent at level 1.
        assert!(memory.add(2, 100, true).is_ok());
        assert_eq!(memory.add(1, 600_000, true), Err(Exceeded));
    }
}
