//! Feeds arbitrary bytes to the `package-lock.json` reader: it may not panic, and every
//! component and warning line it reports is inside the file.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gantry_fuzz::lockfile("package-lock.json", data));
