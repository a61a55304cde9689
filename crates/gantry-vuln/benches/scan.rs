//! Import time of all of `../shared/testdata/osv/` and scan throughput in
//! components per second (in process, no peer).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Instant;

use gantry_sbom::{Component, Ecosystem, Location};
use gantry_vuln::import::{self, Options};
use gantry_vuln::{Database, scan};

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/osv");
    if !data.is_dir() {
        println!("skipped: {} is missing", data.display());
        return;
    }
    let sources: Vec<PathBuf> = ["crates", "Go", "PyPI"]
        .iter()
        .map(|s| data.join(s))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let summary = import::import(dir.path(), &sources, &Options::default()).unwrap();
    let import_time = start.elapsed();
    println!(
        "import: {} records from {} sources in {:.0} ms ({:.0} records/s)",
        summary.meta.records,
        sources.len(),
        import_time.as_secs_f64() * 1e3,
        summary.meta.records as f64 / import_time.as_secs_f64()
    );
    let start = Instant::now();
    let again = import::import(dir.path(), &sources, &Options::default()).unwrap();
    println!(
        "re-import (all unchanged: {}): {:.0} ms",
        again.unchanged,
        start.elapsed().as_secs_f64() * 1e3
    );
    let start = Instant::now();
    let db = Database::open(dir.path()).unwrap();
    println!("open: {:.1} ms", start.elapsed().as_secs_f64() * 1e3);

    // Every package the advisories name, once, at an old and a new version:
    // the worst case, as each lookup finds records to evaluate.
    let mut components = Vec::new();
    let mut seen: std::collections::HashSet<(Ecosystem, String)> = std::collections::HashSet::new();
    for r in db.all_records().unwrap() {
        for a in &r.affected {
            let Some(p) = &a.package else { continue };
            let Some(e) = Ecosystem::from_osv(&p.ecosystem) else {
                continue;
            };
            if !seen.insert((e, e.normalize_name(&p.name))) {
                continue;
            }
            let at = Location {
                file: "bench".into(),
                line: 1,
            };
            let (old, new) = match e {
                Ecosystem::Go => ("v0.0.1", "v99.0.0"),
                _ => ("0.0.1", "99.0.0"),
            };
            components.push(Component::new(e, &p.name, Some(old), at.clone()));
            components.push(Component::new(e, &p.name, Some(new), at));
        }
    }
    let start = Instant::now();
    let report = scan(&db, &components);
    let t = start.elapsed();
    println!(
        "scan: {} components, {} findings in {:.0} ms ({:.0} components/s)",
        components.len(),
        report.findings.len() + report.informational.len(),
        t.as_secs_f64() * 1e3,
        components.len() as f64 / t.as_secs_f64()
    );
}
