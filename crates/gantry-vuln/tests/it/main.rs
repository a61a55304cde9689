//! The integration tests of gantry-vuln, linked as one binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod fix;
mod gate;
mod import_and_report;
mod never_panics;
mod osv_real;
mod untrusted_input;
