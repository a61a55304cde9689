//! Reading every lockfile under a folder into one sorted inventory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::formats::{Input, Parsed, file_name, format_for};
use crate::model::{Component, Ecosystem, Warning};
use crate::{DiscoverOptions, Error, ReadError, discover_all};

/// Files larger than this are reported, not read.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Every component of every lockfile found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inventory {
    /// The lockfiles read, in path order.
    pub files: Vec<ScannedFile>,
    /// Sorted by ecosystem, name, version, file and line; one entry per
    /// lockfile that records the package.
    pub components: Vec<Component>,
    pub warnings: Vec<Warning>,
}

/// The version of the `gantry sbom --format json` layout.
pub const INVENTORY_SCHEMA_VERSION: u32 = 1;

/// `gantry sbom --format json`: the inventory with its layout version.
#[derive(Debug, Clone, Serialize)]
pub struct InventoryDocument<'a> {
    pub version: u32,
    #[serde(flatten)]
    pub inventory: &'a Inventory,
}

/// One lockfile read.
#[derive(Debug, Clone, Serialize)]
pub struct ScannedFile {
    pub path: String,
    pub format: &'static str,
    pub ecosystem: Ecosystem,
    pub components: usize,
}

impl Inventory {
    /// The JSON form, with its layout version.
    pub fn document(&self) -> InventoryDocument<'_> {
        InventoryDocument {
            version: INVENTORY_SCHEMA_VERSION,
            inventory: self,
        }
    }

    /// Components merged by purl: one per package version, with the first
    /// location, the union of hashes and edges, the widest scope, and
    /// `direct` if any lockfile lists it directly; each with every
    /// location that declares it. What SBOMs list, sorted by purl.
    pub fn unique_components(&self) -> Vec<(Component, Vec<crate::Location>)> {
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut out: Vec<(Component, Vec<crate::Location>)> = Vec::new();
        for c in &self.components {
            match index.get(c.purl.as_str()) {
                Some(&i) => {
                    merge_into(&mut out[i].0, c);
                    out[i].1.push(c.location.clone());
                }
                None => {
                    index.insert(c.purl.as_str(), out.len());
                    out.push((c.clone(), vec![c.location.clone()]));
                }
            }
        }
        out.sort_by(|a, b| a.0.purl.cmp(&b.0.purl));
        for (_, locations) in &mut out {
            locations.sort();
            locations.dedup();
        }
        out
    }
}

fn merge_into(target: &mut Component, other: &Component) {
    target.direct |= other.direct;
    target.scope = target.scope.widest(other.scope);
    for h in &other.hashes {
        target.add_hash(h.clone());
    }
    for d in &other.dependencies {
        if !target.dependencies.contains(d) {
            target.dependencies.push(d.clone());
        }
    }
    target.dependencies.sort();
    for p in &other.properties {
        if !target.properties.contains(p) {
            target.properties.push(p.clone());
        }
    }
}

/// Parses one file's text by its name. `None` when no format reads it.
/// Includes and neighbours are read only from the file's own folder and
/// below it.
pub fn parse_text(path: &Path, display: &str, text: &str) -> Option<Parsed> {
    let root = path.parent().unwrap_or(Path::new("."));
    parse_text_in(root, path, display, text)
}

/// Parses one file's text by its name; includes and neighbours are read
/// only from inside `root`. `None` when no format reads it.
pub fn parse_text_in(root: &Path, path: &Path, display: &str, text: &str) -> Option<Parsed> {
    let format = format_for(path)?;
    let input = Input {
        path,
        root,
        display,
        text,
    };
    let mut parsed = Parsed::default();
    format.parse(&input, &mut parsed);
    dedup_file(&mut parsed.components);
    Some(parsed)
}

