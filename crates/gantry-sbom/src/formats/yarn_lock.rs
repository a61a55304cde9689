//! `yarn.lock`: the classic v1 format and Yarn Berry's (v2+) YAML format,
//! told apart by Berry's `__metadata` entry. Direct dependencies and dev
//! scope come from the `package.json` beside the lockfile (classic) or
//! from the workspace entries (Berry).

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::{Input, LockfileFormat, Parsed, file_name, read_yaml, str_field};
use crate::model::{Component, Ecosystem, Hash, HashAlgorithm, Scope};
use crate::purl::Purl;
use crate::text::Lines;

pub(crate) struct YarnLock;

impl LockfileFormat for YarnLock {
    fn name(&self) -> &'static str {
        "yarn.lock"
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Npm
    }

    fn matches(&self, path: &Path) -> bool {
        file_name(path) == "yarn.lock"
    }

    fn parse(&self, input: &Input<'_>, out: &mut Parsed) {
        let berry = input
            .text
            .lines()
            .any(|l| l.starts_with("__metadata:") || l.starts_with("\"__metadata\":"));
        if berry {
            parse_berry(input, out);
        } else {
            parse_classic(input, out);
        }
    }
}

/// The package name of a descriptor `name@range` (`@scope/name@range`).
pub(crate) fn descriptor_name(spec: &str) -> Option<&str> {
    let at = spec.get(1..)?.find('@')? + 1;
    Some(&spec[..at])
}

/// The direct dependencies a `package.json` declares: (name, range, scope).
pub(crate) fn manifest_deps(input: &Input<'_>, out: &mut Parsed) -> Vec<(String, String, Scope)> {
    let Some(manifest) = input
        .sibling_or_warn("package.json", out)
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (kind, scope) in [
        ("dependencies", Scope::Runtime),
        ("peerDependencies", Scope::Runtime),
        ("optionalDependencies", Scope::Optional),
        ("devDependencies", Scope::Dev),
    ] {
        for (name, range) in manifest
            .get(kind)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            out.push((
                name.clone(),
                range.as_str().unwrap_or("").to_string(),
                scope,
            ));
        }
    }
    out
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

struct ClassicEntry {
    line: usize,
    specs: Vec<String>,
    fields: HashMap<String, String>,
    deps: Vec<(String, String)>,
}

/// Yarn 1's own indentation format.
fn parse_classic(input: &Input<'_>, out: &mut Parsed) {
    let mut entries: Vec<ClassicEntry> = Vec::new();
    let mut in_deps = false;
    for (i, raw) in input.text.lines().enumerate() {
        let line_no = i + 1;
        if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        let line = raw.trim();
        if indent == 0 {
            let Some(header) = line.strip_suffix(':') else {
                out.warn(input, Some(line_no), format!("cannot read entry `{line}`"));
                continue;
            };
            entries.push(ClassicEntry {
                line: line_no,
                specs: header.split(", ").map(|s| unquote(s).to_string()).collect(),
                fields: HashMap::new(),
                deps: Vec::new(),
            });
            in_deps = false;
            continue;
        }
        let Some(entry) = entries.last_mut() else {
            out.warn(input, Some(line_no), "indented line outside an entry");
            continue;
        };
        if indent <= 2 {
            if let Some(section) = line.strip_suffix(':') {
                in_deps = matches!(section, "dependencies" | "optionalDependencies");
                continue;
            }
            in_deps = false;
            if let Some((k, v)) = line.split_once(' ') {
                entry
                    .fields
                    .insert(unquote(k).to_string(), unquote(v).to_string());
            }
        } else if in_deps && let Some((k, v)) = line.split_once(' ') {
            entry
                .deps
                .push((unquote(k).to_string(), unquote(v).to_string()));
        }
    }
    let mut by_spec: HashMap<&str, String> = HashMap::new();
    let mut components = Vec::new();
    for e in &entries {
        let Some(name) = e.specs.first().and_then(|s| descriptor_name(s)) else {
            out.warn(
                input,
                Some(e.line),
                "cannot tell the package name of this entry",
            );
            continue;
        };
        let Some(version) = e.fields.get("version") else {
            out.warn(input, Some(e.line), format!("{name} has no version"));
            continue;
        };
        let mut c = Component::new(Ecosystem::Npm, name, Some(version), input.at(e.line));
        if let Some(integrity) = e.fields.get("integrity") {
            if let Some(h) = Hash::from_sri(integrity) {
                c.add_hash(h);
            } else {
                out.warn(
                    input,
                    Some(e.line),
                    format!("{name} has an unreadable integrity"),
                );
            }
        } else if let Some(sha1) = e
            .fields
            .get("resolved")
            .and_then(|r| r.rsplit_once('#'))
            .and_then(|(_, h)| Hash::from_hex(HashAlgorithm::Sha1, h))
        {
            c.add_hash(sha1);
        }
        for spec in &e.specs {
            by_spec.insert(spec.as_str(), c.purl.clone());
        }
        components.push((c, &e.deps));
    }
    for (c, deps) in &mut components {
        for (name, range) in deps.iter() {
            if let Some(purl) = by_spec.get(format!("{name}@{range}").as_str()) {
                c.dependencies.push(purl.clone());
            }
        }
    }
    let roots: Vec<(String, Scope)> = manifest_deps(input, out)
        .into_iter()
        .filter_map(|(n, r, s)| {
            by_spec
                .get(format!("{n}@{r}").as_str())
                .map(|p| (p.clone(), s))
        })
        .collect();
    out.components
        .extend(components.into_iter().map(|(c, _)| c));
    out.propagate_from_roots(&roots);
}

