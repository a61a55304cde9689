//! Inline suppressions: `# gantry: ignore[rule-id, other-rule] reason` on
//! the line of a finding, or alone on the line above it.

use std::collections::HashMap;

use gantry_workflow::SourceFile;

/// The rules ignored on each line (1-based).
#[derive(Debug, Default)]
pub(crate) struct Suppressions {
    by_line: HashMap<usize, Vec<String>>,
}

impl Suppressions {
    pub(crate) fn scan(source: &SourceFile) -> Self {
        let mut by_line: HashMap<usize, Vec<String>> = HashMap::new();
        for (i, line) in source.text().lines().enumerate() {
            let Some(at) = line.find("# gantry: ignore[") else {
                continue;
            };
            let rest = &line[at + "# gantry: ignore[".len()..];
            let Some(end) = rest.find(']') else { continue };
            let rules: Vec<String> = rest[..end]
                .split(',')
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect();
            let line_no = i + 1;
            by_line
                .entry(line_no)
                .or_default()
                .extend(rules.iter().cloned());
            // A comment alone on its line covers the next line.
            if line[..at].trim().is_empty() {
                by_line.entry(line_no + 1).or_default().extend(rules);
            }
        }
        Self { by_line }
    }

    /// Whether `rule` is ignored on `line`.
    pub(crate) fn ignores(&self, line: usize, rule: &str) -> bool {
        self.by_line
            .get(&line)
            .is_some_and(|rules| rules.iter().any(|r| r == rule || r == "*"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_line_and_line_above() {
        let file = SourceFile::new(
            "w.yml",
            "a: 1 # gantry: ignore[x, y] vetted\n# gantry: ignore[z] ok\nb: 2\nc: 3\n",
        );
        let s = Suppressions::scan(&file);
        assert!(s.ignores(1, "x") && s.ignores(1, "y") && !s.ignores(1, "z"));
        assert!(s.ignores(3, "z"));
        assert!(!s.ignores(4, "z"));
    }
}
