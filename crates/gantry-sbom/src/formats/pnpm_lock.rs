//! `pnpm-lock.yaml`, lockfile versions 5.x (`/name/1.0.0_peer` keys), 6
//! (`/name@1.0.0(peer@1)`) and 9 (`name@1.0.0` in `packages`, edges in
//! `snapshots`). Direct dependencies come from `importers` (or the
//! top-level sections of a single-project v5 lockfile).

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};

use super::yarn_lock::npm_purl;
use super::{Input, LockfileFormat, Parsed, bool_field, file_name, read_yaml};
use crate::model::{Component, Ecosystem, Hash, Scope};
use crate::text::Lines;

pub(crate) struct PnpmLock;

const SECTIONS: [(&str, Scope); 3] = [
    ("dependencies", Scope::Runtime),
    ("optionalDependencies", Scope::Optional),
    ("devDependencies", Scope::Dev),
];

impl LockfileFormat for PnpmLock {
    fn name(&self) -> &'static str {
        "pnpm-lock.yaml"
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Npm
    }

    fn matches(&self, path: &Path) -> bool {
        file_name(path) == "pnpm-lock.yaml"
    }

    fn parse(&self, input: &Input<'_>, out: &mut Parsed) {
        let Some(doc) = read_yaml(input, out) else {
            return;
        };
        let version = match doc.get("lockfileVersion") {
            Some(Value::String(s)) => s.parse::<f64>().unwrap_or(0.0),
            Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
            _ => 0.0,
        };
        if version < 5.0 {
            out.warn(
                input,
                Some(1),
                "unsupported or missing lockfileVersion (5, 6 and 9 are read)",
            );
            if version == 0.0 {
                return;
            }
        } else if !(5.0..7.0).contains(&version) && !(9.0..10.0).contains(&version) {
            out.warn(
                input,
                Some(super::line_of_key(input.text, "lockfileVersion")),
                format!(
                    "unknown lockfileVersion {version} (5, 6 and 9 are read); read as version 9, entries may be missed"
                ),
            );
        }
        let v5 = version < 6.0;
        let mut lines = Lines::new(input.text);
        let mut components: Vec<Component> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let empty = Map::new();
        let packages = doc
            .get("packages")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (key, entry) in packages {
            let line = lines.find_any(&[
                &format!("'{key}':"),
                &format!("\"{key}\":"),
                &format!("{key}:"),
            ]);
            let at = input.at(line);
            let parsed = parse_key(key, v5);
            let mut c = match parsed {
                Some((name, version)) if is_version(&version) => {
                    Component::new(Ecosystem::Npm, &name, Some(&version), at)
                }
                other => {
                    let name = entry
                        .get("name")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .or(other.map(|(n, _)| n));
                    let Some(name) = name else {
                        out.warn(
                            input,
                            Some(line),
                            format!("cannot read package key `{key}`"),
                        );
                        continue;
                    };
                    let mut c = Component::unpinned(Ecosystem::Npm, &name, key, at);
                    if let Some(v) = entry.get("version").and_then(Value::as_str) {
                        c = c.with_property("version", v);
                    }
                    c
                }
            };
            c.scope = if bool_field(entry, "dev") {
                Scope::Dev
            } else if bool_field(entry, "optional") {
                Scope::Optional
            } else {
                Scope::Runtime
            };
            if let Some(integrity) = entry
                .get("resolution")
                .and_then(|r| r.get("integrity"))
                .and_then(Value::as_str)
            {
                match Hash::from_sri(integrity) {
                    Some(h) => c.add_hash(h),
                    None => out.warn(
                        input,
                        Some(line),
                        format!("`{key}` has an unreadable integrity"),
                    ),
                }
            }
            c.dependencies = edges(entry, v5);
            index.insert(
                strip_peers(key.trim_start_matches('/'), v5).to_string(),
                components.len(),
            );
            components.push(c);
        }
        // Version 9 keeps the edges per peer-resolved snapshot.
        for (key, entry) in doc
            .get("snapshots")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let base = strip_peers(key, false);
            match index.get(base) {
                Some(&i) => {
                    let deps = edges(entry, false);
                    let c = &mut components[i];
                    for d in deps {
                        if !c.dependencies.contains(&d) {
                            c.dependencies.push(d);
                        }
                    }
                    if bool_field(entry, "optional") {
                        c.scope = Scope::Optional;
                    }
                }
                None => {
                    let line = lines.find_any(&[&format!("'{key}':"), &format!("{key}:")]);
                    out.warn(
                        input,
                        Some(line),
                        format!("snapshot `{key}` has no package entry"),
                    );
                }
            }
        }
        // Importers: the projects of the workspace.
        let mut roots = Vec::new();
        let importers: Vec<&Value> = match doc.get("importers").and_then(Value::as_object) {
            Some(map) => map.values().collect(),
            None => vec![&doc],
        };
        for importer in importers {
            for (section, scope) in SECTIONS {
                for (name, reference) in importer
                    .get(section)
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    let reference = match reference {
                        Value::String(s) => s.as_str(),
                        Value::Object(o) => o.get("version").and_then(Value::as_str).unwrap_or(""),
                        _ => "",
                    };
                    if let Some(purl) = resolve_reference(name, reference, v5) {
                        roots.push((purl, scope));
                    }
                }
            }
        }
        out.components.extend(components);
        out.propagate_from_roots(&roots);
    }
}

