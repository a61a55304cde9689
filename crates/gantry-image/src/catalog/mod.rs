//! Cataloguers: what packages an image's files say are installed. OS
//! packages from the dpkg status (`var/lib/dpkg/status`, `status.d/*`),
//! the apk database (`lib/apk/db/installed`) and the rpm database
//! (`rpmdb.sqlite`), with the distribution from `os-release`; language
//! packages from lockfiles (gantry-sbom's formats), Python
//! `*.dist-info/METADATA`, npm `node_modules/**/package.json`, Go build
//! info and `cargo auditable` sections of executables. Every component
//! carries the layer digest and path it came from.

use gantry_sbom::{Component, Ecosystem, Inventory, Location, OsPackage, ScannedFile};
use serde::Serialize;

use crate::view::{Content, FileView, Node};
use crate::{Image, Kind, Layer};

mod apk;
pub mod binary;
mod dpkg;
mod language;
mod osrelease;
pub(crate) mod rpm;
mod text;

pub use osrelease::OsRelease;

/// What the layer pass keeps of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    Nothing,
    Bytes,
    /// An executable: examined for build information, not kept.
    Executable,
}

/// The rpm databases gantry reads (SQLite, rpm 4.16 and later).
pub(crate) const RPM_SQLITE: [&str; 2] = [
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
];
/// The rpm databases gantry does not read: BerkeleyDB and ndb.
pub(crate) const RPM_UNSUPPORTED: [(&str, &str); 4] = [
    ("var/lib/rpm/Packages", "BerkeleyDB"),
    ("usr/lib/sysimage/rpm/Packages", "BerkeleyDB"),
    ("var/lib/rpm/Packages.db", "ndb"),
    ("usr/lib/sysimage/rpm/Packages.db", "ndb"),
];

/// Whether a cataloguer reads the file at `path`.
pub(crate) fn wants(path: &str, mode: u32, size: u64) -> Want {
    let bytes = matches!(
        path,
        "etc/os-release"
            | "usr/lib/os-release"
            | "etc/alpine-release"
            | "var/lib/dpkg/status"
            | "lib/apk/db/installed"
    ) || RPM_SQLITE.contains(&path)
        || path.starts_with("var/lib/dpkg/status.d/")
        || language::wants(path);
    if bytes {
        Want::Bytes
    } else if mode & 0o111 != 0 && size >= 64 {
        Want::Executable
    } else {
        Want::Nothing
    }
}

/// The image as its inventory describes it.
#[derive(Debug, Clone, Serialize)]
pub struct ImageSummary {
    pub name: String,
    pub kind: Kind,
    pub digest: String,
    pub config_digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    pub layers: Vec<Layer>,
}

/// An image's packages.
#[derive(Debug, Clone, Serialize)]
pub struct ImageInventory {
    pub image: ImageSummary,
    /// The distribution `os-release` names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<OsRelease>,
    /// Components (each with `layer` and `path` properties), the
    /// databases and lockfiles read, warnings.
    #[serde(flatten)]
    pub inventory: Inventory,
}

/// The version of [`ImageInventoryDocument`]'s layout.
pub const IMAGE_INVENTORY_VERSION: u32 = 1;

/// `gantry sbom IMAGE --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct ImageInventoryDocument<'a> {
    pub version: u32,
    #[serde(flatten)]
    pub inventory: &'a ImageInventory,
}

impl ImageInventory {
    pub fn document(&self) -> ImageInventoryDocument<'_> {
        ImageInventoryDocument {
            version: IMAGE_INVENTORY_VERSION,
            inventory: self,
        }
    }
}

/// Where cataloguers put what they find.
pub(crate) struct Sink<'a> {
    pub(crate) view: &'a FileView,
    pub(crate) os: Option<&'a OsRelease>,
    pub(crate) inventory: Inventory,
}

