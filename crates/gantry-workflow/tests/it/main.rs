//! The integration tests of gantry-workflow, linked as one binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod lint;
mod local_refs;
mod numbers;
mod properties;
mod read;
mod reader_conformance;
