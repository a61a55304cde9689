//! apk: `lib/apk/db/installed`, one block of `K:value` lines per package
//! (`P` name, `V` version, `A` architecture, `o` origin, the source
//! package Alpine's advisories name).

use gantry_sbom::{Component, Ecosystem};

use super::{Sink, at, kept_files, utf8};

const PATH: &str = "lib/apk/db/installed";

#[derive(Default)]
struct Entry {
    line: usize,
    name: Option<String>,
    version: Option<String>,
    arch: Option<String>,
    origin: Option<String>,
    license: Option<String>,
}

pub(crate) fn catalogue(sink: &mut Sink<'_>) {
    let view = sink.view;
    let files: Vec<_> = kept_files(view, |p| p == PATH).collect();
    for (path, node, bytes) in files {
        let Some(text) = utf8(sink, path, bytes) else {
            continue;
        };
        let mut entries = Vec::new();
        let mut current = Entry::default();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                if current.name.is_some() || current.version.is_some() {
                    entries.push(std::mem::take(&mut current));
                }
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            if current.line == 0 || (current.name.is_none() && current.version.is_none()) {
                current.line = i + 1;
            }
            let value = value.trim().to_string();
            match key {
                "P" => current.name = Some(value),
                "V" => current.version = Some(value),
                "A" => current.arch = Some(value),
                "o" => current.origin = Some(value),
                "L" => current.license = Some(value),
                _ => {}
            }
        }
        if current.name.is_some() || current.version.is_some() {
            entries.push(current);
        }
        let mut n = 0;
        for e in entries {
            let (Some(name), Some(version)) = (&e.name, &e.version) else {
                sink.warn(path, Some(e.line), "apk entry without P: or V:; skipped");
                continue;
            };
            let mut c = Component::new(Ecosystem::Apk, name, Some(version), at(path, e.line));
            c.purl = sink.os_purl(
                Ecosystem::Apk,
                name,
                version,
                e.arch.as_deref(),
                &[],
                "alpine",
            );
            c.os = sink.os_package(e.arch.as_deref(), e.origin.clone(), None);
            if let Some(l) = &e.license {
                c.properties.push(("license".into(), l.clone()));
            }
            if let Some(o) = &e.origin {
                c.properties.push(("source".into(), o.clone()));
            }
            sink.push(c, path, node);
            n += 1;
        }
        sink.file(path, "apk installed", Ecosystem::Apk, n);
    }
}