/// Yarn Berry: YAML keyed by comma-separated descriptors
/// (`name@npm:^1.0.0`), with `resolution: name@npm:1.2.3`.
fn parse_berry(input: &Input<'_>, out: &mut Parsed) {
    let Some(doc) = read_yaml(input, out) else {
        return;
    };
    let Some(map) = doc.as_object() else {
        out.warn(input, Some(1), "expected a mapping of entries");
        return;
    };
    let mut lines = Lines::new(input.text);
    let mut by_spec: HashMap<String, String> = HashMap::new();
    let mut workspaces: Vec<&Value> = Vec::new();
    let mut pending: Vec<(Component, &Value)> = Vec::new();
    for (key, entry) in map {
        if key == "__metadata" {
            continue;
        }
        let first = key.split(", ").next().unwrap_or(key);
        let line = lines.find_any(&[&format!("\"{first}"), first]);
        let Some(resolution) = str_field(entry, "resolution") else {
            out.warn(input, Some(line), format!("`{key}` has no resolution"));
            continue;
        };
        let Some(name) = descriptor_name(resolution) else {
            out.warn(
                input,
                Some(line),
                format!("cannot read resolution `{resolution}`"),
            );
            continue;
        };
        let reference = &resolution[name.len() + 1..];
        let specs: Vec<&str> = key.split(", ").map(str::trim).collect();
        if reference.starts_with("workspace:") {
            workspaces.push(entry);
            continue;
        }
        let version = str_field(entry, "version")
            .map(str::to_string)
            .or_else(|| entry.get("version").map(|v| v.to_string()));
        let c = match (
            reference.strip_prefix("npm:"),
            reference.starts_with("patch:"),
        ) {
            (Some(v), _) => Component::new(Ecosystem::Npm, name, Some(v), input.at(line)),
            (None, true) => {
                // `name@patch:name@npm%3A1.2.3#...`: the patched package.
                match patched_version(reference) {
                    Some(v) => Component::new(Ecosystem::Npm, name, Some(&v), input.at(line))
                        .with_property("patched", "true"),
                    None => Component::unpinned(Ecosystem::Npm, name, reference, input.at(line)),
                }
            }
            (None, false) => {
                let mut c = Component::unpinned(Ecosystem::Npm, name, reference, input.at(line));
                if let Some(v) = version {
                    c = c.with_property("version", v);
                }
                c
            }
        };
        let mut c = c;
        if let Some(sum) = str_field(entry, "checksum") {
            // Berry 8 prefixes the cache key: `10c0/<hex>`.
            let hex = sum.rsplit('/').next().unwrap_or(sum);
            if let Some(h) = Hash::from_hex(HashAlgorithm::Sha512, hex) {
                c.add_hash(h);
            }
        }
        for spec in specs {
            by_spec.insert(spec.to_string(), c.purl.clone());
            if let Some(n) = descriptor_name(spec)
                && let Some(range) = spec[n.len() + 1..].strip_prefix("npm:")
            {
                by_spec.insert(format!("{n}@{range}"), c.purl.clone());
            }
        }
        pending.push((c, entry));
    }
    let deps_of = |entry: &Value, by_spec: &HashMap<String, String>| -> Vec<String> {
        let mut deps = Vec::new();
        for kind in ["dependencies", "optionalDependencies", "peerDependencies"] {
            for (n, r) in entry
                .get(kind)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let range = r.as_str().map_or_else(|| r.to_string(), str::to_string);
                let found = by_spec
                    .get(&format!("{n}@{range}"))
                    .or_else(|| by_spec.get(&format!("{n}@npm:{range}")));
                if let Some(p) = found {
                    deps.push(p.clone());
                }
            }
        }
        deps
    };
    let mut roots = Vec::new();
    let manifest = manifest_deps(input, out);
    for ws in &workspaces {
        for purl in deps_of(ws, &by_spec) {
            roots.push((purl, Scope::Runtime));
        }
    }
    // The workspace entries do not say which dependencies are dev ones:
    // package.json does.
    for (n, r, scope) in manifest {
        if scope == Scope::Runtime {
            continue;
        }
        let found = by_spec
            .get(&format!("{n}@{r}"))
            .or_else(|| by_spec.get(&format!("{n}@npm:{r}")));
        if let Some(p) = found {
            roots.retain(|(q, _)| q != p);
            roots.push((p.clone(), scope));
        }
    }
    for (mut c, entry) in pending {
        c.dependencies = deps_of(entry, &by_spec);
        out.components.push(c);
    }
    out.propagate_from_roots(&roots);
}

/// The version inside a Berry patch reference (`name@npm%3A1.2.3#...`).
fn patched_version(reference: &str) -> Option<String> {
    let inner = reference.split_once("npm%3A")?.1;
    let end = inner.find(['#', '&', '?']).unwrap_or(inner.len());
    Some(inner[..end].to_string())
}

/// The purl of an npm name and version (used by pnpm too).
pub(crate) fn npm_purl(name: &str, version: &str) -> String {
    Purl::for_package(Ecosystem::Npm, name, Some(version)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_split_at_the_version_at() {
        assert_eq!(descriptor_name("lodash@^4.0.0"), Some("lodash"));
        assert_eq!(
            descriptor_name("@babel/core@npm:7.0.0"),
            Some("@babel/core")
        );
        assert_eq!(descriptor_name("nope"), None);
        assert_eq!(
            patched_version("patch:resolve@npm%3A1.22.1#~builtin<compat/resolve>").as_deref(),
            Some("1.22.1")
        );
    }
}
