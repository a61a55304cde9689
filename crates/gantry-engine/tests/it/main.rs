//! gantry-engine's integration tests, linked as one binary: each area is a
//! module, `common` holds the shared test context.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod containers;
mod environment;
mod marketplace;
mod run;
