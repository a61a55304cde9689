//! Feeds arbitrary bytes to the image reader as a `docker save` or
//! `oci-archive` tarball: layers, manifests, configs and every catalogue
//! (dpkg, apk, rpm, language packages, binaries) behind them. It may fail,
//! but not panic, hang or run out of memory.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let scratch = gantry_fuzz::Scratch::new();
    let path = scratch.path.join("image.tar");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let _ = gantry_image::inventory(&path, &gantry_image::Options::default());
});
