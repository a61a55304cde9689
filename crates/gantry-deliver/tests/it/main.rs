//! gantry-deliver's integration tests, one binary.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

mod approvals;
mod deploy;
mod environments;
mod health;
