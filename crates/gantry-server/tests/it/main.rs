#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

mod api;
mod common;
mod metrics;
mod openapi;