impl Sink<'_> {
    /// Adds a component found in `path`, tagging it with the layer.
    pub(crate) fn push(&mut self, mut c: Component, path: &str, node: &Node) {
        c.properties.push((
            "layer".into(),
            self.view.layer_digest(node.layer).to_string(),
        ));
        c.properties.push(("path".into(), path.to_string()));
        if let Some(os) = &c.os {
            c.properties.push(("distro".into(), os.purl_distro()));
            if let Some(src) = &os.source {
                c.properties.push(("source-package".into(), src.clone()));
            }
        }
        c.properties.sort();
        c.properties.dedup();
        self.inventory.components.push(c);
    }

    pub(crate) fn warn(&mut self, file: &str, line: Option<usize>, message: impl Into<String>) {
        self.inventory.warnings.push(gantry_sbom::Warning {
            file: file.to_string(),
            line,
            message: message.into(),
        });
    }

    pub(crate) fn file(
        &mut self,
        path: &str,
        format: &'static str,
        ecosystem: Ecosystem,
        n: usize,
    ) {
        self.inventory.files.push(ScannedFile {
            path: path.to_string(),
            format,
            ecosystem,
            components: n,
        });
    }

    /// The `OsPackage` of a package of this image's distribution.
    pub(crate) fn os_package(
        &self,
        arch: Option<&str>,
        source: Option<String>,
        source_version: Option<String>,
    ) -> Option<OsPackage> {
        let os = self.os?;
        Some(OsPackage {
            distro: os.id.clone(),
            release: os.version_id.clone(),
            arch: arch.filter(|a| !a.is_empty()).map(str::to_string),
            source,
            source_version,
        })
    }

    /// A purl of an OS package: `pkg:TYPE/DISTRO/NAME@VERSION?arch=..&distro=..`.
    pub(crate) fn os_purl(
        &self,
        ecosystem: Ecosystem,
        name: &str,
        version: &str,
        arch: Option<&str>,
        extra: &[(&str, String)],
        fallback_namespace: &str,
    ) -> String {
        let mut qualifiers: Vec<(String, String)> = Vec::new();
        if let Some(a) = arch.filter(|a| !a.is_empty()) {
            qualifiers.push(("arch".into(), a.to_string()));
        }
        if let Some(os) = self.os {
            qualifiers.push(("distro".into(), format!("{}-{}", os.id, os.version_id)));
        }
        for (k, v) in extra {
            qualifiers.push(((*k).to_string(), v.clone()));
        }
        qualifiers.sort();
        gantry_sbom::purl::Purl {
            purl_type: ecosystem.purl_type().to_string(),
            namespace: Some(self.os.map_or(fallback_namespace.to_string(), |o| {
                o.id.to_ascii_lowercase()
            })),
            name: name.to_string(),
            version: Some(version.to_string()),
            qualifiers,
            subpath: None,
        }
        .to_string()
    }
}

/// A component's location in the image: the file and a 1-based line.
pub(crate) fn at(path: &str, line: usize) -> Location {
    Location {
        file: path.to_string(),
        line: line.max(1),
    }
}

/// Lists the packages an opened image holds.
pub fn catalogue(image: &Image) -> ImageInventory {
    let view = &image.files;
    let os = osrelease::read(view);
    let mut sink = Sink {
        view,
        os: os.as_ref(),
        inventory: Inventory::default(),
    };
    for w in &image.warnings {
        sink.warn(&w.place, None, w.message.clone());
    }
    dpkg::catalogue(&mut sink);
    apk::catalogue(&mut sink);
    rpm::catalogue(&mut sink);
    language::catalogue(&mut sink);
    binary::catalogue(&mut sink);
    let mut inventory = sink.inventory;
    inventory.components.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.version, &a.location).cmp(&(
            b.ecosystem,
            &b.name,
            &b.version,
            &b.location,
        ))
    });
    inventory.files.sort_by(|a, b| a.path.cmp(&b.path));
    inventory.warnings.sort();
    inventory.warnings.dedup();
    ImageInventory {
        image: ImageSummary {
            name: image.name.clone(),
            kind: image.kind,
            digest: image.digest.to_string(),
            config_digest: image.config_digest.to_string(),
            platform: image.platform.clone(),
            layers: image.layers.clone(),
        },
        os,
        inventory,
    }
}

/// The kept bytes of every file under the view whose path `matches`.
pub(crate) fn kept_files<'a>(
    view: &'a FileView,
    matches: impl Fn(&str) -> bool + 'a,
) -> impl Iterator<Item = (&'a str, &'a Node, &'a [u8])> + 'a {
    view.iter()
        .filter_map(move |(path, node)| match &node.content {
            Content::Bytes(b) if matches(path) => Some((path, node, &b[..])),
            _ => None,
        })
}

/// The text of kept bytes, or a warning.
pub(crate) fn utf8<'a>(sink: &mut Sink<'_>, path: &str, bytes: &'a [u8]) -> Option<&'a str> {
    match std::str::from_utf8(bytes) {
        Ok(t) => Some(t),
        Err(e) => {
            sink.warn(path, None, format!("not read: not UTF-8 text ({e})"));
            None
        }
    }
}
