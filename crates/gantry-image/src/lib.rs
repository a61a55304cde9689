//! Container images read without extracting them: an OCI image layout
//! folder, an `oci-archive` tarball or a `docker save` tarball is opened
//! ([`open`]), its index resolved to one manifest (the platform asked
//! for, `linux/amd64`, or the only one), and its layers applied in order
//! with whiteouts into an in-memory [`FileView`] that records, for each
//! path, the layer it came from, and keeps the bytes only of the files
//! the cataloguers read. [`catalog::catalogue`] then lists the OS packages
//! (dpkg, apk, rpm) and language packages (lockfiles, Python
//! `site-packages`, npm `node_modules`, Go build info, `cargo auditable`)
//! as `gantry_sbom` components, each with the layer and path it came from.
//!
//! The image's identity is its manifest digest: the SHA-256 of the
//! manifest's bytes, what a registry calls the image by.
//!
//! Nothing is written to disk and nothing is executed: paths with `..`
//! are refused, links are resolved inside the view only, and every size
//! (manifests, layers decompressed, kept files, entry counts) is capped
//! by [`Limits`].

pub mod catalog;
mod digest;
mod layers;
mod manifest;
pub mod sbom;
mod source;
mod view;

use std::path::{Path, PathBuf};

use serde::Serialize;

#[doc(hidden)]
pub use catalog::rpm::header_blob as rpm_header_blob;
pub use catalog::{ImageInventory, ImageInventoryDocument, ImageSummary, OsRelease, catalogue};
pub use digest::Digest;
pub use manifest::Platform;
pub use source::{Kind, detect};
pub use view::{Content, FileView, Node, NodeKind};

/// Caps on what an image may make gantry read or keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Index, manifest, config and `manifest.json` files.
    pub max_json_bytes: u64,
    /// One layer, decompressed (a decompression bomb stops here).
    pub max_layer_bytes: u64,
    /// Entries in one layer.
    pub max_entries: u64,
    /// One file whose bytes a cataloguer reads (a status file, a
    /// `package.json`, an rpm database).
    pub max_file_bytes: u64,
    /// One executable examined for Go build info or `cargo auditable`.
    pub max_binary_bytes: u64,
    /// All bytes kept in memory together.
    pub max_kept_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_json_bytes: 8 << 20,
            max_layer_bytes: 32 << 30,
            max_entries: 4_000_000,
            max_file_bytes: 256 << 20,
            max_binary_bytes: 512 << 20,
            max_kept_bytes: 2 << 30,
        }
    }
}

/// How to open an image.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The platform to pick from a multi-platform index; `linux/amd64`
    /// or the only one when not given.
    pub platform: Option<Platform>,
    pub limits: Limits,
}

/// A failure to read an image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Read(#[from] gantry_fs::ReadError),
    #[error("failed to read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a container image: {reason}")]
    NotAnImage { path: String, reason: String },
    #[error("{path}: {what} is not valid: {reason}")]
    Invalid {
        path: String,
        what: String,
        reason: String,
    },
    #[error("{path}: {what} is missing from the image")]
    Missing { path: String, what: String },
    #[error("{path}: {what} is larger than the {limit}-byte limit")]
    TooLarge {
        path: String,
        what: String,
        limit: u64,
    },
    #[error("{path}: {what} has digest {actual}, but the image says {expected}")]
    DigestMismatch {
        path: String,
        what: String,
        expected: String,
        actual: String,
    },
    #[error("{path}: no manifest for platform {wanted}; the image has {available}")]
    NoPlatform {
        path: String,
        wanted: String,
        available: String,
    },
    #[error(
        "{path}: the index lists {count} platforms ({available}) and none is linux/amd64; \
         choose one with --platform"
    )]
    AmbiguousPlatform {
        path: String,
        count: usize,
        available: String,
    },
}

/// A problem that does not stop the image being read: an entry refused,
/// a database format not supported, a record that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Warning {
    /// The layer (digest) or file the problem is in.
    pub place: String,
    pub message: String,
}

