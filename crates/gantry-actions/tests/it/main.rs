//! gantry-actions' integration tests, linked as one binary: the store
//! filled from git repositories, bare clones by URL and plain folders made
//! in temporary directories (nothing is fetched from the network).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod store;
