//! gantry-deliver's integration tests: one binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

mod approvals;
mod deploy;
mod dora;
mod environments;
mod health;
mod notify;
