//! The one integration test binary of gantry-posture.

mod aggregate;
mod checks;
mod common;
mod history;
mod sarif;
