//! Inline suppressions: `# gantry: ignore[rule-id, other-rule] reason` on
//! the line of a finding, or on the line above it when that line holds only
//! the comment or opens a block (`on: # gantry: ignore[...]`).
//!
//! zizmor's `# zizmor: ignore[...]` comments are honoured too, with its
//! audit names mapped to gantry's rules, so a repository can switch tools
//! without re-annotating its workflows.

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
            let Some((at, rules)) = parse_comment(line) else {
                continue;
            };
            let line_no = i + 1;
            by_line
                .entry(line_no)
                .or_default()
                .extend(rules.iter().cloned());
            // A comment alone on its line, or on a line opening a block,
            // covers the next line.
            let before = line[..at].trim_end();
            if before.trim().is_empty() || before.ends_with(':') {
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

/// The offset of a suppression comment in a line and the rules it names.
fn parse_comment(line: &str) -> Option<(usize, Vec<String>)> {
    for (marker, zizmor) in [("# gantry: ignore[", false), ("# zizmor: ignore[", true)] {
        let Some(at) = line.find(marker) else {
            continue;
        };
        let rest = &line[at + marker.len()..];
        let names = &rest[..rest.find(']')?];
        let rules = names
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .flat_map(|r| {
                if zizmor {
                    from_zizmor(r)
                } else {
                    vec![r.to_string()]
                }
            })
            .collect();
        return Some((at, rules));
    }
    None
}

/// gantry's rules for a zizmor audit name.
fn from_zizmor(audit: &str) -> Vec<String> {
    let rules: &[&str] = match audit {
        "artipacked" => &["credential-persistence"],
        "excessive-permissions" => &["excessive-permissions", "missing-permissions"],
        "insecure-commands" => &["insecure-commands"],
        "overprovisioned-secrets" => &["secrets-tojson"],
        "secrets-outside-env" => &["secrets-outside-environment"],
        "cache-poisoning" => &["cache-poisoning"],
        "unsound-condition" => &["unsound-condition"],
        "self-hosted-runner" => &["self-hosted-runner"],
        other => return vec![other.to_string()],
    };
    rules.iter().map(|r| r.to_string()).collect()
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

    #[test]
    fn block_openers_and_zizmor_comments() {
        let file = SourceFile::new(
            "w.yml",
            "on: # zizmor: ignore[dangerous-triggers] safe\n  workflow_run:\n- uses: x # zizmor: ignore[artipacked]\n",
        );
        let s = Suppressions::scan(&file);
        assert!(s.ignores(2, "dangerous-triggers"));
        assert!(s.ignores(3, "credential-persistence"));
        assert!(!s.ignores(4, "credential-persistence"));
    }
}
