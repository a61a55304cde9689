//! Offline vulnerability matching: OSV advisories imported from files into
//! a compact index under `$GANTRY_HOME/vuln/`, each ecosystem's own
//! version order, OSV range semantics, CVSS v3/v4 scores, and findings
//! with the smallest fixed version, ignores and a severity gate.
//!
//! ```
//! use gantry_sbom::{Component, Ecosystem, Location};
//! use gantry_vuln::{Database, osv::Record, scan};
//!
//! let record: Record = serde_json::from_str(r#"{
//!   "id": "RUSTSEC-2022-0013", "modified": "2023-06-13T13:10:24Z",
//!   "aliases": ["CVE-2022-24713"],
//!   "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
//!   "affected": [{"package": {"ecosystem": "crates.io", "name": "regex"},
//!     "ranges": [{"type": "SEMVER", "events": [{"introduced": "0.0.0-0"}, {"fixed": "1.5.5"}]}]}]
//! }"#).unwrap();
//! let db = Database::from_records(vec![record]);
//! let at = Location { file: "Cargo.lock".into(), line: 7 };
//! let old = Component::new(Ecosystem::Cargo, "regex", Some("1.5.4"), at.clone());
//! let new = Component::new(Ecosystem::Cargo, "regex", Some("1.5.5"), at);
//! let report = scan(&db, &[old, new]);
//! assert_eq!(report.findings.len(), 1);
//! let f = &report.findings[0];
//! assert_eq!(f.ids, ["RUSTSEC-2022-0013", "CVE-2022-24713"]);
//! assert_eq!(f.fixed.as_deref(), Some("1.5.5"));
//! assert_eq!(f.severity.level, gantry_vuln::Level::High);
//! ```

pub mod check;
pub mod db;
pub mod fix;
pub mod ignore;
pub mod import;
mod matching;
pub mod osv;
pub mod sarif;
mod scan;
pub mod severity;
pub mod version;

pub use check::{CheckError, FailOn, Outcome, Policy, Request, check};
pub use db::{Database, DbError, Status};
pub use matching::{RangeError, affects, is_affected_by_range};
pub use scan::{Finding, FindingKind, Report, scan};
pub use severity::{Level, Severity};