/// One layer as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layer {
    /// The layer's digest (`sha256:...`): of the blob as stored in an OCI
    /// image, the uncompressed tar's (`diff_id`) in a `docker save`
    /// tarball without an OCI index.
    pub digest: String,
    pub media_type: String,
    /// Size of the blob in bytes.
    pub size: u64,
    /// Entries in the layer (whiteouts included).
    pub entries: u64,
}

/// An opened image: identity, layers and the files they leave.
#[derive(Debug)]
pub struct Image {
    /// What the image is called: its reference annotation or tag when the
    /// image records one, else the path it was read from.
    pub name: String,
    pub kind: Kind,
    /// The manifest digest (`sha256:...`): the image's identity. For a
    /// `docker save` tarball without an OCI index, which holds no
    /// manifest, the config digest (Docker's image id).
    pub digest: Digest,
    pub config_digest: Digest,
    /// `os/architecture[/variant]` from the config.
    pub platform: Option<String>,
    pub layers: Vec<Layer>,
    pub files: FileView,
    pub warnings: Vec<Warning>,
}

/// What [`identify`] finds without reading layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub name: String,
    pub kind: Kind,
    pub digest: Digest,
    pub config_digest: Digest,
    pub platform: Option<String>,
    pub layers: Vec<String>,
}

/// The image's identity and layer list, without reading the layers: what
/// `gantry attest --image` and `gantry verify --image` need.
pub fn identify(path: &Path, options: &Options) -> Result<Identity, Error> {
    let mut container = source::Container::open(path, &options.limits)?;
    let resolved = manifest::resolve(&mut container, options)?;
    Ok(Identity {
        name: resolved.name.unwrap_or_else(|| path.display().to_string()),
        kind: container.kind(),
        digest: resolved.digest,
        config_digest: resolved.config_digest,
        platform: resolved.platform,
        layers: resolved
            .layers
            .iter()
            .map(|l| l.digest.to_string())
            .collect(),
    })
}

/// Opens an image and applies its layers.
pub fn open(path: &Path, options: &Options) -> Result<Image, Error> {
    let mut container = source::Container::open(path, &options.limits)?;
    let resolved = manifest::resolve(&mut container, options)?;
    let mut warnings = resolved.warnings.clone();
    let (files, layers) = layers::apply(&mut container, &resolved, &options.limits, &mut warnings)?;
    Ok(Image {
        name: resolved.name.unwrap_or_else(|| path.display().to_string()),
        kind: container.kind(),
        digest: resolved.digest,
        config_digest: resolved.config_digest,
        platform: resolved.platform,
        layers,
        files,
        warnings,
    })
}

/// Opens an image and lists its packages: what `gantry sbom IMAGE` and
/// `gantry scan IMAGE` read.
pub fn inventory(path: &Path, options: &Options) -> Result<ImageInventory, Error> {
    let image = open(path, options)?;
    Ok(catalogue(&image))
}

/// An image got from a container engine's store into a scratch OCI
/// layout: the folder lives as long as this value.
#[derive(Debug)]
pub struct Exported {
    dir: tempfile::TempDir,
    /// The layout folder to [`open`].
    pub path: PathBuf,
    /// The tool that exported it (`skopeo` or `podman`).
    pub tool: &'static str,
}

impl Exported {
    /// The scratch folder holding the layout.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }
}

/// A failure to get an image from a container engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    #[error(
        "neither skopeo nor podman is installed, so the image {name} cannot be read from a \
         container engine"
    )]
    NoTool { name: String },
    #[error("failed to run {tool}: {source}")]
    Spawn {
        tool: &'static str,
        source: std::io::Error,
    },
    #[error("{tool} could not export {name}: {stderr}")]
    Failed {
        tool: &'static str,
        name: String,
        stderr: String,
    },
    #[error("failed to make a scratch folder: {0}")]
    Scratch(std::io::Error),
}

/// Exports a named image from the local container engines (Docker's
/// daemon or containers-storage, through `skopeo copy`; or `podman
/// save --format oci-dir`) into a scratch OCI layout. Nothing is pulled:
/// the image must already be there.
pub fn export(name: &str) -> Result<Exported, ExportError> {
    source::export(name)
}
