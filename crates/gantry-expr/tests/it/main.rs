//! The integration tests of gantry-expr, linked as one binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod conformance;
mod properties;
