//! Every rule against its fixtures: `bad.yml` must produce exactly the
//! findings marked `# expect[rule-id]` on their lines (all personas), and
//! `good.yml` none of that rule.

use std::collections::BTreeSet;
use std::path::Path;

use gantry_audit::rule_ids;

use crate::common::{findings, fixtures};

/// `(line, rule)` of every `expect[rule]` marker.
fn expected(path: &Path) -> BTreeSet<(usize, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let at = line.find("expect[")?;
            let rest = &line[at + "expect[".len()..];
            Some((i + 1, rest[..rest.find(']')?].to_string()))
        })
        .collect()
}

#[test]
fn every_rule_has_fixtures_and_matches_them() {
    let mut missing = Vec::new();
    for id in rule_ids() {
        let dir = fixtures().join(id);
        if !dir.join("bad.yml").is_file() || !dir.join("good.yml").is_file() {
            missing.push(id);
            continue;
        }
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let ours: BTreeSet<_> = findings(&path)
                .into_iter()
                .filter(|(_, r)| r == id)
                .collect();
            let want: BTreeSet<_> = expected(&path)
                .into_iter()
                .filter(|(_, r)| r == id)
                .collect();
            assert_eq!(ours, want, "{}", path.display());
            if path.ends_with("good.yml") {
                assert!(
                    ours.is_empty(),
                    "{} should have no {id} finding",
                    path.display()
                );
            } else {
                assert!(
                    !want.is_empty(),
                    "{} marks no expected finding",
                    path.display()
                );
            }
        }
    }
    assert!(missing.is_empty(), "rules without fixtures: {missing:?}");
}

#[test]
fn the_example_pipeline_follows_the_rules() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/pipeline/.github/workflows");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let found = findings(&path);
        assert!(found.is_empty(), "{}: {found:?}", path.display());
    }
}