/// One component per purl within a file (npm nests copies of the same
/// version), merging what the copies say.
fn dedup_file(components: &mut Vec<Component>) {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Component> = Vec::with_capacity(components.len());
    for c in components.drain(..) {
        match index.get(&c.purl) {
            Some(&i) => merge_into(&mut out[i], &c),
            None => {
                index.insert(c.purl.clone(), out.len());
                out.push(c);
            }
        }
    }
    for c in &mut out {
        c.dependencies.sort();
        c.dependencies.dedup();
        c.hashes.sort();
        c.properties.sort();
    }
    *components = out;
}

/// `path` relative to `root`, `/`-separated.
fn display(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let shown = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
    if shown.is_empty() {
        path.display().to_string()
    } else {
        shown
    }
}

fn read_one(root: &Path, path: &Path) -> (String, Result<Parsed, Warning>) {
    let shown = display(root, path);
    let warning = |message: String| Warning {
        file: shown.clone(),
        line: None,
        message,
    };
    let text = match gantry_fs::read_text_bounded(path, MAX_FILE_BYTES) {
        Ok(text) => text,
        Err(e) => {
            let message = match e {
                ReadError::TooLarge { limit, .. } => {
                    format!("not read: the file is larger than the {limit}-byte limit")
                }
                ReadError::NotUtf8 { .. } => "not read: not UTF-8 text".into(),
                other => format!("not read: {other}"),
            };
            return (shown.clone(), Err(warning(message)));
        }
    };
    match parse_text_in(root, path, &shown, &text) {
        Some(parsed) => (shown, Ok(parsed)),
        None => (shown.clone(), Err(warning("not a known lockfile".into()))),
    }
}

/// The inventory of a folder (every lockfile under it) or of one file.
pub fn inventory(path: &Path, options: &DiscoverOptions) -> Result<Inventory, Error> {
    let is_file = path.is_file();
    if is_file && format_for(path).is_none() && file_name(path) != "go.sum" {
        return Err(Error::UnknownFormat {
            path: path.display().to_string(),
        });
    }
    let found = discover_all(path, options)?;
    let files = found.lockfiles;
    let root: PathBuf = if is_file {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        path.to_path_buf()
    };
    let results = parse_parallel(&root, &files);
    let mut inv = Inventory::default();
    for (file, (shown, result)) in files.iter().zip(results) {
        match result {
            Ok(parsed) => {
                if let Some(format) = format_for(file) {
                    inv.files.push(ScannedFile {
                        path: shown,
                        format: format.name(),
                        ecosystem: format.ecosystem(),
                        components: parsed.components.len(),
                    });
                }
                inv.components.extend(parsed.components);
                inv.warnings.extend(parsed.warnings);
            }
            Err(w) => inv.warnings.push(w),
        }
    }
    inv.components.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.version, &a.location).cmp(&(
            b.ecosystem,
            &b.name,
            &b.version,
            &b.location,
        ))
    });
    for (dir, reason) in &found.skipped {
        inv.warnings.push(Warning {
            file: display(&root, dir),
            line: None,
            message: format!("folder not searched: {reason}"),
        });
    }
    for orphan in &found.orphans {
        inv.warnings.push(Warning {
            file: display(&root, orphan),
            line: None,
            message:
                "go.sum without a go.mod beside it: not read (Go modules are read from go.mod)"
                    .into(),
        });
    }
    inv.warnings.sort();
    Ok(inv)
}

/// Parses files on all cores, keeping their order.
fn parse_parallel(root: &Path, files: &[PathBuf]) -> Vec<(String, Result<Parsed, Warning>)> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len().max(1));
    if threads <= 1 {
        return files.iter().map(|f| read_one(root, f)).collect();
    }
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|f| read_one(root, f)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .zip(files.chunks(chunk))
            .flat_map(|(h, part)| {
                h.join().unwrap_or_else(|_| {
                    part.iter()
                        .map(|f| {
                            let shown = display(root, f);
                            (
                                shown.clone(),
                                Err(Warning {
                                    file: shown,
                                    line: None,
                                    message: "failed to parse: the parser stopped unexpectedly"
                                        .into(),
                                }),
                            )
                        })
                        .collect()
                })
            })
            .collect()
    })
}
