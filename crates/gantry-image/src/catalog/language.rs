//! Language packages installed in the image: lockfiles (read by
//! gantry-sbom's formats, as `gantry sbom` reads a checkout), Python
//! `*.dist-info/METADATA` and `*.egg-info/PKG-INFO`, npm
//! `node_modules/[@scope/]NAME/package.json`.

use std::path::Path;

use gantry_sbom::{Component, Ecosystem};

use super::text::paragraphs;
use super::{Sink, at, kept_files, utf8};

fn segments(path: &str) -> Vec<&str> {
    path.split('/').collect()
}

fn in_vendored(path: &str) -> bool {
    path.split('/')
        .any(|s| matches!(s, "node_modules" | "site-packages" | "dist-packages"))
}

/// `.../site-packages/X.dist-info/METADATA`, `.../X.egg-info/PKG-INFO`
/// or a `.../site-packages/X.egg-info` file.
fn is_python_metadata(path: &str) -> bool {
    let s = segments(path);
    let n = s.len();
    if n >= 3 && matches!(s[n - 3], "site-packages" | "dist-packages") {
        return (s[n - 2].ends_with(".dist-info") && s[n - 1] == "METADATA")
            || (s[n - 2].ends_with(".egg-info") && s[n - 1] == "PKG-INFO");
    }
    n >= 2
        && matches!(s[n - 2], "site-packages" | "dist-packages")
        && s[n - 1].ends_with(".egg-info")
}

/// `.../node_modules/NAME/package.json` or `.../node_modules/@scope/NAME/package.json`.
fn is_npm_package(path: &str) -> bool {
    let s = segments(path);
    let n = s.len();
    if n < 3 || s[n - 1] != "package.json" {
        return false;
    }
    s[n - 3] == "node_modules" && !s[n - 2].starts_with('@')
        || (n >= 4 && s[n - 4] == "node_modules" && s[n - 3].starts_with('@'))
}

fn is_lockfile(path: &str) -> bool {
    !in_vendored(path) && gantry_sbom::formats::format_for(Path::new(path)).is_some()
}

pub(crate) fn wants(path: &str) -> bool {
    is_python_metadata(path) || is_npm_package(path) || is_lockfile(path)
}

pub(crate) fn catalogue(sink: &mut Sink<'_>) {
    python(sink);
    npm(sink);
    lockfiles(sink);
}

fn python(sink: &mut Sink<'_>) {
    let view = sink.view;
    let files: Vec<_> = kept_files(view, is_python_metadata).collect();
    for (path, node, bytes) in files {
        let Some(text) = utf8(sink, path, bytes) else {
            continue;
        };
        let headers = paragraphs(text, true);
        let Some(h) = headers.first() else {
            sink.warn(
                path,
                None,
                "Python package metadata without headers; skipped",
            );
            continue;
        };
        let (Some(name), Some(version)) = (h.get("Name"), h.get("Version")) else {
            sink.warn(
                path,
                Some(h.line),
                "Python package metadata without Name or Version; skipped",
            );
            continue;
        };
        let mut c = Component::new(Ecosystem::PyPI, name, Some(version), at(path, h.line));
        if let Some(l) = h
            .get("License")
            .filter(|l| !l.is_empty() && *l != "UNKNOWN")
        {
            c.properties
                .push(("license".into(), l.lines().next().unwrap_or(l).to_string()));
        }
        sink.push(c, path, node);
        sink.file(path, "Python package metadata", Ecosystem::PyPI, 1);
    }
}

fn npm(sink: &mut Sink<'_>) {
    let view = sink.view;
    let files: Vec<_> = kept_files(view, is_npm_package).collect();
    for (path, node, bytes) in files {
        let json: serde_json::Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(e) => {
                sink.warn(path, Some(e.line()), format!("not read: invalid JSON: {e}"));
                continue;
            }
        };
        let name = json.get("name").and_then(serde_json::Value::as_str);
        let version = json.get("version").and_then(serde_json::Value::as_str);
        let (Some(name), Some(version)) = (name, version) else {
            sink.warn(path, None, "package.json without name or version; skipped");
            continue;
        };
        let mut c = Component::new(Ecosystem::Npm, name, Some(version), at(path, 1));
        if let Some(l) = json.get("license").and_then(serde_json::Value::as_str) {
            c.properties.push(("license".into(), l.to_string()));
        }
        sink.push(c, path, node);
        sink.file(path, "package.json", Ecosystem::Npm, 1);
    }
}

fn lockfiles(sink: &mut Sink<'_>) {
    let view = sink.view;
    let files: Vec<_> = kept_files(view, is_lockfile).collect();
    if files.is_empty() {
        return;
    }
    // Formats read neighbours (package.json, go.sum) from disk: give them
    // an empty private folder, so nothing outside the image is ever read.
    let empty = match tempfile::Builder::new().prefix("gantry-image-").tempdir() {
        Ok(d) => d,
        Err(e) => {
            sink.warn(
                files[0].0,
                None,
                format!("lockfiles not read: no scratch folder: {e}"),
            );
            return;
        }
    };
    for (path, node, bytes) in files {
        let Some(text) = utf8(sink, path, bytes) else {
            continue;
        };
        let on_disk = empty.path().join(path);
        let Some(parsed) = gantry_sbom::parse_text_in(empty.path(), &on_disk, path, text) else {
            continue;
        };
        let Some(format) = gantry_sbom::formats::format_for(Path::new(path)) else {
            continue;
        };
        sink.file(
            path,
            format.name(),
            format.ecosystem(),
            parsed.components.len(),
        );
        for c in parsed.components {
            sink.push(c, path, node);
        }
        for w in parsed.warnings {
            sink.inventory.warnings.push(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_package_metadata_paths() {
        assert!(is_python_metadata(
            "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA"
        ));
        assert!(is_python_metadata(
            "usr/local/lib/python3.12/site-packages/requests-2.31.0.dist-info/METADATA"
        ));
        assert!(is_python_metadata(
            "usr/lib/python3/dist-packages/chardet-5.1.0.egg-info"
        ));
        assert!(!is_python_metadata("srv/app/METADATA"));
        assert!(is_npm_package("app/node_modules/lodash/package.json"));
        assert!(is_npm_package("app/node_modules/@babel/core/package.json"));
        assert!(is_npm_package(
            "app/node_modules/a/node_modules/b/package.json"
        ));
        assert!(!is_npm_package("app/node_modules/lodash/fp/package.json"));
        assert!(!is_npm_package("app/package.json"));
        assert!(is_lockfile("srv/app/Cargo.lock"));
        assert!(!is_lockfile("app/node_modules/x/package-lock.json"));
    }
}
