//! Executables: Go's build information (the `.go.buildinfo` section:
//! Go version, main module, every dependency module with its version)
//! and Rust's `cargo auditable` section (`.dep-v0`: zlib-compressed JSON
//! of every crate compiled in). Read from ELF files with the `object`
//! crate; only what they say is kept, not the bytes.

use std::io::Read;

use gantry_sbom::{Component, Ecosystem, Scope};
use object::{Object, ObjectSection};
use serde::Deserialize;

use super::{Sink, at};
use crate::view::Content;

/// Go's build information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoBuildInfo {
    /// `go1.21.5`.
    pub go_version: String,
    /// The main package's path.
    pub path: Option<String>,
    /// The main module and its version (`(devel)` for a local build).
    pub main: Option<(String, String)>,
    /// Dependency modules, replacements applied.
    pub deps: Vec<(String, String)>,
}

/// A crate `cargo auditable` recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RustDep {
    pub name: String,
    pub version: String,
    pub source: String,
    pub build: bool,
    pub root: bool,
    pub dependencies: Vec<usize>,
}

/// What an executable says about how it was built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BinaryInfo {
    pub go: Option<GoBuildInfo>,
    pub rust: Vec<RustDep>,
    pub problems: Vec<String>,
}

const GO_MAGIC: &[u8] = b"\xff Go buildinf:";
/// Most bytes the `.dep-v0` JSON may inflate to.
const MAX_AUDITABLE_JSON: u64 = 16 << 20;

/// Reads build information from an ELF file; `None` when it has none.
pub fn inspect(bytes: &[u8]) -> Option<BinaryInfo> {
    let file = object::File::parse(bytes).ok()?;
    let mut info = BinaryInfo::default();
    let go = file
        .section_by_name(".go.buildinfo")
        .and_then(|s| s.data().ok())
        .or_else(|| memchr::memmem::find(bytes, GO_MAGIC).map(|i| &bytes[i..]));
    if let Some(data) = go {
        match parse_go(data) {
            Ok(g) => info.go = Some(g),
            Err(e) => info.problems.push(format!("Go build info: {e}")),
        }
    }
    if let Some(data) = file.section_by_name(".dep-v0").and_then(|s| s.data().ok()) {
        match parse_auditable(data) {
            Ok(deps) => info.rust = deps,
            Err(e) => info.problems.push(format!("cargo auditable data: {e}")),
        }
    }
    (info.go.is_some() || !info.rust.is_empty() || !info.problems.is_empty()).then_some(info)
}

fn uvarint(data: &[u8], at: &mut usize) -> Option<u64> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *data.get(*at)?;
        *at += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn go_string<'a>(data: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let len = usize::try_from(uvarint(data, at)?).ok()?;
    let s = data.get(*at..at.checked_add(len)?)?;
    *at += len;
    Some(s)
}

/// Parses the `.go.buildinfo` section (Go 1.18 and later: the version
/// and module strings inline after the 32-byte header).
pub(crate) fn parse_go(data: &[u8]) -> Result<GoBuildInfo, String> {
    if !data.starts_with(GO_MAGIC) || data.len() < 32 {
        return Err("no build info header".into());
    }
    let flags = data[15];
    if flags & 0x2 == 0 {
        return Err("built before Go 1.18 (pointer-format build info is not read)".into());
    }
    let mut at = 32;
    let version = go_string(data, &mut at).ok_or("version string cut short")?;
    let modinfo = go_string(data, &mut at).ok_or("module info cut short")?;
    // The module text sits between two 16-byte sentinels.
    let modinfo = if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        modinfo
    };
    let text = String::from_utf8_lossy(modinfo);
    let mut info = GoBuildInfo {
        go_version: String::from_utf8_lossy(version).into_owned(),
        path: None,
        main: None,
        deps: Vec::new(),
    };
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["path", p, ..] => info.path = Some((*p).to_string()),
            ["mod", p, v, ..] => info.main = Some(((*p).to_string(), (*v).to_string())),
            ["dep", p, v, ..] => info.deps.push(((*p).to_string(), (*v).to_string())),
            ["=>", p, v, ..] if !v.is_empty() => {
                if let Some(last) = info.deps.last_mut() {
                    *last = ((*p).to_string(), (*v).to_string());
                }
            }
            _ => {}
        }
    }
    Ok(info)
}

