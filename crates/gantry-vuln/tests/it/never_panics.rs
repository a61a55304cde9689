//! Property tests: hostile databases, records and versions are errors or
//! warnings, never panics.

use gantry_vuln::Database;
use gantry_vuln::import::{Limits, read_source};
use gantry_vuln::version::order_for;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn damaged_databases_are_errors(bytes in proptest::collection::vec(any::<u8>(), 0..600), cut in 0usize..600) {
        let dir = tempfile::tempdir().unwrap();
        let valid: gantry_vuln::osv::Record = serde_json::from_str(
            r#"{"id": "X-1", "modified": "2024-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "npm", "name": "a"}}]}"#,
        ).unwrap();
        Database::write(dir.path(), vec![valid], vec![], 0).unwrap();
        let path = Database::file_in(dir.path());
        let good = std::fs::read(&path).unwrap();
        // Random bytes, a truncated file, and random bytes after a valid header.
        for candidate in [bytes.clone(), good[..cut.min(good.len())].to_vec(), [&good[..36.min(good.len())], &bytes[..]].concat()] {
            std::fs::write(&path, &candidate).unwrap();
            if candidate != good {
                prop_assert!(Database::open(dir.path()).is_err());
            }
        }
    }

    #[test]
    fn arbitrary_records_are_warnings(text in ".{0,300}", yaml in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(if yaml { "r.yaml" } else { "r.json" });
        std::fs::write(&path, &text).unwrap();
        let _ = read_source(&path, &Limits::default());
    }

    #[test]
    fn arbitrary_versions_compare_or_refuse(a in ".{0,40}", b in "[0-9a-zA-Z.+-]{0,40}") {
        for e in gantry_sbom::Ecosystem::ALL {
            let order = order_for(e);
            let _ = order.compare(&a, &b);
            let _ = order.compare(&b, &a);
        }
    }
}

#[test]
fn huge_versions_are_refused_quickly() {
    let long = "1-".repeat(200_000);
    for e in gantry_sbom::Ecosystem::ALL {
        assert!(!order_for(e).is_valid(&long), "{e}");
    }
}
