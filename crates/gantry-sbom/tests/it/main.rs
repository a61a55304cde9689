//! The integration tests of gantry-sbom, linked as one binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod formats;
mod never_panics;
mod sbom_output;
mod untrusted_input;
