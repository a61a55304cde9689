//! gantry-ledger's integration tests, one binary with a module per area
//! (uv's `tests/it/` layout); shared helpers live in `common`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chain;
mod common;
mod export;
mod properties;
mod repair;
mod store;
mod tamper;
mod vectors;
