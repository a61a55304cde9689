//! The one integration test binary of gantry-posture.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod aggregate;
mod checks;
mod common;
mod history;
mod sarif;
