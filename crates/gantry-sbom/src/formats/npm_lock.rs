//! `package-lock.json` (lockfile versions 1, 2 and 3) and
//! `npm-shrinkwrap.json`, which has the same format.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};

use super::{Input, LockfileFormat, Parsed, bool_field, file_name, json_key, read_json, str_field};
use crate::model::{Component, Ecosystem, Hash, Scope};
use crate::purl::Purl;
use crate::text::Lines;

pub(crate) struct NpmLock;

const DEP_KINDS: [(&str, Scope); 4] = [
    ("dependencies", Scope::Runtime),
    ("optionalDependencies", Scope::Optional),
    ("peerDependencies", Scope::Runtime),
    ("devDependencies", Scope::Dev),
];

impl LockfileFormat for NpmLock {
    fn name(&self) -> &'static str {
        "package-lock.json"
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Npm
    }

    fn matches(&self, path: &Path) -> bool {
        matches!(file_name(path), "package-lock.json" | "npm-shrinkwrap.json")
    }

    fn parse(&self, input: &Input<'_>, out: &mut Parsed) {
        let Some(doc) = read_json(input, out) else {
            return;
        };
        if let Some(version) = doc.get("lockfileVersion")
            && !matches!(version.as_u64(), Some(1..=3))
        {
            out.warn(
                input,
                Some(super::line_of_key(input.text, "lockfileVersion")),
                format!(
                    "unknown lockfileVersion {version} (1, 2 and 3 are read); read as the nearest known version, entries may be missed"
                ),
            );
        }
        match doc.get("packages").and_then(Value::as_object) {
            Some(packages) => parse_packages(input, packages, out),
            None => match doc.get("dependencies").and_then(Value::as_object) {
                Some(deps) => parse_v1(input, deps, out),
                None => {
                    if !doc.is_object() {
                        out.warn(
                            input,
                            Some(1),
                            "not an npm lockfile: expected a JSON object",
                        );
                    }
                }
            },
        }
    }
}

/// The package name of a `packages` key: what follows the last
/// `node_modules/`.
fn name_from_key(key: &str) -> Option<&str> {
    key.rfind("node_modules/")
        .map(|i| &key[i + "node_modules/".len()..])
}

fn npm_purl(name: &str, version: &str) -> String {
    Purl::for_package(Ecosystem::Npm, name, Some(version)).to_string()
}

/// Whether an npm version is a registry version rather than a URL, a path
/// or a git reference.
fn is_registry_version(v: &str) -> bool {
    v.chars().next().is_some_and(|c| c.is_ascii_digit()) && !v.contains(':') && !v.contains('/')
}

/// Lockfile versions 2 and 3: a flat `packages` map keyed by install path.
fn parse_packages(input: &Input<'_>, packages: &Map<String, Value>, out: &mut Parsed) {
    let mut lines = Lines::new(input.text);
    // install path -> (name, version) for registry packages.
    let mut installed: HashMap<&str, (&str, &str)> = HashMap::new();
    for (key, entry) in packages {
        let Some(key_name) = name_from_key(key) else {
            continue;
        };
        let name = str_field(entry, "name").unwrap_or(key_name);
        if let Some(v) = str_field(entry, "version") {
            installed.insert(key.as_str(), (name, v));
        }
    }
    // Node's resolution: `<dir>/node_modules/<name>`, then each parent.
    let resolve = |from: &str, dep: &str| -> Option<String> {
        let mut dir = from.to_string();
        loop {
            let candidate = if dir.is_empty() {
                format!("node_modules/{dep}")
            } else {
                format!("{dir}/node_modules/{dep}")
            };
            if let Some((n, v)) = installed.get(candidate.as_str()) {
                return is_registry_version(v).then(|| npm_purl(n, v));
            }
            if dir.is_empty() {
                return None;
            }
            dir = match dir.rfind("/node_modules/") {
                Some(i) => dir[..i].to_string(),
                None => String::new(),
            };
        }
    };
    let mut roots = Vec::new();
    for (key, entry) in packages {
        let line = lines.find_line(&format!("{}:", json_key(key)));
        let Some(key_name) = name_from_key(key) else {
            // The root project ("") or a workspace folder: what it depends
            // on is direct.
            for (kind, scope) in DEP_KINDS {
                for dep in entry
                    .get(kind)
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    if let Some(purl) = resolve(key, dep.0) {
                        roots.push((purl, scope));
                    }
                }
            }
            continue;
        };
        if bool_field(entry, "link") {
            // A symlink to a workspace folder listed under its own key.
            continue;
        }
        let name = str_field(entry, "name").unwrap_or(key_name);
        let Some(version) = str_field(entry, "version") else {
            out.warn(input, line, format!("`{key}` has no version"));
            continue;
        };
        let at = input.at(line.unwrap_or(1));
        let mut c = if is_registry_version(version) {
            Component::new(Ecosystem::Npm, name, Some(version), at)
        } else {
            Component::unpinned(Ecosystem::Npm, name, version, at)
        };
        if let Some(resolved) = str_field(entry, "resolved")
            && !resolved.starts_with("https://registry.npmjs.org/")
        {
            c = c.with_property("resolved", resolved);
        }
        c.scope = if bool_field(entry, "dev") {
            Scope::Dev
        } else if bool_field(entry, "optional") {
            Scope::Optional
        } else if bool_field(entry, "devOptional") {
            Scope::Dev
        } else {
            Scope::Runtime
        };
        if let Some(integrity) = str_field(entry, "integrity") {
            match Hash::from_sri(integrity) {
                Some(h) => c.add_hash(h),
                None => out.warn(input, line, format!("`{key}` has an unreadable integrity")),
            }
        }
        for (kind, _) in DEP_KINDS.iter().filter(|(k, _)| *k != "devDependencies") {
            for dep in entry
                .get(*kind)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if let Some(purl) = resolve(key, dep.0) {
                    c.dependencies.push(purl);
                }
            }
        }
        out.components.push(c);
    }
    // npm records dev/optional per package already; roots only mark direct.
    let scopes: Vec<Scope> = out.components.iter().map(|c| c.scope).collect();
    out.propagate_from_roots(&roots);
    for (c, s) in out.components.iter_mut().zip(scopes) {
        c.scope = s;
    }
}

