//! gantry-traffic's integration tests: one binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

mod common;
mod haproxy;
mod load;
mod router;
