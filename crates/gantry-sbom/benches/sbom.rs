//! Inventory and SBOM writing throughput over the fixtures (in process).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Instant;

use gantry_sbom::cyclonedx::{self, DocumentInfo, SpecVersion};
use gantry_sbom::{DiscoverOptions, inventory, spdx};

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let runs = 50;
    let start = Instant::now();
    let mut components = 0;
    let mut files = 0;
    for _ in 0..runs {
        let inv = inventory(&root, &DiscoverOptions::default()).unwrap();
        components += inv.components.len();
        files += inv.files.len();
    }
    let t = start.elapsed().as_secs_f64() / f64::from(runs);
    println!(
        "inventory: {} lockfiles, {} components in {:.2} ms ({:.0} components/s)",
        files / runs as usize,
        components / runs as usize,
        t * 1e3,
        (components / runs as usize) as f64 / t
    );
    let inv = inventory(&root, &DiscoverOptions::default()).unwrap();
    let info = DocumentInfo {
        name: "fixtures".into(),
        timestamp: 0,
        tool_version: "bench".into(),
    };
    let start = Instant::now();
    for _ in 0..runs {
        let a = cyclonedx::write(&inv, &info, SpecVersion::V1_6);
        let b = spdx::write(&inv, &info);
        assert!(a.is_object() && b.is_object());
    }
    println!(
        "CycloneDX + SPDX writing: {:.2} ms per pair",
        start.elapsed().as_secs_f64() * 1e3 / f64::from(runs)
    );
}
