//! `uv.lock`: packages with their source, sdist and wheel hashes, and
//! dependency edges. The project's own packages (`editable`, `virtual`
//! sources) are the roots: their dependencies are direct, their
//! `dev-dependencies` dev and their `optional-dependencies` optional.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use super::{Input, LockfileFormat, Parsed, file_name, package_header_lines, read_toml};
use crate::model::{Component, Ecosystem, Hash, Scope, pep503};

pub(crate) struct UvLock;

#[derive(Deserialize)]
struct Lock {
    version: Option<toml::Value>,
    #[serde(default)]
    package: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: Option<String>,
    version: Option<String>,
    #[serde(default)]
    source: BTreeMap<String, toml::Value>,
    #[serde(default)]
    dependencies: Vec<Dep>,
    #[serde(default, rename = "optional-dependencies")]
    optional: BTreeMap<String, Vec<Dep>>,
    #[serde(default, rename = "dev-dependencies")]
    dev: BTreeMap<String, Vec<Dep>>,
    sdist: Option<Dist>,
    #[serde(default)]
    wheels: Vec<Dist>,
}

#[derive(Deserialize)]
struct Dep {
    name: String,
    version: Option<String>,
}

#[derive(Deserialize)]
struct Dist {
    hash: Option<String>,
}

impl LockfileFormat for UvLock {
    fn name(&self) -> &'static str {
        "uv.lock"
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::PyPI
    }

    fn matches(&self, path: &Path) -> bool {
        file_name(path) == "uv.lock"
    }

    fn parse(&self, input: &Input<'_>, out: &mut Parsed) {
        let Some(lock) = read_toml::<Lock>(input, out) else {
            return;
        };
        if let Some(version) = &lock.version
            && version.as_integer() != Some(1)
        {
            out.warn(
                input,
                Some(super::line_of_key(input.text, "version")),
                format!(
                    "unknown uv.lock version {version} (1 is read); read as version 1, entries may be missed"
                ),
            );
        }
        let lines = package_header_lines(input.text);
        // name -> [(version, purl)]
        let mut by_name: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for p in &lock.package {
            if let (Some(n), Some(v)) = (&p.name, &p.version) {
                let c = Component::new(Ecosystem::PyPI, n, Some(v), input.at(1));
                by_name
                    .entry(c.name.clone())
                    .or_default()
                    .push((v.clone(), c.purl));
            }
        }
        let resolve = |d: &Dep| -> Option<String> {
            let candidates = by_name.get(&pep503(&d.name))?;
            match &d.version {
                Some(v) => candidates
                    .iter()
                    .find(|(cv, _)| cv == v)
                    .map(|(_, p)| p.clone()),
                None => candidates.first().map(|(_, p)| p.clone()),
            }
        };
        let mut roots = Vec::new();
        for (i, p) in lock.package.iter().enumerate() {
            let line = lines.get(i).copied().unwrap_or(1);
            let Some(name) = &p.name else {
                out.warn(input, Some(line), "package entry without a name");
                continue;
            };
            let local = p.source.contains_key("editable") || p.source.contains_key("virtual");
            if local {
                for d in &p.dependencies {
                    roots.extend(resolve(d).map(|purl| (purl, Scope::Runtime)));
                }
                for d in p.optional.values().flatten() {
                    roots.extend(resolve(d).map(|purl| (purl, Scope::Optional)));
                }
                for d in p.dev.values().flatten() {
                    roots.extend(resolve(d).map(|purl| (purl, Scope::Dev)));
                }
                continue;
            }
            let mut c = match &p.version {
                Some(v) => Component::new(Ecosystem::PyPI, name, Some(v), input.at(line)),
                None => Component::unpinned(
                    Ecosystem::PyPI,
                    name,
                    &source_text(&p.source),
                    input.at(line),
                ),
            };
            if let Some((kind, value)) = p.source.iter().find(|(k, _)| k.as_str() != "registry") {
                c = c.with_property(
                    "source",
                    format!("{kind}: {}", value.as_str().unwrap_or("")),
                );
            }
            for dist in p.sdist.iter().chain(&p.wheels) {
                if let Some(h) = dist.hash.as_deref().and_then(Hash::from_prefixed_hex) {
                    c.add_hash(h);
                }
            }
            for d in &p.dependencies {
                match resolve(d) {
                    Some(purl) => c.dependencies.push(purl),
                    None => out.warn(
                        input,
                        Some(line),
                        format!("dependency `{}` of {name} is not in the lockfile", d.name),
                    ),
                }
            }
            for d in p.optional.values().flatten() {
                c.dependencies.extend(resolve(d));
            }
            out.components.push(c);
        }
        out.propagate_from_roots(&roots);
    }
}

fn source_text(source: &BTreeMap<String, toml::Value>) -> String {
    source
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or("")))
        .collect::<Vec<_>>()
        .join(", ")
}
