//! dpkg: `var/lib/dpkg/status` (packages whose status is `installed`)
//! and distroless images' `var/lib/dpkg/status.d/*` (one file per
//! package, no `Status` field).

use gantry_sbom::{Component, Ecosystem};

use super::text::{Paragraph, paragraphs};
use super::{Sink, at, kept_files, utf8};

const FORMAT: &str = "dpkg status";

/// `Source: name` or `Source: name (version)`.
fn source(p: &Paragraph) -> (Option<String>, Option<String>) {
    let Some(s) = p.get("Source") else {
        return (None, None);
    };
    match s.split_once('(') {
        Some((name, rest)) => (
            Some(name.trim().to_string()),
            Some(rest.trim_end_matches(')').trim().to_string()).filter(|v| !v.is_empty()),
        ),
        None => (Some(s.trim().to_string()), None),
    }
}

pub(crate) fn catalogue(sink: &mut Sink<'_>) {
    let view = sink.view;
    let files: Vec<_> = kept_files(view, |p| {
        p == "var/lib/dpkg/status"
            || (p.starts_with("var/lib/dpkg/status.d/") && !p.ends_with(".md5sums"))
    })
    .collect();
    for (path, node, bytes) in files {
        let Some(text) = utf8(sink, path, bytes) else {
            continue;
        };
        let mut n = 0;
        for p in paragraphs(text, false) {
            let Some(name) = p.get("Package") else {
                sink.warn(
                    path,
                    Some(p.line),
                    "dpkg entry without a Package field; skipped",
                );
                continue;
            };
            if let Some(status) = p.get("Status")
                && status.split_whitespace().nth(2) != Some("installed")
            {
                continue;
            }
            let Some(version) = p.get("Version").filter(|v| !v.is_empty()) else {
                sink.warn(
                    path,
                    Some(p.line),
                    format!("dpkg package {name} has no Version; skipped"),
                );
                continue;
            };
            let arch = p.get("Architecture");
            let (src, src_version) = source(&p);
            let src_version = src_version.filter(|v| v != version);
            let mut c = Component::new(Ecosystem::Deb, name, Some(version), at(path, p.line));
            c.purl = sink.os_purl(Ecosystem::Deb, name, version, arch, &[], "debian");
            c.os = sink.os_package(arch, src.clone(), src_version);
            if c.os.is_none() {
                sink.warn(
                    path,
                    Some(p.line),
                    format!("no os-release in the image: {name} cannot be matched to a distribution's advisories"),
                );
            }
            if let Some(src) = src {
                c.properties.push(("source".into(), src));
            }
            sink.push(c, path, node);
            n += 1;
        }
        sink.file(path, FORMAT, Ecosystem::Deb, n);
    }
}
