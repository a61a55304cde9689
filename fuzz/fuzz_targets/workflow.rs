//! Feeds arbitrary text to the workflow and action readers and to
//! validate's lint checks. None may panic, hang or overflow the stack, and
//! every diagnostic must point inside the file.

#![no_main]

use gantry_workflow::{ReadOptions, SourceFile, read_action, read_workflow};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let options = ReadOptions::default();
    let parsed = read_workflow(SourceFile::new("fuzz.yml", text), &options);
    for d in &parsed.diagnostics.diagnostics {
        if let Some(span) = d.span {
            assert!(span.start <= span.end && span.end <= text.len(), "{d:?}");
            assert!(
                text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
                "{d:?}"
            );
        }
    }
    if let Some(workflow) = &parsed.value {
        let _ = gantry_workflow::graph::levels(workflow);
        let settings = gantry_workflow::lint::LintSettings::default();
        let found = gantry_workflow::lint::lint_workflow(
            workflow,
            &settings,
            &gantry_workflow::lint::NoActions,
        );
        for d in &found {
            if let Some(span) = d.span {
                assert!(span.start <= span.end && span.end <= text.len(), "{d:?}");
                assert!(
                    text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
                    "{d:?}"
                );
            }
        }
    }
    let _ = read_action(SourceFile::new("action.yml", text), &options);
});
