//! Where an image's files are: an OCI layout folder, or a tarball (an
//! `oci-archive` or a `docker save`) read in place: the tarball's entries
//! are indexed once and each blob is read from its offset, never
//! extracted.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::{Error, ExportError, Exported, Limits};

/// The kind of image input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// An OCI image layout folder (`oci-layout`, `index.json`, `blobs/`).
    OciLayout,
    /// A tarball of an OCI image layout.
    OciArchive,
    /// `docker save` output (a tarball with `manifest.json`), or such a
    /// tarball unpacked into a folder.
    DockerArchive,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::OciLayout => "oci-layout",
            Kind::OciArchive => "oci-archive",
            Kind::DockerArchive => "docker-archive",
        }
    }
}

/// Most entries in the outer tarball.
const MAX_OUTER_ENTRIES: usize = 1_000_000;

/// Whether `path` is an image, and which kind, judged by content: a
/// folder with `index.json` (or `manifest.json` beside layer folders), a
/// tarball holding those. `None` for anything else (a lockfile, an SBOM).
pub fn detect(path: &Path) -> Option<Kind> {
    if path.is_dir() {
        if is_file(&path.join("index.json")) {
            return Some(Kind::OciLayout);
        }
        if is_file(&path.join("manifest.json")) && !is_file(&path.join("package.json")) {
            // `docker save` unpacked: manifest.json is a JSON array.
            let text = gantry_fs::read_text_bounded(&path.join("manifest.json"), 1 << 20).ok()?;
            return text
                .trim_start()
                .starts_with('[')
                .then_some(Kind::DockerArchive);
        }
        return None;
    }
    let mut file = gantry_fs::open_regular(path).ok()?;
    let mut head = [0u8; 512];
    file.read_exact(&mut head).ok()?;
    if &head[257..262] != b"ustar" {
        return None;
    }
    let _ = file.seek(SeekFrom::Start(0));
    let index = TarIndex::read(file, path).ok()?;
    index.kind()
}

fn is_file(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file())
}

/// An entry name inside an image: relative, `/`-separated, no `..`.
pub(crate) fn safe_name(name: &str) -> Option<String> {
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p => parts.push(p),
        }
    }
    (!parts.is_empty() && !name.starts_with('/')).then(|| parts.join("/"))
}

#[derive(Debug, Clone)]
enum TarEntry {
    File { offset: u64, size: u64 },
    Link(String),
}

#[derive(Debug)]
struct TarIndex {
    file: File,
    entries: HashMap<String, TarEntry>,
}

impl TarIndex {
    fn read(file: File, path: &Path) -> Result<TarIndex, Error> {
        let shown = path.display().to_string();
        let bad = |reason: String| Error::Invalid {
            path: shown.clone(),
            what: "the tarball".into(),
            reason,
        };
        let mut entries = HashMap::new();
        let mut archive = tar::Archive::new(&file);
        let iter = archive
            .entries_with_seek()
            .map_err(|e| bad(e.to_string()))?;
        for entry in iter {
            let entry = entry.map_err(|e| bad(e.to_string()))?;
            if entries.len() >= MAX_OUTER_ENTRIES {
                return Err(bad(format!("more than {MAX_OUTER_ENTRIES} entries")));
            }
            let raw = entry.path().map_err(|e| bad(e.to_string()))?;
            let Some(name) = safe_name(&raw.to_string_lossy()) else {
                // Not an image's entry; never read.
                continue;
            };
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    entries.insert(
                        name,
                        TarEntry::File {
                            offset: entry.raw_file_position(),
                            size: entry.size(),
                        },
                    );
                }
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    if let Ok(Some(target)) = entry.link_name() {
                        let target = target.to_string_lossy().into_owned();
                        let joined = if entry.header().entry_type() == tar::EntryType::Symlink {
                            match name.rsplit_once('/') {
                                Some((dir, _)) => format!("{dir}/{target}"),
                                None => target,
                            }
                        } else {
                            target
                        };
                        entries.insert(name, TarEntry::Link(joined));
                    }
                }
                _ => {}
            }
        }
        Ok(TarIndex { file, entries })
    }

    fn kind(&self) -> Option<Kind> {
        if self.entries.contains_key("manifest.json") {
            Some(Kind::DockerArchive)
        } else if self.entries.contains_key("index.json") {
            Some(Kind::OciArchive)
        } else {
            None
        }
    }

    fn find(&self, name: &str) -> Option<(u64, u64)> {
        let mut name = name.to_string();
        for _ in 0..8 {
            match self.entries.get(&name)? {
                TarEntry::File { offset, size } => return Some((*offset, *size)),
                TarEntry::Link(target) => name = normalize(target)?,
            }
        }
        None
    }
}