#[derive(Deserialize)]
struct Auditable {
    packages: Vec<AuditablePackage>,
}

#[derive(Deserialize)]
struct AuditablePackage {
    name: String,
    version: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    dependencies: Vec<usize>,
    #[serde(default)]
    root: bool,
}

/// Inflates and parses a `.dep-v0` section.
pub(crate) fn parse_auditable(data: &[u8]) -> Result<Vec<RustDep>, String> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(data)
        .take(MAX_AUDITABLE_JSON + 1)
        .read_to_end(&mut json)
        .map_err(|e| format!("does not inflate: {e}"))?;
    if json.len() as u64 > MAX_AUDITABLE_JSON {
        return Err(format!("inflates to more than {MAX_AUDITABLE_JSON} bytes"));
    }
    let parsed: Auditable =
        serde_json::from_slice(&json).map_err(|e| format!("invalid JSON: {e}"))?;
    Ok(parsed
        .packages
        .into_iter()
        .map(|p| RustDep {
            name: p.name,
            version: p.version,
            source: p.source,
            build: p.kind.as_deref() == Some("build"),
            root: p.root,
            dependencies: p.dependencies,
        })
        .collect())
}

pub(crate) fn catalogue(sink: &mut Sink<'_>) {
    let view = sink.view;
    for (path, node) in view.iter() {
        let Content::Binary(info) = &node.content else {
            continue;
        };
        for p in &info.problems {
            sink.warn(path, None, p.clone());
        }
        if let Some(go) = &info.go {
            let mut n = 0;
            let gv = go.go_version.trim_start_matches("go");
            if !gv.is_empty() {
                let c = Component::new(Ecosystem::Go, "stdlib", Some(gv), at(path, 1))
                    .with_property("go-version", go.go_version.clone());
                sink.push(c, path, node);
                n += 1;
            }
            if let Some((m, v)) = &go.main
                && v != "(devel)"
                && !v.is_empty()
            {
                let c = Component::new(Ecosystem::Go, m, Some(v), at(path, 1))
                    .with_direct(true)
                    .with_property("go-main-module", "true");
                sink.push(c, path, node);
                n += 1;
            }
            for (m, v) in &go.deps {
                sink.push(
                    Component::new(Ecosystem::Go, m, Some(v), at(path, 1)),
                    path,
                    node,
                );
                n += 1;
            }
            sink.file(path, "Go build info", Ecosystem::Go, n);
        }
        if !info.rust.is_empty() {
            let purls: Vec<String> = info
                .rust
                .iter()
                .map(|d| {
                    Component::new(Ecosystem::Cargo, &d.name, Some(&d.version), at(path, 1)).purl
                })
                .collect();
            let mut n = 0;
            for (i, d) in info.rust.iter().enumerate() {
                if d.root {
                    continue;
                }
                let mut c =
                    Component::new(Ecosystem::Cargo, &d.name, Some(&d.version), at(path, 1))
                        .with_scope(if d.build { Scope::Dev } else { Scope::Runtime });
                c.direct = info
                    .rust
                    .iter()
                    .any(|r| r.root && r.dependencies.contains(&i));
                c.dependencies = d
                    .dependencies
                    .iter()
                    .filter_map(|j| purls.get(*j).cloned())
                    .collect();
                if d.source != "crates.io" {
                    c.properties.push(("source".into(), d.source.clone()));
                }
                sink.push(c, path, node);
                n += 1;
            }
            sink.file(path, "cargo auditable", Ecosystem::Cargo, n);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn old_and_cut_build_info_are_problems_not_panics() {
        let mut data = GO_MAGIC.to_vec();
        data.extend_from_slice(&[8, 0]);
        data.resize(32, 0);
        assert!(parse_go(&data).unwrap_err().contains("before Go 1.18"));
        data[15] = 2;
        data.extend_from_slice(&[0xff, 0xff, 0xff]);
        assert!(parse_go(&data).is_err());
        assert!(parse_auditable(b"not zlib").is_err());
    }
}