/// Lockfile version 1: nested `dependencies` with `requires`.
fn parse_v1(input: &Input<'_>, top: &Map<String, Value>, out: &mut Parsed) {
    let mut lines = Lines::new(input.text);
    // Walk depth-first; each level's scope chain resolves `requires`.
    struct Frame<'a> {
        deps: &'a Map<String, Value>,
    }
    fn version_of<'a>(chain: &[Frame<'a>], name: &'a str) -> Option<(&'a str, &'a str)> {
        chain.iter().rev().find_map(|f| {
            let e = f.deps.get(name)?;
            let v = str_field(e, "version")?;
            Some((str_field(e, "name").unwrap_or(name), v))
        })
    }
    fn walk<'a>(
        input: &Input<'_>,
        deps: &'a Map<String, Value>,
        chain: &mut Vec<Frame<'a>>,
        lines: &mut Lines<'_>,
        out: &mut Parsed,
        depth: usize,
    ) {
        if depth > 256 {
            out.warn(
                input,
                None,
                "dependencies nested deeper than 256 levels were not read",
            );
            return;
        }
        chain.push(Frame { deps });
        for (name, entry) in deps {
            let line = lines.find_line(&format!("{}:", json_key(name)));
            let Some(version) = str_field(entry, "version") else {
                out.warn(input, line, format!("`{name}` has no version"));
                continue;
            };
            let at = input.at(line.unwrap_or(1));
            let real_name = str_field(entry, "name").unwrap_or(name);
            let (real_name, version) = match version.strip_prefix("npm:") {
                // An alias: `"version": "npm:real-name@1.2.3"`.
                Some(alias) => match alias.rsplit_once('@') {
                    Some((n, v)) if !n.is_empty() => (n, v),
                    _ => (real_name, version),
                },
                None => (real_name, version),
            };
            let mut c = if is_registry_version(version) {
                Component::new(Ecosystem::Npm, real_name, Some(version), at)
            } else {
                Component::unpinned(Ecosystem::Npm, real_name, version, at)
            };
            c.scope = if bool_field(entry, "dev") {
                Scope::Dev
            } else if bool_field(entry, "optional") {
                Scope::Optional
            } else {
                Scope::Runtime
            };
            c.direct = chain.len() == 1 && !bool_field(entry, "bundled");
            if let Some(integrity) = str_field(entry, "integrity") {
                match Hash::from_sri(integrity) {
                    Some(h) => c.add_hash(h),
                    None => out.warn(input, line, format!("`{name}` has an unreadable integrity")),
                }
            }
            let nested = entry.get("dependencies").and_then(Value::as_object);
            if let Some(nested) = nested {
                chain.push(Frame { deps: nested });
            }
            for req in entry
                .get("requires")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if let Some((n, v)) = version_of(chain, req.0)
                    && is_registry_version(v)
                {
                    c.dependencies.push(npm_purl(n, v));
                }
            }
            if nested.is_some() {
                chain.pop();
            }
            out.components.push(c);
            if let Some(nested) = nested {
                walk(input, nested, chain, lines, out, depth + 1);
            }
        }
        chain.pop();
    }
    let mut chain = Vec::new();
    walk(input, top, &mut chain, &mut lines, out, 0);
    // Without a root entry, direct means "top level": refine it with the
    // neighbouring package.json when there is one.
    if let Some(manifest) = input
        .sibling_or_warn("package.json", out)
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
    {
        let mut direct_names: HashMap<&str, ()> = HashMap::new();
        for (kind, _) in DEP_KINDS {
            for dep in manifest
                .get(kind)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                direct_names.insert(dep.0, ());
            }
        }
        for c in &mut out.components {
            if c.direct && !direct_names.contains_key(c.name.as_str()) {
                c.direct = false;
            }
        }
    }
}
