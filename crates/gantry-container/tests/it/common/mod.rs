//! The test context: the real podman ([`podman`]) and a fake engine
//! ([`Fake`]).

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

pub mod fake;
pub mod podman;

pub use fake::Fake;
