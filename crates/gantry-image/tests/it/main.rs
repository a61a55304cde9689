//! gantry-image's integration tests: images written by the tests
//! themselves (OCI layouts, oci-archive and docker save tarballs, and
//! umoci's), never pulled.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod hostile;
mod images;
mod sbom;
mod umoci;
