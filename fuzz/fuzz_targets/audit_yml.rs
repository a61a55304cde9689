//! Feeds arbitrary text to the `.gantry/audit.yml` reader: an error or a
//! configuration, never a panic; error spans are inside the file.

#![no_main]

use std::sync::Arc;

use gantry_audit::{Config, rule_ids};
use gantry_workflow::SourceFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = Arc::new(SourceFile::new(".gantry/audit.yml", text));
    let ids = rule_ids();
    match Config::parse(&source, &ids) {
        Ok(config) => {
            for id in &ids {
                let _ = config.rule(id);
            }
        }
        Err(e) => {
            if let Some(span) = e.span {
                assert!(span.start <= span.end && span.end <= text.len(), "{e:?}");
            }
        }
    }
});
