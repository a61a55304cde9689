//! Feeds arbitrary text to the `.gantry/ignore.yml` reader and applies what
//! it reads to an empty report: an error or a list, never a panic.

#![no_main]

use gantry_vuln::Report;
use gantry_vuln::ignore::IgnoreList;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(list) = IgnoreList::parse(".gantry/ignore.yml", text) {
        let mut report = Report::default();
        let _ = list.apply(&mut report, 1_700_000_000);
    }
});
