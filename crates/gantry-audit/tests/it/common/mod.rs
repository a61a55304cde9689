//! What the tests of this binary share: the fixtures folder and the
//! findings of a file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gantry_audit::{Config, Persona, Target, audit};
use gantry_workflow::{ReadOptions, SourceFile, read_action, read_workflow};

/// The rule fixtures: `tests/fixtures/<rule>/{bad,good}.yml`.
pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `(line, rule)` of every finding of `path`, as the auditor persona sees.
pub(crate) fn findings(path: &Path) -> BTreeSet<(usize, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let source = SourceFile::new(path.display().to_string(), text);
    let config = Config {
        persona: Persona::Auditor,
        ..Config::default()
    };
    let found = if path.file_name().unwrap() == "action.yml" {
        let parsed = read_action(source.clone(), &ReadOptions::default());
        assert!(
            !parsed.has_errors(),
            "{}: {:#?}",
            path.display(),
            parsed.diagnostics.diagnostics
        );
        audit(Target::Action(&parsed.value.unwrap()), &source, &config)
    } else {
        let parsed = read_workflow(source.clone(), &ReadOptions::default());
        assert!(
            !parsed.has_errors(),
            "{}: {:#?}",
            path.display(),
            parsed.diagnostics.diagnostics
        );
        audit(Target::Workflow(&parsed.value.unwrap()), &source, &config)
    };
    found
        .iter()
        .map(|f| (source.position(f.span.start).line, f.rule.to_string()))
        .collect()
}
