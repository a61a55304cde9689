//! Feeds arbitrary text to the JUnit XML reader: an error or a test-result
//! predicate, never a panic, and what it makes passes the predicate's own
//! shape check.

#![no_main]

use gantry_attest::junit::{check_test_result, test_result_from_junit};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(predicate) = test_result_from_junit(text, "fuzz")
        && let Err(e) = check_test_result(&predicate)
    {
        panic!("the predicate made from JUnit XML fails its own check: {e}\n{predicate}");
    }
});
