//! The integration tests of gantry-audit, linked as one binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod report;
mod rules;
mod shellcheck;
