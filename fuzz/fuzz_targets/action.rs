//! Feeds arbitrary text to the `action.yml` reader, and runs every audit
//! rule and fix over what reads without errors. Nothing may panic, every
//! diagnostic and finding must point inside the file, and fixes must apply.

#![no_main]

use gantry_audit::{Config, Target, apply_fixes, audit};
use gantry_workflow::{ReadOptions, SourceFile, read_action};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = SourceFile::new("action.yml", text);
    let parsed = read_action(source.clone(), &ReadOptions::default());
    for d in &parsed.diagnostics.diagnostics {
        if let Some(span) = d.span {
            assert!(span.start <= span.end && span.end <= text.len(), "{d:?}");
        }
    }
    let Some(action) = &parsed.value else {
        return;
    };
    if parsed.diagnostics.diagnostics.iter().any(|d| d.is_error()) {
        return;
    }
    let findings = audit(Target::Action(action), &source, &Config::default());
    for f in &findings {
        assert!(
            f.span.start <= f.span.end && f.span.end <= text.len(),
            "{f:?}"
        );
    }
    let _ = apply_fixes(text, &findings);
});
