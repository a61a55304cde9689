//! The integration tests of gantry-store, as one test binary (linked once).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod artifacts;
mod cache;
mod concurrency;
mod crash;
mod deployments;
mod history;
mod outbox;
mod tampering;
mod test_results;
mod traversal;
mod unusable;
mod writer;
