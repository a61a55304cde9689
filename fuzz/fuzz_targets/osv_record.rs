//! Feeds arbitrary bytes to the OSV import reader as a JSON file, a JSON
//! array, NDJSON or YAML (the first byte picks the file name), then matches
//! every version the records mention against them and indexes them.
//! Nothing may panic.

#![no_main]

use gantry_fuzz::Scratch;
use gantry_sbom::Ecosystem;
use gantry_vuln::Database;
use gantry_vuln::import::{Limits, read_source};
use gantry_vuln::version::order_for;
use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &["record.json", "records.ndjson", "record.yaml"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let scratch = Scratch::new();
    let path = scratch
        .path
        .join(NAMES[usize::from(selector) % NAMES.len()]);
    std::fs::write(&path, bytes).expect("write the input");
    let limits = Limits {
        max_entry_bytes: 1 << 20,
        max_total_bytes: 1 << 22,
        max_entries: 1000,
    };
    let Ok(source) = read_source(&path, &limits) else {
        return;
    };
    for record in &source.records {
        let _ = record.ids().count();
        let _ = record.informational();
        let _ = record.freshness();
        let _ = record.advisory_url();
        let _ = gantry_vuln::severity::of_record(record, None);
        for affected in &record.affected {
            let Some(ecosystem) = affected
                .package
                .as_ref()
                .and_then(|p| Ecosystem::from_osv(&p.ecosystem))
            else {
                continue;
            };
            let _ = gantry_vuln::severity::of_record(record, Some(affected));
            let order = order_for(ecosystem);
            let mut versions: Vec<&str> = vec!["0", "1.0.0", "2.3.4-rc.1"];
            versions.extend(affected.versions.iter().map(String::as_str));
            for range in &affected.ranges {
                for e in &range.events {
                    versions.extend(
                        [&e.introduced, &e.fixed, &e.last_affected, &e.limit]
                            .into_iter()
                            .flatten()
                            .map(String::as_str),
                    );
                }
            }
            versions.truncate(64);
            for v in versions {
                let _ = gantry_vuln::affects(order, v, affected);
            }
        }
    }
    let db = Database::from_records(source.records);
    if let Ok(all) = db.all_records() {
        for record in all.iter().take(8) {
            for affected in &record.affected {
                if let Some(p) = &affected.package {
                    let _ = db.lookup(&p.ecosystem, &p.name);
                }
            }
        }
    }
});
