#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

mod api;
mod cdp;
mod common;
mod dashboard;
mod deliver;
mod metrics;
mod openapi;
mod robust;
