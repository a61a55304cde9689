//! The integration tests of gantry-report, linked as one binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod schema;
