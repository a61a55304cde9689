//! gantry-container's integration tests, linked as one binary: the exact
//! command lines, engine detection, the lifecycle against a fake engine
//! (a shell script that records its arguments), and the lifecycle against
//! a real podman with a locally built image.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod args;
mod common;
mod detect;
mod fake;
mod real;
