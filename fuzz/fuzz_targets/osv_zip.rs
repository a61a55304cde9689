//! Feeds arbitrary bytes to the OSV import reader as an osv.dev `all.zip`
//! export (read in place, never extracted, with small size caps). Nothing
//! may panic, and what it reads stays within the caps.

#![no_main]

use gantry_fuzz::Scratch;
use gantry_vuln::import::{Limits, read_source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let scratch = Scratch::new();
    let path = scratch.path.join("all.zip");
    std::fs::write(&path, data).expect("write the input");
    let limits = Limits {
        max_entry_bytes: 1 << 20,
        max_total_bytes: 1 << 22,
        max_entries: 1000,
    };
    if let Ok(source) = read_source(&path, &limits) {
        assert!(
            source.records.len() <= limits.max_entries,
            "{}",
            source.records.len()
        );
    }
});
