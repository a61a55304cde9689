//! Secret masking: every secret value, each line of a multi-line secret,
//! and every value added with `::add-mask::` becomes `***` in logs,
//! outputs and summaries.

use std::sync::{Arc, RwLock};

/// The values to hide. Shared by every job of a run; `::add-mask::` adds
/// to it while the run goes on.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    values: Arc<RwLock<Vec<String>>>,
}

impl Masker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a value to hide; multi-line values are hidden line by line too.
    /// Values shorter than two characters are not masked (they would blank
    /// out ordinary text), as GitHub does with one-character secrets.
    pub fn add(&self, value: &str) {
        let mut candidates = vec![value.trim_end_matches(['\r', '\n']).to_string()];
        if value.contains('\n') {
            candidates.extend(value.lines().map(|l| l.trim_end_matches('\r').to_string()));
        }
        let Ok(mut values) = self.values.write() else {
            return;
        };
        for c in candidates {
            if c.trim().len() >= 2 && !values.contains(&c) {
                values.push(c);
            }
        }
        // Longest first, so a secret containing another is hidden whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }

    /// `text` with every known value replaced by `***`.
    pub fn mask(&self, text: &str) -> String {
        let Ok(values) = self.values.read() else {
            return text.to_string();
        };
        let mut out = text.to_string();
        for v in values.iter() {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "***");
            }
        }
        out
    }

    /// Whether `text` holds any known value.
    pub fn reveals(&self, text: &str) -> bool {
        self.values
            .read()
            .map(|values| values.iter().any(|v| text.contains(v.as_str())))
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::Masker;

    #[test]
    fn masks_values_and_lines_of_multiline_secrets() {
        let m = Masker::new();
        m.add("hunter2");
        m.add("-----BEGIN KEY-----\nabcdef\n-----END KEY-----\n");
        m.add("x");
        assert_eq!(m.mask("password=hunter2 x"), "password=*** x");
        assert_eq!(m.mask("line: abcdef"), "line: ***");
        assert_eq!(m.mask("-----BEGIN KEY-----"), "***");
        assert!(m.reveals("..hunter2.."));
    }

    #[test]
    fn longer_secrets_win() {
        let m = Masker::new();
        m.add("abc");
        m.add("abcdef");
        assert_eq!(m.mask("abcdef"), "***");
    }
}
