//! Inventory from lockfiles: every pinned (and unpinned) package a
//! repository's lockfiles record, as [`Component`]s with purls, scopes,
//! hashes, dependency edges and the file and line they came from; written
//! out as CycloneDX or SPDX JSON.
//!
//! Reading never executes anything and never touches the network: each
//! lockfile format is one module in [`formats`] implementing
//! [`formats::LockfileFormat`], registered in [`formats::FORMATS`].
//!
//! ```
//! use gantry_sbom::{Ecosystem, parse_text};
//!
//! let lock = "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"smallvec\"]\n\n[[package]]\nname = \"smallvec\"\nversion = \"1.13.2\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
//! let parsed = parse_text("Cargo.lock".as_ref(), "Cargo.lock", lock).unwrap();
//! assert_eq!(parsed.components.len(), 1);
//! let c = &parsed.components[0];
//! assert_eq!(c.ecosystem, Ecosystem::Cargo);
//! assert_eq!(c.purl, "pkg:cargo/smallvec@1.13.2");
//! assert!(c.direct);
//! ```

pub mod cyclonedx;
mod discover;
pub mod formats;
mod graph;
mod inventory;
pub mod manifest;
mod model;
pub mod purl;
pub mod read;
pub mod spdx;
mod text;
pub mod time;

pub use discover::{DiscoverOptions, Discovered, SKIPPED_DIRS, discover, discover_all};
pub use gantry_fs::ReadError;
pub use inventory::{
    INVENTORY_SCHEMA_VERSION, Inventory, InventoryDocument, MAX_FILE_BYTES, ScannedFile, inventory,
    parse_text, parse_text_in,
};
pub use model::{Component, Ecosystem, Hash, HashAlgorithm, Location, OsPackage, Scope, Warning};
pub use text::{base64_decode, hex_encode};

/// A failure that stops an inventory before any file was read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("failed to read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("failed to walk {path}: {message}")]
    Walk { path: String, message: String },
    #[error("{path} is neither a folder nor a regular file (a FIFO, socket or device?); not read")]
    NotRegular { path: String },
    #[error("{path} is not a lockfile gantry can read")]
    UnknownFormat { path: String },
}
