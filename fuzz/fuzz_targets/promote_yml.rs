//! Feeds arbitrary text to the service catalog and promotion.yml readers.
//! Neither may panic or hang, and every problem must point inside the file.

#![no_main]

use std::path::Path;

use gantry_promote::catalog::{Catalog, CatalogError, Problems};
use gantry_promote::config::{ConfigError, PromotionConfig};
use gantry_workflow::SourceFile;
use libfuzzer_sys::fuzz_target;

fn check(problems: &Problems, text: &str) {
    for p in &problems.0 {
        assert!(p.span.start <= p.span.end && p.span.end <= text.len(), "{p:?}");
        assert!(p.location.line >= 1 && p.location.column >= 1, "{p:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let services = SourceFile::new(".gantry/services/fuzz.yml", text);
    match Catalog::parse(&[services]) {
        Err(CatalogError::Invalid(problems)) => check(&problems, text),
        Ok(catalog) => {
            let names: Vec<String> = catalog.names().map(str::to_string).collect();
            let _ = gantry_promote::order::promotion_order(&catalog, &names);
        }
        Err(_) => {}
    }
    let config = SourceFile::new(".gantry/promotion.yml", text);
    // Key files named in it are looked for where there are none.
    if let Err(ConfigError::Invalid(problems)) =
        PromotionConfig::parse(&config, Path::new("/nonexistent/gantry-fuzz/.gantry"))
    {
        check(&problems, text);
    }
});
