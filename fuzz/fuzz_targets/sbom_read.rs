//! Feeds arbitrary text to the CycloneDX / SPDX reader `scan` uses for
//! SBOM input: components and warnings, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) {
        let _ = gantry_sbom::read::is_sbom(&doc);
    }
    let _ = gantry_sbom::read::read_sbom("sbom.json", text);
});