/// Resolves `..` inside a name; `None` when it climbs out.
fn normalize(name: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// An image's container: a folder or an indexed tarball.
#[derive(Debug)]
pub(crate) struct Container {
    path: PathBuf,
    kind: Kind,
    tar: Option<TarIndex>,
    pub(crate) limits: Limits,
}

impl Container {
    pub(crate) fn open(path: &Path, limits: &Limits) -> Result<Container, Error> {
        let shown = path.display().to_string();
        let not = |reason: &str| Error::NotAnImage {
            path: shown.clone(),
            reason: reason.to_string(),
        };
        if path.is_dir() {
            let kind = detect(path).ok_or_else(|| {
                not("the folder has no index.json (an OCI layout) or manifest.json (docker save)")
            })?;
            return Ok(Container {
                path: path.to_path_buf(),
                kind,
                tar: None,
                limits: *limits,
            });
        }
        let mut file = gantry_fs::open_regular(path)?;
        let mut head = [0u8; 512];
        let n = read_up_to(&mut file, &mut head).map_err(|source| Error::Io {
            path: shown.clone(),
            source,
        })?;
        if n >= 2 && head[..2] == [0x1f, 0x8b] {
            return Err(not(
                "it is gzip-compressed; decompress it first (gunzip), gantry reads the tarball in place",
            ));
        }
        if n >= 4 && head[..4] == [0x28, 0xb5, 0x2f, 0xfd] {
            return Err(not("it is zstd-compressed; decompress it first (unzstd)"));
        }
        if n < 512 || &head[257..262] != b"ustar" {
            return Err(not("it is neither a folder nor a tarball"));
        }
        file.seek(SeekFrom::Start(0)).map_err(|source| Error::Io {
            path: shown.clone(),
            source,
        })?;
        let index = TarIndex::read(file, path)?;
        let kind = index
            .kind()
            .ok_or_else(|| not("the tarball has no index.json or manifest.json"))?;
        Ok(Container {
            path: path.to_path_buf(),
            kind,
            tar: Some(index),
            limits: *limits,
        })
    }

    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    pub(crate) fn shown(&self) -> String {
        self.path.display().to_string()
    }

    /// Whether the container holds `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        match &self.tar {
            Some(t) => t.find(name).is_some(),
            None => safe_name(name).is_some_and(|n| {
                gantry_fs::confine(&self.path, Path::new(&n)).is_ok_and(|p| p.is_file())
            }),
        }
    }

    /// Opens an entry: a reader and its size.
    pub(crate) fn open_entry(&self, name: &str) -> Result<(Box<dyn Read + '_>, u64), Error> {
        let missing = || Error::Missing {
            path: self.shown(),
            what: name.to_string(),
        };
        let io = |source| Error::Io {
            path: format!("{}: {name}", self.shown()),
            source,
        };
        let clean = safe_name(name).ok_or_else(|| Error::Invalid {
            path: self.shown(),
            what: format!("the entry name `{name}`"),
            reason: "it leaves the image (absolute or `..`)".into(),
        })?;
        match &self.tar {
            Some(t) => {
                let (offset, size) = t.find(&clean).ok_or_else(missing)?;
                let mut f = &t.file;
                f.seek(SeekFrom::Start(offset)).map_err(io)?;
                Ok((Box::new(f.take(size)), size))
            }
            None => {
                let full = gantry_fs::confine(&self.path, Path::new(&clean)).map_err(|e| {
                    Error::Invalid {
                        path: self.shown(),
                        what: format!("the entry `{clean}`"),
                        reason: e.to_string(),
                    }
                })?;
                if !full.exists() {
                    return Err(missing());
                }
                let file = gantry_fs::open_regular(&full)?;
                let size = file.metadata().map_err(io)?.len();
                Ok((Box::new(file.take(size)), size))
            }
        }
    }

    /// Reads a small entry (JSON) whole, at most `limit` bytes.
    pub(crate) fn read_small(&self, name: &str, limit: u64) -> Result<Vec<u8>, Error> {
        let (reader, size) = self.open_entry(name)?;
        if size > limit {
            return Err(Error::TooLarge {
                path: self.shown(),
                what: name.to_string(),
                limit,
            });
        }
        let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        reader
            .take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|source| Error::Io {
                path: format!("{}: {name}", self.shown()),
                source,
            })?;
        if out.len() as u64 > limit {
            return Err(Error::TooLarge {
                path: self.shown(),
                what: name.to_string(),
                limit,
            });
        }
        Ok(out)
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

pub(crate) fn export(name: &str) -> Result<Exported, ExportError> {
    let dir = tempfile::Builder::new()
        .prefix("gantry-image-")
        .tempdir()
        .map_err(ExportError::Scratch)?;
    let layout = dir.path().join("layout");
    let layout_text = layout.display().to_string();
    let mut failures = Vec::new();
    if let Some(skopeo) = on_path("skopeo") {
        for transport in ["docker-daemon", "containers-storage"] {
            let out = std::process::Command::new(&skopeo)
                .args(["copy", "--quiet"])
                .arg(format!("{transport}:{name}"))
                .arg(format!("oci:{layout_text}"))
                .stdin(std::process::Stdio::null())
                .output()
                .map_err(|source| ExportError::Spawn {
                    tool: "skopeo",
                    source,
                })?;
            if out.status.success() {
                return Ok(Exported {
                    dir,
                    path: layout,
                    tool: "skopeo",
                });
            }
            failures.push(format!(
                "{transport}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
            let _ = std::fs::remove_dir_all(&layout);
        }
        if on_path("podman").is_none() {
            return Err(ExportError::Failed {
                tool: "skopeo",
                name: name.to_string(),
                stderr: failures.join("; "),
            });
        }
    }
    if let Some(podman) = on_path("podman") {
        let out = std::process::Command::new(podman)
            .args(["save", "--quiet", "--format", "oci-dir", "-o"])
            .arg(&layout)
            .arg(name)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|source| ExportError::Spawn {
                tool: "podman",
                source,
            })?;
        if out.status.success() {
            return Ok(Exported {
                dir,
                path: layout,
                tool: "podman",
            });
        }
        failures.push(String::from_utf8_lossy(&out.stderr).trim().to_string());
        return Err(ExportError::Failed {
            tool: "podman",
            name: name.to_string(),
            stderr: failures.join("; "),
        });
    }
    Err(ExportError::NoTool {
        name: name.to_string(),
    })
}