fn is_version(v: &str) -> bool {
    v.chars().next().is_some_and(|c| c.is_ascii_digit()) && !v.contains(':') && !v.contains('/')
}

/// Drops the peer-dependency suffix: `(peer@1)` (v6+) or `_peer@1` (v5).
fn strip_peers(key: &str, v5: bool) -> &str {
    if v5 {
        // The suffix follows the version, after the last `/`.
        let slash = key.rfind('/').map_or(0, |i| i + 1);
        match key[slash..].find('_') {
            Some(i) => &key[..slash + i],
            None => key,
        }
    } else {
        match key.find('(') {
            Some(i) => &key[..i],
            None => key,
        }
    }
}

/// (name, version) of a `packages` key.
fn parse_key(key: &str, v5: bool) -> Option<(String, String)> {
    let registry = key.starts_with('/');
    let key = strip_peers(key.trim_start_matches('/'), v5);
    if v5 {
        if !registry {
            return None;
        }
        let (name, version) = key.rsplit_once('/')?;
        return Some((name.to_string(), version.to_string()));
    }
    let at = key.get(1..)?.find('@')? + 1;
    Some((key[..at].to_string(), key[at + 1..].to_string()))
}

/// The purl a dependency reference points at, for registry packages.
fn resolve_reference(name: &str, reference: &str, v5: bool) -> Option<String> {
    if reference.starts_with("link:") || reference.starts_with("file:") {
        return None;
    }
    if reference.starts_with('/') || (!v5 && !is_version(strip_peers(reference, false))) {
        // An alias to another package: `/real/1.0.0`, `real@1.0.0`.
        let (n, v) = parse_key(reference, v5)
            .or_else(|| parse_key(&format!("/{}", reference.trim_start_matches('/')), v5))?;
        return is_version(&v).then(|| npm_purl(&n, &v));
    }
    let version = strip_peers(reference, v5);
    let version = if v5 {
        version.split('_').next().unwrap_or(version)
    } else {
        version
    };
    is_version(version).then(|| npm_purl(name, version))
}

fn edges(entry: &Value, v5: bool) -> Vec<String> {
    let mut deps = Vec::new();
    for kind in ["dependencies", "optionalDependencies"] {
        for (n, r) in entry
            .get(kind)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(purl) = r.as_str().and_then(|r| resolve_reference(n, r, v5)) {
                deps.push(purl);
            }
        }
    }
    deps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_each_version() {
        assert_eq!(
            parse_key("/@babel/core/7.0.0_eslint@8.0.0", true),
            Some(("@babel/core".into(), "7.0.0".into()))
        );
        assert_eq!(
            parse_key("/react-dom@18.2.0(react@18.2.0)", false),
            Some(("react-dom".into(), "18.2.0".into()))
        );
        assert_eq!(
            parse_key("@types/node@20.1.0", false),
            Some(("@types/node".into(), "20.1.0".into()))
        );
        assert_eq!(
            resolve_reference("x", "1.0.0(react@18.2.0)", false).as_deref(),
            Some("pkg:npm/x@1.0.0")
        );
        assert_eq!(
            resolve_reference("x", "string-width@4.2.3", false).as_deref(),
            Some("pkg:npm/string-width@4.2.3")
        );
        assert_eq!(resolve_reference("x", "link:../y", false), None);
        assert_eq!(
            resolve_reference("x", "1.0.0_react@18.2.0", true).as_deref(),
            Some("pkg:npm/x@1.0.0")
        );
    }
}
