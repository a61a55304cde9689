//! Feeds arbitrary bytes to the binary inspector that reads Go build info
//! and `cargo auditable` sections out of executables found in images.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = gantry_image::catalog::binary::inspect(data);
});
